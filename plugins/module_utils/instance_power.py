# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, stop and reboot ECS instances in batches: the behaviour of the OOS cloud product actions
``ACS::ECS::StartInstance``/``StopInstance``/``RebootInstance`` (read the status, act only when
needed, wait for the desired status), applied to a whole fleet with the batch APIs.

* One StartInstances/StopInstances/RebootInstances call per 100 instances (``SuccessFirst``, so one
  bad instance does not fail the others), and one DescribeInstances round (100 ids a call) per
  poll for every instance still moving.
* Instances already in the desired state are not touched (idempotent), and transitional states
  (Starting, Stopping, Pending) are awaited before acting, as the OOS templates do.
* An OOS RateControl cuts the fleet into waves; once more than MaxErrors instances failed, the
  remaining waves are not started.
* A batch call whose answer is lost (reset, timeout, 5xx) is never repeated blindly: the statuses are
  read back (:func:`read_back`), the instances it changed count as changed by this run, and only the
  ones it provably did not reach are sent again (``mutating_apis`` has the rules per API).
"""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError, OutcomeUnknown
from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    chunked,
    errors_allowed,
    NOT_ATTEMPTED,
    max_errors_message,
    no_match_result,
    select_instances,
    task_argument_spec,
    validate_rate_control,
    waves,
)

STATES = ("running", "stopped", "restarted", "rebooted", "present")
STOPPED_MODES = ("KeepCharging", "StopCharging")
TRANSITIONAL = ("Pending", "Starting", "Stopping")
DESIRED_STATUS = {"running": "Running", "stopped": "Stopped", "restarted": "Running", "rebooted": "Running"}
# Reboot whatever the status (every instance is acted on once).
REBOOTS = ("restarted", "rebooted")
SUCCESS_CODE = "200"
# Outcome of an instance whose batch call's answer was lost and that the read-back shows untouched.
NOT_APPLIED = "NotApplied"
APIS = {"start": "StartInstances", "stop": "StopInstances", "reboot": "RebootInstances"}
# Error code recorded for instances never attempted because MaxErrors was exceeded.

# Argument spec of the power options (merged with the selection options by the module).
POWER_ARGUMENT_SPEC = {
    "state": {"type": "str", "default": "present", "choices": list(STATES)},
    "force": {"type": "bool", "default": False},
    "stopped_mode": {"type": "str", "choices": list(STOPPED_MODES)},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 600},
}


def validate_power_options(params: dict) -> None:
    """Input checks that need more than the argument spec."""
    timeout = params.get("wait_timeout")
    if timeout is not None and timeout < 1:
        raise AlicloudInputError("wait_timeout", f"wait_timeout is {timeout}: give a number of seconds >= 1")
    if params.get("stopped_mode") and params.get("state") not in ("stopped", None):
        raise AlicloudInputError("stopped_mode", "stopped_mode only applies to state=stopped: remove it or set state: stopped")


def fetch_statuses(client, instance_ids) -> dict:
    """``{instance_id: instance record}`` (``status``, ``start_time``...) with one DescribeInstances call per
    100 ids; missing ids are absent."""
    if not instance_ids:
        return {}
    return {i["instance_id"]: i for i in describe_instances(client, {"InstanceIds": list(instance_ids)})}


def action_for(status: str, state: str) -> str | None:
    """The batch action that moves an instance in ``status`` towards ``state`` (None: nothing to do).

    Transitional statuses give ``"wait"``: act once they settle.
    """
    if status in TRANSITIONAL:
        return "wait"
    if state == "running":
        return "start" if status == "Stopped" else None
    if state == "stopped":
        return "stop" if status == "Running" else None
    if state == "restarted":
        return "reboot" if status == "Running" else "start" if status == "Stopped" else None
    if state == "rebooted":   # RebootInstance's own rule (OOS ACS::ECS::RebootInstance): Running only
        return "reboot" if status == "Running" else "refuse" if status == "Stopped" else None
    return None


def plan(statuses: dict, state: str) -> list:
    """Ids that need an action (or a wait) to reach ``state``; ``restarted`` means every instance."""
    if state == "present":
        return []
    if state in REBOOTS:
        return list(statuses)
    return [iid for iid, status in statuses.items() if status != DESIRED_STATUS[state]]


def was_applied(action: str, before: dict, after: dict) -> bool:
    """Did a batch call whose answer was lost change this instance? ``before``/``after``: its records.

    Start and stop move an instance out of its settled status. A reboot leaves it ``Running``: it shows
    as a transitional status while it runs, and as a later ``StartTime`` once done.
    """
    status = after.get("status")
    if action == "start":
        return status in ("Pending", "Starting", "Running")
    if action == "stop":
        return status in ("Stopping", "Stopped")
    if status in TRANSITIONAL:
        return True
    return bool(after.get("start_time")) and after.get("start_time") != before.get("start_time")


def read_back(client, action: str, before: dict) -> dict:
    """After a lost answer: ``{id: (code, message)}`` from the statuses read back, ``SUCCESS_CODE`` for the
    instances the lost call changed and ``NOT_APPLIED`` for those it did not reach (sent again later)."""
    after = fetch_statuses(client, list(before))
    outcome = {}
    for iid, record in before.items():
        now = after.get(iid)
        if now is None:
            outcome[iid] = ("InvalidInstanceId.NotFound", "the instance no longer exists")
        elif was_applied(action, record, now):
            outcome[iid] = (SUCCESS_CODE, f"applied (the answer to {APIS[action]} was lost; status read back: "
                                          f"{now['status']})")
        else:
            outcome[iid] = (NOT_APPLIED, f"not applied (the answer to {APIS[action]} was lost; status read back: "
                                         f"{now['status']}): sent again")
    return outcome


def batch_call(client, action: str, instances: dict, force: bool = False, stopped_mode: str | None = None) -> dict:
    """StartInstances/StopInstances/RebootInstances in chunks of 100 -> ``{id: (code, message)}``.

    ``instances``: ``{id: record}`` as last seen (for the read-back after a lost answer).
    """
    api = APIS[action]
    outcome = {}
    for chunk in chunked(list(instances)):
        params = {"InstanceId": chunk, "BatchOptimization": "SuccessFirst"}
        if action == "stop":
            params["ForceStop"] = bool(force)
            if stopped_mode:
                params["StoppedMode"] = stopped_mode
        elif action == "reboot":
            params["ForceReboot"] = bool(force)
        try:
            body = client.call(api, params, read_back=True) or {}
        except OutcomeUnknown:
            outcome.update(read_back(client, action, {iid: instances[iid] for iid in chunk}))
            continue
        responses = (body.get("InstanceResponses") or {}).get("InstanceResponse") or []
        for item in responses:
            outcome[item.get("InstanceId")] = (str(item.get("Code")), item.get("Message") or "")
        for iid in chunk:
            outcome.setdefault(iid, (SUCCESS_CODE, "accepted"))
    return outcome


class PowerRun:
    """One ``set_power_state`` run: per-instance bookkeeping shared by its waves."""

    # Status an instance shows right after an accepted call, until the next poll says otherwise.
    AFTER_CALL = {"start": "Starting", "stop": "Stopping", "reboot": "Starting"}

    def __init__(self, client, state, force, stopped_mode, clock, instances):
        self.client = client
        self.state = state
        self.force = force
        self.stopped_mode = stopped_mode
        self.clock = clock
        self.records = {i["instance_id"]: i for i in instances}   # as last read
        self.current = {iid: record["status"] for iid, record in self.records.items()}
        self.acted = {}
        self.errors = {}

    def refresh(self, instance_ids) -> None:
        found = fetch_statuses(self.client, instance_ids)
        self.records.update(found)
        self.current.update({iid: record["status"] for iid, record in found.items()})

    def done(self, iid) -> bool:
        if self.current.get(iid) != DESIRED_STATUS[self.state]:
            return False
        return self.state not in REBOOTS or iid in self.acted

    def act(self, instance_ids) -> None:
        """Send the batch calls that the settled instances among ``instance_ids`` need."""
        by_action = {}
        for iid in instance_ids:
            if iid in self.errors or (self.state in REBOOTS and iid in self.acted):
                continue
            action = action_for(self.current.get(iid), self.state)
            if action == "refuse":   # as RebootInstance answers a Stopped instance, without sending it
                self.errors[iid] = {"error_code": "IncorrectInstanceStatus",
                                    "error_message": f"the instance is {self.current.get(iid)}: a reboot needs it Running "
                                                     "(state=restarted starts stopped instances instead)"}
                continue
            if action in ("start", "stop", "reboot"):
                by_action.setdefault(action, []).append(iid)
        for action, ids in by_action.items():
            known = {iid: self.records.get(iid) or {"status": self.current.get(iid)} for iid in ids}
            for iid, (code, message) in batch_call(self.client, action, known, self.force, self.stopped_mode).items():
                if code == SUCCESS_CODE:
                    self.acted[iid] = action
                    self.current[iid] = self.AFTER_CALL[action]
                elif code not in ("IncorrectInstanceStatus", NOT_APPLIED):
                    # IncorrectInstanceStatus: it moved meanwhile; NotApplied: a lost answer did not reach it.
                    # Either way the next poll looks again.
                    self.errors[iid] = {"error_code": code, "error_message": message}

    def converge(self, instance_ids, wait: bool) -> None:
        """Act on ``instance_ids`` once they are settled and, with ``wait``, poll until each one
        shows the desired status; without ``wait`` stop as soon as every needed call was sent."""
        pending = list(instance_ids)
        while pending:
            self.act(pending)
            pending = [i for i in pending if i not in self.errors and not self.done(i)]
            if not wait:
                pending = [i for i in pending if i not in self.acted]
            if not pending:
                return
            if not self.clock.wait():
                break
            self.refresh(pending)
        desired = DESIRED_STATUS[self.state]
        for iid in pending:
            self.errors[iid] = {"error_code": "WaitTimeout",
                                "error_message": f"still {self.current.get(iid)} when wait_timeout ran out; expected {desired}"}


def set_power_state(client, instances: list, state: str, *, force: bool = False, stopped_mode: str | None = None,
                    wait: bool = True, wait_timeout: float = 600, rate_control=None, check_mode: bool = False,
                    clock: PollClock | None = None) -> dict:
    """Bring ``instances`` (normalized, from instance_fleet.find_instances) to ``state``.

    Returns ``{"changed", "instances": [{instance_id, before, after, changed, action, error_code,
    error_message}], "failed_instances", "max_errors", "counts"}``. Never raises for per-instance
    failures: the caller decides from ``failed_instances`` and ``max_errors``.
    """
    if state not in STATES:
        raise AlicloudInputError("state", f"state is {state!r}; use one of {', '.join(STATES)}")
    before = {i["instance_id"]: i["status"] for i in instances}
    run = PowerRun(client, state, force, stopped_mode, clock or PollClock(wait_timeout), instances)
    todo = plan(before, state)
    allowed = errors_allowed(rate_control, len(instances))
    skipped = []
    if not check_mode and todo:
        groups = waves(rate_control, todo)
        for index, group in enumerate(groups):
            last = index == len(groups) - 1
            # Waves before the last are always awaited: that is what rate control means.
            run.converge(group, wait=wait or not last)
            if len(run.errors) > allowed:
                skipped = [i for g in groups[index + 1:] for i in g]
                break
        if not wait:
            run.refresh(todo)
    for iid in skipped:
        run.errors[iid] = {"error_code": NOT_ATTEMPTED,
                           "error_message": f"not attempted: more than {allowed} instance(s) failed (MaxErrors)"}

    results = []
    for iid, status in before.items():
        item = {"instance_id": iid, "before": status}
        if check_mode:
            action = None if iid not in todo else (action_for(status, state) or "wait")
            if action == "refuse":   # state=rebooted on a Stopped instance: the run would fail for it
                run.errors[iid] = {"error_code": "IncorrectInstanceStatus",
                                   "error_message": f"the instance is {status}: a reboot needs it Running"}
                action = None
            item["after"] = DESIRED_STATUS.get(state, status) if action else status
            item["changed"] = action is not None
            item["action"] = action
        else:
            item["after"] = run.current.get(iid, status)
            item["changed"] = iid in run.acted
            item["action"] = run.acted.get(iid)
        error = run.errors.get(iid)
        item["error_code"] = error["error_code"] if error else None
        item["error_message"] = error["error_message"] if error else None
        results.append(item)
    failed = [r for r in results if r["error_code"]]
    return {
        "changed": any(r["changed"] for r in results),
        "instances": results,
        "failed_instances": failed,
        "max_errors": allowed,
        "counts": {"total": len(results), "changed": sum(r["changed"] for r in results), "failed": len(failed),
                   "unchanged": sum(not r["changed"] and not r["error_code"] for r in results)},
    }


def power_diff(result: dict) -> dict:
    """``--diff`` view: status of every instance before and after."""
    return {"before": {r["instance_id"]: r["before"] for r in result["instances"]},
            "after": {r["instance_id"]: r["after"] for r in result["instances"]}}


def describe_failure(entry: dict) -> str:
    """``i-...: ErrorCode message`` of one failed instance."""
    return f"{entry['instance_id']}: {entry['error_code']} {entry['error_message'] or ''}".strip()


def instance_argument_spec() -> dict:
    return task_argument_spec(POWER_ARGUMENT_SPEC)


def instance_task(client, params: dict, check_mode: bool = False, instances: list | None = None) -> dict:
    """oos_instance: validate, select (unless ``instances`` are given), converge, summarize.

    Input errors raise AlicloudInputError before any request; per-instance failures beyond MaxErrors
    set ``failed`` and ``msg`` in the returned result.
    """
    validate_power_options(params)
    rate_control = validate_rate_control(params.get("rate_control"))
    if instances is None:
        instances = select_instances(client, params)
        if not instances:
            return dict(no_match_result(params, "instances"), diff={"before": {}, "after": {}})
    state = params.get("state") or "present"
    result = set_power_state(client, instances, state, force=params.get("force", False),
                             stopped_mode=params.get("stopped_mode"), wait=params.get("wait", True),
                             wait_timeout=params.get("wait_timeout") or 600, rate_control=rate_control,
                             check_mode=check_mode)
    result["instance_ids"] = [i["instance_id"] for i in result["instances"]]
    result["diff"] = power_diff(result)
    message = max_errors_message(result, f"state={state}", describe_failure)
    if message:
        result["failed"] = True
        result["msg"] = message
    return result
