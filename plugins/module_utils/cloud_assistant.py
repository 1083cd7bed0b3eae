# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud Assistant RunCommand over a fleet: the behaviour of ``ACS::ECS::RunCommand`` (run, wait
for the invocation, read the output, check the exit code) with as few calls as the API allows.

* One RunCommand per 100 running instances (the API limit), each with its own ClientToken so a
  retried call cannot run the command twice.
* DescribeInvocationResults (50 results a page) polled for every unfinished invocation of a wave
  together, with a backing-off clock.
* Instances that are not Running are not sent the command: they get an ``Aborted`` result with
  ``error_code: InstanceNotRunning`` and count as failures, like in OOS.
* An OOS RateControl cuts the fleet into waves; more than MaxErrors failures stops the next waves.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid

from ansible_collections.alicloud.oos.plugins.module_utils import paging
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    chunked,
    count_by,
    errors_allowed,
    NOT_ATTEMPTED,
    max_errors_message,
    no_match_result,
    select_instances,
    task_argument_spec,
    validate_rate_control,
    waves,
)
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import Secrets, parameter_secrets

API_COMMAND_TYPES = ("RunShellScript", "RunBatScript", "RunPowerShellScript")
# ACS::ECS::RunCommand also runs Python and Perl scripts: as a shell script that hands them to the interpreter.
INTERPRETED_TYPES = {"RunPythonScript": "python", "RunPerlScript": "perl"}
COMMAND_TYPES = API_COMMAND_TYPES + tuple(INTERPRETED_TYPES)
WINDOWS_TYPES = ("RunBatScript", "RunPowerShellScript")
CONTENT_ENCODINGS = ("PlainText", "Base64")
MIN_TIMEOUT = 10
MAX_TIMEOUT = 86400
DEFAULT_TIMEOUT = 60
MAX_INSTANCES_PER_CALL = 100     # RunCommand InstanceId.N, N = 1..100
RESULTS_PAGE_SIZE = 50           # DescribeInvocationResults MaxResults/PageSize maximum
MAX_CONTENT_BYTES = 24 * 1024    # Base64-encoded command content, KeepCommand=false
MAX_PARAMETERS = 20
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Built-in environment parameters ({{ACS::InstanceId}}, ...) are filled only with EnableParameter.
BUILTIN_PARAMETER = re.compile(r"\{\{\s*ACS::", re.IGNORECASE)
# Seconds to keep polling after the command's own timeout, for delivery and reporting.
WAIT_GRACE = 60

FINAL_STATUSES = ("Success", "Failed", "Error", "Timeout", "Cancelled", "Terminated", "Invalid", "Aborted", "Stopped")

RUN_COMMAND_ARGUMENT_SPEC = {
    "command_content": {"type": "str", "required": True},
    "command_type": {"type": "str", "default": "RunShellScript", "choices": list(COMMAND_TYPES)},
    # Not no_log: Ansible would mask every value, "1" included, inside ids and messages. The secret ones are
    # named in secret_parameters and masked exactly (module_utils/secrets.py).
    "parameters": {"type": "dict", "no_log": False},
    "secret_parameters": {"type": "list", "elements": "str", "no_log": False},
    "enable_parameter": {"type": "bool"},
    "working_dir": {"type": "str"},
    "username": {"type": "str"},
    "windows_password_name": {"type": "str", "no_log": False},
    "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
    "content_encoding": {"type": "str", "default": "PlainText", "choices": list(CONTENT_ENCODINGS)},
    "wait": {"type": "bool", "default": True},
    "fail_on_nonzero": {"type": "bool", "default": True},
}


def _choice(params: dict, name: str, choices: tuple) -> str:
    value = params.get(name)
    matches = {c.lower(): c for c in choices}
    if not isinstance(value, str) or value.lower() not in matches:
        raise AlicloudInputError(name, f"{name} is {value!r}; use one of {', '.join(choices)}")
    return matches[value.lower()]


def interpreter_script(interpreter: str, script: str) -> str:
    """A shell script that runs ``script`` with ``interpreter`` (python3 before python). The script goes in a
    quoted here-document, so the shell leaves it alone and Cloud Assistant still fills its {{parameters}}."""
    marker = "OOS_SCRIPT_END"
    while marker in script:
        marker += "_"
    if interpreter == "python":
        choose = 'if command -v python3 >/dev/null 2>&1; then run=python3; else run=python; fi'
    else:
        choose = f"run={interpreter}"
    return (f'{choose}\nscript=$(mktemp)\ntrap \'rm -f "$script"\' EXIT\n'
            f"cat > \"$script\" <<'{marker}'\n{script.rstrip(chr(10))}\n{marker}\n"
            '"$run" "$script"\n')


def command_spec(params: dict) -> dict:
    """Validate the command options into the RunCommand parameters (minus instance ids).

    Every check happens here, before any request.
    """
    command_type = _choice(params, "command_type", COMMAND_TYPES)
    encoding = _choice(params, "content_encoding", CONTENT_ENCODINGS)
    content = params.get("command_content")
    if not isinstance(content, str) or not content.strip():
        raise AlicloudInputError("command_content", "command_content is empty: give the script to run")
    if encoding == "Base64":
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise AlicloudInputError("command_content", "command_content is not valid Base64 although content_encoding is "
                                     "Base64: encode it (b64encode filter) or set content_encoding: PlainText") from None
        encoded_size = len(content)
    else:
        encoded_size = len(base64.b64encode(content.encode("utf-8")))
    if encoded_size > MAX_CONTENT_BYTES:
        raise AlicloudInputError("command_content", f"command_content is {encoded_size} bytes once Base64-encoded; Cloud "
                                 f"Assistant accepts at most {MAX_CONTENT_BYTES}: copy a script file and run it instead")
    timeout = params.get("timeout")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise AlicloudInputError("timeout", f"timeout is {timeout!r}: give a number of seconds between {MIN_TIMEOUT} "
                                 f"and {MAX_TIMEOUT}")
    if command_type in INTERPRETED_TYPES:
        if encoding == "Base64":
            content = base64.b64decode(content).decode("utf-8", errors="strict")
            encoding = "PlainText"
        content = interpreter_script(INTERPRETED_TYPES[command_type], content)
        if len(base64.b64encode(content.encode("utf-8"))) > MAX_CONTENT_BYTES:
            raise AlicloudInputError("command_content", f"command_content with its {command_type} wrapper is over "
                                     f"{MAX_CONTENT_BYTES} bytes once Base64-encoded: copy a script file and run it instead")
        command_type = "RunShellScript"
    spec = {"Type": command_type, "CommandContent": content, "ContentEncoding": encoding, "Timeout": timeout}
    parameters = params.get("parameters")
    enable_parameter = params.get("enable_parameter")
    if enable_parameter is False and parameters:
        raise AlicloudInputError("enable_parameter", "enable_parameter is false but parameters are given: drop "
                                 "parameters or set enable_parameter: true")
    password_name = params.get("windows_password_name")
    if password_name:
        if command_type not in WINDOWS_TYPES:
            raise AlicloudInputError("windows_password_name", "windows_password_name applies to RunBatScript and "
                                     "RunPowerShellScript only")
        if not params.get("username"):
            raise AlicloudInputError("windows_password_name", "windows_password_name needs username (the Windows user "
                                     "whose password it names)")
        spec["WindowsPasswordName"] = password_name
    if parameters:
        if not isinstance(parameters, dict):
            raise AlicloudInputError("parameters", "parameters must be a mapping of {{name}} parameter to value")
        if len(parameters) > MAX_PARAMETERS:
            raise AlicloudInputError("parameters", f"parameters has {len(parameters)} entries; at most {MAX_PARAMETERS}")
        bad = [k for k in parameters if not isinstance(k, str) or not PARAMETER_NAME.match(k)]
        if bad:
            raise AlicloudInputError("parameters", f"parameter name(s) {', '.join(map(repr, bad))} are invalid: use "
                                     "letters, digits, - and _ (at most 64)")
        spec["EnableParameter"] = True
        # The API takes Parameters as one JSON string (what the SDK sends for this shrink field).
        spec["Parameters"] = json.dumps({k: "" if v is None else str(v) for k, v in parameters.items()},
                                        separators=(",", ":"), ensure_ascii=False)
    elif enable_parameter or (enable_parameter is None and encoding == "PlainText" and BUILTIN_PARAMETER.search(content)):
        spec["EnableParameter"] = True
    for option, api_name in (("working_dir", "WorkingDir"), ("username", "Username")):
        if params.get(option):
            spec[api_name] = params[option]
    return spec


def decode_output(value, encoding: str = "Base64") -> str:
    """Cloud Assistant output (Base64 by default) -> text; undecodable bytes are replaced."""
    if not value:
        return ""
    if encoding != "Base64":
        return value
    try:
        return base64.b64decode(value).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value


def _result_from_api(item: dict) -> dict:
    return {
        "instance_id": item.get("InstanceId"),
        "status": item.get("InvocationStatus"),
        "exit_code": item.get("ExitCode"),
        "output": decode_output(item.get("Output")),
        "dropped": item.get("Dropped") or 0,
        "error_code": item.get("ErrorCode") or None,
        "error_info": item.get("ErrorInfo") or None,
        "invoke_id": item.get("InvokeId"),
        "start_time": item.get("StartTime") or None,
        "finish_time": item.get("FinishedTime") or item.get("FinishTime") or None,
    }


def _placeholder(instance_id, status, error_code, error_info, invoke_id=None) -> dict:
    return {"instance_id": instance_id, "status": status, "exit_code": None, "output": "", "dropped": 0,
            "error_code": error_code, "error_info": error_info, "invoke_id": invoke_id,
            "start_time": None, "finish_time": None}


def invocation_results(client, invoke_id: str) -> list:
    """Every per-instance result of one invocation (pages of 50)."""
    def items_of(body):
        invocation = body.get("Invocation") or {}
        return (invocation.get("InvocationResults") or {}).get("InvocationResult") or [], invocation.get("TotalCount")

    return paging.all_items(client, "DescribeInvocationResults", {"InvokeId": invoke_id, "ContentEncoding": "Base64"},
                            RESULTS_PAGE_SIZE, items_of)


def is_failure(result: dict, fail_on_nonzero: bool) -> bool:
    """Does this per-instance result count against MaxErrors?"""
    status = result.get("status")
    if status == "Success":
        return False
    if status == "Failed" and not fail_on_nonzero and result.get("exit_code") not in (None, "") and \
            result.get("error_code") in (None, "", "ExitCodeNonzero"):
        return False
    return status in FINAL_STATUSES


def _start_wave(client, spec: dict, instance_ids: list, name: str | None) -> dict:
    """RunCommand on ``instance_ids`` (100 per call) -> ``{invoke_id: [instance ids]}``."""
    invocations = {}
    for chunk in chunked(instance_ids, MAX_INSTANCES_PER_CALL):
        params = dict(spec, InstanceId=chunk)
        if name:
            params["Name"] = name
        body = client.call("RunCommand", params, client_token=uuid.uuid4().hex) or {}
        invocations[body.get("InvokeId")] = chunk
    return invocations


def _poll_wave(client, invocations: dict, clock: PollClock, wait: bool) -> dict:
    """Poll DescribeInvocationResults of every unfinished invocation until all results are final."""
    results = {}
    unfinished = dict(invocations)
    first = True
    while unfinished:
        if not first and not clock.wait():
            break
        first = False
        for invoke_id in list(unfinished):
            for item in invocation_results(client, invoke_id):
                result = _result_from_api(item)
                result["invoke_id"] = result["invoke_id"] or invoke_id
                results[result["instance_id"]] = result
            if all(results.get(i, {}).get("status") in FINAL_STATUSES for i in unfinished[invoke_id]):
                del unfinished[invoke_id]
        if not wait:
            break
    for invoke_id, instance_ids in invocations.items():
        for iid in instance_ids:
            if iid not in results:
                results[iid] = _placeholder(iid, "Pending", None, None, invoke_id)
            elif wait and results[iid]["status"] not in FINAL_STATUSES and invoke_id in unfinished:
                results[iid]["error_code"] = "WaitTimeout"
                results[iid]["error_info"] = "no final result before the command timeout plus grace time"
    return results


def run_command(client, instances: list, params: dict, rate_control=None, check_mode: bool = False,
                clock_factory=PollClock) -> dict:
    """Run the command of ``params`` (see command_spec) on ``instances`` (normalized instances).

    Returns ``{"changed", "results": [...], "invoke_ids", "failed_instances", "max_errors",
    "counts"}``; per-instance failures never raise, the caller compares them with ``max_errors``.
    """
    spec = command_spec(params)
    wait = params.get("wait", True)
    fail_on_nonzero = params.get("fail_on_nonzero", True)
    order = [i["instance_id"] for i in instances]
    status_of = {i["instance_id"]: i.get("status") for i in instances}
    results = {}
    allowed = errors_allowed(rate_control, len(instances))
    invoke_ids = []
    failures = 0
    groups = waves(rate_control, order)
    for index, group in enumerate(groups):
        runnable = [iid for iid in group if status_of[iid] == "Running"]
        for iid in group:
            if status_of[iid] != "Running":
                results[iid] = _placeholder(
                    iid, "Aborted", "InstanceNotRunning",
                    f"the instance is {status_of[iid]}; Cloud Assistant runs commands only on Running instances")
        if check_mode:
            for iid in runnable:
                results[iid] = _placeholder(iid, "Skipped", None, "check mode: the command was not run")
            continue
        if failures > allowed:
            for iid in runnable:
                results[iid] = _placeholder(iid, "Skipped", NOT_ATTEMPTED,
                                            f"not run: more than {allowed} instance(s) failed (MaxErrors)")
            continue
        if runnable:
            last = index == len(groups) - 1
            invocations = _start_wave(client, spec, runnable, params.get("name"))
            invoke_ids.extend(invocations)
            clock = clock_factory(spec["Timeout"] + WAIT_GRACE)
            results.update(_poll_wave(client, invocations, clock, wait=wait or not last))
        failures += sum(is_failure(results[iid], fail_on_nonzero) for iid in group)
    ordered = [dict(results[iid], **shell_fields(results[iid])) for iid in order]
    failed = [r for r in ordered if is_failure(r, fail_on_nonzero) or r["error_code"] in ("WaitTimeout", NOT_ATTEMPTED)]
    summary = {
        "changed": bool(invoke_ids),
        "results": ordered,
        "invoke_ids": invoke_ids,
        "failed_instances": failed,
        "max_errors": allowed,
        "counts": {"total": len(ordered), "failed": len(failed), "by_status": count_by(ordered, "status")},
    }
    if len(ordered) == 1:
        summary.update(shell_fields(ordered[0]))
        # Ansible counts a result with a non-zero `rc` and no `failed` key as failed: say it explicitly.
        summary["failed"] = False
    return summary


def shell_fields(entry: dict) -> dict:
    """``stdout``, ``stdout_lines`` and ``rc`` as ``ansible.builtin.command`` returns them. Cloud Assistant
    returns one stream (stderr is in ``stdout``); ``rc`` is None when the command did not finish."""
    stdout = entry.get("output") or ""
    return {"stdout": stdout, "stdout_lines": stdout.splitlines(), "rc": entry.get("exit_code")}


def describe_failure(entry: dict) -> str:
    """``i-... Failed (ExitCodeNonzero exit code 3: details)`` of one failed instance."""
    detail = entry.get("error_code") or ""
    if entry.get("exit_code") not in (None, 0):
        detail = f"{detail} exit code {entry['exit_code']}".strip()
    if entry.get("error_info"):
        detail = f"{detail}: {entry['error_info']}" if detail else entry["error_info"]
    return f"{entry['instance_id']} {entry['status']}" + (f" ({detail})" if detail else "")


def failure_message(result: dict) -> str | None:
    """One message naming each failed instance and its error, when failures exceed MaxErrors."""
    return max_errors_message(result, "the command", describe_failure)


def run_command_argument_spec() -> dict:
    return task_argument_spec(RUN_COMMAND_ARGUMENT_SPEC)


def command_secrets(params: dict) -> Secrets:
    """The values of the parameters named in ``secret_parameters`` (or holding an oos-secret reference)."""
    return parameter_secrets(params.get("parameters"), params.get("secret_parameters"))


def run_command_task(client, params: dict, check_mode: bool = False, instances: list | None = None) -> dict:
    """oos_run_command: validate, select (unless ``instances`` are given), run, summarize.

    Input errors raise AlicloudInputError before any request; failures beyond MaxErrors set
    ``failed`` and ``msg`` in the returned result. The secret parameters are masked in the result and
    in errors (command output and error messages may echo them), whichever path called this.
    """
    secrets = command_secrets(params)
    try:
        return secrets.mask(_run_command_task(client, params, check_mode, instances))
    except (AlicloudError, AlicloudInputError) as error:
        raise secrets.mask_error(error)


def _run_command_task(client, params: dict, check_mode: bool, instances: list | None) -> dict:
    command_spec(params)
    rate_control = validate_rate_control(params.get("rate_control"))
    if instances is None:
        instances = select_instances(client, params)
        if not instances:
            return dict(no_match_result(params, "results"), invoke_ids=[])
    result = run_command(client, instances, params, rate_control=rate_control, check_mode=check_mode)
    message = failure_message(result)
    if message:
        result["failed"] = True
        result["msg"] = message
    return result
