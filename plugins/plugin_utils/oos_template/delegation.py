"""A task OOS runs for the playbook: the one-task template it is given, and the values that template takes.

The converter hands such tasks (product actions without a mapping, computed template names, ...) to OOS through
``alicloud.oos.oos_execution``. The task goes as the template wrote it; every value it reads from this execution
(parameters, earlier outputs, pseudo-parameters) becomes a parameter of the one-task template, so OOS takes it as
data: a ``{{ ACS::ExecutionId }}`` inside a value stays as written, as it would in the playbook. Parameter Store
references are left for OOS to resolve (nothing decrypted travels in the template), and so is
``{{ ACS::TaskLoopItem }}`` when the task has its own Loop, which OOS runs with its RateControl. The values of
NoEcho/secret parameters are declared NoEcho and named secret.

The template is built at conversion time, its values being the Jinja expressions of the playbook.
"""
from __future__ import annotations

import json
import re

from ansible_collections.alicloud.oos.plugins.module_utils.secrets import template_secret_names
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.runtime import REFERENCE

# What OOS needs to run the task (its Description stays in the playbook).
_TASK_KEYS = ("Name", "Action", "Outputs", "Retries", "Delay", "DelayType", "BackOff", "MaxRetryInterval")


class NotAValue(Exception):
    """``{{ name }}`` names nothing of this execution (a Cloud Assistant ``{{ param }}``): it stays as written."""


def when_reads_the_item(task: dict) -> bool:
    """A looped task whose When reads ``{{ ACS::TaskLoopItem }}``: whether OOS reads it once, before the Loop, or
    for each item is not documented, so the converter hands the task, When and all, to OOS."""
    return task.get("Loop") is not None and "acs::taskloopitem" in json.dumps(task.get("When"), default=str).lower()


def may_wait_for_approval(task: dict, definition_text: str | None) -> bool:
    """Whether the execution OOS runs for ``task`` can stop and wait for a person: at an ``ACS::Approve`` or an
    ``ACS::Pause``, or between the batches of a Loop that pauses (``BatchPauseOption``). So it can for an
    ``ACS::Template`` (what it runs is not known here, or holds one), an approval or pause action, a task whose own
    Loop names a ``BatchPauseOption``, or a product action whose definition (its text, and that of the product actions
    it calls, when known) holds one of those or a nested template. Product actions otherwise do not: their playbook
    task waits for the end and writes no answer. A waiting execution is answered as an approval is
    (alicloud.oos.oos_execution_approval)."""
    key = str(task.get("Action", "")).lower()
    loop = task.get("Loop") if isinstance(task.get("Loop"), dict) else {}
    rate = json.dumps({k: v for k, v in loop.items() if k not in ("Items", "Outputs")}, default=str).lower()
    if "batchpauseoption" in rate:   # (a whole rate control the run gives is refused when it asks for a pause)
        return True
    if key == "acs::template":
        content = (task.get("Properties") or {}).get("TemplateContent") if isinstance(task.get("Properties"), dict) else None
        return content is None or _may_wait(json.dumps(content, default=str))
    return "approve" in key or key == "acs::pause" or (definition_text is not None and _may_wait(definition_text))


def _may_wait(text: str) -> bool:
    return any(word in text.lower() for word in ("acs::approve", "acs::pause", "acs::template", "batchpauseoption"))


def secret_sources(specs: dict) -> set:
    """Lower-cased names of the NoEcho or secret parameters of a template's parameter definitions."""
    return {str(name).lower() for name in template_secret_names({"Parameters": specs or {}})}


def one_task_template(task: dict, resolve, type_of, secrets: set, ram_role="", keep_when: bool = False) -> tuple:
    """``(template, values, secret names)`` of the execution OOS runs for ``task``.

    ``resolve(reference)`` gives the value of ``{{ reference }}`` (``NotAValue`` when it names nothing);
    ``type_of(value)`` the OOS Type of the parameter that carries it; ``secrets`` the lower-cased names of
    secret parameters; ``ram_role`` the template's RamRole, which OOS also runs the task as.
    """
    own_loop = bool(task.get("Loop"))
    values, lifted, secret = {}, {}, []

    def lift(match):
        reference = match.group(1)
        lowered = reference.lower()
        if lowered.startswith(("oos:", "oos-secret:")) or (own_loop and lowered == "acs::taskloopitem"):
            return match.group(0)
        if lowered not in lifted:
            try:
                value = resolve(reference)
            except NotAValue:
                return match.group(0)
            base = re.sub(r"[^A-Za-z0-9_]", "_", reference)
            name = base if base[:1].isalpha() else "v_" + base
            while name in values:
                name += "_"
            lifted[lowered], values[name] = name, value
            if lowered.split(".")[0] in secrets:
                secret.append(name)
        return "{{ %s }}" % lifted[lowered]

    def walk(value):
        if isinstance(value, str):
            return REFERENCE.sub(lift, value) if "{{" in value else value
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {walk(key) if isinstance(key, str) else key: walk(item) for key, item in value.items()}
        return value

    body = {k: task[k] for k in _TASK_KEYS if k in task}
    props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
    # A nested template's text (TemplateContent) is the child's: its {{ references }} name the child's own
    # parameters and tasks, which OOS resolves when the child runs.
    body["Properties"] = dict(walk({k: v for k, v in props.items() if k != "TemplateContent"}),
                              **({"TemplateContent": props["TemplateContent"]} if "TemplateContent" in props else {}))
    if keep_when or when_reads_the_item(task):   # OOS reads the When (the playbook cannot)
        body["When"] = walk(task["When"])
    if own_loop:
        loop = dict(task["Loop"])
        body["Loop"] = dict(walk({k: v for k, v in loop.items() if k != "Outputs"}),
                            **({"Outputs": loop["Outputs"]} if "Outputs" in loop else {}))
        outputs = {}
        for name, spec in (loop.get("Outputs") or {}).items():
            kind = "Number" if str((spec or {}).get("AggregateType", "")).lower() == "fn::sum" else "List"
            outputs[name] = {"Type": kind, "Value": "{{ %s.%s }}" % (task["Name"], name)}
        description = f"{task['Name']}: loop delegated by alicloud.oos"
    else:
        # One task (a product action OOS runs for us): its Outputs come back as the execution's.
        outputs = {name: {"Type": (spec or {}).get("Type", "String"), "Value": "{{ %s.%s }}" % (task["Name"], name)}
                   for name, spec in (task.get("Outputs") or {}).items()}
        description = f"{task['Name']}: delegated by alicloud.oos"
    ram_role = walk(ram_role) if ram_role else ""
    template = {"FormatVersion": "OOS-2019-06-01", "Description": description,
                "Parameters": {name: dict({"Type": type_of(value)}, **({"NoEcho": True} if name in secret else {}))
                               for name, value in values.items()},
                "Tasks": [body], "Outputs": outputs}
    if ram_role:   # the role OOS runs the whole template as (its value travels as a parameter too)
        template["RamRole"] = ram_role
    return template, values, secret
