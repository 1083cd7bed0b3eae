"""Read OOS template text (YAML or JSON) into plain data, safely, and normalise its shape."""
from __future__ import annotations

import json
import os

import yaml

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_BaseLoader):  # pylint: disable=too-many-ancestors
    """The safe loader (C-accelerated when available) without timestamp conversion: OOS keeps them as strings."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

SUPPORTED_FORMATS = ("OOS-2019-06-01",)


def parse_text(text: str, source: str = "template"):
    """Template text -> data. JSON is tried first (fast path); YAML through the safe loader only."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        # str(): libyaml refuses ansible-core's tagged str subclass that lookups receive as content=.
        return yaml.load(str(text), Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConversionError([f"{source} is not valid YAML or JSON{where}: {getattr(error, 'problem', error)}"]) from None


def read_template(path: str) -> str:
    if not os.path.isfile(path):
        raise ConversionError([f"template file {path!r} not found: pass a path to a .yml/.yaml/.json OOS template"])
    with open(path, encoding="utf-8") as handle:
        return handle.read()


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
    if version is not None and version not in SUPPORTED_FORMATS:
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
    if problems:
        raise ConversionError(problems)
    result = dict(data)
    result["Tasks"] = tasks
    result["Parameters"] = parameters
    return result


def load(path: str | None = None, content: str | dict | None = None) -> dict:
    """Load and normalise a template from a path or from content (text or already-parsed data)."""
    if content is None and path is None:
        raise ConversionError(["give a template path or content="])
    if isinstance(content, dict):
        return normalise(content, "content")
    text = content if content is not None else read_template(path)
    return normalise(parse_text(text, path or "content"), path or "content")
