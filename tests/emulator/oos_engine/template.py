"""Parsing and validating OOS templates, and resolving execution parameters against them."""
from __future__ import annotations

import json
import re

import yaml

from .expressions import ExpressionError, Scope, render, to_text

FORMAT_VERSION = "OOS-2019-06-01"
MAX_CONTENT_BYTES = 64 * 1024
TOP_LEVEL_KEYS = {"FormatVersion", "Description", "Parameters", "RamRole", "Tasks", "Outputs", "Metadata",
                  "Conditions"}
TASK_KEYS = {"Name", "Action", "Description", "Properties", "Outputs", "When", "OnSuccess", "OnError", "Loop",
             "Retries", "DelayType", "Delay", "BackOff", "MaxRetryInterval"}
PARAMETER_TYPES = {"String", "Number", "Boolean", "List", "Json"}
OUTPUT_TYPES = PARAMETER_TYPES
TASK_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,200}$")
FLOW_KEYWORDS = {"ACS::NEXT", "ACS::END"}
DEFAULT_RAM_ROLE = "OOSServiceRole"


class TemplateError(Exception):
    """Bad template content or bad execution parameters (answered as a 400 by the API)."""

    def __init__(self, code: str, message: str, http_status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


def parse_template(content) -> dict:
    """Parse JSON or YAML template text (``yaml.safe_load`` only) into a document."""
    if isinstance(content, dict):
        return content
    if not isinstance(content, str) or not content.strip():
        raise TemplateError("InvalidTemplate", "The template content is empty.")
    if len(content.encode()) > MAX_CONTENT_BYTES:
        raise TemplateError("InvalidTemplate", f"The template content exceeds {MAX_CONTENT_BYTES} bytes.")
    try:
        document = json.loads(content)
    except ValueError:
        try:
            document = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise TemplateError("InvalidTemplate", f"The template is neither valid JSON nor valid YAML{where}: "
                                f"{getattr(exc, 'problem', None) or exc}.") from None
    if not isinstance(document, dict):
        raise TemplateError("InvalidTemplate", "The template must be a JSON or YAML object (a mapping).")
    return document


def template_format(content: str) -> str:
    try:
        json.loads(content)
        return "JSON"
    except ValueError:
        return "YAML"


def localized(text) -> str:
    if isinstance(text, dict):
        return str(text.get("en") or text.get("zh-cn") or "")
    return "" if text is None else str(text)


def validate_document(document: dict) -> None:
    """Raise TemplateError naming the first offending field; the checks OOS makes before running."""
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise TemplateError("InvalidTemplate", f"Unknown top-level key {unknown[0]!r}: allowed keys are "
                            f"{', '.join(sorted(TOP_LEVEL_KEYS))}.")
    if document.get("FormatVersion") != FORMAT_VERSION:
        raise TemplateError("InvalidTemplate", f"FormatVersion must be {FORMAT_VERSION!r}, got "
                            f"{document.get('FormatVersion')!r}.")
    parameters = document.get("Parameters") or {}
    if not isinstance(parameters, dict):
        raise TemplateError("InvalidTemplate", "Parameters must be a mapping of parameter name to definition.")
    for name, spec in parameters.items():
        if not isinstance(spec, dict):
            raise TemplateError("InvalidTemplate", f"Parameters.{name} must be a mapping with a Type.")
        if spec.get("Type", "String") not in PARAMETER_TYPES:
            raise TemplateError("InvalidTemplate", f"Parameters.{name}.Type {spec.get('Type')!r} is not one of "
                                f"{', '.join(sorted(PARAMETER_TYPES))}.")
    tasks = document.get("Tasks")
    if not isinstance(tasks, list) or not tasks:
        raise TemplateError("InvalidTemplate", "Tasks must be a non-empty list of tasks.")
    names = []
    for index, task in enumerate(tasks):
        where = f"Tasks[{index}]"
        if not isinstance(task, dict):
            raise TemplateError("InvalidTemplate", f"{where} must be a mapping with Name and Action.")
        name = task.get("Name")
        if not isinstance(name, str) or not TASK_NAME.match(name):
            raise TemplateError("InvalidTemplate", f"{where}.Name {name!r} must be 1-200 characters of "
                                "letters, digits, '-' and '_'.")
        if name in names:
            raise TemplateError("InvalidTemplate", f"{where}.Name {name!r} is used by more than one task.")
        names.append(name)
        if not isinstance(task.get("Action"), str) or not task["Action"].strip():
            raise TemplateError("InvalidTemplate", f"{where} ({name}): Action is required.")
        extra = sorted(set(task) - TASK_KEYS)
        if extra:
            raise TemplateError("InvalidTemplate", f"{where} ({name}): unknown key {extra[0]!r}.")
        if "Properties" in task and task["Properties"] is not None and not isinstance(task["Properties"], dict):
            raise TemplateError("InvalidTemplate", f"{where} ({name}).Properties must be a mapping.")
        for output_name, output in (task.get("Outputs") or {}).items():
            if not isinstance(output, dict) or "ValueSelector" not in output:
                raise TemplateError("InvalidTemplate", f"{where} ({name}).Outputs.{output_name} needs a "
                                    "ValueSelector.")
            if output.get("Type", "String") not in OUTPUT_TYPES:
                raise TemplateError("InvalidTemplate", f"{where} ({name}).Outputs.{output_name}.Type "
                                    f"{output.get('Type')!r} is not valid.")
        loop = task.get("Loop")
        if loop is not None and (not isinstance(loop, dict) or "Items" not in loop):
            raise TemplateError("InvalidTemplate", f"{where} ({name}).Loop needs Items.")
    for index, task in enumerate(tasks):
        targets = [("OnSuccess", task.get("OnSuccess")), ("OnError", task.get("OnError"))]
        if task["Action"].lower() == "acs::choice":
            properties = task.get("Properties") or {}
            targets.append(("Properties.DefaultTask", properties.get("DefaultTask")))
            for number, choice in enumerate(properties.get("Choices") or []):
                targets.append((f"Properties.Choices[{number}].NextTask", (choice or {}).get("NextTask")))
        for field, target in targets:
            if target is not None and target not in FLOW_KEYWORDS and target not in names:
                raise TemplateError("InvalidTemplate", f"Tasks[{index}] ({task['Name']}).{field} refers to "
                                    f"{target!r}, which is neither a task name nor ACS::NEXT / ACS::END.")
    outputs = document.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise TemplateError("InvalidTemplate", "Outputs must be a mapping of output name to {Type, Value}.")
    for name, output in outputs.items():
        if not isinstance(output, dict) or "Value" not in output:
            raise TemplateError("InvalidTemplate", f"Outputs.{name} needs a Value.")
        if output.get("Type", "String") not in OUTPUT_TYPES:
            raise TemplateError("InvalidTemplate", f"Outputs.{name}.Type {output.get('Type')!r} is not valid.")


def load_template(content) -> dict:
    document = parse_template(content)
    validate_document(document)
    return document


def validation_result(content) -> dict:
    """The body of ValidateTemplateContent for valid content (raises TemplateError otherwise)."""
    document = load_template(content)
    ram_role = document.get("RamRole")
    return {
        "Parameters": json.dumps(document.get("Parameters") or {}, ensure_ascii=False),
        "Outputs": json.dumps(document.get("Outputs") or {}, ensure_ascii=False),
        "RamRole": ram_role if isinstance(ram_role, str) and ram_role and "{{" not in ram_role else DEFAULT_RAM_ROLE,
        "Tasks": [{
            "Name": task["Name"],
            "Type": task["Action"],
            "Description": localized(task.get("Description")),
            "Properties": json.dumps(task.get("Properties") or {}, ensure_ascii=False),
            "Outputs": json.dumps(task.get("Outputs") or {}, ensure_ascii=False),
        } for task in document["Tasks"]],
    }


def _typed(name: str, spec: dict, value):
    kind = spec.get("Type", "String")
    problem = f"Parameter {name} must be of type {kind}, got {value!r}."
    if kind == "String":
        if isinstance(value, (dict, list)):
            raise TemplateError("InvalidParameter", problem)
        value = to_text(value)
    elif kind == "Number":
        if isinstance(value, bool):
            raise TemplateError("InvalidParameter", problem)
        if isinstance(value, str):
            try:
                value = int(value) if re.fullmatch(r"\s*-?\d+\s*", value) else float(value)
            except ValueError:
                raise TemplateError("InvalidParameter", problem) from None
        elif not isinstance(value, (int, float)):
            raise TemplateError("InvalidParameter", problem)
    elif kind == "Boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        elif not isinstance(value, bool):
            raise TemplateError("InvalidParameter", problem)
    elif kind in ("List", "Json"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if kind == "List":
                    value = [item.strip() for item in value.split(",")] if value else []
                else:
                    raise TemplateError("InvalidParameter", problem) from None
        if kind == "List" and not isinstance(value, list):
            raise TemplateError("InvalidParameter", problem)
        if kind == "Json" and not isinstance(value, (dict, list)):
            raise TemplateError("InvalidParameter", problem)
    return value


def _check_constraints(name: str, spec: dict, value) -> None:
    """AllowedValues, AllowedPattern, lengths and ranges; a List parameter's constraints hold for each element.

    OOS reads a List parameter's constraints as constraints on its elements: ``AllowedValues: [cn-hangzhou,
    cn-shanghai]`` on ``targetRegionIds`` lists the regions one may pick, and ``[cn-hangzhou]`` is a valid value.
    """
    if spec.get("Type") == "List" and isinstance(value, list):
        for index, item in enumerate(value):
            _check_one(f"{name}[{index}]", spec, item)
        return
    _check_one(name, spec, value)


def _check_one(name: str, spec: dict, value) -> None:
    allowed = spec.get("AllowedValues")
    if allowed and value not in allowed and to_text(value) not in [to_text(item) for item in allowed]:
        raise TemplateError("InvalidParameter", f"Parameter {name} must be one of {allowed}, got {value!r}.")
    if isinstance(value, str):
        pattern = spec.get("AllowedPattern")
        try:
            matched = not pattern or re.search(pattern, value)
        except re.error as error:
            raise TemplateError("InvalidParameter", f"Parameter {name}: AllowedPattern {pattern!r} is not a valid "
                                f"regular expression ({error}).") from None
        if not matched:
            raise TemplateError("InvalidParameter", f"Parameter {name} does not match the pattern {pattern!r}.")
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            raise TemplateError("InvalidParameter", f"Parameter {name} is shorter than {spec['MinLength']}.")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            raise TemplateError("InvalidParameter", f"Parameter {name} is longer than {spec['MaxLength']}.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "MinValue" in spec and value < float(spec["MinValue"]):
            raise TemplateError("InvalidParameter", f"Parameter {name} is less than {spec['MinValue']}.")
        if "MaxValue" in spec and value > float(spec["MaxValue"]):
            raise TemplateError("InvalidParameter", f"Parameter {name} is greater than {spec['MaxValue']}.")


def resolve_parameters(document: dict, given: dict | None, pseudo: dict) -> dict:
    """Execution parameters: given values checked against the template, Defaults filled in."""
    given = dict(given or {})
    specs = document.get("Parameters") or {}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise TemplateError("InvalidParameter", f"Parameter {unknown[0]} is not defined in the template "
                            f"(defined: {', '.join(sorted(specs)) or 'none'}).")
    resolved = {}
    for name, spec in specs.items():
        if name in given:
            value = given[name]
        elif "Default" in spec:
            try:
                value = render(spec["Default"], Scope(resolved, pseudo))
            except ExpressionError as exc:
                raise TemplateError("InvalidParameter", f"Default of parameter {name}: {exc}") from None
        else:
            raise TemplateError("MissingParameter", f"Parameter {name} is required: the template gives it no "
                                "Default.")
        value = _typed(name, spec, value)
        _check_constraints(name, spec, value)
        resolved[name] = value
    return resolved
