"""A reference OOS execution engine for the emulator.

Executions run on background threads and call the emulator's own API handlers in-process through
``call_api``, so a template sees exactly what an SDK client sees. Written from the OOS documentation
(OOS_LANGUAGE.md, OOS_API.md) independently of the collection's converter: never import ``plugins/``.
"""
from __future__ import annotations

import concurrent.futures
import datetime as _dt
import itertools
import json
import math
import os
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .expressions import (ExpressionError, Scope, coerce, coerce_value, jq_all, render, to_text, truth)
from .product_actions import NATIVE_ACTIONS, NATIVE_NAMES
from .template import TemplateError, load_template, resolve_parameters

TERMINAL = ("Success", "Failed", "Cancelled")
ACTIVE = ("Started", "Queued", "Running", "Waiting")
BUILTIN_ACTIONS = {
    "acs::executeapi", "acs::waitfor", "acs::checkfor", "acs::sleep", "acs::approve", "acs::pause",
    "acs::notify", "acs::choice", "acs::template", "acs::selecttargets", "acs::timertrigger",
    "acs::eventtrigger", "acs::alarmtrigger", "acs::gitcoderepo", "acs::loop", "acs::executehttprequest",
}
# Risky APIs wait for NotifyExecution(Approve) when SafetyCheck is ConfirmEveryHighRiskAction. The real
# service decides from its action catalogue; this prefix list is the emulator's approximation.
RISKY_API_PREFIXES = ("Delete", "Release", "Stop", "Reboot", "Reset", "ReInit", "ReplaceSystemDisk")
_PARAM_STYLES = json.loads((Path(__file__).with_name("param_styles.json")).read_text())


class EngineError(Exception):
    """A request the engine refuses (answered as an API error)."""

    def __init__(self, code: str, message: str, http_status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


class TaskFailed(Exception):
    pass


class ExecutionCancelled(Exception):
    pass


class _Complete(Exception):
    """NotifyExecution(CompleteExecution) in Debug/FailurePause mode: end with the given status."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def utcnow() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_SEQUENCE = itertools.count(1)


def new_id(prefix: str) -> str:
    """Ids that sort in creation order (APIs break StartDate ties, which have one-second precision, by id)."""
    return f"{prefix}{next(_SEQUENCE):08x}{uuid.uuid4().hex[:9]}"


def api_error_text(error: Exception) -> tuple[str, str]:
    code = getattr(error, "code", None) or getattr(error, "Code", None) or type(error).__name__
    message = getattr(error, "message", None) or getattr(error, "Message", None) or str(error)
    return str(code), str(message)


def flatten_api_parameters(product: str, api: str, parameters: dict) -> dict[str, str]:
    """ExecuteAPI Parameters → the query a real client would send (repeatList ``X.N``, JSON strings).

    Templates name a repeatList parameter ``X`` either ``X`` or ``Xs``: OOS's own ``ACS::ECS::RunCommand``
    passes ``InstanceIds: [id]`` to RunCommand, whose documented parameter is ``InstanceId`` with style
    ``repeatList`` (ecs_api_docs.json), and public templates pass ``ResourceIds``/``Tags`` to TagResources
    (``ResourceId.N``, ``Tag.N``) and ``DataDisks`` to RunInstances. Those plural names are the classic SDKs'
    request setters (``set_InstanceIds`` writes ``InstanceId.N``), so ExecuteAPI serializes ``Xs`` as ``X.N``
    when the API documents ``X`` as a list and has no parameter ``Xs`` of its own (no ECS or OOS API has both).
    The API itself stays strict: RunCommand never reads ``InstanceIds``.
    """
    styles = _PARAM_STYLES.get(product.lower(), {}).get(api, {})
    flat: dict[str, str] = {}

    def put(key, value):
        if isinstance(value, dict):
            for sub, item in value.items():
                put(f"{key}.{sub}", item)
        elif isinstance(value, list):
            for number, item in enumerate(value, 1):
                put(f"{key}.{number}", item)
        elif value is not None:
            flat[key] = to_text(value)

    for name, value in parameters.items():
        if value is None or value == "":
            # OOS drops empty optional parameters instead of sending ``X=``.
            continue
        if name not in styles and name.endswith("s") and styles.get(name[:-1]) in ("repeatList", "flat") \
                and isinstance(value, list):
            name = name[:-1]
        if isinstance(value, (list, dict)) and styles.get(name) in ("repeatList", "flat"):
            put(name, value)
        elif isinstance(value, (list, dict)):
            flat[name] = to_text(value)
        else:
            flat[name] = to_text(value)
    return flat


def parse_duration(text) -> float:
    """ACS::Sleep Duration in seconds: ISO-8601 (``PT10M``, ``PT1H30M5S``, ``P1D``) or the short form OOS documents
    (``1S``, ``10M``, ``1H2M``: M is minutes), case-insensitive."""
    value = str(text).strip().upper()
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", value)
    if match and value not in ("P", "PT"):
        days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
        return days * 86400 + hours * 3600 + minutes * 60 + seconds
    match = re.fullmatch(r"(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", value)
    if match and value:
        hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise TaskFailed(f"Duration {text!r} is not an ISO-8601 duration such as PT1M")


def sleep_seconds(properties: dict) -> float:
    """ACS::Sleep: Duration, or EndDate (an absolute UTC time, in real seconds from now; past: none)."""
    if properties.get("Duration") not in (None, ""):
        return parse_duration(properties["Duration"])
    if properties.get("EndDate") not in (None, ""):
        text = str(properties["EndDate"]).strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            end = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise TaskFailed(f"EndDate {properties['EndDate']!r} is not a UTC time such as 2025-01-01T00:00:00Z") from None
        return max(0.0, (end - _dt.datetime.now(_dt.timezone.utc)).total_seconds())
    raise TaskFailed("ACS::Sleep needs Duration or EndDate")


def _count(value, total: int, default: int) -> int:
    """RateControl numbers: ``10`` or ``'20%'`` of the items."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    if text.endswith("%"):
        return max(0, math.floor(total * float(text[:-1]) / 100))
    return int(float(text))


class ActionTemplates:
    """Cloud-product action templates (``ACS::ECS::StopInstance`` → its OOS template) from a folder."""

    def __init__(self, folder: str | os.PathLike | None):
        self.index: dict[str, Path] = {}
        if folder:
            for path in sorted(Path(folder).rglob("*")):
                if path.suffix.lower() in (".yml", ".yaml", ".json") and path.is_file():
                    key = path.stem.lower()
                    # YAML first: the corpus keeps both forms and they are equivalent.
                    if key not in self.index or path.suffix.lower() != ".json":
                        self.index[key] = path

    def get(self, name: str) -> str | None:
        path = self.index.get(name.lower())
        return path.read_text() if path else None


@dataclass
class _Wait:
    kind: str                 # Approve | Debug | FailurePause
    run: "_Run"
    task_execution_id: str
    answer: dict | None = None


@dataclass
class _Run:
    record: dict
    document: dict
    scope: Scope
    parent: "_Run | None" = None
    task_execution: dict | None = None
    cancelled: bool = False
    children: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.record["ExecutionId"]

    @property
    def root(self) -> "_Run":
        return self if self.parent is None else self.parent.root

    @property
    def is_cancelled(self) -> bool:
        return self.root.cancelled


class OOSEngine:
    """Runs OOS executions against the emulator.

    ``call_roa(product, action, method, path, query, body) -> dict`` (optional) serves the ROA form of
    ExecuteAPI (``URI``, ``Method``, ``Body``); without it such tasks fail as unsupported.
    ``call_api(product, action, params, region) -> dict`` is the emulator's handler table (raises an
    exception with ``code``/``message`` on API errors); ``get_template(name, version) -> (content, meta)``
    returns a stored template or None; ``on_execution(record)`` is told about child executions so
    ListExecutions shows them; ``record_lock`` (optional) is held while a stored record is updated.
    """

    def __init__(self, call_api: Callable, *, get_template: Callable | None = None,
                 on_execution: Callable | None = None, record_lock=None, action_templates=None,
                 time_scale: float = 0.02, account_id: str = "1234567890123456", default_region: str = "cn-hangzhou",
                 executed_by: str = "emulator-user", on_change: Callable | None = None,
                 call_roa: Callable | None = None, answer_seconds: float = 0.0):
        self.call_api = call_api
        # Real seconds an answered task still shows Waiting: OOS takes a moment to act on NotifyExecution,
        # and a client that lost the answer must cope with that window.
        self.answer_seconds = answer_seconds
        self.call_roa = call_roa
        self.on_change = on_change
        self.get_template = get_template
        self.on_execution = on_execution
        self.record_lock = record_lock
        self.action_templates = action_templates if isinstance(action_templates, ActionTemplates) \
            else ActionTemplates(action_templates)
        self.time_scale = time_scale
        self.account_id = account_id
        self.default_region = default_region
        self.executed_by = executed_by
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._runs: dict[str, _Run] = {}
        self._tasks: dict[str, list[dict]] = {}
        self._logs: dict[str, list[dict]] = {}
        self._waits: dict[str, _Wait] = {}
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ public API (used by oos.py)

    def prepare(self, content, parameters, region: str | None = None, execution_id: str | None = None) -> tuple:
        """Validate template and parameters synchronously: (document, resolved parameters)."""
        document = load_template(content)
        if isinstance(parameters, str):
            try:
                parameters = json.loads(parameters or "{}")
            except ValueError:
                raise TemplateError("InvalidParameter", "Parameters must be a JSON object string.") from None
        if parameters is not None and not isinstance(parameters, dict):
            raise TemplateError("InvalidParameter", "Parameters must be a JSON object.")
        pseudo = self._pseudo(execution_id or "exec-validate", region or self.default_region)
        return document, resolve_parameters(document, parameters, pseudo)

    def start(self, record: dict, content: str | None = None) -> None:
        """Take over a new execution record (Status Started) and run it on a background thread.

        Raises TemplateError/EngineError before anything runs when the template or parameters are bad,
        so StartExecution can answer with the error.
        """
        if content is None:
            content = self._template_content(record.get("TemplateName"), record.get("TemplateVersion"))
        region = record.get("RegionId") or self.default_region
        document, parameters = self.prepare(content, record.get("Parameters"), region, record["ExecutionId"])
        scope = Scope(parameters, self._pseudo(record["ExecutionId"], region),
                      task_names=[task["Name"] for task in document["Tasks"]])
        run = _Run(record=record, document=document, scope=scope)
        self._adopt(run, parameters)
        thread = threading.Thread(target=self._run_root, args=(run,), name=f"oos-{run.id}", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def notify(self, execution_id: str, notify_type: str, *, task_execution_id: str | None = None,
               task_name: str | None = None, execution_status: str | None = None, note: str | None = None,
               parameters=None) -> None:
        """NotifyExecution: Approve/Reject, Debug (ExecuteTask, CompleteExecution), FailurePause
        (RetryTask, SkipTask, CompleteExecution)."""
        kinds = {"Approve": ("Approve",), "Reject": ("Approve",), "ExecuteTask": ("Debug",),
                 "CancelTask": ("Debug",), "CompleteExecution": ("Debug", "FailurePause"),
                 "RetryTask": ("FailurePause",), "SkipTask": ("FailurePause",)}
        if notify_type not in kinds:
            raise EngineError("InvalidParameter", f"NotifyType {notify_type!r} is not one of "
                              f"{', '.join(kinds)}.")
        with self._lock:
            run = self._runs.get(execution_id)
            if run is None:
                raise EngineError("EntityNotExists.Execution", f"Execution {execution_id} does not exist.", 404)
            waits = [wait for wait in self._waits.values()
                     if self._within(wait.run, run) and wait.kind in kinds[notify_type]
                     and wait.answer is None
                     and (not task_execution_id or wait.task_execution_id == task_execution_id)]
            if not waits:
                raise EngineError("InvalidStatus.Execution", f"Execution {execution_id} is "
                                  f"{run.record.get('Status')} and has nothing waiting for {notify_type}.")
            answer = {"type": notify_type, "task_name": task_name, "status": execution_status, "note": note or ""}
            for wait in waits if notify_type in ("Approve", "Reject") else waits[:1]:
                wait.answer = answer
            self._changed.notify_all()

    def cancel(self, execution_id: str) -> None:
        with self._lock:
            run = self._runs.get(execution_id)
            if run is None:
                raise EngineError("EntityNotExists.Execution", f"Execution {execution_id} does not exist.", 404)
            if run.record.get("Status") in TERMINAL:
                return
            run.root.cancelled = True
            self._changed.notify_all()

    def task_executions(self, execution_id: str, *, include_children: bool = False,
                        parent_task_execution_id: str | None = None) -> list[dict]:
        """ListTaskExecutions: top-level tasks, or the iterations of one loop task."""
        with self._lock:
            tasks = list(self._tasks.get(execution_id, []))
            if parent_task_execution_id:
                tasks = [t for t in tasks if t["ParentTaskExecutionId"] == parent_task_execution_id]
            elif not include_children:
                tasks = [t for t in tasks if not t["ParentTaskExecutionId"]]
            return [dict(t) for t in tasks]

    def execution_logs(self, execution_id: str, task_execution_id: str | None = None) -> list[dict]:
        with self._lock:
            logs = self._logs.get(execution_id, [])
            return [dict(entry) for entry in logs
                    if not task_execution_id or entry["TaskExecutionId"] == task_execution_id]

    def knows(self, execution_id: str) -> bool:
        with self._lock:
            return execution_id in self._runs

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """For tests: wait until every execution thread has finished."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    # ------------------------------------------------------------------ records

    def _pseudo(self, execution_id: str, region: str) -> dict:
        now = _dt.datetime.now(_dt.timezone.utc)
        return {"RegionId": region, "ExecutionId": execution_id, "AccountId": self.account_id,
                "CurrentUTCTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "CurrentDate": now.strftime("%Y-%m-%d"),
                "OOSUtilVersion": "v1", "ExecuteUser": self.executed_by}

    def _template_content(self, name, version) -> str:
        if not name:
            raise EngineError("MissingParameter", "TemplateName or TemplateContent is required.")
        found = self.get_template(name, version) if self.get_template else None
        if found:
            return found[0] if isinstance(found, tuple) else found
        content = self.action_templates.get(name)
        if content is None:
            raise EngineError("EntityNotExists.Template", f"Template {name} does not exist.", 404)
        return content

    def _adopt(self, run: _Run, parameters: dict) -> None:
        """Write every key the engine will ever update now, so readers never see the dict grow."""
        now = utcnow()
        fields = {"Status": run.record.get("Status") or "Started", "StatusMessage": "", "StatusReason": "",
                  "WaitingStatus": "", "Outputs": "{}", "Counters": {"Total": len(run.document["Tasks"])},
                  "CurrentTasks": [], "StartDate": run.record.get("StartDate") or now, "EndDate": "",
                  "UpdateDate": now, "IsParent": False}
        for key, value in fields.items():
            run.record.setdefault(key, value)
        self._update(run, Status=fields["Status"], Counters=fields["Counters"])
        with self._lock:
            self._runs[run.id] = run
            self._tasks.setdefault(run.id, [])
            self._logs.setdefault(run.id, [])

    def _update(self, run: _Run, **values) -> None:
        values["UpdateDate"] = utcnow()
        if self.record_lock is not None:
            with self.record_lock:
                run.record.update(values)
        else:
            run.record.update(values)
        if self.on_change is not None:
            self.on_change(run.record)

    def _log(self, run: _Run, message: str, task_execution: dict | None = None, log_type: str = "Info") -> None:
        with self._lock:
            self._logs[run.id].append({"Timestamp": utcnow(), "Message": message, "LogType": log_type,
                                       "TaskExecutionId": task_execution["TaskExecutionId"] if task_execution else ""})

    def _new_task_execution(self, run: _Run, task: dict, parent: dict | None = None, loop_item=None) -> dict:
        now = utcnow()
        record = {"TaskExecutionId": new_id("task-exec-"), "ExecutionId": run.id, "TaskName": task["Name"],
                  "TaskAction": task["Action"], "Status": "Running", "StatusMessage": "", "Properties": "{}",
                  "Outputs": "{}", "ChildExecutionId": "", "ParentTaskExecutionId": parent["TaskExecutionId"]
                  if parent else "", "LoopItem": "" if loop_item is None else to_text(loop_item),
                  "LoopBatchNumber": 0, "Loop": {}, "ExtraData": {}, "TemplateId": run.record.get("TemplateId", ""),
                  "CreateDate": now, "StartDate": now, "EndDate": "", "UpdateDate": now}
        with self._lock:
            self._tasks[run.id].append(record)
        self._log(run, f"Task {task['Name']} ({task['Action']}) started.", record)
        if parent is None:
            self._refresh(run)
        return record

    def _finish_task(self, run: _Run, task_execution: dict, status: str, message: str = "", outputs=None) -> None:
        with self._lock:
            task_execution.update(Status=status, StatusMessage=message, EndDate=utcnow(), UpdateDate=utcnow(),
                                  Outputs=json.dumps(outputs if outputs is not None else {}, ensure_ascii=False,
                                                     default=str))
        text = f"Task {task_execution['TaskName']} {status.lower()}" + (f": {message}" if message else ".")
        self._log(run, text, task_execution, "Error" if status == "Failed" else "Info")
        if not task_execution["ParentTaskExecutionId"]:
            self._refresh(run)

    def _refresh(self, run: _Run) -> None:
        """Recompute Counters, CurrentTasks and Running/Waiting for a run and its ancestors."""
        while run is not None:
            with self._lock:
                tasks = [t for t in self._tasks[run.id] if not t["ParentTaskExecutionId"]]
                counters = {"Total": len(run.document["Tasks"])}
                for task in tasks:
                    counters[task["Status"]] = counters.get(task["Status"], 0) + 1
                current = [{"TaskName": t["TaskName"], "TaskAction": t["TaskAction"],
                            "TaskExecutionId": t["TaskExecutionId"]} for t in tasks if t["Status"] in ACTIVE]
                waiting = any(self._within(wait.run, run) and wait.answer is None for wait in self._waits.values())
            values = {"Counters": counters, "CurrentTasks": current}
            if run.record.get("Status") not in TERMINAL + ("Started",):
                values["Status"] = "Waiting" if waiting else "Running"
            self._update(run, **values)
            run = run.parent

    @staticmethod
    def _within(inner: _Run, outer: _Run) -> bool:
        while inner is not None:
            if inner is outer:
                return True
            inner = inner.parent
        return False

    # ------------------------------------------------------------------ waiting and time

    def _sleep(self, run: _Run, seconds: float) -> None:
        """Scaled, cancellable sleep."""
        deadline = time.monotonic() + max(0.0, seconds) * self.time_scale
        with self._lock:
            while not run.is_cancelled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)
        raise ExecutionCancelled()

    def _wait_for_notification(self, run: _Run, kind: str, task_execution: dict, waiting_status: str) -> dict:
        wait = _Wait(kind, run, task_execution["TaskExecutionId"])
        with self._lock:
            self._waits[wait.task_execution_id] = wait
            task_execution.update(Status="Waiting", UpdateDate=utcnow())
        self._log(run, f"Task {task_execution['TaskName']} is waiting for {waiting_status}.", task_execution)
        self._set_waiting_status(run, waiting_status)
        try:
            with self._lock:
                while wait.answer is None and not run.is_cancelled:
                    self._changed.wait(1.0)
                if wait.answer is None:
                    raise ExecutionCancelled()
                answered_at = time.monotonic()
                while not run.is_cancelled and time.monotonic() - answered_at < self.answer_seconds:
                    self._changed.wait(self.answer_seconds - (time.monotonic() - answered_at))
                task_execution.update(Status="Running", UpdateDate=utcnow())
                if wait.answer.get("note"):
                    task_execution["ExtraData"] = {"NotifyNote": wait.answer["note"]}
                return wait.answer
        finally:
            with self._lock:
                self._waits.pop(wait.task_execution_id, None)
            self._set_waiting_status(run, "")

    def _set_waiting_status(self, run: _Run, waiting_status: str) -> None:
        node = run
        while node is not None:
            self._update(node, WaitingStatus=waiting_status)
            node = node.parent
        self._refresh(run)

    # ------------------------------------------------------------------ running executions

    def _run_root(self, run: _Run) -> None:
        self._update(run, Status="Running", StartDate=utcnow())
        self._log(run, "Execution started.")
        self._execute(run)

    def _execute(self, run: _Run, body: Callable | None = None) -> None:
        """Run one execution to a terminal status (never raises): its template's tasks, or ``body(run)`` (a native
        product action), which returns the execution's Outputs."""
        status, reason = "Success", ""
        try:
            if body is None:
                self._run_tasks(run)
                outputs = self._template_outputs(run)
            else:
                outputs = body(run)
            self._update(run, Outputs=json.dumps(outputs, ensure_ascii=False, default=str))
        except ExecutionCancelled as exc:
            status, reason = "Cancelled", str(exc) or "The execution was cancelled."
        except _Complete as exc:
            status, reason = exc.status, f"Completed by NotifyExecution with status {exc.status}."
        except TaskFailed as exc:
            status, reason = "Failed", str(exc)
        except Exception as exc:  # an engine bug must still end the execution, visibly
            status, reason = "Failed", f"emulator engine error: {type(exc).__name__}: {exc}"
        with self._lock:
            for task in self._tasks[run.id]:
                if task["Status"] in ACTIVE:
                    task.update(Status="Cancelled" if status == "Cancelled" else "Failed", EndDate=utcnow())
        self._refresh(run)
        self._update(run, Status=status, StatusMessage=reason, StatusReason=reason, EndDate=utcnow(),
                     CurrentTasks=[], WaitingStatus="")
        self._log(run, f"Execution {status.lower()}" + (f": {reason}" if reason else "."),
                  log_type="Error" if status == "Failed" else "Info")
        with self._lock:
            self._changed.notify_all()

    def _run_tasks(self, run: _Run) -> None:
        tasks = run.document["Tasks"]
        positions = {task["Name"]: index for index, task in enumerate(tasks)}
        mode = run.root.record.get("Mode") or "Automatic"
        index = 0
        handled_failure = None
        while 0 <= index < len(tasks):
            if run.is_cancelled:
                raise ExecutionCancelled()
            task = tasks[index]
            if mode == "Debug":
                task = self._debug_step(run, task, positions)
                index = positions[task["Name"]]
            outcome, target, message = self._run_task(run, task)
            while outcome == "Failed" and mode == "FailurePause":
                outcome, target, message = self._failure_pause(run, task, message)
            if outcome == "Failed":
                handler = task.get("OnError")
                if handler in (None, "ACS::END"):
                    raise TaskFailed(f"Task {task['Name']} failed: {message}")
                if handler != "ACS::NEXT" and handled_failure is None:
                    # A jump to a cleanup path still ends the execution Failed; ACS::NEXT ignores the error.
                    handled_failure = f"Task {task['Name']} failed: {message} (OnError ran {handler})"
                target = handler
            elif outcome == "Success" and target is None:
                target = task.get("OnSuccess")
            if target == "ACS::END":
                break
            index = index + 1 if target in (None, "ACS::NEXT") else positions[target]
        if handled_failure:
            raise TaskFailed(handled_failure)

    def _debug_step(self, run: _Run, task: dict, positions: dict) -> dict:
        marker = {"TaskExecutionId": new_id("debug-"), "TaskName": task["Name"]}
        answer = self._wait_for_notification(run, "Debug", marker, "ExecuteTask")
        if answer["type"] == "CompleteExecution":
            raise _Complete(answer.get("status") or "Success")
        if answer.get("task_name"):
            if answer["task_name"] not in positions:
                raise TaskFailed(f"NotifyExecution ExecuteTask: no task named {answer['task_name']}")
            return run.document["Tasks"][positions[answer["task_name"]]]
        return task

    def _failure_pause(self, run: _Run, task: dict, message: str) -> tuple:
        with self._lock:
            failed = [t for t in self._tasks[run.id] if t["TaskName"] == task["Name"]
                      and not t["ParentTaskExecutionId"]][-1]
        answer = self._wait_for_notification(run, "FailurePause", dict(failed), "RetryTask or SkipTask")
        if answer["type"] == "CompleteExecution":
            raise _Complete(answer.get("status") or "Failed")
        if answer["type"] == "SkipTask":
            return "Skipped", None, ""
        return self._run_task(run, task)

    def _run_task(self, run: _Run, task: dict) -> tuple[str, str | None, str]:
        """One top-level task: (Success|Failed|Skipped, next task override, failure message)."""
        task_execution = self._new_task_execution(run, task)
        try:
            if "When" in task and not truth(render(task["When"], run.scope)):
                self._finish_task(run, task_execution, "Skipped", "When condition is false")
                return "Skipped", None, ""
            if task.get("Loop") is not None:
                outputs = self._run_loop(run, task, task_execution)
                target = None
            else:
                outputs, target = self._run_once(run, task, task_execution, run.scope)
        except ExpressionError as exc:
            self._finish_task(run, task_execution, "Failed", str(exc))
            return "Failed", None, str(exc)
        except TaskFailed as exc:
            self._finish_task(run, task_execution, "Failed", str(exc))
            return "Failed", None, str(exc)
        except ExecutionCancelled:
            self._finish_task(run, task_execution, "Cancelled", "The execution was cancelled.")
            raise
        except _Complete:
            self._finish_task(run, task_execution, "Cancelled", "The execution was completed by a notification.")
            raise
        with self._lock:
            run.scope.task_outputs[task["Name"]] = outputs
        self._finish_task(run, task_execution, "Success", "", outputs)
        return "Success", target, ""

    def _run_once(self, run: _Run, task: dict, task_execution: dict, scope: Scope) -> tuple[dict, str | None]:
        written = task.get("Properties") or {}
        content = None
        if task["Action"].strip().lower() == "acs::template" and isinstance(written, dict) and "TemplateContent" in written:
            # A nested template's text is the child's: its {{ references }} name the child's parameters and tasks,
            # resolved when the child runs, not by the calling task.
            content = written["TemplateContent"]
            written = {k: v for k, v in written.items() if k != "TemplateContent"}
        properties = render(written, scope)
        if content is not None:
            properties["TemplateContent"] = content
        with self._lock:
            task_execution["Properties"] = json.dumps(properties, ensure_ascii=False, default=str)
        data, target = self._dispatch(run, task, properties, task_execution, scope)
        return self._task_outputs(task, data, scope), target

    def _task_outputs(self, task: dict, data, scope: Scope) -> dict:
        outputs = {}
        for name, spec in (task.get("Outputs") or {}).items():
            selector = render(spec.get("ValueSelector"), scope)
            if not isinstance(selector, str):
                # A selector that is itself a function (Fn::Jq...) yields the value directly.
                outputs[name] = coerce_value(selector, spec.get("Type"))
                continue
            outputs[name] = coerce(jq_all(selector, data), spec.get("Type"))
        return outputs

    def _template_outputs(self, run: _Run) -> dict:
        outputs = {}
        for name, spec in (run.document.get("Outputs") or {}).items():
            try:
                outputs[name] = coerce_value(render(spec.get("Value"), run.scope), spec.get("Type"))
            except ExpressionError as exc:
                raise TaskFailed(f"Outputs.{name}: {exc}") from None
        return outputs

    # ------------------------------------------------------------------ loops

    def _run_loop(self, run: _Run, task: dict, parent: dict) -> dict:
        loop = task["Loop"]
        items = render(loop.get("Items"), run.scope)
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                items = [item for item in items.split(",") if item]
        if not isinstance(items, list):
            raise TaskFailed(f"Loop.Items must resolve to a list, got {items!r}")
        if len(items) > 1000:
            raise TaskFailed("Loop.Items has more than 1000 items")
        rate = render(loop.get("RateControl"), run.scope) or {}
        if isinstance(rate, str):
            rate = json.loads(rate)
        flat = {key: render(loop[key], run.scope) for key in ("Concurrency", "MaxErrors", "Mode") if key in loop}
        rate = {**flat, **rate}
        total = len(items)
        max_errors = _count(rate.get("MaxErrors"), total, 0)
        if (rate.get("Mode") or "Concurrency") == "Batch" and rate.get("Batch"):
            batches, start = [], 0
            inner = rate.get("ConcurrencyInBatches") or []
            for number, size in enumerate(rate["Batch"]):
                count = _count(size, total, 1) or 1
                batches.append((items[start:start + count], _count(inner[number] if number < len(inner) else None,
                                                                   count, 20) or 1))
                start += count
            if start < total:
                batches.append((items[start:], batches[-1][1] if batches else 1))
        else:
            batches = [(items, max(1, _count(rate.get("Concurrency"), total, 1)))]
        with self._lock:
            parent["Loop"] = {"Items": total, "MaxErrors": max_errors, "Concurrency": batches[0][1] if batches else 1,
                              "Success": 0, "Failed": 0}
        results: dict[int, dict] = {}
        failures: list[str] = []
        offset = 0
        for batch_number, (batch, concurrency) in enumerate(batches, 1):
            self._run_batch(run, task, parent, batch, offset, batch_number, concurrency, max_errors, results, failures)
            offset += len(batch)
            if len(failures) > max_errors:
                break
        if run.is_cancelled:
            raise ExecutionCancelled()
        if len(failures) > max_errors:
            raise TaskFailed(f"{len(failures)} of {total} loop iterations failed (MaxErrors {max_errors}): "
                             f"{failures[0]}")
        ordered = [results[index] for index in sorted(results)]
        aggregated = {}
        for name, spec in (loop.get("Outputs") or {}).items():
            field_name = spec.get("AggregateField")
            values = [outputs.get(field_name) for outputs in ordered if field_name in outputs]
            kind = spec.get("AggregateType", "Fn::ListJoin")
            if kind == "Fn::Sum":
                aggregated[name] = sum(float(v) if isinstance(v, str) else (v or 0) for v in values)
            elif kind == "Fn::ListJoin":
                aggregated[name] = values
            else:
                raise TaskFailed(f"Loop.Outputs.{name}: AggregateType {kind!r} is not supported")
        return aggregated

    def _run_batch(self, run, task, parent, batch, offset, batch_number, concurrency, max_errors, results, failures):
        def iteration(index, item):
            scope = run.scope.with_loop_item(item)
            child = self._new_task_execution(run, task, parent, item)
            with self._lock:
                child["LoopBatchNumber"] = batch_number
            try:
                outputs, _unused = self._run_once(run, task, child, scope)
            except (TaskFailed, ExpressionError) as exc:
                self._finish_task(run, child, "Failed", str(exc))
                with self._lock:
                    failures.append(f"item {to_text(item)}: {exc}")
                    parent["Loop"]["Failed"] += 1
                return
            except ExecutionCancelled:
                self._finish_task(run, child, "Cancelled", "The execution was cancelled.")
                return
            self._finish_task(run, child, "Success", "", outputs)
            with self._lock:
                results[index] = outputs
                parent["Loop"]["Success"] += 1

        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency,
                                                   thread_name_prefix=f"{run.id}-loop") as pool:
            pending = set()
            for index, item in enumerate(batch, offset):
                while len(pending) >= concurrency:
                    _unused, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                with self._lock:
                    stop = len(failures) > max_errors or run.is_cancelled
                if stop:
                    break
                pending.add(pool.submit(iteration, index, item))
            concurrent.futures.wait(pending)

    # ------------------------------------------------------------------ actions

    def _dispatch(self, run: _Run, task: dict, properties: dict, task_execution: dict, scope: Scope):
        """Run one action; returns (data for the task's ValueSelectors, next task override)."""
        action = task["Action"].strip()
        kind = action.lower()
        if kind == "acs::executeapi":
            return self._execute_api(run, properties, task_execution), None
        if kind in ("acs::waitfor", "acs::checkfor"):
            return self._wait_for(run, task, properties, single=kind == "acs::checkfor"), None
        if kind == "acs::sleep":
            seconds = sleep_seconds(properties)
            if "Duration" in properties:
                self._sleep(run, seconds)
            else:   # an absolute time is real time, whatever the engine's time scale
                self._sleep(run, seconds / self.time_scale)
            return {}, None
        if kind in ("acs::approve", "acs::pause"):
            answer = self._wait_for_notification(run, "Approve", task_execution, "Approve or Reject")
            if answer["type"] == "Reject":
                run.root.cancelled = True
                raise ExecutionCancelled(f"Task {task['Name']} was rejected" +
                                         (f": {answer['note']}" if answer.get("note") else "."))
            return {}, None
        if kind == "acs::notify":
            self._log(run, f"Notification of type {properties.get('NotifyType', 'WebHook')} recorded (the "
                      "emulator sends nothing).", task_execution)
            return {}, None
        if kind == "acs::choice":
            for choice in properties.get("Choices") or []:
                if truth(choice.get("When")):
                    return {}, choice.get("NextTask")
            return {}, properties.get("DefaultTask") or "ACS::NEXT"
        if kind == "acs::selecttargets":
            return self._select_targets(run, properties), None
        if kind == "acs::template":
            name = properties.get("TemplateName")
            content = properties.get("TemplateContent") or self._template_content(name, properties.get(
                "TemplateVersion"))
            parameters = properties.get("Parameters") or {}
            if isinstance(parameters, str):
                parameters = json.loads(parameters)
            return self._run_child(run, task_execution, content, parameters, name or "", action), None
        if kind in BUILTIN_ACTIONS:
            raise TaskFailed(f"action {action} is not supported by the emulator's OOS engine")
        content = self.action_templates.get(action)
        if content is not None:  # --action-templates overrides the engine's own product actions
            return self._run_child(run, task_execution, content, properties, action, action), None
        native = NATIVE_ACTIONS.get(kind)
        if native is not None:
            return self._run_child(run, task_execution, native.document, properties, action, action,
                                   body=lambda child: native.run(NativeSteps(self, child), dict(child.scope.parameters))
                                   ), None
        raise TaskFailed(f"unknown action {action}: the emulator runs {', '.join(sorted(NATIVE_NAMES))} itself; "
                         "other cloud product actions need their templates (start the emulator with "
                         "--action-templates DIR)")

    def _call(self, run: _Run, product: str, api: str, parameters: dict, task_execution: dict | None = None):
        region = parameters.get("RegionId") or run.scope.pseudo.get("RegionId") or self.default_region
        flat = flatten_api_parameters(product, api, parameters)
        try:
            return self.call_api(product.lower(), api, flat, str(region))
        except Exception as exc:  # the emulator's API error type is not ours to import
            code, message = api_error_text(exc)
            raise TaskFailed(f"{product.upper()} {api} failed: {code}: {message}") from None

    def _execute_api(self, run: _Run, properties: dict, task_execution: dict | None) -> dict:
        service = str(properties.get("Service") or "")
        api = str(properties.get("API") or properties.get("Api") or "")
        if not service or not api:
            raise TaskFailed("ACS::ExecuteAPI needs Service and API properties")
        parameters = dict(properties.get("Parameters") or {})
        if properties.get("URI") is not None:
            return self._execute_roa(service, api, properties, parameters)
        if run.root.record.get("SafetyCheck", "ConfirmEveryHighRiskAction") == "ConfirmEveryHighRiskAction" \
                and api.startswith(RISKY_API_PREFIXES) and task_execution is not None \
                and str(properties.get("Risk", "High")).lower() != "normal":
            answer = self._wait_for_notification(run, "Approve", task_execution,
                                                 f"confirmation of the high-risk API {api}")
            if answer["type"] == "Reject":
                run.root.cancelled = True
                raise ExecutionCancelled(f"High-risk API {api} was rejected.")
        response = self._call(run, service, api, parameters, task_execution)
        auto_paging = properties.get("AutoPaging", True)
        if truth(auto_paging) and api.startswith(("Describe", "List")) and not (
                {"PageNumber", "NextToken", "MaxResults"} & set(parameters)):
            response = self._page_through(run, service, api, parameters, response)
        return response

    def _execute_roa(self, service: str, api: str, properties: dict, parameters: dict) -> dict:
        """The ROA form: ``Method`` + ``URI`` (path, optional ``?query``), Parameters in the query, ``Body`` as JSON."""
        if self.call_roa is None:
            raise TaskFailed("ROA-style ExecuteAPI (URI) is not supported by this engine host")
        method = str(properties.get("Method") or "GET").upper()
        path, _unused, query_text = str(properties["URI"]).partition("?")
        query = dict(urllib.parse.parse_qsl(query_text, keep_blank_values=True))
        query.update(flatten_api_parameters(service, api, parameters))
        body = properties.get("Body")
        if isinstance(body, str) and body.strip():
            try:
                body = json.loads(body)
            except ValueError:
                raise TaskFailed(f"{service.upper()} {api}: Body is not JSON") from None
        elif body == "":
            body = None
        try:
            return self.call_roa(service.lower(), api, method, path, query, body)
        except Exception as exc:  # the emulator's API error type is not ours to import
            code, message = api_error_text(exc)
            raise TaskFailed(f"{service.upper()} {api} failed: {code}: {message}") from None

    def _page_through(self, run, service, api, parameters, first: dict) -> dict:
        merged = json.loads(json.dumps(first))
        page, response = 1, first
        for _unused in range(100):
            if response.get("NextToken"):
                parameters = {**parameters, "NextToken": response["NextToken"]}
            elif all(key in response for key in ("TotalCount", "PageSize", "PageNumber")) and \
                    int(response["PageNumber"]) * int(response["PageSize"]) < int(response["TotalCount"]):
                page += 1
                parameters = {**parameters, "PageNumber": page, "PageSize": response["PageSize"]}
            else:
                break
            response = self._call(run, service, api, parameters)
            _merge_lists(merged, response)
        merged.pop("NextToken", None)
        return merged

    def _wait_for(self, run: _Run, task: dict, properties: dict, single: bool) -> dict:
        selector = properties.get("PropertySelector")
        if not isinstance(selector, str):
            raise TaskFailed("PropertySelector (a jq selector) is required")
        desired = [to_text(v) for v in properties.get("DesiredValues") or []]
        not_desired = [to_text(v) for v in properties.get("NotDesiredValues") or []]
        stop = [to_text(v) for v in properties.get("StopRetryValues") or []]
        if not desired and not not_desired:
            raise TaskFailed("DesiredValues or NotDesiredValues is required")
        retries = 0 if single else int(task.get("Retries", 10))
        delay_type = task.get("DelayType", "Exponential")
        delay, backoff = float(task.get("Delay", 2)), float(task.get("BackOff", 2))
        max_interval = float(task.get("MaxRetryInterval", 1800))
        seen = None
        for attempt in range(retries + 1):
            response = self._execute_api(run, properties, None)
            values = [to_text(v) for v in jq_all(selector, response)]
            seen = values
            if any(value in stop for value in values):
                raise TaskFailed(f"{selector} is {_show(values)}, a StopRetryValue")
            if values and (all(value in desired for value in values) if desired else
                           not any(value in not_desired for value in values)):
                return response
            if attempt < retries:
                if delay_type == "Constant":
                    interval = delay
                elif delay_type == "Linear":
                    interval = delay + backoff * attempt
                else:
                    interval = 2 ** attempt
                self._sleep(run, min(interval, max_interval))
        expectation = f"one of {desired}" if desired else f"none of {not_desired}"
        verb = "is" if single else f"was still, after {retries} retries,"
        raise TaskFailed(f"{selector} {verb} {_show(seen)}; expected {expectation}")

    def _select_targets(self, run: _Run, properties: dict) -> dict:
        resource_type = properties.get("ResourceType", "ALIYUN::ECS::Instance")
        if resource_type != "ALIYUN::ECS::Instance":
            raise TaskFailed(f"ACS::SelectTargets: ResourceType {resource_type} is not supported by the emulator")
        filters = properties.get("Filters") or []
        if isinstance(filters, dict):
            filters = [filters]
        selected, seen = [], set()
        for spec in filters:
            if isinstance(spec, str):
                spec = json.loads(spec)
            region = spec.get("RegionId") or properties.get("RegionId") or run.scope.pseudo.get("RegionId")
            kind = spec.get("Type", "ResourceIds")
            requests = []
            if kind == "ResourceIds":
                ids = spec.get("ResourceIds") or []
                requests = [{"InstanceIds": ids[i:i + 100]} for i in range(0, len(ids), 100)]
            elif kind == "Tags":
                tags = spec.get("Tags") or []
                requests = [{"Tag": [{"Key": t.get("Key"), "Value": t.get("Value")} for t in tags]}]
            elif kind == "ResourceGroup":
                requests = [{"ResourceGroupId": spec.get("ResourceGroupId")}]
            elif kind == "All":
                requests = [{}]
            else:
                raise TaskFailed(f"ACS::SelectTargets: filter Type {kind!r} is not supported by the emulator")
            for request in requests:
                response = self._execute_api(run, {"Service": "ECS", "API": "DescribeInstances", "Parameters": {
                    "RegionId": region, "PageSize": 100, **request}}, None)
                for instance in response.get("Instances", {}).get("Instance", []):
                    if instance.get("InstanceId") not in seen:
                        seen.add(instance.get("InstanceId"))
                        selected.append(instance)
        return {"Instances": {"Instance": selected}, "TotalCount": len(selected)}

    def _run_child(self, run: _Run, task_execution: dict, content, parameters: dict, name: str,
                   action: str, body: Callable | None = None) -> dict:
        """ACS::Template and cloud product actions: a child execution whose Outputs the task selects from.

        ``content`` is the child's template (text or document); a native product action passes its parameter
        declarations as ``content`` and runs as ``body`` (see :class:`NativeSteps`)."""
        child_id = new_id("exec-")
        region = run.scope.pseudo.get("RegionId")
        try:
            document, resolved = self.prepare(content, parameters, region, child_id)
        except TemplateError as exc:
            raise TaskFailed(f"{action}: {exc.message}") from None
        now = utcnow()
        record = {"ExecutionId": child_id, "TemplateName": name, "TemplateId": "", "TemplateVersion": "v1",
                  "Mode": "Automatic", "LoopMode": "Automatic",
                  "SafetyCheck": run.root.record.get("SafetyCheck", "ConfirmEveryHighRiskAction"),
                  "Status": "Started", "Parameters": resolved, "ParentExecutionId": run.id, "RegionId": region,
                  "ExecutedBy": run.root.record.get("ExecutedBy", self.executed_by), "RamRole": "OOSServiceRole",
                  "Category": "Other", "Tags": {}, "ResourceGroupId": "", "Description": "", "CreateDate": now,
                  "Targets": "", "ResourceStatus": "", "Depth": "child"}
        scope = Scope(resolved, self._pseudo(child_id, region), task_names=[t["Name"] for t in document["Tasks"]])
        child = _Run(record=record, document=document, scope=scope, parent=run, task_execution=task_execution)
        self._adopt(child, resolved)
        with self._lock:
            run.children.append(child)
            task_execution["ChildExecutionId"] = child_id
        self._update(run, IsParent=True)
        if self.on_execution:
            self.on_execution(record)
        self._update(child, Status="Running")
        self._execute(child, body)
        status = child.record["Status"]
        if status == "Cancelled":
            raise ExecutionCancelled(child.record.get("StatusMessage") or "")
        if status != "Success":
            raise TaskFailed(f"child execution {child_id} ({name}) failed: {child.record.get('StatusMessage')}")
        return json.loads(child.record.get("Outputs") or "{}")


class NativeSteps:
    """The steps a native product action (``product_actions.py``) takes, each a task execution of its child
    execution, run by the same code as the template tasks they stand for (ExecuteAPI, WaitFor, CheckFor, Sleep):
    same flattening, paging, high-risk confirmation, retries and delays, and jq outputs."""

    def __init__(self, engine: OOSEngine, run: _Run):
        self._engine = engine
        self._run = run

    @property
    def execution_id(self) -> str:
        return self._run.id

    def api(self, name: str, api: str, parameters: dict, outputs: dict | None = None) -> dict:
        """``ACS::ExecuteAPI`` on ECS; ``outputs`` maps an output name to ``(jq selector, Type)``."""
        properties = {"Service": "ECS", "API": api, "Parameters": parameters}
        return self._step(name, "ACS::ExecuteAPI", properties, outputs,
                          lambda task_execution: self._engine._execute_api(self._run, properties, task_execution))

    def wait_for(self, name: str, api: str, parameters: dict, selector: str, desired=(), *, stop=(),
                 outputs: dict | None = None, **timing) -> dict:
        """``ACS::WaitFor``; ``timing`` holds the task keys Retries, Delay, DelayType, BackOff, MaxRetryInterval."""
        return self._poll(name, "ACS::WaitFor", api, parameters, selector, desired, stop, outputs, timing)

    def check_for(self, name: str, api: str, parameters: dict, selector: str, desired=(), *,
                  outputs: dict | None = None) -> dict:
        return self._poll(name, "ACS::CheckFor", api, parameters, selector, desired, (), outputs, {})

    def sleep(self, name: str, duration: str) -> None:
        self._step(name, "ACS::Sleep", {"Duration": duration}, None,
                   lambda task_execution: self._engine._sleep(self._run, parse_duration(duration)) or {})

    def fail(self, message: str):
        raise TaskFailed(message)

    def _poll(self, name, action, api, parameters, selector, desired, stop, outputs, timing) -> dict:
        properties = {"Service": "ECS", "API": api, "Parameters": parameters, "PropertySelector": selector,
                      "DesiredValues": list(desired)}
        if stop:
            properties["StopRetryValues"] = list(stop)
        task = {"Name": name, "Action": action, **timing}
        return self._step(name, action, properties, outputs, lambda task_execution: self._engine._wait_for(
            self._run, task, properties, single=action == "ACS::CheckFor"))

    def _step(self, name: str, action: str, properties: dict, outputs: dict | None, work: Callable) -> dict:
        engine, run = self._engine, self._run
        task = {"Name": name, "Action": action, "Outputs": {
            output: {"ValueSelector": selector, "Type": kind} for output, (selector, kind) in (outputs or {}).items()}}
        task_execution = engine._new_task_execution(run, task)
        with engine._lock:
            task_execution["Properties"] = json.dumps(properties, ensure_ascii=False, default=str)
        try:
            values = engine._task_outputs(task, work(task_execution), run.scope)
        except (TaskFailed, ExpressionError) as exc:
            engine._finish_task(run, task_execution, "Failed", str(exc))
            raise TaskFailed(f"Task {name} failed: {exc}") from None
        except ExecutionCancelled:
            engine._finish_task(run, task_execution, "Cancelled", "The execution was cancelled.")
            raise
        with engine._lock:
            run.scope.task_outputs[name] = values
        engine._finish_task(run, task_execution, "Success", "", values)
        return values


def _merge_lists(merged: dict, page: dict) -> None:
    """Append the list items of one more page (``{"Instances": {"Instance": [...]}}`` or ``{"X": [...]}``)."""
    for key, value in page.items():
        if isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key].extend(value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            for sub, items in value.items():
                if isinstance(items, list) and isinstance(merged[key].get(sub), list):
                    merged[key][sub].extend(items)


def _show(values) -> str:
    if values is None:
        return "nothing"
    return values[0] if len(values) == 1 else json.dumps(values)


def run_execution(execution_record: dict, state, api: Callable, content: str | None = None, **options) -> dict:
    """Run one execution synchronously (for unit tests and scripts): returns the finished record.

    ``state`` may provide ``get_template(name, version)``; ``api(product, action, params, region)``
    is the handler table.
    """
    timeout = options.pop("timeout", 300)
    engine = OOSEngine(api, get_template=getattr(state, "get_template", None), **options)
    engine.start(execution_record, content)
    engine.wait_idle(timeout)
    return execution_record
