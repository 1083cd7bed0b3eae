"""The filters behind ``plugins/filter/oos_functions.py`` (pure functions; the plugin only registers them): jq
selectors, OOS functions and references, and what converted playbooks call where core Ansible has nothing
(parameter checks, typed outputs, how OOS words a failure, masking, listing targets, loop results)."""
from __future__ import annotations

import datetime
import functools
import json
import math
import re

from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import parse_unpaused_rate_control
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import MASK, Secrets
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import functions, loader, parameters, runtime
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
    """The decision given for ACS::Pause ``task_name`` (lower-cased): ``-e oos_pause_decision=resume|cancel``, or a
    mapping of task names to decisions; '' when none was given for this task (the operator is then asked). Any other
    value is returned as given: the pause then cancels the execution (:func:`oos_pause_refusal`), never fails it."""
    decision = _plain(decision)
    if isinstance(decision, dict):
        decision = decision.get(task_name, "")
    if decision is None:
        return ""
    return (decision if isinstance(decision, str) else json.dumps(decision)).strip().lower()


def oos_pause_refusal(decision, task_name, answer=""):
    """'' when ACS::Pause ``task_name`` was resumed (``decision`` given ahead, or ``answer`` typed at the prompt),
    else the message of the cancelled execution: a run without a terminal (AWX, cron, CI) and without a decision
    never goes on by itself, and a decision that is neither resume nor cancel is no resume."""
    given = oos_pause_decision(decision, task_name)
    decision = given or str(_plain(answer) or "").strip().lower()
    if decision == PAUSE_RESUME:
        return ""
    if decision == PAUSE_CANCEL:
        why = "the operator cancelled it"
    elif given:
        why = (f"oos_pause_decision for {task_name} is {given[:40]!r}, not {PAUSE_RESUME} or {PAUSE_CANCEL}; pass "
               f"-e oos_pause_decision={PAUSE_RESUME} to go on")
    elif decision:
        why = f"the answer {decision[:40]!r} is not {PAUSE_RESUME}"
    else:
        why = ("no decision (no terminal, or nobody typed resume); pass -e oos_pause_decision=resume to go on "
               "without a prompt")
    return f"{runtime.CANCELLED_MESSAGE}ACS::Pause {task_name} was not resumed: {why}"


def oos_unpaused_rate_control(rate_control):
    """A Loop's RateControl computed by the run, refused when it asks for a pause between batches (a converted loop
    cannot wait for a person to resume it); else as given."""
    rate_control = _plain(rate_control)
    parse_unpaused_rate_control(rate_control, "Loop.RateControl")
    return rate_control


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


def oos_loop_failure(iterations, allowed):
    """What failed a Loop run as a play of one host per item (``oos_loop_iterations``: ``{'outputs'}``, ``{'error'}``,
    or none for an item that never ran), worded as OOS does; '' when nothing did (``allowed``: MaxErrors)."""
    iterations = _plain(iterations) or []
    errors = [i["error"] for i in iterations if isinstance(i, dict) and "error" in i]
    return runtime.loop_play_failure(errors, len(iterations), int(_plain(allowed)),
                                     sum(1 for i in iterations if not isinstance(i, dict)))


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


RUNTIME = {f.__name__: f for f in (
    jq, jq_first, oos_output, oos_parameter_problems, oos_fn, oos_render, oos_data, jq_items, oos_approvers,
    oos_approval_tally, oos_pause_decision, oos_pause_refusal, oos_unpaused_rate_control, oos_trigger_note,
    oos_loop_iterations, oos_loop_failure, oos_error_message, oos_execution_failure, oos_duration_seconds,
    oos_sleep_seconds, oos_target_requests, oos_merge_instances, oos_inventory_instances, oos_command_documents,
    oos_tags_dict, oos_run_instances_request, oos_parameter_value, oos_masked, oos_secret_texts,
    oos_delegated_waiting, oos_approval_note)}


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
