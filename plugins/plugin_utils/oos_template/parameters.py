"""OOS template Parameters: coercion and validation of the values a run receives.

One implementation for the run time (the first task of a converted playbook) and the AWX survey.
"""
from __future__ import annotations

import json
import re

from ansible_collections.alicloud.oos.plugins.module_utils.secrets import template_secret_names
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import possibly_template

TYPES = ("String", "Number", "Boolean", "List", "Json")

# Parameter names that would collide with Ansible's own variables, Jinja's words and globals, or the
# converter's own variables (oos_*): read from oos_param_<name> instead.
_MAGIC = frozenset({
    "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short", "inventory_dir",
    "inventory_file", "playbook_dir", "play_hosts", "role_name", "role_path", "role_names", "omit", "item",
    "environment", "vars", "name", "hosts", "tags", "when", "become", "connection", "port", "remote_user",
    "oos", "lookup", "query", "q", "true", "false", "none", "self", "and", "or", "not", "in", "is", "if",
    "else", "elif", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "now", "undef",
})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variable_for(parameter: str) -> str:
    """The Ansible variable a template parameter is read from (its OOS name when that is safe)."""
    if _IDENTIFIER.match(parameter) and parameter.lower() not in _MAGIC and not parameter.lower().startswith(
            ("ansible_", "oos_")):
        return str(parameter)
    return "oos_param_" + re.sub(r"[^A-Za-z0-9_]", "_", parameter)


def _json(value, name, expected):
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(f"parameter {name}: {value!r} is not a JSON {expected}; pass it as JSON, "
                         f"e.g. -e '{{\"{name}\": {'[...]' if expected == 'list' else '{...}'}}}'") from None


# NoEcho and AssociationProperty (secret store references) tell the run which values to mask.
RUNTIME_KEYS = ("Type", "Default", "AllowedValues", "AllowedPattern", "MinLength", "MaxLength", "MinValue", "MaxValue",
                "ConstraintDescription", "NoEcho", "AssociationProperty")


_SECRET_REFERENCE = re.compile(r"\{\{\s*(?:oos-secret:|([A-Za-z_][\w-]*))")


def secret_keys(values, names: set) -> list:
    """The keys of ``values`` (a task's API parameters) whose value reads a secret parameter or a Parameter Store
    secret: named to the module as ``secret_parameters`` so their values are masked in what it returns."""
    if not isinstance(values, dict):
        return []
    found = []
    for key, value in values.items():
        for match in _SECRET_REFERENCE.finditer(repr(value)):
            if match.group(1) is None or match.group(1) in names:
                found.append(str(key))
                break
    return found


def secret_outputs(template: dict, names) -> list:
    """The template Outputs whose Value reads one of the secret parameters ``names`` (printed masked whole)."""
    return secret_keys({name: (spec or {}).get("Value") for name, spec in (template.get("Outputs") or {}).items()
                        if isinstance(spec, dict)}, set(names))


def _secret(spec: dict) -> bool:
    """A NoEcho or secret parameter: its value is never part of a message (they are printed when a check fails)."""
    return bool(template_secret_names({"Parameters": {"value": spec}}))


def runtime_specs(specs) -> dict:
    """What validation needs of each parameter spec (labels, descriptions and console metadata dropped)."""
    return {name: {k: v for k, v in (spec or {}).items() if k in RUNTIME_KEYS and not (
        k == "ConstraintDescription" and not isinstance(v, str))} for name, spec in (specs or {}).items()}


def coerce(name: str, spec: dict, value):
    """The value converted to the parameter's Type; ValueError names the parameter and the fix."""
    try:
        return _coerce(name, spec, value)
    except ValueError:
        if _secret(spec):
            raise ValueError(f"parameter {name}: the value (NoEcho, not shown) is not a valid "
                             f"{spec.get('Type', 'String')}") from None
        raise


def _coerce(name: str, spec: dict, value):
    kind = spec.get("Type", "String")
    if kind == "String":
        if isinstance(value, (dict, list)):
            # As StartExecution: a String parameter takes text (JSON text, if that is what the API wants).
            raise ValueError(f"parameter {name}: expected text, got a {'list' if isinstance(value, list) else 'mapping'}"
                             "; give it as a string")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if kind == "Number":
        if isinstance(value, bool):
            raise ValueError(f"parameter {name}: expected a number, got a boolean")
        if isinstance(value, (int, float)):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"parameter {name}: {value!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "false"):   # as StartExecution takes them (yes, 1... are refused there)
            return lowered == "true"
        raise ValueError(f"parameter {name}: {value!r} is not a boolean; use true or false")
    if kind == "List":
        if isinstance(value, str):
            stripped = value.strip()
            value = _json(stripped, name, "list") if stripped.startswith("[") else [v.strip() for v in stripped.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ValueError(f"parameter {name}: expected a list, got {type(value).__name__}")
        return value
    if kind == "Json":
        if isinstance(value, str):
            value = _json(value, name, "object") if value.strip() else {}
        return value
    raise ValueError(f"parameter {name}: unknown Type {kind!r}; use one of {', '.join(TYPES)}")


def check(name: str, spec: dict, value) -> list:
    """Constraint violations (AllowedValues, AllowedPattern, lengths, bounds) of a coerced value; those of a List
    hold for each element (``AllowedValues`` lists the values one may pick), as the OOS engine reads them."""
    problems = []
    hint = f" ({spec['ConstraintDescription']})" if isinstance(spec.get("ConstraintDescription"), str) else ""
    shown = (lambda _value: "the value (NoEcho, not shown)") if _secret(spec) else repr
    items = value if isinstance(value, list) and spec.get("Type") == "List" else [value]
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and allowed:
        allowed_text = [str(a).lower() if isinstance(a, bool) else str(a) for a in allowed]
        for item in items:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            if item not in allowed and text not in allowed_text:
                problems.append(f"parameter {name}: {shown(item)} is not one of {', '.join(allowed_text)}{hint}")
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str) and pattern:
        for item in items:
            if isinstance(item, str) and not re.fullmatch(pattern, item):
                problems.append(f"parameter {name}: {shown(item)} does not match the pattern {pattern}{hint}")
    for item in items:   # a List's constraints hold for each element, as StartExecution reads them
        if isinstance(item, str):
            if isinstance(spec.get("MinLength"), int) and len(item) < spec["MinLength"]:
                problems.append(f"parameter {name}: length {len(item)} is below MinLength {spec['MinLength']}{hint}")
            if isinstance(spec.get("MaxLength"), int) and len(item) > spec["MaxLength"]:
                problems.append(f"parameter {name}: length {len(item)} is above MaxLength {spec['MaxLength']}{hint}")
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if isinstance(spec.get("MinValue"), (int, float)) and item < spec["MinValue"]:
                problems.append(f"parameter {name}: {shown(item)} is below MinValue {spec['MinValue']}{hint}")
            if isinstance(spec.get("MaxValue"), (int, float)) and item > spec["MaxValue"]:
                problems.append(f"parameter {name}: {shown(item)} is above MaxValue {spec['MaxValue']}{hint}")
    return problems


def default_text(value) -> str:
    """A Default as the text of a survey answer."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def prefilled_default(spec: dict) -> bool:
    """Whether a survey may show the Default as its answer.

    Not when Ansible could evaluate the text (an answer is an extra variable): a computed Default such as
    ``{{ ACS::RegionId }}``, or any template text with Jinja in it. The survey leaves those empty and the
    playbook evaluates its own copy of the Default.
    """
    return "Default" in spec and not possibly_template(default_text(spec["Default"]))


def validate(specs: dict, values: dict, render_default) -> tuple:
    """Coerce and check every parameter at once.

    ``values`` maps names to what the run received (None = not given); ``render_default(value,
    resolved_so_far)`` evaluates a Default that contains references (``{{ ACS::RegionId }}``).
    Returns ``(resolved, problems)``.
    """
    resolved, problems = {}, []
    for name, spec in (specs or {}).items():
        spec = spec or {}
        value = values.get(name)
        if value == "" and "Default" in spec and not prefilled_default(spec):
            value = None  # an empty survey answer keeps a Default the survey could not show
        given = value is not None
        if value is None:
            if "Default" not in spec:
                problems.append(f"parameter {name} is required: pass -e {variable_for(name)}=<{spec.get('Type', 'String')}>")
                continue
            try:
                value = render_default(spec["Default"], resolved)
            except ValueError as error:
                problems.append(f"parameter {name}: its Default cannot be evaluated: {error}")
                continue
            if value is None:
                resolved[name] = None
                continue
        try:
            value = coerce(name, spec, value)
        except ValueError as error:
            problems.append(str(error))
            continue
        # A Default too, as StartExecution checks it (a static one was checked at conversion already).
        found = check(name, spec, value)
        problems.extend(found if given else [f"{problem}: it is the Default as this run evaluated it; pass "
                                             f"-e {variable_for(name)}=<value>" for problem in found])
        resolved[name] = value
    return resolved, problems


def problems(specs: dict, values: dict) -> list:
    """The problems of the values a run received, the Defaults already in place (None = not given).

    Defaults are checked as given values are, as StartExecution checks them.
    """
    found = []
    for name, spec in (specs or {}).items():
        spec = spec or {}
        value = values.get(name)
        if value is None:
            if "Default" not in spec:
                found.append(f"parameter {name} is required: pass -e {variable_for(name)}=<{spec.get('Type', 'String')}>")
            continue
        try:
            coerced = coerce(name, spec, value)
        except ValueError as error:
            found.append(str(error))
            continue
        found.extend(check(name, spec, coerced))
    return found
