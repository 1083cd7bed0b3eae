"""OOS intrinsic functions (``Fn::*``) as plain Python over already-evaluated arguments.

Each function takes the evaluated argument of ``{"Fn::Name": argument}`` and returns the value OOS
would produce. Bad arguments raise :class:`OosFunctionError` naming the function and the fix.
"""
from __future__ import annotations

import ast
import base64
import datetime
import json
import math
import operator
import re


class OosFunctionError(ValueError):
    """An intrinsic function got arguments it cannot use."""


def _args(name, argument, count=None, minimum=None):
    if not isinstance(argument, list):
        raise OosFunctionError(f"Fn::{name} expects a list of arguments, got {type(argument).__name__}")
    if count is not None and len(argument) != count:
        raise OosFunctionError(f"Fn::{name} expects {count} arguments, got {len(argument)}")
    if minimum is not None and len(argument) < minimum:
        raise OosFunctionError(f"Fn::{name} expects at least {minimum} arguments, got {len(argument)}")
    return argument


def truthy(value) -> bool:
    """OOS truthiness: booleans as is, 'true'/'false' strings (any case) as booleans."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return bool(lowered)
    return bool(value)


def _loose(value):
    """Normalise a scalar for comparison: 'true' equals True, '10' equals 10 (OOS compares rendered values)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        try:
            number = float(value)
        except ValueError:
            return value
        return number if not math.isnan(number) else value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def fn_equals(argument):
    left, right = _args("Equals", argument, count=2)
    if left == right:
        return True
    return _loose(left) == _loose(right)


def fn_not(argument):
    if isinstance(argument, list) and len(argument) == 1:
        argument = argument[0]
    if isinstance(argument, bool):
        return not argument
    if isinstance(argument, str) and argument.strip().lower() in ("true", "false"):
        return argument.strip().lower() == "false"
    raise OosFunctionError(f"Fn::Not expects a boolean (true/false or a condition such as Fn::Equals), "
                           f"got {_text(argument)[:100]!r}")


def fn_and(argument):
    return all(truthy(item) for item in _args("And", argument, minimum=1))


def fn_or(argument):
    return any(truthy(item) for item in _args("Or", argument, minimum=1))


def fn_if(argument):
    condition, when_true, when_false = _args("If", argument, count=3)
    return when_true if truthy(condition) else when_false


def jq_all(script, data, field="Fn::Jq"):
    """Every result of a jq program (OOS semantics: leading dot optional), via the client layer's jq."""
    # Imported here so converting templates never pays for the jq engine.
    from ansible_collections.alicloud.oos.plugins.module_utils.selectors import jq_select
    return jq_select(script, data, field)


def fn_jq(argument):
    mode, script, data = _args("Jq", argument, count=3)
    if not isinstance(script, str):
        raise OosFunctionError("Fn::Jq expects a jq program string as its second argument")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            pass
    results = jq_all(script, data)
    if str(mode).lower() == "first":
        return results[0] if results else None
    if str(mode).lower() == "all":
        return results
    raise OosFunctionError(f"Fn::Jq mode must be First or All, got {mode!r}")


def fn_select(argument):
    key, collection = _args("Select", argument, count=2)
    if isinstance(collection, str):
        try:
            collection = json.loads(collection)
        except ValueError:
            pass
    if isinstance(collection, dict):
        if key not in collection:
            raise OosFunctionError(f"Fn::Select: key {key!r} not in map (keys: {sorted(collection)})")
        return collection[key]
    if isinstance(collection, list):
        try:
            return collection[int(key)]
        except (ValueError, TypeError):
            raise OosFunctionError(f"Fn::Select: index {key!r} is not an integer") from None
        except IndexError:
            raise OosFunctionError(f"Fn::Select: index {key} out of range for a list of {len(collection)}") from None
    raise OosFunctionError(f"Fn::Select needs a list or a map as second argument, got {type(collection).__name__}")


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


def fn_join(argument):
    delimiter, items = _args("Join", argument, count=2)
    if not isinstance(items, list):
        raise OosFunctionError("Fn::Join expects [delimiter, [items]]")
    return str(delimiter).join(_text(item) for item in items)


def fn_split(argument):
    delimiter, text = _args("Split", argument, count=2)
    if not isinstance(text, str):
        raise OosFunctionError("Fn::Split expects [delimiter, string]")
    return text.split(delimiter) if delimiter else list(text)


def fn_replace(argument):
    mapping, text = _args("Replace", argument, count=2)
    if not isinstance(mapping, dict):
        raise OosFunctionError("Fn::Replace expects [{old: new}, string]")
    text = _text(text)
    for old, new in mapping.items():
        text = text.replace(str(old), _text(new))
    return text


def fn_base64encode(argument):
    if isinstance(argument, (list, dict)):
        raise OosFunctionError(f"Fn::Base64Encode expects one string, got a {type(argument).__name__}: "
                               "encode each item, or Fn::Join the list first")
    return base64.b64encode(_text(argument).encode()).decode()


def fn_base64decode(argument):
    if isinstance(argument, (list, dict)):
        raise OosFunctionError(f"Fn::Base64Decode expects one Base64 string, got a {type(argument).__name__}")
    text = "".join(_text(argument).split())
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8", "replace")
    except (ValueError, TypeError):
        raise OosFunctionError(f"Fn::Base64Decode: {text[:60]!r} is not Base64 (A-Z, a-z, 0-9, '+', '/', '=')") from None


def fn_mergelist(argument):
    merged = []
    for item in _args("MergeList", argument):
        if isinstance(item, list):
            merged.extend(item)
        else:
            merged.append(item)
    return merged


def fn_mergemap(argument):
    merged = {}
    for item in _args("MergeMap", argument):
        if not isinstance(item, dict):
            raise OosFunctionError("Fn::MergeMap expects a list of maps")
        merged.update(item)
    return merged


def fn_mergemaptolist(argument):
    columns = {}
    for item in _args("MergeMapToList", argument):
        if not isinstance(item, dict):
            raise OosFunctionError("Fn::MergeMapToList expects a list of {key: [values]} maps")
        for key, values in item.items():
            columns[key] = values if isinstance(values, list) else [values]
    length = max((len(v) for v in columns.values()), default=0)
    return [{key: values[i] if i < len(values) else values[-1] for key, values in columns.items() if values}
            for i in range(length)]


def fn_convertmaptolist(argument):
    if isinstance(argument, list) and len(argument) == 1:
        argument = argument[0]
    if not isinstance(argument, dict):
        raise OosFunctionError("Fn::ConvertMapToList expects a map")
    return [{"Key": key, "Value": value} for key, value in argument.items()]


def fn_listjoin(argument):
    result = []
    for item in _args("ListJoin", argument):
        result.append(item)
    return result


def _numbers(name, argument):
    values = argument[0] if isinstance(argument, list) and len(argument) == 1 and isinstance(argument[0], list) else argument
    try:
        return [float(v) if isinstance(v, str) else v for v in _args(name, values, minimum=1)]
    except ValueError:
        raise OosFunctionError(f"Fn::{name} expects numbers") from None


def _number_out(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def fn_min(argument):
    return _number_out(min(_numbers("Min", argument)))


def fn_max(argument):
    return _number_out(max(_numbers("Max", argument)))


def fn_sum(argument):
    return _number_out(sum(_numbers("Sum", argument)))


def fn_first(argument):
    if not isinstance(argument, list):
        raise OosFunctionError("Fn::First expects a list")
    return argument[0] if argument else None


def fn_last(argument):
    if not isinstance(argument, list):
        raise OosFunctionError("Fn::Last expects a list")
    return argument[-1] if argument else None


def _two_lists(name, argument):
    lists = _args(name, argument, minimum=2)
    if not all(isinstance(item, list) for item in lists):
        raise OosFunctionError(f"Fn::{name} expects lists")
    return lists


def fn_intersection(argument):
    first, *others = _two_lists("Intersection", argument)
    return [item for item in first if all(item in other for other in others)]


def fn_union(argument):
    result = []
    for items in _two_lists("Union", argument):
        result.extend(item for item in items if item not in result)
    return result


def fn_difference(argument):
    first, *others = _two_lists("Difference", argument)
    return [item for item in first if not any(item in other for other in others)]


def fn_calculatebatch(argument):
    """[batchNumber, items] -> how many items each of batchNumber batches holds (the Loop Concurrency)."""
    batches, items = _args("CalculateBatch", argument, count=2)
    try:
        batches = int(batches)
    except (TypeError, ValueError):
        raise OosFunctionError("Fn::CalculateBatch expects [batchNumber, list]") from None
    count = len(items) if isinstance(items, list) else int(items)
    if batches <= 0:
        raise OosFunctionError("Fn::CalculateBatch: batchNumber must be positive")
    return max(1, math.ceil(count / batches))


_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S%z",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%H:%M:%S%z", "%H:%M:%S", "%H:%MZ", "%H:%M")


def parse_time(value) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    text = _text(value).strip()
    for fmt in _TIME_FORMATS:
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    raise OosFunctionError(f"unrecognised UTC time {text!r}: use 2024-01-31T08:00:00Z")


def format_utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fn_formatutctime(argument):
    moment, fmt = _args("FormatUTCTime", argument, count=2)
    return parse_time(moment).astimezone(datetime.timezone.utc).strftime(str(fmt))


def fn_addhour(argument):
    moment, hours = _args("AddHour", argument, count=2)
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise OosFunctionError("Fn::AddHour expects [utcTime, hours]") from None
    return format_utc(parse_time(moment) + datetime.timedelta(hours=hours))


def fn_durationbetween(argument):
    """The time from the first time to the second as an ISO-8601 duration (``PT3600S``), which is what every
    template that uses it feeds to ACS::Sleep ``Duration``; times of day (``HH:mm:ssZ``) wrap to the next day."""
    start, end = _args("DurationBetween", argument, count=2)
    first, second = parse_time(start), parse_time(end)
    seconds = (second - first).total_seconds()
    if seconds < 0 and first.year == 1900:
        seconds += 86400
    return f"PT{int(seconds)}S"


def fn_sub(argument):
    template, variables = _args("Sub", argument, count=2)
    if not isinstance(variables, dict):
        raise OosFunctionError("Fn::Sub expects [string, {name: value}]")

    def replace(match):
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        return _text(variables[name]) if name in variables else match.group(0)
    return re.sub(r"\$\{([^}]+)\}", replace, _text(template))


def fn_containssubstring(argument):
    text, sub = _args("ContainsSubString", argument, count=2)
    return _text(sub) in _text(text)


def fn_rangeselect(argument):
    start, stop, items = _args("RangeSelect", argument, count=3)
    try:
        start, stop = int(start), int(stop)
    except (TypeError, ValueError):
        raise OosFunctionError(f"Fn::RangeSelect expects [start, stop, list] with whole numbers for start and stop, "
                               f"got {_text(start)[:40]!r} and {_text(stop)[:40]!r}") from None
    if not isinstance(items, (list, str)):
        raise OosFunctionError(f"Fn::RangeSelect expects a list to select from, got {type(items).__name__}")
    return items[start:stop]


def fn_mapjoin(argument):
    """[map, delimiter?] -> 'k=v' pairs joined (documented, unused in the corpus)."""
    mapping, *rest = _args("MapJoin", argument, minimum=1)
    delimiter = rest[0] if rest else ","
    return delimiter.join(f"{k}={_text(v)}" for k, v in mapping.items())


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
               ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
               ast.USub: operator.neg, ast.UAdd: operator.pos}


_EVAL_MAX_DIGITS = 1000


def _arith(node):
    if isinstance(node, ast.Expression):
        return _arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _arith(node.left), _arith(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) * math.log10(abs(left) + 2) > _EVAL_MAX_DIGITS:
            # 9**9**9 would hold the controller for minutes: template text must not cost more than it says.
            raise OosFunctionError(f"Fn::Eval: the result of a power would have more than {_EVAL_MAX_DIGITS} digits")
        result = _ARITHMETIC[type(node.op)](left, right)
        if isinstance(result, complex):
            raise OosFunctionError("Fn::Eval: the result is not a real number")
        return result
    if isinstance(node, ast.UnaryOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_arith(node.operand))
    raise OosFunctionError("Fn::Eval only accepts single-line arithmetic on numbers")


def fn_eval(argument):
    """Single-line arithmetic, evaluated by walking the syntax tree (never exec/eval)."""
    if isinstance(argument, list) and len(argument) == 1:
        argument = argument[0]
    text = _text(argument)
    if len(text) > 200:
        raise OosFunctionError("Fn::Eval expression is too long")
    try:
        return _number_out(_arith(ast.parse(text, mode="eval")))
    except SyntaxError:
        raise OosFunctionError(f"Fn::Eval: {text!r} is not arithmetic") from None
    except ArithmeticError as error:  # division by zero, float overflow
        raise OosFunctionError(f"Fn::Eval: {text!r} cannot be computed ({error})") from None


FUNCTIONS = {
    "equals": fn_equals, "not": fn_not, "and": fn_and, "or": fn_or, "if": fn_if, "jq": fn_jq,
    "select": fn_select, "join": fn_join, "split": fn_split, "replace": fn_replace,
    "base64encode": fn_base64encode, "base64decode": fn_base64decode, "mergelist": fn_mergelist,
    "mergemap": fn_mergemap, "mergemaptolist": fn_mergemaptolist, "convertmaptolist": fn_convertmaptolist,
    "listjoin": fn_listjoin, "min": fn_min, "max": fn_max, "sum": fn_sum, "first": fn_first, "last": fn_last,
    "intersection": fn_intersection, "union": fn_union, "difference": fn_difference,
    "calculatebatch": fn_calculatebatch, "formatutctime": fn_formatutctime, "addhour": fn_addhour,
    "durationbetween": fn_durationbetween, "sub": fn_sub, "containssubstring": fn_containssubstring,
    "rangeselect": fn_rangeselect, "mapjoin": fn_mapjoin, "eval": fn_eval,
}

# Functions whose arguments must not be evaluated eagerly (If evaluates only the chosen branch).
LAZY = {"if"}


def function_name(key) -> str | None:
    """'Fn::Join' -> 'join' when it is a supported function, else None."""
    if isinstance(key, str) and key[:4].lower() == "fn::":
        name = key[4:].lower()
        return name if name in FUNCTIONS else None
    return None


def is_function_key(key) -> bool:
    return isinstance(key, str) and key[:4].lower() == "fn::"
