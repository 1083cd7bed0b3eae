"""OOS template expressions: ``{{ }}`` references, ``Fn::*`` functions and jq selectors.

This is an independent reading of the OOS template language (OOS_LANGUAGE.md §5-6). It must not share
code with the collection's converter: its value is as a second opinion in the differential test.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
import re

import jq

REFERENCE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_MISSING = object()


class ExpressionError(Exception):
    """A reference or function that cannot be evaluated; fails the task that uses it."""


class CaseInsensitiveDict(dict):
    """Names in OOS templates are resolved case-insensitively (``{{ runcommand.InvokeId }}``)."""

    def lookup(self, name, default=_MISSING):
        if name in self:
            return self[name]
        lowered = name.lower()
        for key, value in self.items():
            if key.lower() == lowered:
                return value
        return default


class Scope:
    """What ``{{ }}`` can see: parameters, task outputs, pseudo parameters and the loop item."""

    def __init__(self, parameters=None, pseudo=None, task_outputs=None, task_names=(), loop_item=_MISSING):
        self.parameters = CaseInsensitiveDict(parameters or {})
        self.pseudo = CaseInsensitiveDict(pseudo or {})
        self.task_outputs = CaseInsensitiveDict(task_outputs or {})
        self.task_names = {name.lower() for name in task_names}
        self.loop_item = loop_item

    def with_loop_item(self, item) -> "Scope":
        scope = Scope(self.parameters, self.pseudo, self.task_outputs, (), item)
        scope.task_names = self.task_names
        return scope

    def resolve(self, reference: str):
        """Value of one reference (the text between the braces); _MISSING when it is not ours."""
        if reference.lower().startswith("acs::"):
            if reference.lower() == "acs::taskloopitem":
                if self.loop_item is _MISSING:
                    raise ExpressionError("{{ ACS::TaskLoopItem }} is only defined inside a task with a Loop")
                return self.loop_item
            value = self.pseudo.lookup(reference[5:])
            if value is _MISSING:
                raise ExpressionError(f"unknown pseudo parameter {{{{ {reference} }}}}")
            return value
        if reference.lower().startswith(("oos:", "oos-secret:")):
            raise ExpressionError(f"parameter store reference {{{{ {reference} }}}} is not supported by the emulator")
        value = self.parameters.lookup(reference)
        if value is not _MISSING:
            return value
        if "." in reference:
            task, _unused, output = reference.partition(".")
            outputs = self.task_outputs.lookup(task)
            if outputs is not _MISSING:
                value = CaseInsensitiveDict(outputs).lookup(output)
                if value is _MISSING:
                    raise ExpressionError(f"task {task} has no output {output}")
                return value
            if task.lower() in self.task_names:
                raise ExpressionError(f"{{{{ {reference} }}}} refers to task {task}, which has not run")
        return _MISSING


def to_text(value) -> str:
    """How a non-string value is written into a string (interpolation, jq programs, API parameters)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, (dict, list, bool)) \
        else str(value)


def substitute(text: str, scope: Scope):
    """Replace references in one string: a whole-value reference keeps the value's type."""
    whole = REFERENCE.fullmatch(text.strip()) if text.strip().startswith("{{") else None
    if whole and whole.group(0) == text.strip():
        value = scope.resolve(whole.group(1))
        return text if value is _MISSING else value

    def replace(match):
        value = scope.resolve(match.group(1))
        return match.group(0) if value is _MISSING else to_text(value)

    return REFERENCE.sub(replace, text)


def render(value, scope: Scope):
    """Evaluate a template value: references first (inside-out), then functions."""
    if isinstance(value, str):
        return substitute(value, scope) if "{{" in value else value
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            name, argument = next(iter(value.items()))
            if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
                # Only the chosen branch is evaluated: the other may name a task that was skipped.
                return render(argument[1] if _truth(render(argument[0], scope)) else argument[2], scope)
            function = FUNCTIONS.get(name) if isinstance(name, str) else None
            if function is not None:
                return function(render(argument, scope))
        return {key: render(item, scope) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# jq

# Words that start a jq program without naming a field: keywords and literals. Together with the builtins callable
# without arguments (read from the jq library itself), they are never taken for a key with its dot left out.
_JQ_WORDS = frozenset({"if", "reduce", "foreach", "try", "def", "label", "import", "include", "not", "true", "false",
                       "null"})
_LEADING_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\(?)")
_zero_arity_builtins: frozenset | None = None


def _is_function_word(word: str) -> bool:
    global _zero_arity_builtins
    if _zero_arity_builtins is None:
        names = jq.compile("builtins").input_value(None).first()
        _zero_arity_builtins = frozenset(name.partition("/")[0] for name in names if name.endswith("/0"))
    return word in _JQ_WORDS or word in _zero_arity_builtins


def normalise_jq(program: str) -> str:
    """OOS selectors may omit the leading dot of a path (``Instances.Instance[].InstanceId``, ``invokeId``).

    Only a program that starts with a field name gets the dot. A function call (``contains(["disk"])``,
    ``map(.x)``), a keyword (``if``, ``reduce``), a literal (``true``, ``"text"``, ``42``), a builtin used without
    arguments (``length``, ``tostring | ...``), a variable (``$x``), ``[...]``, ``{...}``, ``..`` and ``@base64``
    are jq as written.
    """
    program = program.strip()
    match = _LEADING_WORD.match(program)
    if match is None or match.group(2) or _is_function_word(match.group(1)):
        return program or "."
    return "." + program


# OOS runs selectors on its own servers: they see the document, never the machine that evaluates them.
# Builtins that read that machine (environment, files, modules, input, clock zone) or write beside the
# result are redefined to fail; the program is wrapped so that import/include directives cannot parse.
_HOST_BUILTINS = ("env", "input", "inputs", "input_filename", "input_line_number", "get_search_list",
                  "get_jq_origin", "get_prog_origin", "modulemeta", "debug", "debug(m)", "stderr", "halt",
                  "halt_error", "halt_error(c)", "localtime", "strflocaltime(f)")
_SANDBOX = "".join(f'def {b}: error("{b.split("(", maxsplit=1)[0]} is not available to OOS selectors"); ' for b in _HOST_BUILTINS)
_SANDBOX += "null as $ENV | (\n"


def _compile_sandboxed(program: str):
    if re.search(r"\$__loc__", program):
        raise ValueError("$__loc__ is not available to OOS selectors")
    home = os.environ.pop("HOME", None)  # libjq would load ~/.jq of the emulator's user
    try:
        return jq.compile(_SANDBOX + program + "\n\n)")
    finally:
        if home is not None:
            os.environ["HOME"] = home


def jq_all(program: str, data) -> list:
    try:
        return _compile_sandboxed(normalise_jq(program)).input_value(data).all()
    except ValueError as exc:
        raise ExpressionError(f"jq program {program!r} failed: {exc}") from None


def coerce(values: list, output_type: str | None):
    """Turn the jq results of a ValueSelector into a value of the declared output Type."""
    output_type = (output_type or "String").lower()
    if output_type == "list":
        if len(values) == 1:
            value = values[0]
            return value if isinstance(value, list) else ([] if value is None else [value])
        return values
    value = values[0] if values else None
    if output_type == "string":
        return to_text(value) if value is not None else ""
    if output_type == "number":
        if isinstance(value, str):
            try:
                return int(value) if re.fullmatch(r"-?\d+", value) else float(value)
            except ValueError:
                raise ExpressionError(f"output value {value!r} is not a Number") from None
        return value
    if output_type == "boolean":
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)
    if output_type == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value
    raise ExpressionError(f"unknown output Type {output_type!r}")


def coerce_value(value, output_type: str | None):
    """Coerce an already computed value (template Outputs: ``Value``) to its declared Type."""
    if (output_type or "String").lower() == "list":
        return value if isinstance(value, list) else ([] if value in (None, "") else [value])
    return coerce([value], output_type)


# ---------------------------------------------------------------------------------------------
# Fn::* (OOS_LANGUAGE.md §6). Arguments arrive already rendered.

def _args(argument, count=None, name=""):
    if not isinstance(argument, list) or (count is not None and len(argument) != count):
        raise ExpressionError(f"{name} expects a list of {count} arguments, got {argument!r}")
    return argument


def _truth(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _loose_equal(left, right) -> bool:
    if left == right:
        return True
    # '{{ boolParam }}' against true, 5 against '5': OOS compares these as equal.
    return to_text(left) == to_text(right) and not (isinstance(left, (list, dict)) ^ isinstance(right, (list, dict)))


def fn_equals(argument):
    left, right = _args(argument, 2, "Fn::Equals")
    return _loose_equal(left, right)


def fn_not(argument):
    if isinstance(argument, list) and len(argument) == 1:
        argument = argument[0]
    return not _truth(argument)


def fn_and(argument):
    return all(_truth(item) for item in _args(argument, name="Fn::And"))


def fn_or(argument):
    return any(_truth(item) for item in _args(argument, name="Fn::Or"))


def fn_if(argument):
    condition, then, otherwise = _args(argument, 3, "Fn::If")
    return then if _truth(condition) else otherwise


def fn_select(argument):
    key, collection = _args(argument, 2, "Fn::Select")
    if isinstance(collection, str):
        try:
            collection = json.loads(collection)
        except ValueError:
            pass
    if isinstance(collection, dict):
        if key not in collection:
            raise ExpressionError(f"Fn::Select: key {key!r} not found")
        return collection[key]
    if isinstance(collection, list):
        try:
            return collection[int(key)]
        except (ValueError, IndexError):
            raise ExpressionError(f"Fn::Select: index {key!r} out of range for a list of {len(collection)}") from None
    raise ExpressionError(f"Fn::Select needs a list or a map, got {collection!r}")


def fn_join(argument):
    delimiter, items = _args(argument, 2, "Fn::Join")
    if not isinstance(items, list):
        raise ExpressionError("Fn::Join: the second argument must be a list")
    return str(delimiter).join(to_text(item) for item in items)


def fn_split(argument):
    delimiter, text = _args(argument, 2, "Fn::Split")
    return to_text(text).split(delimiter)


def fn_replace(argument):
    replacements, text = _args(argument, 2, "Fn::Replace")
    text = to_text(text)
    for old, new in (replacements or {}).items():
        text = text.replace(str(old), to_text(new))
    return text


def fn_jq(argument):
    mode, program, data = _args(argument, 3, "Fn::Jq")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            pass
    results = jq_all(to_text(program), data)
    if str(mode).lower() == "first":
        return results[0] if results else None
    return results


def fn_base64_encode(argument):
    return base64.b64encode(to_text(argument).encode()).decode()


def fn_base64_decode(argument):
    try:
        return base64.b64decode(to_text(argument)).decode("utf-8", errors="replace")
    except ValueError:
        raise ExpressionError("Fn::Base64Decode: not base64") from None


def fn_merge_list(argument):
    merged = []
    for item in _args(argument, name="Fn::MergeList"):
        merged.extend(item if isinstance(item, list) else [item])
    return merged


def fn_list_join(argument):
    return list(_args(argument, name="Fn::ListJoin"))


def fn_merge_map(argument):
    merged = {}
    for item in _args(argument, name="Fn::MergeMap"):
        merged.update(item or {})
    return merged


def fn_merge_map_to_list(argument):
    columns = {}
    for item in _args(argument, name="Fn::MergeMapToList"):
        columns.update(item)
    length = max((len(v) for v in columns.values()), default=0)
    return [{key: values[i] if i < len(values) else values[-1] for key, values in columns.items()}
            for i in range(length)]


def fn_calculate_batch(argument):
    """``[batchNumber, items]`` → concurrency so that the items run in batchNumber batches."""
    batches, items = _args(argument, 2, "Fn::CalculateBatch")
    batches = max(1, int(batches))
    return max(1, math.ceil(len(items or []) / batches))


def fn_first(argument):
    return argument[0] if argument else None


def fn_last(argument):
    return argument[-1] if argument else None


def fn_min(argument):
    return min(_args(argument, name="Fn::Min"))


def fn_max(argument):
    return max(_args(argument, name="Fn::Max"))


def fn_intersection(argument):
    lists = _args(argument, name="Fn::Intersection")
    return [item for item in lists[0] if all(item in other for other in lists[1:])] if lists else []


def fn_union(argument):
    result = []
    for items in _args(argument, name="Fn::Union"):
        result.extend(item for item in items if item not in result)
    return result


def fn_difference(argument):
    first, second = _args(argument, 2, "Fn::Difference")
    return [item for item in first if item not in second]


def fn_contains_substring(argument):
    text, sub = _args(argument, 2, "Fn::ContainsSubString")
    return to_text(sub) in to_text(text)


def fn_range_select(argument):
    start, end, items = _args(argument, 3, "Fn::RangeSelect")
    # Python slice semantics: ACS::CICD::DockerBuild takes [0, -1, path parts] as the folder of a file.
    return items[int(start):int(end)]


def fn_convert_map_to_list(argument):
    return [{"Key": key, "Value": value} for key, value in (argument or {}).items()]


def fn_sub(argument):
    text, variables = _args(argument, 2, "Fn::Sub")

    def replace(match):
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name not in variables:
            raise ExpressionError(f"Fn::Sub: variable {name} not given")
        return to_text(variables[name])

    return re.sub(r"\$\{([^}]+)\}", replace, text)


_EVAL_ALLOWED = re.compile(r"^[\d\s.+\-*/()%]+$")


def fn_eval(argument):
    """Single-line arithmetic only; anything else is refused (template text is data, never code)."""
    expression = to_text(argument[0] if isinstance(argument, list) else argument)
    if not _EVAL_ALLOWED.match(expression):
        raise ExpressionError(f"Fn::Eval supports arithmetic only, got {expression!r}")
    import ast
    import operator

    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Mod: operator.mod, ast.USub: operator.neg, ast.UAdd: operator.pos}

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in ops:
            return ops[type(node.op)](walk(node.operand))
        raise ExpressionError(f"Fn::Eval: unsupported expression {expression!r}")

    return walk(ast.parse(expression, mode="eval"))


def _parse_time(value) -> _dt.datetime:
    text = to_text(value).replace("Z", "+00:00")
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExpressionError(f"not an ISO-8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


def fn_add_hour(argument):
    when, hours = _args(argument, 2, "Fn::AddHour")
    result = _parse_time(when) + _dt.timedelta(hours=float(hours))
    return result.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fn_format_utc_time(argument):
    when, pattern = _args(argument, 2, "Fn::FormatUTCTime")
    return _parse_time(when).astimezone(_dt.timezone.utc).strftime(pattern)


def fn_duration_between(argument):
    """An ISO-8601 duration (what ACS::Sleep takes); times of day (``HH:mm:ssZ``) wrap to the next day."""
    first, second = _args(argument, 2, "Fn::DurationBetween")
    times = []
    for value in (first, second):
        try:
            times.append(_parse_time(value))
        except ExpressionError:
            times.append(_parse_time("1900-01-01T" + to_text(value)))   # a time of day
    seconds = int((times[1] - times[0]).total_seconds())
    if seconds < 0 and times[0].year == 1900:
        seconds += 86400
    return f"PT{seconds}S"


def fn_escape(argument):
    text = to_text(argument[0] if isinstance(argument, list) else argument)
    return text.replace("'", "''")


FUNCTIONS = {
    "Fn::Equals": fn_equals, "Fn::Not": fn_not, "Fn::And": fn_and, "Fn::Or": fn_or, "Fn::If": fn_if,
    "Fn::Select": fn_select, "Fn::Join": fn_join, "Fn::Split": fn_split, "Fn::Replace": fn_replace,
    "Fn::Jq": fn_jq, "Fn::Base64Encode": fn_base64_encode, "Fn::Base64Decode": fn_base64_decode,
    "Fn::MergeList": fn_merge_list, "Fn::ListJoin": fn_list_join, "Fn::MergeMap": fn_merge_map,
    "Fn::MergeMapToList": fn_merge_map_to_list, "Fn::CalculateBatch": fn_calculate_batch,
    "Fn::First": fn_first, "Fn::Last": fn_last, "Fn::Min": fn_min, "Fn::Max": fn_max,
    "Fn::Intersection": fn_intersection, "Fn::Union": fn_union, "Fn::Difference": fn_difference,
    "Fn::ContainsSubString": fn_contains_substring, "Fn::RangeSelect": fn_range_select,
    "Fn::ConvertMapToList": fn_convert_map_to_list, "Fn::Sub": fn_sub, "Fn::Eval": fn_eval,
    "Fn::AddHour": fn_add_hour, "Fn::FormatUTCTime": fn_format_utc_time,
    "Fn::DurationBetween": fn_duration_between, "Fn::Escape": fn_escape,
}


def truth(value) -> bool:
    """A rendered ``When`` / ``Choices[].When`` value as a boolean."""
    return _truth(value)
