"""AWX/AAP survey specification from a template's Parameters (the same names as the playbook variables)."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.loader import localized
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.parameters import default_text
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.parameters import prefilled_default


def question(name: str, spec: dict, variable: str) -> dict:
    spec = spec or {}
    kind = spec.get("Type", "String")
    item = {
        "question_name": localized(spec.get("Label")) or name,
        "question_description": localized(spec.get("Description")),
        "variable": variable,
        "required": "Default" not in spec,
    }
    default = spec.get("Default")
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and allowed and kind != "List":
        item["type"] = "multiplechoice"
        item["choices"] = [default_text(a) for a in allowed]
    elif isinstance(allowed, list) and allowed:
        item["type"] = "multiselect"
        item["choices"] = [default_text(a) for a in allowed]
    elif kind == "Number":
        is_float = any(isinstance(spec.get(k), float) for k in ("Default", "MinValue", "MaxValue"))
        item["type"] = "float" if is_float else "integer"
        if "MinValue" in spec:
            item["min"] = spec["MinValue"]
        if "MaxValue" in spec:
            item["max"] = spec["MaxValue"]
    elif kind == "Boolean":
        item["type"] = "multiplechoice"
        item["choices"] = ["true", "false"]
    elif kind in ("List", "Json"):
        item["type"] = "textarea"
        item["question_description"] = (item["question_description"] + " (JSON)").strip()
    else:
        item["type"] = "password" if spec.get("NoEcho") in (True, "true") else "text"
        if "MinLength" in spec:
            item["min"] = spec["MinLength"]
        if "MaxLength" in spec:
            item["max"] = spec["MaxLength"]
    if prefilled_default(spec):
        item["default"] = default_text(default)
    elif "Default" in spec:
        # A computed default (e.g. {{ ACS::RegionId }}) is evaluated by the playbook when left empty.
        item["required"] = False
        item["default"] = ""
    return item


def survey_spec(template: dict, name: str, variable_for) -> dict:
    return {
        "name": name,
        "description": localized(template.get("Description")),
        "spec": [question(p, s, variable_for(p)) for p, s in (template.get("Parameters") or {}).items()],
    }
