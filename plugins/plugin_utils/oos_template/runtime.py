"""OOS semantics the converter and the alicloud.oos filters share: what a reference is, the pseudo-parameters,
resolving references and functions against a context (the ``oos_render`` and ``oos_fn`` filters), typed values,
and how OOS words a failed task or Loop.

A context is ``{"parameters": {name: value}, "pseudo": {"acs::regionid": ..}, "tasks": {task: {output: value}},
"store": {parameter-store name: value}}``. Template text is only ever read as data: ``{{ x }}`` is resolved by
name lookup, never by a template engine.
"""
from __future__ import annotations

import base64
import copy
import json
import re

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import functions

# How a cancelled execution's message starts: a child's or an item's cancellation cancels the whole execution.
CANCELLED_MESSAGE = "OOS execution Cancelled: "

# What OOS resolves: a parameter, task.output, ACS::Pseudo or oos:store/name. Anything else between
# braces (e.g. Jinja such as {{ lookup('pipe', ...) }}) is not a reference and stays literal text.
_NAME = r"(?:oos(?:-secret)?:[^{}\s]+|[A-Za-z][A-Za-z0-9]*::[A-Za-z0-9_]+|[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)?)"
REFERENCE = re.compile(r"\{\{\s*(" + _NAME + r")\s*\}\}")
WHOLE_REFERENCE = re.compile(r"^\{\{\s*(" + _NAME + r")\s*\}\}$")

PSEUDO_PARAMETERS = ("ACS::RegionId", "ACS::ExecutionId", "ACS::TaskLoopItem", "ACS::AccountId",
                     "ACS::CurrentUTCTime", "ACS::CurrentDate", "ACS::ExecuteUser", "ACS::OOSUtilVersion",
                     "ACS::TemplateName", "ACS::ParentExecutionId")

# Pseudo-parameters OOS knows about an execution and the controller cannot guess (its Unix login is no RAM
# user): each is given by a variable, or by the environment variables listed, else the run stops naming them.
# name: (variable, environment variables, what to give)
PSEUDO_SOURCES = {
    "acs::regionid": ("oos_region_id", tuple(AUTH_OPTIONS["region"]["env"]), "the region the execution runs in"),
    "acs::accountid": ("oos_account_id", ("ALICLOUD_ACCOUNT_ID",), "the Alibaba Cloud account id"),
    "acs::executeuser": ("oos_execute_user", (), "the RAM user the execution runs as (OOS: the user who starts it)"),
    "acs::oosutilversion": ("oos_util_version", (), "the version of the OOS util package on the instances"),
    "acs::templatename": ("oos_template_name", (), "the name of the template"),
}


def pseudo_missing(name: str) -> str:
    """How to give a pseudo-parameter (lower-cased ``acs::name``) that has no value."""
    variable, env, what = PSEUDO_SOURCES[name]
    display = next((p for p in PSEUDO_PARAMETERS if p.lower() == name), name)
    also = f" or export {' / '.join(env)}" if env else ""
    return (f"{{{{ {display} }}}} has no value: pass -e {variable}=<{what}>{also} "
            "(the controller cannot know it)")


class OosRuntimeError(ValueError):
    """A reference or function could not be evaluated; the message says which and why."""


class NotAReference(OosRuntimeError):
    """A plain name that is neither a parameter nor a task: OOS leaves ``{{ name }}`` as written (Cloud Assistant
    fills such names in commands run with enableParameter)."""


def _lower_map(mapping) -> dict:
    return {str(k).lower(): k for k in (mapping or {})}


def lookup_ci(mapping, name):
    """mapping[name], matching keys case-insensitively as OOS does; KeyError if absent."""
    if name in mapping:
        return mapping[name]
    wanted = name.lower()
    for key, value in mapping.items():
        if str(key).lower() == wanted:
            return value
    raise KeyError(name)


def resolve_reference(name: str, context: dict, loop_item=None):
    """The value of ``{{ name }}``: parameter, task output, pseudo-parameter or parameter-store entry."""
    lowered = name.lower()
    if lowered.startswith(("oos:", "oos-secret:")):
        key = name.split(":", 1)[1].strip()
        try:
            return (context.get("store") or {})[key]
        except KeyError:
            raise OosRuntimeError(f"parameter store value {name!r} was not fetched") from None
    if "::" in name:
        if lowered == "acs::taskloopitem":
            if loop_item is None and "loop_item" not in context:
                raise OosRuntimeError("{{ ACS::TaskLoopItem }} is only defined inside a Loop")
            return loop_item if loop_item is not None else context.get("loop_item")
        try:
            return lookup_ci(context.get("pseudo") or {}, lowered)
        except KeyError:
            if lowered in PSEUDO_SOURCES:
                raise OosRuntimeError(pseudo_missing(lowered)) from None
            raise OosRuntimeError(f"unknown pseudo-parameter {{{{ {name} }}}}: supported are "
                                  f"{', '.join(PSEUDO_PARAMETERS)}") from None
    parameters = context.get("parameters") or {}
    tasks = context.get("tasks") or {}
    if "." in name:
        task_name, output = name.split(".", 1)
        try:
            outputs = lookup_ci(tasks, task_name)
        except KeyError:
            outputs = None
        if outputs is not None:
            try:
                return lookup_ci(outputs, output)
            except (KeyError, AttributeError):
                raise OosRuntimeError(f"task {task_name!r} has no output {output!r} "
                                      f"(outputs: {', '.join(sorted(outputs)) or 'none'})") from None
        try:
            value = lookup_ci(parameters, task_name)
            if isinstance(value, dict):
                return lookup_ci(value, output)
        except KeyError:
            pass
        raise OosRuntimeError(f"{{{{ {name} }}}} refers to task {task_name!r}, which has not run")
    try:
        return lookup_ci(parameters, name)
    except KeyError:
        pass
    try:
        return lookup_ci(tasks, name)
    except KeyError:
        raise NotAReference(name) from None


def to_text(value) -> str:
    """How OOS interpolates a value inside a longer string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_string(text: str, context: dict, loop_item=None):
    """Resolve the references of one string: a whole-value reference keeps its type."""
    if "{{" not in text:
        return text
    whole = WHOLE_REFERENCE.match(text.strip()) if text.strip().startswith("{{") else None
    if whole:
        try:
            return copy.deepcopy(resolve_reference(whole.group(1), context, loop_item))
        except NotAReference:
            return text

    return interpolate(text, context, loop_item)


def interpolate(text: str, context: dict, loop_item=None) -> str:
    """``text`` with every reference replaced by its value as text; a name that is no parameter, task or
    pseudo-parameter stays as written, as OOS leaves it (in properties, ValueSelectors and jq programs alike)."""
    def resolve(match):
        try:
            return to_text(resolve_reference(match.group(1), context, loop_item))
        except NotAReference:
            return match.group(0)
    return REFERENCE.sub(resolve, text)


def render(value, context: dict, loop_item=None):
    """Resolve references and intrinsic functions everywhere in ``value`` (a template fragment)."""
    if isinstance(value, str):
        return render_string(value, context, loop_item)
    if isinstance(value, list):
        return [render(item, context, loop_item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            if functions.is_function_key(key):
                return call_function(key, value[key], context, loop_item)
        return {render(k, context, loop_item) if isinstance(k, str) else k: render(v, context, loop_item)
                for k, v in value.items()}
    return value


def call_function(key: str, argument, context: dict, loop_item=None):
    name = functions.function_name(key)
    if name is None:
        raise OosRuntimeError(f"unsupported intrinsic function {key}")
    try:
        if name in functions.LAZY and isinstance(argument, list) and len(argument) == 3:
            condition = render(argument[0], context, loop_item)
            branch = argument[1] if functions.truthy(condition) else argument[2]
            return render(branch, context, loop_item)
        if name == "jq" and isinstance(argument, list) and len(argument) == 3:
            # The program is text with embedded references (substituted first, as OOS does).
            script = argument[1]
            script = to_text(render(script, context, loop_item)) if not isinstance(script, str) else \
                interpolate(script, context, loop_item)
            return functions.fn_jq([render(argument[0], context, loop_item), script,
                                    render(argument[2], context, loop_item)])
        return functions.FUNCTIONS[name](render(argument, context, loop_item))
    except functions.OosFunctionError as error:
        raise OosRuntimeError(str(error)) from None


def condition(value, context: dict, loop_item=None) -> bool:
    """A task's When (or a Choice's When): a function, a boolean or a '{{ boolParam }}' string."""
    if value is None:
        return True
    return functions.truthy(render(value, context, loop_item))


# --------------------------------------------------------------------------------------------------
# outputs

OUTPUT_TYPES = ("String", "Number", "Boolean", "List", "Json")


def coerce(value, output_type: str | None):
    """OOS output type coercion (through the client layer, the one implementation)."""
    from ansible_collections.alicloud.oos.plugins.module_utils.selectors import coerce_output
    return coerce_output(value, output_type or "String")


def select_value(selector, document, output_type, context: dict, loop_item=None):
    """Apply a ValueSelector (jq; references substituted first) to ``document`` and coerce the result."""
    from ansible_collections.alicloud.oos.plugins.module_utils.selectors import select_output
    if isinstance(selector, dict):
        selector = render(selector, context, loop_item)
    selector = interpolate(str(selector), context, loop_item)
    return select_output(selector, document, output_type or "String", "ValueSelector")


# --------------------------------------------------------------------------------------------------
# flow state

# ansible-core's wrapping of an error raised by one of our filters (2.19 adds a sentence, 2.16 only the
# "oos_<filter>: " our plugin puts first): the filter's own message is what counts.
_FILTER_WRAPPING = re.compile(r"^(?:.*?The filter plugin '[^']+' failed: )?(?:oos_\w+: )?", re.S)


def error_message(result) -> str:
    """The most useful text of a failed Ansible result (``ansible_failed_result``)."""
    if not isinstance(result, dict):
        return to_text(result)
    results = result.get("results")
    if isinstance(results, list) and results and all(isinstance(r, dict) and "ansible_loop_var" in r for r in results):
        return _loop_error_message(results)   # a loop: (a module's own results, per instance, are not)
    message = _FILTER_WRAPPING.sub("", to_text(result.get("msg") or ""))
    parts = [message]
    for key in ("error", "code"):
        value = result.get(key)
        if not value:
            continue
        if isinstance(value, dict) and value.get("code") and str(value["code"]) in message:
            continue  # an API error the message already names
        if to_text(value) not in message:
            parts.append(f"{key}: {to_text(value)}")
    return "; ".join(p for p in parts if p) or "task failed"


def loop_failure(errors: list, total: int, allowed, not_started: int) -> str:
    """How OOS reports a Loop that more items failed than MaxErrors allows (``errors``: their messages, first failed
    first)."""
    return (f"{len(errors)} of {total} items failed (MaxErrors allows {allowed}"
            + (f"; {not_started} not started" if not_started else "") + f"): {errors[0]}")


def loop_play_failure(errors: list, total: int, allowed, not_started: int) -> str:
    """What failed a Loop run as a play of one host per item ('' when nothing did): more items failed than
    MaxErrors allows, or items never ran although MaxErrors did not stop them, which OOS never does (their
    in-memory hosts were left out of the play: an ansible-playbook --limit)."""
    cancelled = next((e for e in errors if str(e).startswith(CANCELLED_MESSAGE)), None)
    if cancelled:
        return cancelled   # an approval rejected in an item cancels the whole execution
    if len(errors) > allowed:
        return loop_failure(errors, total, allowed, not_started)
    if not_started:
        return (f"{not_started} of {total} items did not run: the play of the items left out their in-memory hosts "
                "(an ansible-playbook --limit must not exclude the groups oos_loop_*)")
    return ""


def _loop_error_message(results: list) -> str:
    """A ``loop:`` that stopped at its first failed item, as OOS reports a Loop whose MaxErrors (0) was exceeded
    (the converted loops that allow failures go through the role alicloud.oos.oos_loop_item, which says so itself)."""
    failed = [r for r in results if r.get("failed")]
    if not failed:
        return "loop failed"
    return loop_failure([error_message(f) for f in failed], len(results), 0, sum(1 for r in results if r.get("skipped")))


_ISO_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")
# OOS also takes the short form without P/T: 1S, 10M, 1H2M (M is minutes there).
_SHORT_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?")


def iso8601_seconds(duration) -> float:
    """ACS::Sleep ``Duration`` -> seconds: ISO-8601 (``PT1M30S``, ``P1D``) or OOS's short form (``1H2M``, ``30s``),
    case-insensitive."""
    text = to_text(duration).strip().upper()
    match = _ISO_DURATION.fullmatch(text)
    if match and text not in ("P", "PT"):
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return days * 86400 + hours * 3600 + minutes * 60 + seconds
    match = _SHORT_DURATION.fullmatch(text)
    if match and text:
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
    raise OosRuntimeError(f"ACS::Sleep Duration {duration!r} is not an ISO-8601 duration such as PT30S (or 30S, 1H2M)")


def decode_output(value) -> str:
    """Cloud Assistant returns Output base64-encoded; leave already-decoded text alone."""
    if not isinstance(value, str):
        return to_text(value)
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return value
