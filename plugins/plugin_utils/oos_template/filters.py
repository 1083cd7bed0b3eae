"""The filters behind ``plugins/filter/oos_functions.py`` (pure functions; the plugin only registers them).

Run-time filters take and return the execution context described in :mod:`runtime`.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
import re

from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.alicloud.oos.plugins.module_utils.secrets import MASK, Secrets
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import delegation, functions, loader, parameters, runtime
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError


class FilterInputError(ValueError):
    """Raised for bad filter input; the plugin turns it into AnsibleFilterError."""


def _plain(value):
    """Ansible 2.19 hands tagged/lazy containers to filters: make ordinary JSON-like data of them."""
    if isinstance(value, str):
        return str.__str__(value)   # str() of ansible-core 2.16's unsafe text is that unsafe text again
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k) if isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# intrinsic functions for hand-written playbooks

def jq(data, expression, output_type=None):
    """Every result of the jq program; with an OOS output Type, the value a task Output of that Type gets."""
    if output_type is None:
        return wrap_var(functions.jq_all(_plain(expression), _plain(data), "jq program"))
    from ansible_collections.alicloud.oos.plugins.module_utils.selectors import select_output
    return wrap_var(select_output(_plain(expression), _plain(data), _plain(output_type), "ValueSelector"))


def oos_output(value, output_type):
    """A value as an OOS output of ``output_type`` (String, Number, Boolean, List, Json)."""
    return wrap_var(runtime.coerce(_plain(value), _plain(output_type)))


def oos_parameter_problems(values, specs, pseudo=None):
    """Every problem of the parameter values a run received (and of the pseudo-parameters it needs)."""
    values, specs, pseudo = _plain(values) or {}, _plain(specs) or {}, _plain(pseudo) or {}
    missing = [runtime.pseudo_missing(name) for name, given in pseudo.items() if given in (None, "")]
    return missing + [p for p in parameters.problems(specs, values) if not any(m in p for m in missing)]


def jq_items(results, expression, output_type):
    """A ValueSelector that reads the loop item, for each result of a loop (``response`` and ``item``, as
    ``register`` keeps them): ``{{ ACS::TaskLoopItem }}`` replaced by the item as OOS writes it into text,
    then the program run on the response, typed as a task Output of ``output_type``."""
    expression, output_type = _plain(expression), _plain(output_type)
    return wrap_var([runtime.select_value(expression, result.get("response"), output_type,
                                          {"loop_item": result.get("item")})
                     for result in _plain(results) or []])


def jq_first(data, expression):
    results = jq(data, expression)
    return results[0] if results else None


def oos_fn(value, context=None):
    """Evaluate a ``{'Fn::X': argument}`` structure (nested functions and references included)."""
    return runtime.render(_plain(value), _plain(context) or {})


def _function_filter(name):
    def apply(argument):
        return functions.FUNCTIONS[name](_plain(argument))
    apply.__name__ = "fn_" + name
    return apply


# ------------------------------------------------------------------------------------------------
# run time of converted templates

def oos_render(value, context, loop_item=None):
    context = _plain(context)
    if not isinstance(context, dict):
        raise FilterInputError(f"the context must be a mapping of names to values (such as {{'name': 'web'}}), "
                               f"got {type(context).__name__}")
    return runtime.render(_plain(value), context, _plain(loop_item))


def oos_condition(value, context):
    return runtime.condition(_plain(value), _plain(context))


def oos_start(specs, values, first_task, pseudo=None, pseudo_used=()):
    """Validate the parameters and build a fresh context; problems are returned for the assert task.

    ``pseudo_used`` lists the pseudo-parameters of :data:`runtime.PSEUDO_SOURCES` the template refers to:
    each must have a value before anything runs.
    """
    specs, values, pseudo = _plain(specs) or {}, _plain(values) or {}, _plain(pseudo) or {}
    context = runtime.start({}, pseudo, first_task)
    missing = [runtime.pseudo_missing(name) for name in _plain(pseudo_used) or [] if name not in context["pseudo"]]

    def render_default(default, resolved):
        try:
            return runtime.render(default, dict(context, parameters=resolved))
        except runtime.OosRuntimeError as error:
            raise ValueError(str(error)) from None
    resolved, problems = parameters.validate(specs, values, render_default)
    context["parameters"] = resolved
    # A Default that reads a missing pseudo-parameter repeats its message: say it once.
    context["problems"] = missing + [p for p in problems if not any(m in p for m in missing)]
    return context


# A parameters or event file: StartExecution's Parameters with room for scripts.
DATA_FILE_BYTES = 1024 * 1024


def oos_data(value, variable, names=None):
    """Values read from a file the run was given (``-e oos_parameters_file=PATH``): a mapping, kept as data.

    Every string is marked unsafe, so ``{{ ACS::InstanceId }}`` or ``{{ dir }}`` in a value reaches the API as
    written, on every ansible-core the collection supports. With ``names`` (the template's parameters), a name
    the template does not define is refused, as StartExecution refuses it.
    """
    value = _plain(value)
    if isinstance(value, str):   # the file's text: parsed here, with the template loader's bounds
        try:
            value = loader.parse_text(value, variable, max_bytes=DATA_FILE_BYTES)
        except ConversionError as error:
            raise FilterInputError("; ".join(error.problems)) from None
    if not isinstance(value, dict):
        raise FilterInputError(f"{variable} must name a JSON or YAML file holding a mapping of names to values "
                               f"(such as {{\"instanceId\": \"i-123\"}}), got {type(value).__name__}")
    if names is not None:
        defined = list(_plain(names) or {})
        unknown = [str(name) for name in value if name not in defined]
        if unknown:
            raise FilterInputError(f"{variable}: parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                   f"{'are' if len(unknown) > 1 else 'is'} not defined in the template (it defines: "
                                   f"{', '.join(defined) or 'no parameters'}); remove or rename "
                                   f"{'them' if len(unknown) > 1 else 'it'}")
    return wrap_var(value)


def oos_child_start(specs, given, parent, first_task):
    """Context of an inlined nested template: its parameters from the parent task's properties."""
    specs, given, parent = _plain(specs) or {}, _plain(given) or {}, _plain(parent)
    if not isinstance(given, dict):
        raise FilterInputError("the nested template's Parameters must be a mapping")
    unknown = [k for k in given if k not in specs]
    context = {"parameters": {}, "pseudo": dict(parent.get("pseudo") or {}), "tasks": {},
               "store": dict(parent.get("store") or {}), "next": first_task, "status": "Running", "error": None}

    def render_default(default, resolved):
        try:
            return runtime.render(default, dict(context, parameters=resolved))
        except runtime.OosRuntimeError as error:
            raise ValueError(str(error)) from None
    resolved, problems = parameters.validate(specs, given, render_default)
    if unknown:
        problems.append(f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} "
                        f"(the action takes: {', '.join(specs)})")
    if problems:
        raise FilterInputError("; ".join(problems))
    context["parameters"] = resolved
    return context


def oos_task_done(context, task, document, next_task):
    context, task = _plain(context), _plain(task)
    outputs = runtime.task_outputs(task, _plain(document), context, context.get("loop_item"))
    return runtime.record(context, task["Name"], outputs, next_task)


def oos_task_failed(context, task, failed_result, on_error):
    context, task = _plain(context), _plain(task)
    message = runtime.error_message(_plain(failed_result))
    if message.startswith(runtime.CANCELLED_MESSAGE):
        # An approval rejected inside a nested template cancels the whole execution (no OnError applies).
        return runtime.cancel(context, task["Name"], message[len(runtime.CANCELLED_MESSAGE):])
    ignore = str(task.get("OnError", "")).strip().upper() == "ACS::NEXT"
    return runtime.fail(context, task["Name"], runtime.error_message(_plain(failed_result)),
                        None if on_error == runtime.FAILED else _on_error(on_error), ignore=ignore)


def _on_error(target):
    return runtime.END if target == runtime.END else target


def oos_skip(context, next_task):
    return runtime.advance(_plain(context), next_task)


def oos_choose(context, task):
    context, task = _plain(context), _plain(task)
    props = task.get("Properties") or {}
    for choice in props.get("Choices") or []:
        if runtime.condition(choice.get("When"), context):
            return _goto(context, choice.get("NextTask"))
    return _goto(context, props.get("DefaultTask"))


def _goto(context, target):
    target = runtime.END if target in (None, "ACS::END", runtime.END) else target
    return runtime.advance(context, target)


def oos_approval_done(context, task, approved, next_task, reason=""):
    context, task = _plain(context), _plain(task)
    if approved in (True, "true", "True"):
        return runtime.record(context, task["Name"], {}, next_task)
    why = f" ({reason})" if reason else ""
    return runtime.cancel(context, task["Name"], f"approval {task['Name']} was rejected{why}: execution cancelled")


def oos_approvers(approvers):
    """ACS::Approve Approvers (a list of RAM user names, or one comma-separated string) as a list of names."""
    approvers = _plain(approvers)
    if approvers in (None, ""):
        return []
    if isinstance(approvers, str):
        approvers = approvers.split(",")
    if not isinstance(approvers, list):
        raise FilterInputError(f"Approvers must be a list of RAM user names, got {type(approvers).__name__}")
    return [str(name).strip() for name in approvers if str(name).strip()]


def oos_approval_tally(decision, approved_by=None, answers=None, approvers=None, min_approvals=1):
    """The outcome of an ACS::Approve gate: ``{'approved': bool, 'reason': str}``.

    ``decision`` (approve, reject or '') and ``approved_by`` (names) are given ahead of time; ``answers`` are the
    texts typed at the prompt (``approve alice``, ``reject``). Without ``approvers`` one approval from anyone is
    enough. With them, as OOS: only those RAM users count, each once, and ``min_approvals`` of them must approve;
    any rejection rejects. Names are taken on the operator's word: an authenticated decision needs AWX approval
    nodes or OOS itself (docs/converter.md).
    """
    names = oos_approvers(approvers)
    try:
        needed = max(int(_plain(min_approvals) or 1), 1)
    except (TypeError, ValueError):
        raise FilterInputError(f"MinRequiredApprovals must be a number, got {_plain(min_approvals)!r}") from None
    votes = []   # (decision, name)
    decision = str(_plain(decision) or "").strip().lower()
    if decision not in ("", "approve", "reject"):
        raise FilterInputError(f"oos_approval_decision is {decision!r}: use approve or reject")
    if decision:
        given = oos_approvers(approved_by)
        votes += [(decision, name) for name in given] or [(decision, "")]
    for answer in _plain(answers) or []:
        words = str(answer or "").split()
        if words:
            votes.append((words[0].lower(), " ".join(words[1:])))
    rejected = [name for vote, name in votes if vote in ("reject", "rejected", "no", "n")]
    if rejected:
        return {"approved": False, "reason": "rejected" + (f" by {', '.join(n for n in rejected if n)}" if any(rejected) else "")}
    approving = [name for vote, name in votes if vote in ("approve", "approved", "yes", "y")]
    if not names:
        if approving:
            return {"approved": True, "reason": ""}
        return {"approved": False, "reason": "no decision (no answer at the prompt, or no terminal)" if not votes
                else "the answer was neither approve nor reject"}
    counted = sorted({name for name in approving if name in names})
    strangers = sorted({name for name in approving if name and name not in names})
    if len(counted) >= needed:
        return {"approved": True, "reason": ""}
    reason = (f"{needed} approval(s) from {', '.join(names)} are required, got {len(counted)}"
              + (f" ({', '.join(counted)})" if counted else ""))
    if strangers:
        reason += f"; {', '.join(repr(n) for n in strangers)} may not approve"
    if any(not name for name in approving):
        reason += "; name the approver: oos_approval_approved_by, or 'approve <RAM user>' at the prompt"
    return {"approved": False, "reason": reason}


PAUSE_RESUME = "resume"
PAUSE_CANCEL = "cancel"


def oos_pause_decision(decision, task_name):
    """The decision given for ACS::Pause ``task_name``: ``-e oos_pause_decision=resume|cancel``, or a mapping
    of task names to decisions; '' when none was given for this task (the operator is then asked)."""
    decision = _plain(decision)
    if isinstance(decision, dict):
        decision = decision.get(task_name, "")
    decision = str(decision or "").strip().lower()
    if decision not in ("", PAUSE_RESUME, PAUSE_CANCEL):
        raise FilterInputError(f"oos_pause_decision for {task_name} is {decision!r}: use {PAUSE_RESUME} or {PAUSE_CANCEL}")
    return decision


def oos_pause_done(context, task, decision, answer, next_task):
    """ACS::Pause: go on only on an explicit ``resume`` (given ahead, or typed at the prompt).

    Anything else cancels the execution, as OOS does when the paused execution is not resumed: a run
    without a terminal (AWX, cron, CI) and without a decision never goes on by itself.
    """
    context, task = _plain(context), _plain(task)
    decision = oos_pause_decision(decision, task["Name"]) or str(_plain(answer) or "").strip().lower()
    if decision == PAUSE_RESUME:
        return runtime.record(context, task["Name"], {}, next_task)
    if decision == PAUSE_CANCEL:
        why = "the operator cancelled it"
    elif decision:
        why = f"the answer {decision[:40]!r} is not {PAUSE_RESUME}"
    else:
        why = ("no decision (no terminal, or nobody typed resume); pass -e oos_pause_decision=resume to go on "
               "without a prompt")
    return runtime.cancel(context, task["Name"], f"ACS::Pause {task['Name']} was not resumed: {why}")


def oos_trigger_note(props, kind):
    """What a trigger task means for the playbook, with the template's values (schedule, event) rendered."""
    props = _plain(props) or {}
    if kind == "TimerTrigger":
        what = (f"schedule {runtime.to_text(props.get('Type', 'cron'))} {runtime.to_text(props.get('Expression', ''))} "
                f"({runtime.to_text(props.get('TimeZone', 'UTC'))})")
    else:
        what = f"{kind}: runs when the event arrives; pass the event as -e oos_trigger_event_file=<path to its JSON>"
    return f"OOS {kind}: {what}. This playbook runs the body once; see docs/converter.md for AWX schedules."


def oos_loop_iterations(hosts, hostvars, execution_id):
    """What each item host of a loop play recorded (``oos_iteration``), None for items that never ran.

    Hosts left by another execution of the same template in this run are not counted.
    """
    results = []
    for host in _plain(hosts) or []:
        variables = hostvars[host] if host in hostvars else {}
        if "oos_loop_execution" not in variables or str(variables["oos_loop_execution"]) != str(execution_id):
            continue
        results.append(_plain(variables["oos_iteration"]) if "oos_iteration" in variables else None)
    return results


def oos_with_item(context, item):
    new = dict(_plain(context))
    new["loop_item"] = _plain(item)
    return new


def oos_loop_rate_control(loop, context):
    """A Loop's RateControl (or its legacy flat keys) evaluated and validated, in OOS form."""
    from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import rate_control_from_loop
    loop = runtime.render(_plain(loop), _plain(context))
    return rate_control_from_loop(loop).to_dict()


def oos_loop_start(task, context):
    """Items, serial and MaxErrors of a loop that runs as its own play."""
    from ansible_collections.alicloud.oos.plugins.module_utils import rate_control as rc
    task, context = _plain(task), _plain(context)
    loop = task.get("Loop") or {}
    items = runtime.render(loop.get("Items"), context)
    if not isinstance(items, list):
        raise FilterInputError(f"Loop.Items of {task['Name']} is not a list: {runtime.to_text(items)[:200]}")
    if len(items) > 1000:
        raise FilterInputError(f"Loop.Items of {task['Name']} has {len(items)} items: OOS allows at most 1000")
    control = rc.rate_control_from_loop(runtime.render({k: v for k, v in loop.items() if k != "Items"}, context))
    total = len(items)
    return {"items": items, "serial": rc.to_serial(control, total) if total else 1,
            "max_errors": rc.max_errors_allowed(control, total)}


def oos_iteration_outputs(context, task, document):
    context, task = _plain(context), _plain(task)
    return {"outputs": runtime.task_outputs(task, _plain(document), context, context.get("loop_item"))}


def oos_loop_done(context, task, iterations, next_task):
    """Aggregate per-item results (``{'outputs': ..}`` or ``{'error': ..}``, None = never ran)."""
    from ansible_collections.alicloud.oos.plugins.module_utils import rate_control as rc
    context, task, iterations = _plain(context), _plain(task), _plain(iterations) or []
    loop = runtime.render({k: v for k, v in (task.get("Loop") or {}).items() if k != "Items"}, context)
    allowed = rc.max_errors_allowed(rc.rate_control_from_loop(loop), len(iterations))
    errors = [i.get("error") for i in iterations if isinstance(i, dict) and i.get("error")]
    failure = runtime.loop_play_failure(errors, len(iterations), allowed, sum(1 for i in iterations if not i))
    if failure:
        raise FilterInputError(failure)
    outputs = [i.get("outputs") for i in iterations if isinstance(i, dict) and "outputs" in i]
    return runtime.record(context, task["Name"], runtime.aggregate_loop(task, outputs), next_task)


def oos_loop_failure(iterations, allowed):
    """What failed a Loop run as a play of one host per item (``oos_loop_iterations``: ``{'outputs'}``, ``{'error'}``,
    or none for an item that never ran), worded as OOS does; '' when nothing did (``allowed``: MaxErrors)."""
    iterations = _plain(iterations) or []
    errors = [i["error"] for i in iterations if isinstance(i, dict) and "error" in i]
    return runtime.loop_play_failure(errors, len(iterations), int(_plain(allowed)),
                                     sum(1 for i in iterations if not isinstance(i, dict)))


def oos_batch_done(context, task, documents, next_task):
    """A module looped over the items itself: per-item outputs then Loop.Outputs aggregation.

    Items that failed within MaxErrors (documents with ``__error__``) have no outputs, as in OOS.
    """
    context, task = _plain(context), _plain(task)
    per_item = [runtime.task_outputs(task, doc, context) for doc in _plain(documents) or []
                if not (isinstance(doc, dict) and "__error__" in doc)]
    return runtime.record(context, task["Name"], runtime.aggregate_loop(task, per_item), next_task)


def oos_item_documents(results, path):
    """Per-item documents of a sequential Ansible loop (``results`` of the registered loop)."""
    documents = []
    for result in _plain(results) or []:
        if result.get("failed"):
            documents.append({"__error__": runtime.error_message(result)})
            continue
        value = result
        for part in [p for p in str(path).split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        documents.append(value if value is not None else {})
    return documents


def oos_loop_documents_done(context, task, documents, next_task):
    iterations = []
    context_plain, task_plain = _plain(context), _plain(task)
    for doc in documents:
        if isinstance(doc, dict) and "__error__" in doc:
            iterations.append({"error": doc["__error__"]})
        else:
            iterations.append({"outputs": runtime.task_outputs(task_plain, doc, context_plain)})
    return oos_loop_done(context_plain, task_plain, iterations, next_task)


def oos_secret_texts(values) -> list:
    """The texts to mask for secret ``values``: each value (a List or Json one as the JSON text it is printed as)
    and every item inside a List or Json one (each item of a secret list is a secret: an instance id ...); none
    and empty ones left out. The modules' ``secret_values`` and :func:`oos_masked` take these."""
    texts = []

    def add(value):
        if isinstance(value, (dict, list)):
            texts.append(json.dumps(value))
            for item in value.values() if isinstance(value, dict) else value:
                add(item)
        elif value not in (None, ""):
            texts.append(str(value))
    for value in _plain(values) or ():
        add(value)
    return sorted(set(texts))


def _secret_texts(values) -> Secrets:
    return Secrets(values=oos_secret_texts(values))


def _masked_whole(outputs: dict, names) -> dict:
    """Outputs computed from a secret (encoded, split ...), masked whole unless empty: no exact value to look for."""
    names = _plain(names) or ()
    return {k: MASK if k in names and v not in (None, "") else v for k, v in outputs.items()}


def _context_secrets(context, secret_parameters, secret_store_names) -> Secrets:
    """The values of the secret parameters and Parameter Store secrets of this execution, to mask as text."""
    values = [(context.get("parameters") or {}).get(name) for name in _plain(secret_parameters) or ()]
    values += [(context.get("store") or {}).get(name) for name in _plain(secret_store_names) or ()]
    return _secret_texts(values)


def oos_finish(context, outputs_spec, secret_parameters=(), secret_store_names=(), secret_outputs=()):
    """The execution's end: its status and its Outputs. Values of ``secret_parameters`` (NoEcho) and of Parameter
    Store secrets are masked in the Outputs, which the playbook prints and publishes."""
    context = dict(_plain(context))
    if context.get("failed_after_cleanup") and context.get("status") == "Running":
        context["status"] = "Failed"  # the OnError cleanup path ran; the execution still failed
    if context.get("status") in ("Failed", "Cancelled"):
        context["outputs"] = {}
        return context
    outputs = {}
    for name, spec in (_plain(outputs_spec) or {}).items():
        spec = spec or {}
        outputs[name] = runtime.coerce(runtime.render(spec.get("Value"), context), spec.get("Type", "String"))
    outputs = _masked_whole(outputs, secret_outputs)
    secrets = _context_secrets(context, secret_parameters, secret_store_names)
    context["outputs"] = secrets.mask(outputs) if secrets else outputs
    if context.get("status") == "Running":
        context["status"] = "Success"
    return context


def oos_error_text(context, secret_parameters=(), secret_store_names=()):
    """The run's final error, with the values of secret parameters masked (the tasks that failed are no_log)."""
    context = _plain(context)
    error = context.get("error") or {}
    status = context.get("status", "Failed")
    if not error:
        return f"OOS execution {status}"
    text = f"OOS execution {status}: task {error.get('task')} failed: {error.get('message')}" if status == "Failed" \
        else f"OOS execution {status}: {error.get('message')}"
    secrets = _context_secrets(context, secret_parameters, secret_store_names)
    return secrets.mask_text(text) if secrets else text


def oos_masked(data, secret_values=(), masked_whole=()):
    """``data`` with each of ``secret_values`` (the values of NoEcho/secret parameters) masked wherever it appears,
    and the keys ``masked_whole`` (outputs computed from a secret: no exact value to look for) masked whole
    unless empty. What the natural writer's playbooks print and publish at the end of a run."""
    data = _plain(data)
    if isinstance(data, dict):
        data = _masked_whole(data, masked_whole)
    secrets = _secret_texts(_plain(secret_values) or ())
    if not secrets:
        return data
    return secrets.mask_text(data) if isinstance(data, str) else secrets.mask(data)


def oos_error_message(result):
    return runtime.error_message(_plain(result))


def oos_execution_failure(result, task_name, names=None, own=()):
    """How OOS words the end of an execution whose task failed, for the Ansible task ``task_name`` that failed with
    ``result`` in a converted playbook: ``OOS execution Failed: task <OOS task> failed: <error>`` (the OOS task is
    the task name up to ``' | '``, mapped back through ``names`` where the playbook shows it otherwise), the message
    itself of a task that ended the run as OOS would (``End as OOS ...``), Cancelled for a rejected approval (in a
    nested template too); the error alone for the tasks ``own`` (a nested template's own check and outputs, which fail the calling task)."""
    result, name = _plain(result) or {}, str(_plain(task_name) or "")
    if str(result.get("msg", "")).startswith(runtime.CANCELLED_MESSAGE):
        return result["msg"]   # an approval rejected inside a nested template cancels the whole execution
    if name in (_plain(own) or ()):
        return runtime.error_message(result)
    if name == "Stop the play as cancelled":
        return runtime.CANCELLED_MESSAGE + re.sub(r"^Cancelled: ", "", str(result.get("msg", "")))
    if name.startswith("End as OOS"):
        return f"OOS execution Failed: {result.get('msg', '')}"
    shown = name.split(" | ", maxsplit=1)[0]
    return f"OOS execution Failed: task {(_plain(names) or {}).get(shown, shown)} failed: {runtime.error_message(result)}"


def oos_store_value(context, name, response):
    context, response = dict(_plain(context)), _plain(response) or {}
    parameter = response.get("Parameter") or {}
    value = parameter.get("Value")
    if parameter.get("Type") == "StringList" and isinstance(value, str):
        value = value.split(",")
    context["store"] = dict(context.get("store") or {}, **{name: value})
    return context


def oos_duration_seconds(duration):
    return int(math.ceil(runtime.iso8601_seconds(_plain(duration))))


def oos_sleep_seconds(properties):
    """ACS::Sleep: seconds to wait, from ``Duration`` or from ``EndDate`` (an absolute UTC time; past: none)."""
    properties = _plain(properties) or {}
    if properties.get("Duration") not in (None, ""):
        return oos_duration_seconds(properties["Duration"])
    if properties.get("EndDate") not in (None, ""):
        end = functions.parse_time(properties["EndDate"])
        return max(0, int(math.ceil((end - datetime.datetime.now(datetime.timezone.utc)).total_seconds())))
    raise FilterInputError("ACS::Sleep needs Duration (such as PT15M) or EndDate (such as 2025-01-01T00:00:00Z)")


# ACS::SelectTargets resource types: (service, API version, API, list path, id field, name field).
# Whatever the type, OOS hands the task a DescribeInstances-shaped document (Instances.Instance[].InstanceId).
SELECT_TARGET_RESOURCES = {
    "aliyun::ecs::instance": ("ECS", None, "DescribeInstances", ("Instances", "Instance"), "InstanceId", "InstanceName"),
    "aliyun::redis::instance": ("R-kvstore", "2015-01-01", "DescribeInstances", ("Instances", "KVStoreInstance"),
                                "InstanceId", "InstanceName"),
    "aliyun::rds::instance": ("Rds", "2014-08-15", "DescribeDBInstances", ("Items", "DBInstance"),
                              "DBInstanceId", "DBInstanceDescription"),
}


SELECT_TARGET_TYPES = ("ALIYUN::ECS::Instance", "ALIYUN::Redis::Instance", "ALIYUN::RDS::Instance")


def _resource(resource_type):
    key = str(resource_type or "ALIYUN::ECS::Instance").strip().lower()
    if key not in SELECT_TARGET_RESOURCES:
        raise FilterInputError(f"ACS::SelectTargets ResourceType {resource_type!r} is not supported: use one of "
                               + ", ".join(SELECT_TARGET_TYPES))
    return key, SELECT_TARGET_RESOURCES[key]


def _product_params(resource: str, filters: dict) -> dict:
    """Targets filters (ecs_instances.filters_from_targets form) -> the list API parameters of a non-ECS product."""
    from ansible_collections.alicloud.oos.plugins.module_utils import ecs_instances
    params = {}
    ids = filters.get("InstanceIds")
    tags = filters.get(ecs_instances.TAGS_FILTER) or {}
    if filters.get("ResourceGroupId"):
        params["ResourceGroupId"] = filters["ResourceGroupId"]
    if resource == "aliyun::rds::instance":
        if ids:
            params["DBInstanceId"] = ",".join(ids)
        if tags:
            params["Tags"] = json.dumps(tags)
    else:
        if ids:
            params["InstanceIds"] = ",".join(ids)
        for index, (key, value) in enumerate(tags.items(), start=1):
            params[f"Tag.{index}.Key"] = key
            if value is not None:
                params[f"Tag.{index}.Value"] = value
    return params


def oos_target_requests(props):
    """SelectTargets properties -> list API requests ({service, version, api, parameters, resource}).

    ECS targets go through the client layer's Targets rules; other resource types map the same
    Targets (ResourceIds, Tags, ResourceGroup, All) onto their product's list API.
    """
    from ansible_collections.alicloud.oos.plugins.module_utils import ecs_instances
    props = _plain(props) or {}
    resource, (service, version, api, _path, _id, _name) = _resource(props.get("ResourceType"))
    filters = props.get("Filters") or []
    if not isinstance(filters, list):
        filters = [filters]
    requests = []
    for target in filters or [{"Type": "All"}]:
        target = [target] if isinstance(target, dict) else target
        user_filters = ecs_instances.filters_from_targets(target, "Filters")
        region = ecs_instances.region_from_targets(target, "Filters") or props.get("RegionId")
        if resource == "aliyun::ecs::instance":
            parameter_sets = ecs_instances.describe_params(ecs_instances.validate_filters(user_filters, "Filters"))
        else:
            parameter_sets = [_product_params(resource, user_filters)]
        for params in parameter_sets:
            if region:
                params["RegionId"] = region
            requests.append({"service": service, "version": version, "api": api, "parameters": params,
                             "resource": resource})
    return requests


def oos_merge_instances(results):
    """Registered list-API loop results -> one DescribeInstances-shaped document, whatever the resource type."""
    instances, seen = [], set()
    for result in _plain(results) or []:
        request = result.get("oos_request") or {}
        _key, (_service, _version, _api, path, id_field, name_field) = _resource(request.get("resource"))
        items = result.get("response") or {}
        for part in path:
            items = (items or {}).get(part) if isinstance(items, dict) else None
        for item in items or []:
            instance = dict(item)
            instance.setdefault("InstanceId", item.get(id_field))
            instance.setdefault("InstanceName", item.get(name_field))
            if instance["InstanceId"] not in seen:
                seen.add(instance["InstanceId"])
                instances.append(instance)
    return {"Instances": {"Instance": instances}, "TotalCount": len(instances)}


def oos_inventory_instances(hosts, hostvars, id_var="instance_id"):
    """Play hosts -> a DescribeInstances-shaped document (instance id from ``id_var``, else the host name)."""
    instances = []
    for host in _plain(hosts) or []:
        variables = hostvars[host] if host in hostvars else {}
        instance_id = variables.get(id_var) if hasattr(variables, "get") else None
        instances.append({"InstanceId": str(instance_id or host), "InstanceName": str(variables.get("instance_name") or host)
                          if hasattr(variables, "get") else host, "HostName": host})
    return {"Instances": {"Instance": instances}, "TotalCount": len(instances)}


def oos_command_documents(result):
    """oos_run_command result -> per-instance ACS::ECS::RunCommand outputs ({invocationOutput}).

    Instances whose command failed (tolerated by MaxErrors) get ``{'__error__': ...}`` instead.
    """
    result = _plain(result) or {}
    failed = {item.get("instance_id") for item in result.get("failed_instances") or [] if isinstance(item, dict)}
    documents = []
    for item in result.get("results") or []:
        if item.get("instance_id") in failed:
            documents.append({"__error__": f"{item.get('status')} {item.get('error_code') or ''}".strip()})
            continue
        documents.append({"invocationOutput": runtime.decode_output(item.get("output", "")),
                          "instanceId": item.get("instance_id"), "exitCode": item.get("exit_code")})
    return documents


def oos_empty_document(_value):
    return {}


def oos_tags_dict(tags):
    tags = _plain(tags)
    if isinstance(tags, list):
        return {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
    return tags or {}


def oos_run_instances_request(props):
    """ACS::ECS::RunInstances properties (camelCase) -> RunInstances API parameters."""
    props = _plain(props) or {}
    request = {}
    prepaid = str(props.get("instanceChargeType", "")) == "PrePaid"
    for key, value in props.items():
        if key == "regionId" or value in (None, ""):
            continue
        if key in ("period", "periodUnit") and not prepaid:
            continue   # as the action's definition: a subscription period only for PrePaid instances
        if key == "tags":
            request["Tag"] = [{"Key": k, "Value": v} for k, v in oos_tags_dict(value).items()]
            continue
        request[key[:1].upper() + key[1:]] = value
    return request


LOOP_ITEM_REFERENCE = "{{ ACS::TaskLoopItem }}"


def oos_delegated_execution(task, context, specs=None, ram_role=""):
    """What OOS is given to run one task the playbook cannot run itself: ``{template, parameters,
    secret_parameters, client_token}`` for ``alicloud.oos.oos_execution`` (see :mod:`delegation`).

    The values are those of this execution (``context``); the values of NoEcho/secret parameters (``specs``: the
    template's parameter definitions) are masked in the output. The ClientToken names this run, the task and its
    values: a retry returns the same execution, a new run (or an item of a loop) starts its own. ``ram_role``: the
    template's RamRole, which OOS also runs the task as.
    """
    task, context, specs = _plain(task), _plain(context), _plain(specs) or {}

    def resolve(reference):
        try:
            return runtime.resolve_reference(reference, context)
        except runtime.NotAReference:
            raise delegation.NotAValue(reference) from None

    template, given, secret = delegation.one_task_template(task, resolve, _parameter_type, delegation.secret_sources(specs),
                                                           _plain(ram_role) or "")
    values = {name: "" if value is None else value for name, value in given.items()}
    try:
        run = runtime.lookup_ci(context.get("pseudo") or {}, "acs::executionid")
    except KeyError:
        run = ""
    digest = hashlib.sha256(json.dumps([run, context.get("loop_item"), template, values], sort_keys=True,
                                       default=str).encode("utf-8")).hexdigest()[:32]
    return {"template": template, "parameters": values, "secret_parameters": secret,
            "client_token": f"alicloud-oos-delegated-{digest}"}


def _parameter_type(value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, list):
        return "List"
    if isinstance(value, dict):
        return "Json"
    return "String"


def oos_delegated_done(context, task, result, next_task, answer=None, reason=""):
    """Record the Outputs (Loop.Outputs) of the OOS execution :func:`oos_delegated_execution` described.

    ``answer``: the result of answering its approval (skipped when it did not wait); a rejection cancels this
    execution, as a rejected native ACS::Approve does. Under ``--check`` nothing was started: the Outputs are
    those of a task that did not run (evaluated over an empty document, as a native task's are).
    """
    context, task, started, answer = _plain(context), _plain(task), _plain(result) or {}, _plain(answer)
    # An answer of another execution is of an earlier pass through this task (a flow that jumps back).
    answered = isinstance(answer, dict) and answer.get("status") and \
        answer.get("execution_id") == started.get("execution_id")
    result = answer if answered else started
    if result.get("status") == "Cancelled":
        why = f" ({reason})" if reason and reason != "rejected" else ""
        return runtime.cancel(context, task["Name"], f"the approval at {_waiting_tasks(started)} of OOS execution "
                              f"{started.get('execution_id')} was rejected{why}: execution cancelled; to approve it, "
                              "run again with -e oos_approval_decision=approve")
    if "outputs" not in result:   # check mode: no execution started
        outputs = runtime.aggregate_loop(task, []) if task.get("Loop") else runtime.task_outputs(task, None, context)
        return runtime.record(context, task["Name"], outputs, next_task)
    return runtime.record(context, task["Name"], dict(result.get("outputs") or {}), next_task)


def _waiting_tasks(result: dict) -> str:
    waiting = result.get("waiting_tasks") or (result.get("execution") or {}).get("current_tasks") or []
    return ", ".join(f"{t.get('task_name')} ({t.get('task_action')})" for t in waiting) or "a task"


def oos_delegated_waiting(result):
    """What an OOS execution run for the playbook waits for, and how to answer it (the approval prompt)."""
    result = _plain(result) or {}
    return (f"OOS execution {result.get('execution_id')} waits for an approval at {_waiting_tasks(result)}: decide "
            "here, or ahead with -e oos_approval_decision=approve (or reject); the answer goes to OOS (NotifyExecution)")


def oos_approval_note(approved_by, approved, reason=""):
    """The note sent with NotifyExecution when the playbook answers an approval of an OOS execution."""
    names = oos_approvers(approved_by)
    who = f" by {', '.join(names)}" if names else ""
    if approved in (True, "true", "True"):
        return f"approved{who} from ansible-playbook"
    return f"rejected from ansible-playbook: {_plain(reason) or 'rejected'}"


def oos_parameter_value(value, kind):
    """A List or Json parameter's value as the parameter check reads it (a survey or ``-e`` gives text: a JSON
    list or mapping, or for a List comma-separated words)."""
    try:
        return parameters.coerce("value", {"Type": _plain(kind)}, _plain(value))
    except ValueError as error:
        raise FilterInputError(str(error)) from None


def oos_json_value(value):
    value = _plain(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


RUNTIME = {f.__name__: f for f in (
    jq, jq_first, oos_output, oos_parameter_problems, oos_fn, oos_render, oos_condition, oos_start, oos_data, oos_child_start, oos_task_done, oos_task_failed,
    jq_items,
    oos_skip, oos_choose, oos_approval_done, oos_approvers, oos_approval_tally, oos_pause_decision, oos_pause_done, oos_trigger_note,
    oos_loop_iterations, oos_with_item, oos_loop_rate_control, oos_loop_start,
    oos_iteration_outputs, oos_loop_done, oos_loop_failure, oos_loop_documents_done, oos_batch_done, oos_item_documents, oos_finish, oos_error_text,
    oos_error_message, oos_execution_failure, oos_store_value, oos_duration_seconds, oos_sleep_seconds, oos_target_requests, oos_merge_instances,
    oos_inventory_instances, oos_command_documents, oos_empty_document, oos_tags_dict, oos_run_instances_request,
    oos_json_value, oos_parameter_value, oos_masked, oos_secret_texts, oos_delegated_execution, oos_delegated_done, oos_delegated_waiting, oos_approval_note)}


def all_filters(error_class) -> dict:
    """Every filter, wrapped so that any evaluation error becomes one ``error_class`` message."""
    from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError

    def wrap(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (FilterInputError, runtime.OosRuntimeError, functions.OosFunctionError,
                    AlicloudError, AlicloudInputError) as error:
                raise error_class(f"{function.__name__}: {error}") from None
        return wrapper

    result = {name: wrap(f) for name, f in RUNTIME.items()}
    for name in functions.FUNCTIONS:
        result["fn_" + name] = wrap(_function_filter(name))
    return result
