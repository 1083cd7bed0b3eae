"""Read OOS template text (YAML or JSON) into plain data, safely and within bounds, and normalise its shape.

Bounds, checked before anything else is done with the text: OOS's own limit of 64 KB of template
content, and at most ``MAX_NODES`` values (after YAML aliases are expanded) nested at most ``MAX_DEPTH``
deep, so a small alias bomb is refused in milliseconds instead of becoming a playbook of many megabytes.
Every string, list and mapping of the result is marked as template data (:func:`text.mark`).
"""
from __future__ import annotations

import json
import os

import yaml

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.checks import (
    jq_function_problems, parameter_problems, task_problems, unknown_function_problems)
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import mark

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_BaseLoader):  # pylint: disable=too-many-ancestors
    """The safe loader (C-accelerated when available) without timestamp conversion: OOS keeps them as strings."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

SUPPORTED_FORMATS = ("OOS-2019-06-01",)
MAX_CONTENT_BYTES = 64 * 1024   # CreateTemplate refuses larger content
MAX_NODES = 50_000              # values after alias expansion (the largest public template has 1,764)
MAX_DEPTH = 64                  # nesting levels (the deepest public template has 21)


def _too_large(source: str, size: int) -> ConversionError:
    return ConversionError([f"{source} is {size} bytes: OOS accepts at most {MAX_CONTENT_BYTES} bytes (64 KB) of "
                            "template content; split it into nested templates (ACS::Template)"])


def _too_many(source: str) -> ConversionError:
    return ConversionError([f"{source} expands to more than {MAX_NODES} values (YAML aliases included): "
                            "refused as an alias bomb; write the values out or use fewer aliases"])


def _too_deep(source: str) -> ConversionError:
    return ConversionError([f"{source} nests values more than {MAX_DEPTH} levels deep: refused"])


def _yaml_children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _data_children(value) -> list:
    if isinstance(value, dict):
        return [part for pair in value.items() for part in pair]
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def check_shape(root, children, source: str) -> None:
    """Refuse more than MAX_NODES values once expanded, more than MAX_DEPTH levels, or a value inside itself.

    Iterative, and linear in the number of distinct nodes: a shared node (a YAML alias) is measured once.
    """
    measured: dict = {}   # id(node) -> (expanded values, depth)
    on_path: set = set()
    stack = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            parts = [measured[id(child)] for child in children(node)]
            size = 1 + sum(p[0] for p in parts)
            depth = 1 + max((p[1] for p in parts), default=0)
            if size > MAX_NODES:
                raise _too_many(source)
            if depth > MAX_DEPTH:
                raise _too_deep(source)
            measured[key] = (size, depth)
            continue
        if key in measured:
            continue
        if key in on_path:
            raise ConversionError([f"{source} has a YAML alias inside the value it refers to (a recursive "
                                   "structure): refused"])
        if len(on_path) > MAX_DEPTH:
            raise _too_deep(source)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in measured)


_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _measure_events(text: str, source: str) -> bool:
    """Bound the text from its event stream; whether it uses aliases.

    libyaml's composer recurses in C, so deep nesting is refused here, before anything is composed. Without
    aliases every event is one value, so the stream gives check_shape's figures (values, nesting) exactly and
    the composed nodes need no second walk; with aliases the nodes are measured after composing.
    """
    open_containers = deepest = values = 0
    aliases = False
    for event in yaml.parse(text, Loader=_TemplateLoader):
        if isinstance(event, yaml.ScalarEvent):
            values += 1
            deepest = max(deepest, open_containers + 1)
        elif isinstance(event, _OPEN_EVENTS):
            values += 1
            open_containers += 1
            if open_containers > MAX_DEPTH:
                raise _too_deep(source)
            deepest = max(deepest, open_containers)
        elif isinstance(event, _CLOSE_EVENTS):
            open_containers -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases = True
    if not aliases:
        if values > MAX_NODES:
            raise _too_many(source)
        if deepest > MAX_DEPTH:
            raise _too_deep(source)
    return aliases


def _yaml_error(source: str, error) -> ConversionError:
    mark_ = getattr(error, "problem_mark", None)
    where = f" at line {mark_.line + 1}, column {mark_.column + 1}" if mark_ else ""
    return ConversionError([f"{source} is not valid YAML or JSON{where}: {getattr(error, 'problem', None) or error}"])


def parse_text(text: str, source: str = "template", max_bytes: int | None = None):
    """Template text -> data. JSON is tried first (fast path); YAML through the safe loader only, with the same
    bounds on aliases and nesting. ``max_bytes``: another size limit than the template content's (data files)."""
    # A plain str: libyaml refuses ansible-core's str subclasses (2.19's tagged text; 2.16's unsafe text, whose
    # str() is itself).
    text = str.__str__(text) if isinstance(text, str) else str(text)
    size = len(text.encode("utf-8"))
    if max_bytes is not None and size > max_bytes:
        raise ConversionError([f"{source} is {size} bytes: at most {max_bytes} bytes are read"])
    if max_bytes is None and size > MAX_CONTENT_BYTES:
        raise _too_large(source, size)
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        except RecursionError:
            raise _too_deep(source) from None
        else:
            check_shape(data, _data_children, source)
            return data
    loader = _TemplateLoader(text)
    try:
        aliases = _measure_events(text, source)
        # Compose (aliases stay shared nodes), measure if aliases may multiply it, and only then build the values.
        node = loader.get_single_node()
        if node is None:
            return None
        if aliases:
            check_shape(node, _yaml_children, source)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise _yaml_error(source, error) from None
    except RecursionError:
        raise _too_deep(source) from None
    finally:
        loader.dispose()


def read_template(path: str) -> str:
    if not os.path.isfile(path):
        raise ConversionError([f"template file {path!r} not found: pass a path to a .yml/.yaml/.json OOS template"])
    size = os.path.getsize(path)
    if size > MAX_CONTENT_BYTES:
        raise _too_large(path, size)
    with open(path, "rb") as handle:
        raw = handle.read(MAX_CONTENT_BYTES + 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConversionError([f"{path} is not UTF-8 text (byte {error.start}): save the template as UTF-8"]) from None


def localized(value, default: str = "") -> str:
    """A plain string from a localized map ({en, zh-cn, ...}): en, then zh-cn, then anything."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("en", "name-en", "zh-cn", "name-zh-cn"):
            if isinstance(value.get(key), str):
                return value[key]
        for item in value.values():
            if isinstance(item, str):
                return item
    return default


def loop_problems(loop, where: str) -> list[str]:
    """Loop must be a mapping whose Items is a list, a reference ('{{ ids }}') or a function (Fn::...)."""
    if loop is None:
        return []
    if not isinstance(loop, dict):
        return [f"{where}: Loop must be a mapping with Items (and optional RateControl, MaxErrors, Outputs)"]
    if "Items" not in loop:
        return [f"{where}: Loop.Items is missing: give a list, a reference such as '{{{{ InstanceIds }}}}' or a function"]
    items = loop["Items"]
    if isinstance(items, bool) or not isinstance(items, (list, str, dict)):
        return [f"{where}: Loop.Items must be a list, a reference such as '{{{{ InstanceIds }}}}' or a function, "
                f"got {type(items).__name__} {items!r}"]
    return []


def normalise(data, source: str = "template") -> dict:
    """Check the document shape and return it with Tasks as a list of mappings that all have a Name."""
    if not isinstance(data, dict):
        raise ConversionError([f"{source} must be a mapping with FormatVersion and Tasks, got {type(data).__name__}"])
    problems = []
    version = data.get("FormatVersion")
    if "FormatVersion" not in data:
        problems.append(f"FormatVersion is missing: OOS refuses a template without it; add FormatVersion: "
                        f"{SUPPORTED_FORMATS[0]}")
    elif version not in SUPPORTED_FORMATS:
        problems.append(f"unsupported FormatVersion {version!r}: only {', '.join(SUPPORTED_FORMATS)} templates "
                        "(Tasks workflows) can be converted")
    tasks = data.get("Tasks")
    if isinstance(tasks, dict):
        # Some hand-written templates use a map keyed by task name; OOS itself uses a list.
        tasks = [dict(body or {}, Name=name) if isinstance(body, dict) else {"Name": name} for name, body in tasks.items()]
    if not isinstance(tasks, list) or not tasks:
        problems.append("Tasks is missing or empty: a template needs a list of tasks with Name and Action")
        tasks = []
    parameters = data.get("Parameters") or {}
    if not isinstance(parameters, dict):
        problems.append("Parameters must be a mapping of parameter names to their specs")
        parameters = {}
    problems.extend(parameter_problems(parameters))
    seen = set()
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            problems.append(f"Tasks[{index}] must be a mapping with Name and Action")
            continue
        name = task.get("Name")
        if not isinstance(name, str) or not name:
            problems.append(f"Tasks[{index}] has no Name")
        elif name.lower() in seen:
            problems.append(f"Tasks[{index}] ({name}): duplicate task name")
        else:
            seen.add(name.lower())
        if not isinstance(task.get("Action"), str):
            problems.append(f"Tasks[{index}] ({name}) has no Action")
        problems.extend(loop_problems(task.get("Loop"), f"Tasks[{index}] ({name})"))
        problems.extend(task_problems(task, f"Tasks[{index}] ({name})"))
        # The playbook evaluates When and a Choice's conditions itself: OOS cannot run them for it.
        problems.extend(unknown_function_problems(task.get("When"), f"Tasks[{index}] ({name}).When"))
        if str(task.get("Action", "")).lower() == "acs::choice":
            problems.extend(unknown_function_problems(task.get("Properties"), f"Tasks[{index}] ({name}).Properties"))
    outputs = data.get("Outputs") if isinstance(data.get("Outputs"), dict) else {}
    problems.extend(jq_function_problems(outputs, "Outputs"))
    problems.extend(unknown_function_problems(outputs, "Outputs"))
    problems.extend(unknown_function_problems(parameters, "Parameters"))
    if problems:
        raise ConversionError(problems)
    result = dict(data)
    result["Tasks"] = tasks
    result["Parameters"] = parameters
    return result


def load(path: str | None = None, content: str | dict | None = None) -> dict:
    """Load, bound, normalise and mark (as template data) a template from a path or from content.

    ``content`` is template text or already-parsed data (a mapping handed to the lookup).
    """
    if content is None and path is None:
        raise ConversionError(["give a template path or content="])
    if isinstance(content, dict):
        check_shape(content, _data_children, "content")
        size = len(json.dumps(content, ensure_ascii=False, default=str).encode("utf-8"))
        if size > MAX_CONTENT_BYTES:
            raise _too_large("content", size)
        return mark(normalise(content, "content"))
    text = content if content is not None else read_template(path)
    return mark(normalise(parse_text(text, path or "content"), path or "content"))
