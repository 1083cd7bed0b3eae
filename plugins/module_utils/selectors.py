# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Selectors over API responses and OOS output types.

* ``jq_select(expression, data, field="value_selector") -> list``: every value the jq program emits.
  OOS ValueSelector/PropertySelector syntax: the leading dot is optional
  (``Instances.Instance[].InstanceId`` == ``.Instances.Instance[].InstanceId``).
* ``compile_jq(expression, field)``: validate (and cache) a program before anything is sent.
* ``jmespath_select(expression, data, field="query")``: one value, as ``json_query`` gives it.
* ``coerce_output(value, output_type, field="outputs")``: OOS output types String, List, Json, Number,
  Boolean (case-insensitive). ``select_output(expression, data, output_type)`` combines both the way
  OOS does: ``List`` collects every emitted value (or takes a single emitted list as is); the other
  types take the first value. No value gives ``None`` (``[]`` for List).

Invalid programs raise :class:`AlicloudInputError` naming ``field``; a program that fails on the data
(e.g. iterating over null) or a value that does not fit its type raises :class:`AlicloudError`.
"""
from __future__ import annotations

import json
import re

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError

try:
    import jq as _jq

    HAS_JQ = True
except ImportError:
    HAS_JQ = False

try:
    import jmespath as _jmespath

    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False

OUTPUT_TYPES = ("String", "List", "Json", "Number", "Boolean")
_JQ_KEYWORDS = frozenset({
    "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach", "try", "catch", "label", "import",
    "include", "and", "or", "not", "true", "false", "null", "__loc__",
})
_LEADING_IDENTIFIER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s*\()?")
_compiled = {}
_zero_arity_builtins = None


def _builtins() -> frozenset:
    """Names of jq builtins callable without arguments (``length``, ``keys``...): never field names."""
    global _zero_arity_builtins
    if _zero_arity_builtins is None:
        names = _jq.compile("builtins").input_value(None).first()
        _zero_arity_builtins = frozenset(n.split("/")[0] for n in names if n.endswith("/0"))
    return _zero_arity_builtins


def normalize_jq(expression: str) -> str:
    """Add the leading dot OOS lets users omit: ``Instances.Instance[]`` -> ``.Instances.Instance[]``."""
    match = _LEADING_IDENTIFIER.match(expression)
    if not match or match.group(2):
        return expression
    name = match.group(1)
    if name in _JQ_KEYWORDS or name in _builtins():
        return expression
    return "." + expression.lstrip()


def compile_jq(expression, field: str = "value_selector"):
    if not HAS_JQ:
        raise AlicloudInputError(field, "jq selectors need the 'jq' Python library on the host that runs the task (pip install jq)")
    if not isinstance(expression, str) or not expression.strip():
        raise AlicloudInputError(field, f"must be a non-empty jq program such as Instances.Instance[].InstanceId, got {expression!r}")
    program = normalize_jq(expression)
    if program not in _compiled:
        try:
            _compiled[program] = _jq.compile(program)
        except ValueError as exc:
            detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip().startswith("jq: error"))
            raise AlicloudInputError(field, f"{expression!r} is not a valid jq program ({detail or 'syntax error'}); "
                                     "write it as OOS does, e.g. Instances.Instance[].Status")
    return _compiled[program]


def jq_select(expression, data, field: str = "value_selector") -> list:
    program = compile_jq(expression, field)
    try:
        return program.input_value(data).all()
    except ValueError as exc:
        raise AlicloudError(f"jq selector {expression!r} ({field}) failed on the response: {exc}", code="SelectorError")


def compile_jmespath(expression, field: str = "query"):
    if not HAS_JMESPATH:
        raise AlicloudInputError(field, "JMESPath queries need the 'jmespath' Python library (pip install jmespath)")
    if not isinstance(expression, str) or not expression.strip():
        raise AlicloudInputError(field, f"must be a non-empty JMESPath expression such as Instances.Instance[].InstanceId, got {expression!r}")
    try:
        return _jmespath.compile(expression)
    except _jmespath.exceptions.JMESPathError as exc:
        raise AlicloudInputError(field, f"{expression!r} is not a valid JMESPath expression ({str(exc).splitlines()[0]})")


def jmespath_select(expression, data, field: str = "query"):
    compiled = compile_jmespath(expression, field)
    try:
        return compiled.search(data)
    except _jmespath.exceptions.JMESPathError as exc:
        raise AlicloudError(f"JMESPath query {expression!r} ({field}) failed on the response: {exc}", code="SelectorError")


def normalize_output_type(output_type, field: str = "outputs") -> str:
    if output_type is None:
        return "String"  # OOS default
    for known in OUTPUT_TYPES:
        if isinstance(output_type, str) and output_type.lower() == known.lower():
            return known
    raise AlicloudInputError(field, f"type {output_type!r} is not an OOS output type; use one of {', '.join(OUTPUT_TYPES)}")


def _mismatch(value, output_type, field):
    return AlicloudError(f"{field}: value {json.dumps(value, default=str)[:200]} cannot be converted to {output_type}",
                         code="OutputTypeMismatch")


def _maybe_json(text, kinds):
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, kinds) else None


def coerce_output(value, output_type, field: str = "outputs"):
    """Convert ``value`` to an OOS output type (see the module docstring)."""
    output_type = normalize_output_type(output_type, field)
    if output_type == "List":
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            parsed = _maybe_json(value, list)
            if parsed is not None:
                return parsed
        return [value]
    if value is None:
        return None
    if output_type == "String":
        if isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if output_type == "Json":
        if isinstance(value, str):
            parsed = _maybe_json(value, (dict, list))
            return value if parsed is None else parsed
        return value
    if output_type == "Number":
        if isinstance(value, bool):
            raise _mismatch(value, output_type, field)
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    pass
        raise _mismatch(value, output_type, field)
    # Boolean
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise _mismatch(value, output_type, field)


def select_output(expression, data, output_type, field: str = "outputs"):
    """jq ``expression`` on ``data``, converted to ``output_type`` the way OOS task outputs are."""
    output_type = normalize_output_type(output_type, field)
    values = jq_select(expression, data, field)
    if output_type == "List":
        value = values[0] if len(values) == 1 and isinstance(values[0], list) else values
    else:
        value = values[0] if values else None
    return coerce_output(value, output_type, field)
