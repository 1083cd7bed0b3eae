# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed OOS executions (modules ``oos_execution`` and ``oos_execution_info``).

* ``execution_token(inputs, gone=None)``: the default ``ClientToken`` of StartExecution, a hash of every
  input, so a retried task returns the execution the first try started instead of starting a second
  one; once that execution is deleted, the token is derived anew so that a new run starts a new one.
* ``get_execution(client, id)``, ``list_task_executions(client, id)``, ``list_execution_logs(...)``.
* ``wait_for_execution(client, id, until, timeout, interval)``: poll ``ListExecutions`` until a
  terminal status (or ``Waiting`` when asked); ``waiting_tasks(client, id)``: what it waits on, in child
  executions too.
* ``describe_execution(execution, tasks)``: the module result (snake_case, ``Outputs`` parsed).
* ``execution_task(module)`` / ``execution_info_task(module)``: what the two modules do.
"""
from __future__ import annotations

import json
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.alicloud.oos.plugins.module_utils.client_tokens import MAX_GENERATIONS, derive_client_token
from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError, OutcomeUnknown
from ansible_collections.alicloud.oos.plugins.module_utils.interruption import Interrupted, die_of, interruptible
from ansible_collections.alicloud.oos.plugins.module_utils.mutating_apis import done_codes
from ansible_collections.alicloud.oos.plugins.module_utils.oos_templates import load_template_source
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import Secrets, parameter_secrets

TERMINAL = ("Success", "Failed", "Cancelled")
WAITING = "Waiting"
EXECUTION_NOT_FOUND = ("EntityNotExists.Execution",)
MODES = ("Automatic", "Debug", "FailurePause")
LOOP_MODES = ("Automatic", "FirstBatchPause", "EveryBatchPause")
SAFETY_CHECKS = ("Skip", "ConfirmEveryHighRiskAction")
STATUS_FILTERS = ("Started", "Queued", "Running", "Waiting", "Success", "Failed", "Cancelled")
NOTIFY_TYPES = {"approved": "Approve", "rejected": "Reject"}


def _parse_json(text, default):
    if isinstance(text, (dict, list)):
        return text
    if not text:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def execution_token(inputs: dict, gone=None) -> str:
    """A stable ClientToken (at most 64 characters) from the StartExecution inputs, derived anew past the
    execution ``gone``."""
    return derive_client_token("ansible-", inputs, gone=gone)


def get_execution(client, execution_id: str, required: bool = True):
    body = client.call("ListExecutions", {"ExecutionId": execution_id})
    for execution in body.get("Executions") or []:
        if execution.get("ExecutionId") == execution_id:
            return execution
    if required:
        raise AlicloudError(f"execution {execution_id} does not exist in this region", code="EntityNotExists.Execution",
                            product="oos", action="ListExecutions")
    return None


def list_task_executions(client, execution_id: str, include_children: bool = False) -> list:
    params = {"ExecutionId": execution_id, "MaxResults": 100, "SortField": "StartDate", "SortOrder": "Ascending"}
    if include_children:
        params["IncludeChildTaskExecution"] = True
    body, _unused = client.paginate("ListTaskExecutions", params, list_path="TaskExecutions")
    return body.get("TaskExecutions") or []


def list_execution_logs(client, execution_id: str, task_execution_id=None) -> list:
    params = {"ExecutionId": execution_id, "MaxResults": 100}
    if task_execution_id:
        params["TaskExecutionId"] = task_execution_id
    body, _unused = client.paginate("ListExecutionLogs", params, list_path="ExecutionLogs")
    return body.get("ExecutionLogs") or []


def describe_task(task: dict) -> dict:
    result = camel_dict_to_snake_dict({k: v for k, v in task.items() if k not in ("Outputs", "Properties", "ExtraData")})
    result["outputs"] = _parse_json(task.get("Outputs"), {})
    result["properties"] = _parse_json(task.get("Properties"), {})
    result["extra_data"] = task.get("ExtraData") or {}
    return result


def describe_execution(execution: dict, tasks=None, logs=None) -> dict:
    """Snake_case execution with ``outputs``/``parameters`` parsed and ``tags`` kept as given."""
    result = camel_dict_to_snake_dict({k: v for k, v in execution.items()
                                       if k not in ("Outputs", "Parameters", "Tags", "Counters")})
    result["outputs"] = _parse_json(execution.get("Outputs"), {})
    result["parameters"] = _parse_json(execution.get("Parameters"), {})
    result["tags"] = execution.get("Tags") or {}
    result["counters"] = execution.get("Counters") or {}
    if tasks is not None:
        result["task_executions"] = [describe_task(task) for task in tasks]
    if logs is not None:
        result["logs"] = camel_dict_to_snake_dict({"L": logs})["l"]
    return result


def failing_task(tasks: list):
    """The first failed top-level task (what the user needs to see), or None."""
    for task in tasks:
        if task.get("Status") == "Failed" and not task.get("ParentTaskExecutionId"):
            return task
    return None


# Nested templates and cloud product actions wait inside child executions; followed this deep at most.
MAX_CHILD_DEPTH = 8


def waiting_tasks(client, execution_id: str, depth: int = 0) -> list:
    """The task executions ``execution_id`` waits on (an ACS::Approve, a high-risk call), followed into the child
    executions of its running tasks, a Loop's iterations included (each may wait, or run a template that
    does): what a NotifyExecution Approve answers, under its own name."""
    found = []
    for task in list_task_executions(client, execution_id, include_children=True):
        if task.get("Status") == WAITING:
            found.append(task)
        elif task.get("ChildExecutionId") and task.get("Status") not in TERMINAL and depth < MAX_CHILD_DEPTH:
            found.extend(waiting_tasks(client, task["ChildExecutionId"], depth + 1))
    return found


def wait_for_execution(client, execution_id: str, until: str, timeout: float, interval: float,
                       sleep=time.sleep, clock=time.monotonic, answered=None) -> tuple:
    """Poll until the execution is terminal (or Waiting if ``until == 'waiting'``): ``(execution, timed_out)``.

    ``answered``: the task executions just approved or rejected. The service takes a moment to leave Waiting
    after an answer, so Waiting counts only once it waits on another task (a second approval).
    """
    poll = PollClock(timeout, schedule=lambda _n: interval, whole_pauses=True, sleep=sleep, monotonic=clock)
    while True:
        execution = get_execution(client, execution_id)
        status = execution.get("Status")
        if status in TERMINAL or (until == "waiting" and status == WAITING and (
                answered is None or _waits_on_another(client, execution_id, answered))):
            return execution, False
        if not poll.wait():
            return execution, True


def _waits_on_another(client, execution_id: str, answered: set) -> bool:
    # Nothing waiting yet: the answered task has moved on, the execution's own status not yet.
    return bool({task.get("TaskExecutionId") for task in waiting_tasks(client, execution_id)} - answered)


def _wait_or_cancel(client, execution_id: str, params: dict, answered=None) -> tuple:
    """wait_for_execution, cancelling the execution when the wait is interrupted (^C, SIGTERM)."""
    try:
        with interruptible():
            try:
                return wait_for_execution(client, execution_id, params["wait_until"], params["wait_timeout"],
                                          params["poll_interval"], answered=answered)
            except Interrupted:
                try:
                    client.call("CancelExecution", {"ExecutionId": execution_id})
                except AlicloudError:
                    pass   # best effort: the process is going anyway
                raise
    except Interrupted as interrupted:
        die_of(interrupted)
        raise


def _pending_matches(execution: dict, pending_task) -> bool:
    if not pending_task:
        return True
    return any(pending_task in (task.get("TaskName"), task.get("TaskAction"))
               for task in execution.get("CurrentTasks") or [])


def _start_inputs(params: dict, source) -> dict:
    inputs = {
        "template_name": params["template_name"], "template_version": params["template_version"],
        "template_content_sha256": source.sha256 if source else None, "parameters": params["parameters"] or {},
        "mode": params["mode"], "loop_mode": params["loop_mode"], "safety_check": params["safety_check"],
        "tags": params["tags"] or {}, "description": params["description"],
        "resource_group_id": params["resource_group_id"],
    }
    return inputs


def _start(module, client, result) -> str:
    params = module.params
    if not params["template_name"] and params["template_content"] is None:
        raise AlicloudInputError("template_name", "set template_name (a stored template) or template_content "
                                                  "to start an execution")
    source = None
    if params["template_content"] is not None:
        source = load_template_source(params["template_content"], None, field="template_content")
    inputs = _start_inputs(params, source)
    token = params["client_token"] or execution_token(inputs)
    result["client_token"] = token
    if module.check_mode:
        result.update(changed=True, status=None, execution_id=None,
                      msg="Would start an execution (check mode: nothing sent).")
        return ""
    request = {"Mode": params["mode"], "SafetyCheck": params["safety_check"], "LoopMode": params["loop_mode"],
               "Parameters": params["parameters"] or {}}
    if source is not None:
        request["TemplateContent"] = source.text
    else:
        request["TemplateName"] = params["template_name"]
        if params["template_version"]:
            request["TemplateVersion"] = params["template_version"]
    for option, key in (("tags", "Tags"), ("description", "Description"), ("resource_group_id", "ResourceGroupId")):
        if params[option]:
            request[key] = params[option]
    for _generation in range(MAX_GENERATIONS):
        called_at = time.time()
        body = client.call("StartExecution", request, client_token=token)
        execution = body.get("Execution") or {}
        execution_id = execution.get("ExecutionId")
        # With a ClientToken already used, OOS answers with the execution that token started earlier.
        started_before = _started_before(execution, called_at)
        if not started_before or get_execution(client, execution_id, required=False) is not None:
            result["client_token"] = token
            result["changed"] = not started_before
            return execution_id
        if params["client_token"]:
            raise AlicloudError(f"client_token {token} started execution {execution_id} earlier, which no longer "
                                "exists: give a new client_token to start a new execution", code="EntityNotExists.Execution",
                                product="oos", action="StartExecution")
        # The execution this token started was deleted: a new run starts a new one.
        token = execution_token(inputs, gone=execution_id)
    raise AlicloudError(f"StartExecution kept answering with executions that no longer exist ({MAX_GENERATIONS} in a "
                        "row)", code="EntityNotExists.Execution", product="oos", action="StartExecution")


def _started_before(execution: dict, called_at: float) -> bool:
    created = execution.get("CreateDate") or execution.get("StartDate")
    if not created:
        return False
    try:
        from datetime import datetime, timezone
        stamp = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return False
    # CreateDate has one-second precision: anything older than the second before this call was not ours.
    return stamp < int(called_at) - 1


def execution_secrets(params: dict) -> Secrets:
    """Parameters named in ``secret_parameters``, declared secret by ``template_content`` (NoEcho,
    SecretParameter) or holding an oos-secret reference. Names may be template parameters left to their
    default, or those of an execution started earlier (approve, reject, cancel)."""
    template = None
    if params.get("template_content") is not None:
        try:
            template = load_template_source(params["template_content"], None, field="template_content").document
        except AlicloudInputError:
            template = None  # reported by the start itself
    return parameter_secrets(params.get("parameters"), params.get("secret_parameters"), template=template,
                             must_be_given=False)


def execution_task(module) -> dict:
    """Everything ``oos_execution`` does; returns the ``exit_json`` arguments (or fails the task)."""
    params = module.params
    module.secrets = execution_secrets(params)
    state = params["state"]
    client = module.client("oos")
    result = {"changed": False}
    answered = None   # the task executions this call approved or rejected

    if state == "started":
        execution_id = _start(module, client, result)
        if module.check_mode:
            return result
    else:
        execution_id = params["execution_id"]
        if not execution_id:
            raise AlicloudInputError("execution_id", f"is required with state={state}")
        execution = get_execution(client, execution_id)
        status = execution.get("Status")
        if state in NOTIFY_TYPES:
            if status == WAITING and _pending_matches(execution, params["pending_task"]):
                result["changed"] = True
                if not module.check_mode:
                    request = {"ExecutionId": execution_id, "NotifyType": NOTIFY_TYPES[state]}
                    if params["notify_note"]:
                        request["NotifyNote"] = params["notify_note"]
                    answered = {task.get("TaskExecutionId") for task in waiting_tasks(client, execution_id)}
                    notify(client, execution, request)
            elif status == WAITING:
                waiting_on = [t.get("TaskName") for t in execution.get("CurrentTasks") or []]
                result["msg"] = f"Execution is waiting on {waiting_on}, not on {params['pending_task']}: left as is."
            elif state == "approved" and status in ("Cancelled", "Failed"):
                raise AlicloudError(f"execution {execution_id} cannot be approved: it is {status} "
                                    f"({execution.get('StatusMessage') or 'no reason given'})",
                                    code="IncorrectExecutionStatus", product="oos", action="NotifyExecution")
        elif state == "cancelled" and status not in TERMINAL:
            result["changed"] = True
            if not module.check_mode:
                client.call("CancelExecution", {"ExecutionId": execution_id})
        if module.check_mode:
            result.update(execution_id=execution_id, status=status)
            return result

    execution = get_execution(client, execution_id)
    timed_out = False
    if params["wait"] and params.get("cancel_on_interrupt"):
        execution, timed_out = _wait_or_cancel(client, execution_id, params, answered)
    elif params["wait"]:
        execution, timed_out = wait_for_execution(client, execution_id, params["wait_until"], params["wait_timeout"],
                                                  params["poll_interval"], answered=answered)
    tasks = list_task_executions(client, execution_id)
    described = describe_execution(execution, tasks)
    result.update(execution_id=execution_id, status=execution.get("Status"),
                  status_reason=execution.get("StatusReason") or execution.get("StatusMessage") or "",
                  outputs=described["outputs"], task_executions=described["task_executions"],
                  execution=described)
    if execution.get("Status") == WAITING:
        result["waiting_tasks"] = [describe_task(task) for task in waiting_tasks(client, execution_id)]
    if timed_out:
        module.fail_json(msg=f"Execution {execution_id} is still {execution.get('Status')} after "
                             f"{params['wait_timeout']} seconds (wait_timeout).", **result)
    status = execution.get("Status")
    if status == "Failed":
        failed = failing_task(tasks)
        result["failed_task"] = describe_task(failed) if failed else None
        where = f"task {failed['TaskName']} ({failed['TaskAction']}) failed: {failed.get('StatusMessage')}" \
            if failed else (execution.get("StatusMessage") or "no reason given")
        module.fail_json(msg=f"Execution {execution_id} failed: {where}", **result)
    if status == "Cancelled" and state in ("started", "approved"):
        module.fail_json(msg=f"Execution {execution_id} was cancelled: "
                             f"{execution.get('StatusMessage') or 'no reason given'}", **result)
    return result


def _waiting_on(execution: dict) -> set:
    return {t.get("TaskExecutionId") or t.get("TaskName") for t in execution.get("CurrentTasks") or []}


def notify(client, execution: dict, request: dict) -> None:
    """NotifyExecution, never repeated blindly: a second Approve could answer the execution's next
    approval. After a lost answer the execution is read back: if it no longer waits on the same task,
    the lost call did it; if it still does, the call is sent again. The service takes a moment to leave
    Waiting after an answer, so a resend refused because nothing waits any more also means the lost
    call did it."""
    answer_lost = False
    for _attempt in range(client.retry.attempts):
        try:
            client.call("NotifyExecution", request, read_back=True)
            return
        except OutcomeUnknown:
            answer_lost = True
            latest = get_execution(client, execution["ExecutionId"])
            if latest.get("Status") != WAITING or _waiting_on(latest) != _waiting_on(execution):
                return
        except AlicloudError as error:
            if not answer_lost or error.code not in done_codes("oos", "NotifyExecution"):
                raise
            return
    raise AlicloudError(f"NotifyExecution on {execution['ExecutionId']} lost its answer {client.retry.attempts} times "
                        "and the execution still waits: check it with oos_execution_info", code="OutcomeUnknown",
                        product="oos", action="NotifyExecution")


def _date(value, field):
    if value in (None, ""):
        return None
    text = str(value).strip()
    from datetime import datetime
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            continue
    raise AlicloudInputError(field, f"{value!r} is not a UTC time such as 2024-06-01T00:00:00Z or 2024-06-01")


def execution_info_task(module) -> dict:
    """Everything ``oos_execution_info`` does."""
    params = module.params
    module.secrets = parameter_secrets(None, params.get("secret_parameters"), must_be_given=False)
    client = module.client("oos")
    if params["execution_id"]:
        execution = get_execution(client, params["execution_id"], required=False)
        if execution is None:
            return {"changed": False, "executions": []}
        tasks = list_task_executions(client, execution["ExecutionId"], params["include_child_tasks"]) \
            if params["include_tasks"] is not False else None
        logs = list_execution_logs(client, execution["ExecutionId"]) if params["include_logs"] else None
        return {"changed": False, "executions": [describe_execution(execution, tasks, logs)]}

    request = {"SortField": params["sort_field"], "SortOrder": params["sort_order"]}
    for option, key in (("template_name", "TemplateName"), ("status", "Status"), ("mode", "Mode"),
                        ("parent_execution_id", "ParentExecutionId"), ("resource_group_id", "ResourceGroupId")):
        if params[option]:
            request[key] = params[option]
    for option, key in (("start_date_after", "StartDateAfter"), ("start_date_before", "StartDateBefore"),
                        ("end_date_after", "EndDateAfter"), ("end_date_before", "EndDateBefore")):
        value = _date(params[option], option)
        if value:
            request[key] = value
    if params["tags"]:
        request["Tags"] = params["tags"]
    if params["include_child_executions"]:
        request["IncludeChildExecution"] = True
    limit = params["limit"]
    if limit is not None and limit < 1:
        raise AlicloudInputError("limit", "must be at least 1 (or unset for every execution)")
    request["MaxResults"] = min(100, max(10, limit or 100))
    if params["next_token"]:
        request["NextToken"] = params["next_token"]
        body = client.call("ListExecutions", request)
        pages = 1
    else:
        max_pages = 1 if limit else 1000
        if limit:
            max_pages = (limit + request["MaxResults"] - 1) // request["MaxResults"]
        body, pages = client.paginate("ListExecutions", request, list_path="Executions", max_pages=max_pages)
    executions = body.get("Executions") or []
    if limit:
        executions = executions[:limit]
    described = []
    for execution in executions:
        tasks = list_task_executions(client, execution["ExecutionId"]) if params["include_tasks"] else None
        described.append(describe_execution(execution, tasks))
    return {"changed": False, "executions": described, "next_token": body.get("NextToken") or ""}
