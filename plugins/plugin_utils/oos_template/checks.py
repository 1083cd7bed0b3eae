# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What OOS refuses in one task, refused at conversion: nothing the template says is dropped, and nothing
that cannot run is found out half way through a run (after earlier tasks changed things).

``task_problems(task, where)`` lists: keys OOS does not know on a task (a ``Retry`` that meant ``Retries``), an
API action without a static or computed ``Service`` and ``API``, properties the built-in actions do not take,
an ACS::Sleep without Duration or EndDate, and jq selectors (``ValueSelector``, ``PropertySelector``) that do
not compile or read beyond the document.

``parameter_problems(parameters)`` lists what StartExecution refuses in the Parameters: an unknown Type, an
AllowedPattern that is not a regular expression, and a Default that is not of its Type or breaks its own
constraints (AllowedValues, AllowedPattern, lengths, bounds). A computed Default (``{{ ACS::RegionId }}``) is
checked when a run evaluates it.
"""
from __future__ import annotations

import json
import re

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.selectors import compile_jq
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import functions
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import parameters as parameter_values

TASK_KEYS = ("Name", "Action", "Description", "Properties", "Outputs", "When", "OnSuccess", "OnError", "Loop",
             "Retries", "DelayType", "Delay", "BackOff", "MaxRetryInterval")
_API = ("Service", "API", "Method", "URI", "Headers", "Parameters", "Body", "Risk")
# The properties of the built-in actions whose definitions are complete here (OOS documentation).
BUILTIN_PROPERTIES = {
    "acs::executeapi": _API,
    "acs::waitfor": _API + ("DesiredValues", "NotDesiredValues", "StopRetryValues", "PropertySelector"),
    "acs::checkfor": _API + ("DesiredValues", "NotDesiredValues", "PropertySelector"),
    "acs::sleep": ("Duration", "EndDate"),
}


def _static(value) -> bool:
    return isinstance(value, str) and "{{" not in value


def _selector_problem(selector, field: str):
    if not _static(selector):
        return None   # computed at run time (or not a string: the run-time check names it)
    try:
        compile_jq(selector, field)
    except AlicloudInputError as error:
        return f"{field}: {error.message}"
    return None


def task_problems(task: dict, where: str) -> list:
    problems = []
    unknown = [str(key) for key in task if key not in TASK_KEYS]
    if unknown:
        problems.append(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (a task takes "
                        f"{', '.join(TASK_KEYS)})")
    action = str(task.get("Action", "")).lower()
    properties = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
    if action in ("acs::executeapi", "acs::waitfor", "acs::checkfor"):
        for name in ("Service", "API"):
            value = properties.get(name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: Properties.{name} must be a product code or API name (a string such as "
                                f"{'ECS' if name == 'Service' else 'DescribeInstances'}), got {value!r}")
    known = BUILTIN_PROPERTIES.get(action)
    if known is not None:
        extra = [str(key) for key in properties if key not in known]
        if extra:
            problems.append(f"{where}: {task.get('Action')} has no propert{'ies' if len(extra) > 1 else 'y'} "
                            f"{', '.join(extra)} (it takes: {', '.join(known)})")
    if action == "acs::sleep" and properties.get("Duration") in (None, "") and properties.get("EndDate") in (None, ""):
        problems.append(f"{where}: ACS::Sleep needs Duration (such as PT15M) or EndDate (such as 2025-01-01T00:00:00Z)")
    if action in ("acs::waitfor", "acs::checkfor"):
        problem = _selector_problem(properties.get("PropertySelector"), f"{where}.Properties.PropertySelector")
        if problem:
            problems.append(problem)
    outputs = task.get("Outputs") if isinstance(task.get("Outputs"), dict) else {}
    for name, spec in outputs.items():
        if isinstance(spec, dict):
            problem = _selector_problem(spec.get("ValueSelector"), f"{where}.Outputs.{name}.ValueSelector")
            if problem:
                problems.append(problem)
    problems.extend(jq_function_problems(task.get("Properties"), f"{where}.Properties"))
    problems.extend(jq_function_problems(outputs, f"{where}.Outputs"))
    return problems


def jq_function_problems(value, where: str) -> list:
    """Every static program of an ``Fn::Jq`` (``[method, program, data]``) anywhere in ``value``."""
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in jq_function_problems(item, f"{where}[{index}]")]
    if not isinstance(value, dict):
        return []
    problems = []
    for key, item in value.items():
        if isinstance(key, str) and key.lower() == "fn::jq" and isinstance(item, list) and len(item) >= 2:
            problem = _selector_problem(item[1], f"{where}.Fn::Jq")
            if problem:
                problems.append(problem)
        problems.extend(jq_function_problems(item, f"{where}.{key}"))
    return problems


def parameter_problems(specs) -> list:
    """Every problem of a template's Parameters that makes OOS refuse any execution of it."""
    problems = []
    for name, spec in (specs or {}).items():
        where = f"Parameters.{name}"
        if spec is None:
            continue   # a String without Default: required
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a mapping such as {{Type: String, Default: ...}}, got {spec!r}")
            continue
        kind = spec.get("Type", "String")
        if kind not in parameter_values.TYPES:
            problems.append(f"{where}.Type {kind!r} is not a parameter type: use one of {', '.join(parameter_values.TYPES)}")
            continue
        pattern = spec.get("AllowedPattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as error:
                problems.append(f"{where}.AllowedPattern {pattern!r} is not a regular expression ({error})")
                continue
        if "Default" in spec:
            problems.extend(_default_problems(name, spec, f"{where}.Default"))
    return problems


def _default_problems(name: str, spec: dict, where: str) -> list:
    default = spec["Default"]
    if default is None or "{{" in json.dumps(default, default=str):
        return []   # no value, or computed by the run (checked once evaluated)
    kind = spec.get("Type", "String")
    try:
        if kind == "String" and isinstance(default, (dict, list)):
            raise ValueError("a String parameter's value is text")
        value = parameter_values.coerce(name, spec, default)
    except ValueError:
        return [f"{where} {default!r} is not a {kind} value: change it or the Type"]
    prefix = f"parameter {name}: "
    return [f"{where}: {problem.removeprefix(prefix)}" for problem in parameter_values.check(name, spec, value)]


def first_found(data, find):
    """The first non-empty ``find(mapping)`` over every mapping nested in ``data`` (depth first), or None."""
    if isinstance(data, dict):
        found = find(data)
        if found:
            return found
        data = list(data.values())
    if isinstance(data, list):
        return next((found for found in (first_found(item, find) for item in data) if found), None)
    return None


def _unknown_function_key(mapping: dict):
    if len(mapping) == 1:
        key = next(iter(mapping))
        if functions.is_function_key(key) and functions.function_name(key) is None:
            return str(key)
    return None


def unknown_function(data):
    """The first intrinsic function (``Fn::...``) in ``data`` the run-time does not implement, or None."""
    return first_found(data, _unknown_function_key)


def unknown_function_problems(value, where: str) -> list:
    """Template Parameters and Outputs cannot be handed to OOS as one task: an unknown function there is refused."""
    unknown = unknown_function(value)
    return [f"{where}: {unknown} is an intrinsic function alicloud.oos does not evaluate; OOS runs such a template "
            "as it is (alicloud.oos.oos_execution with template_content)"] if unknown else []
