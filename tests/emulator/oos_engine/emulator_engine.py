"""The engine as the emulator's ``ExecutionEngine`` (the hook ``oos.load_engine`` looks for).

``oos.py`` owns the execution records (``Execution`` objects); :class:`OOSEngine` works on plain dicts.
This adapter keeps the two in step: every record change is copied onto the ``Execution`` under the world
lock, task executions and logs are shared lists, and child executions become ``Execution`` records too.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from .engine import TERMINAL, EngineError, OOSEngine
from .template import TemplateError

VERSIONS = {"ecs": "2014-05-26", "oos": "2019-06-01", "cs": "2015-12-15"}
TIME_SCALE = 0.02  # OOS delays (WaitFor Delay, Sleep Duration) run 50 times faster in the emulator


def _timestamp(text: str) -> float:
    if not text:
        return 0.0
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def create_engine(oos_service):
    """Factory called by ``tests.emulator.oos.load_engine``."""
    from ..oos import ExecutionEngine

    class EmulatorEngine(ExecutionEngine):
        name = "reference"

        def __init__(self, service):
            super().__init__(service)
            self.records: dict[str, object] = {}
            self.engine = OOSEngine(
                self._call_api, get_template=self._get_template, on_execution=self._child_started,
                action_templates=service.action_templates, time_scale=TIME_SCALE,
                default_region=service.world.default_region, on_change=self._sync, call_roa=self._call_roa,
                answer_seconds=service.world.transition_seconds)

        # -- called by oos.py with the world lock held: never block
        def start(self, execution) -> None:
            # oos.py has already resolved the parameters (Defaults rendered); it stores the execution only
            # after this returns, so a refusal leaves nothing behind.
            record = {"ExecutionId": execution.id, "TemplateName": execution.template_name,
                      "TemplateId": execution.template_id, "TemplateVersion": execution.template_version,
                      "Mode": execution.mode, "LoopMode": execution.loop_mode, "SafetyCheck": execution.safety_check,
                      "Status": execution.status, "Parameters": dict(execution.parameters),
                      "RegionId": execution.region, "ParentExecutionId": execution.parent_execution_id}
            self.records[execution.id] = execution
            try:
                self.engine.start(record, execution.content)
            except (TemplateError, EngineError) as error:
                del self.records[execution.id]
                from ..errors import ApiError
                raise ApiError(error.code, error.message, error.http_status) from None
            execution.task_executions = self.engine._tasks[execution.id]
            execution.logs = self.engine._logs[execution.id]

        def notify(self, execution, notify_type, request) -> None:
            try:
                self.engine.notify(execution.id, notify_type, task_execution_id=request.str("TaskExecutionId"),
                                   task_name=request.str("TaskName"), execution_status=request.str("ExecutionStatus"),
                                   note=request.str("NotifyNote"))
            except EngineError as error:
                from ..errors import ApiError
                raise ApiError(error.code, error.message, error.http_status) from None

        def cancel(self, execution) -> None:
            try:
                self.engine.cancel(execution.id)
            except EngineError:
                pass

        def close(self) -> None:
            for execution_id in list(self.records):
                try:
                    self.engine.cancel(execution_id)
                except EngineError:
                    pass

        # -- called from the engine's threads
        def _call_api(self, product, action, params, region):
            if product not in VERSIONS:
                # A product the emulator does not emulate has none of the actions OOS asks for.
                from ..errors import api_error
                raise api_error("InvalidAction.NotFound")
            query = dict(params)
            query.setdefault("RegionId", region)
            return self.oos.emulator.call(VERSIONS[product], action, query)

        def _call_roa(self, product, action, method, path, query, body):
            if product not in VERSIONS:
                from ..errors import api_error
                raise api_error("InvalidAction.NotFound")
            return self.oos.emulator.call_roa(VERSIONS[product], method, path, query, body)

        def _get_template(self, name, version):
            with self.oos.world.lock:
                template = self.oos.find_template(self.oos.world.default_region, name)
                found = template.version(version or "") if template else None
                return (found.content, {}) if found else None

        def _child_started(self, record) -> None:
            from ..oos import Execution
            document = {}
            with self.oos.world.lock:
                parent = self.records.get(record["ParentExecutionId"])
                now = _timestamp(record.get("CreateDate", ""))
                child = Execution(
                    id=record["ExecutionId"], region=record.get("RegionId") or self.oos.world.default_region,
                    mode="Automatic", loop_mode="Automatic", safety_check=record.get("SafetyCheck", "Skip"),
                    parameters=dict(record.get("Parameters") or {}), description="", tags={},
                    parent_execution_id=record["ParentExecutionId"], resource_group_id="",
                    ram_role=parent.ram_role if parent else "", content="", document=document, create_date=now,
                    start_date=now, update_date=now, template_name=record.get("TemplateName", ""),
                    template_id="", template_version="v1")
                child.task_executions = self.engine._tasks[record["ExecutionId"]]
                child.logs = self.engine._logs[record["ExecutionId"]]
                self.oos.executions[child.id] = child
                self.records[child.id] = child
            self._sync(record)

        def _sync(self, record) -> None:
            with self.oos.world.lock:
                execution = self.records.get(record["ExecutionId"])
                if execution is None:
                    return
                if execution.status in TERMINAL and record["Status"] not in TERMINAL:
                    return  # cancelled by CancelExecution while the engine was still winding down
                execution.status = record["Status"]
                execution.status_message = record.get("StatusMessage", "")
                execution.status_reason = record.get("StatusReason", "")
                execution.waiting_status = record.get("WaitingStatus", "")
                execution.outputs = json.loads(record.get("Outputs") or "{}")
                execution.counters = dict(record.get("Counters") or {})
                execution.current_tasks = list(record.get("CurrentTasks") or [])
                execution.is_parent = bool(record.get("IsParent"))
                execution.end_date = _timestamp(record.get("EndDate", ""))
                execution.update_date = _timestamp(record.get("UpdateDate", "")) or execution.update_date

    return EmulatorEngine(oos_service)
