"""OOS template -> list of Ansible plays: the checks OOS makes before it runs a template, the tasks OOS must run
for the playbook (delegation), then the plays of :mod:`natural`.

:class:`TemplateCheck` walks the template and the nested templates and product action definitions it inlines,
as OOS reads them: task names, jumps (forward only), Loops where OOS allows them, properties each action
definition takes, services the client layer resolves, the size of the whole; every problem is reported at once
(``ConversionError``). It also decides which tasks OOS runs (:meth:`TemplateCheck.delegation_reason`) and draws the
flowchart's edges.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.product_catalog import INTERNAL
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.products import (
    api_style, normalize_product, oos_only_service, unresolvable_service)
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import (
    actions, checks, delegation, loader, natural, product_actions)
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.filters import SELECT_TARGET_RESOURCES
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.mermaid import END, FAILED

NEXT_END = "__end_ok__"   # OnError ACS::NEXT on the last task: the execution still ends successfully
API_ACTIONS = ("acs::executeapi", "acs::waitfor", "acs::checkfor")
_TASK_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_\-]+(?:::[A-Za-z0-9_\-]+)*$")
MAX_NESTING = 6
# OOS tasks in one playbook, nested and inlined templates included (the largest public template: 70).
MAX_TASKS = 2000
# Actions OOS refuses a Loop on.
NOT_LOOPED = actions.TRIGGERS + ("acs::choice", "acs::sleep", "acs::approve", "acs::pause")


@dataclass
class Options:
    hosts: str | None = None
    parameters: dict = field(default_factory=dict)
    action_templates_path: str | None = None
    template_paths: list = field(default_factory=list)
    select_targets: str = "auto"            # auto | api | inventory
    instance_id_var: str = "instance_id"
    name: str | None = None
    template_name: str | None = None        # recorded by the oos_audit callback (play variable oos_template_name)


_ACTION_INDEX_CACHE: dict = {}


def action_index(path: str | None) -> dict:
    """{action name lower-cased: file} for a folder of cloud product action templates (cached)."""
    if not path:
        return {}
    key = os.path.abspath(path)
    if key not in _ACTION_INDEX_CACHE:
        index = {}
        for root, _dirs, files in os.walk(key):
            for filename in sorted(files):
                stem, ext = os.path.splitext(filename)
                if ext.lower() in (".yml", ".yaml", ".json") and "::" in stem:
                    index.setdefault(stem.lower(), os.path.join(root, filename))
        _ACTION_INDEX_CACHE[key] = index
    return _ACTION_INDEX_CACHE[key]


_CHILD_CACHE: dict = {}


def style_mismatch(props: dict) -> str | None:
    """Why OOS must make this API call itself: the template calls an RPC product with a URI (MNS's own message
    API, not its RPC one) or a ROA product without one (OOS knows each API's path; the playbook would not)."""
    service = props.get("Service")
    if not isinstance(service, str) or "{{" in service or unresolvable_service(service):
        return None
    style = api_style(service)
    has_uri = props.get("URI") not in (None, "")
    if style == "RPC" and has_uri:
        return f"{service} APIs are RPC style but the task calls a URI (an API of its own that OOS knows)"
    if style == "ROA" and not has_uri:
        return f"{service} APIs are ROA style and the task gives no URI (OOS knows each API's path)"
    return None


def _oos_internal(mapping: dict):
    service = mapping.get("Service")
    try:
        return service if normalize_product(service) in INTERNAL else None
    except AlicloudInputError:   # computed or no name: nothing to decide at conversion
        return None


def load_child(path: str) -> dict:
    if path not in _CHILD_CACHE:
        _CHILD_CACHE[path] = loader.load(path=path)
    return copy.deepcopy(_CHILD_CACHE[path])


def builtin_definition(key: str) -> dict:
    """A product action the converter defines itself (``product_actions.DEFINITIONS``), loaded as a template."""
    cache_key = "builtin:" + key
    if cache_key not in _CHILD_CACHE:
        _CHILD_CACHE[cache_key] = loader.load(content=product_actions.DEFINITIONS[key])
    return copy.deepcopy(_CHILD_CACHE[cache_key])


class TemplateCheck:
    """One walk over a template and what it inlines: the problems OOS would refuse it for (all of them), the tasks
    OOS runs for the playbook (``delegated``) and the flowchart's edges."""

    def __init__(self, template: dict, options: Options):
        self.template = template
        self.options = options
        self.problems: list = []
        self.task_count = 0
        self.mermaid_edges: list = []
        self.delegated: list = []          # (label, action) of the tasks OOS runs (delegated product actions)

    def problem(self, label: str, task: dict, message: str):
        self.problems.append(f"{message} at {label} ({task.get('Name', '?')})")

    @staticmethod
    def resolve_target(value, names: dict, position_next: str):
        """OnSuccess/OnError/NextTask/DefaultTask -> a real task name, END, or None when it names no task."""
        if not isinstance(value, str):
            return None
        text = value.strip()
        if text.upper() == "ACS::NEXT":
            return position_next
        if text.upper() == "ACS::END":
            return END
        return names.get(text.lower())

    @staticmethod
    def jump_fields(task: dict) -> list:
        """Every (field, value) of ``task`` that names the task to go to: OnSuccess, OnError, Choice targets."""
        fields = [(key, task[key]) for key in ("OnSuccess", "OnError") if task.get(key) is not None]
        if str(task.get("Action", "")).lower() == "acs::choice":
            props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
            if props.get("DefaultTask") is not None:
                fields.append(("DefaultTask", props["DefaultTask"]))
            choices = props.get("Choices") or []
            for number, choice in enumerate(choices if isinstance(choices, list) else [choices]):
                if not isinstance(choice, dict):
                    fields.append((f"Choices[{number}]", choice))
                elif choice.get("NextTask") is not None:
                    fields.append((f"Choices[{number}].NextTask", choice["NextTask"]))
        return fields

    def check_jumps(self, task: dict, label: str, names: dict, order: dict, index: int, following: str):
        """A jump names a task of the same template, ACS::NEXT or ACS::END, and goes forward; as OOS checks."""
        for field_name, value in self.jump_fields(task):
            if field_name.startswith("Choices[") and not field_name.endswith("NextTask"):
                self.problem(label, task, f"{field_name} must be a mapping with When and NextTask")
                continue
            target = self.resolve_target(value, names, following)
            if target is None:
                self.problem(label, task, f"{field_name} {value!r} is not a task of this template (use a task name, "
                                          "ACS::NEXT or ACS::END)")
            elif target in order and order[target] <= index:
                self.problem(label, task, f"unsupported backward jump to {target} ({field_name})")

    def check_tasks(self, tasks: list, path: str, depth: int) -> None:
        names = {t["Name"].lower(): t["Name"] for t in tasks if isinstance(t.get("Name"), str)}
        order = {t["Name"]: position for position, t in enumerate(tasks)}
        for index, task in enumerate(tasks):
            label = f"{path}Tasks[{index}]"
            name = task["Name"]
            if not _TASK_NAME.match(name):
                self.problem(label, task, "unsupported task name (use letters, digits, _ and -)")
                continue
            self.task_count += 1
            if self.task_count > MAX_TASKS:
                if self.task_count == MAX_TASKS + 1:
                    self.problems.append(f"the template expands to more than {MAX_TASKS} tasks with its nested and "
                                         "inlined templates: refused")
                return
            following = tasks[index + 1]["Name"] if index + 1 < len(tasks) else END
            self.check_jumps(task, label, names, order, index, following)
            if depth == 0:
                on_success = self.resolve_target(task.get("OnSuccess"), names, following) or following
                on_error = FAILED
                if "OnError" in task:
                    on_error = self.resolve_target(task["OnError"], names, following if following != END else NEXT_END)
                    on_error = on_error or FAILED
                self.mermaid_edges.append((name, task, on_success, on_error))
            self.check_task(task, label, depth)

    def check_task(self, task: dict, label: str, depth: int) -> None:
        """The problems of one task's action; the nested template or action definition it inlines, walked."""
        key = str(task.get("Action", "")).lower()
        nested = key == "acs::template" or (key.count("::") == 2 and key not in actions.ECS_NATIVE)
        if task.get("Loop") and key in NOT_LOOPED:
            self.problem(label, task, f"unsupported Loop on {task['Action']}")
            return
        if key in actions.ECS_NATIVE:
            unknown = actions.unknown_properties(key, task.get("Properties") or {})
            if unknown:
                self.problem(label, task, f"{task['Action']} has no propert"
                             f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(str, unknown))} (it takes: "
                             f"{', '.join(actions.NATIVE_PROPERTIES[key] + tuple(actions.DELEGATED_UNLESS_DEFAULT.get(key, {})))})")
                return
        if key == "acs::template" and not self.valid_template_name(task, label):
            return
        if self.delegation_reason(key, task):
            # OOS runs this one task, exactly as it runs it (named in the playbook's header).
            name = (task.get("Properties") or {}).get("TemplateName") if key == "acs::template" else None
            self.delegated.append((label, f"ACS::Template {name}" if isinstance(name, str) and "{{" not in name
                                   else task["Action"]))
            return
        if task.get("Loop") and nested and depth > 0:
            return   # a loop inside a nested template: OOS runs it (natural_nested)
        if key in API_ACTIONS:
            # A product the client layer cannot resolve fails here, not as a playbook that fails later.
            unresolvable = unresolvable_service((task.get("Properties") or {}).get("Service"))
            if unresolvable:
                self.problem(label, task, unresolvable)
            return
        if key in actions.KNOWN or key == "acs::selecttargets":
            return
        local = action_index(self.options.action_templates_path).get(key)
        if key in actions.ECS_NATIVE:
            if actions.unmapped_properties(key, task.get("Properties") or {}) and local:
                self.check_nested(task, label, depth, local)   # the definition takes every property
            return
        if key == "acs::template":
            self.check_nested(task, label, depth, None)
        elif key in product_actions.DEFINITIONS:
            self.check_nested(task, label, depth, None, builtin=key)
        elif key.startswith("acs::") and key.count("::") == 2 and local:
            self.check_nested(task, label, depth, local)
        else:
            self.problem(label, task, f"unsupported action {task['Action']}")

    def delegation_reason(self, key: str, task: dict) -> str | None:
        """Why OOS itself must run this task (a one-task execution), or None when the playbook runs it: the
        fallback for every construct the playbook cannot run as OOS would."""
        props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
        local = action_index(self.options.action_templates_path)
        # (a When, and a Choice's conditions, are evaluated by the playbook: refused at loading instead)
        unknown = checks.unknown_function({k: v for k, v in task.items() if k != "When"}) if key != "acs::choice" else None
        if unknown:
            return f"it uses {unknown}, which alicloud.oos does not evaluate"
        if delegation.when_reads_the_item(task):
            return "its When reads the loop item (OOS decides whether it reads it once or for each item)"
        if key in actions.UNSUPPORTED:
            return f"{actions.UNSUPPORTED[key]} has no Ansible counterpart"
        if key == "acs::selecttargets":
            resource = str(props.get("ResourceType", "ALIYUN::ECS::Instance"))
            if "{{" not in resource and resource.lower() not in SELECT_TARGET_RESOURCES:
                return f"SelectTargets has no listing for {resource}"
            return None
        if key in API_ACTIONS:
            return oos_only_service(props.get("Service")) or style_mismatch(props)
        if key in actions.ECS_NATIVE:
            unmapped = actions.unmapped_properties(key, props)
            if unmapped and not actions.unknown_properties(key, props) and key not in local:
                return f"the native mapping does not pass {', '.join(map(str, unmapped))}"
            return None
        if key == "acs::template":
            name = props.get("TemplateName")
            if "TemplateContent" in props or not isinstance(name, str):
                return None
            if "{{" in name:
                return "its TemplateName is computed at run time"
            if _TEMPLATE_NAME.match(name) and self.find_named_template(name) is None:
                return f"template {name} is not in template_paths (OOS finds it by name)"
            return None
        if (key.startswith("acs::") and key.count("::") == 2 and key not in product_actions.DEFINITIONS
                and key not in local):
            return "no native mapping and no local definition"
        if key in local and key not in actions.ECS_NATIVE and key not in product_actions.DEFINITIONS:
            internal = checks.first_found(load_child(local[key]), _oos_internal)
            if internal:
                # OOS's own actions may call services only OOS can reach: OOS runs the action instead.
                return f"its definition calls {internal}, which only OOS can call"
        return None

    def valid_template_name(self, task: dict, label: str) -> bool:
        """A static TemplateName becomes a file name: never a path out of template_paths."""
        props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
        name = props.get("TemplateName")
        if "TemplateContent" in props or not isinstance(name, str) or "{{" in name or _TEMPLATE_NAME.match(name):
            return True
        self.problem(label, task, f"TemplateName {name!r} is not a template name (letters, digits, _, - and ::)")
        return False

    def find_named_template(self, name: str) -> str | None:
        for folder in self.options.template_paths or []:
            for ext in (".yml", ".yaml", ".json"):
                candidate = os.path.join(folder, name + ext)
                if os.path.isfile(candidate):
                    return candidate
        return action_index(self.options.action_templates_path).get(name.lower())

    def check_nested(self, task: dict, label: str, depth: int, path: str | None, builtin: str | None = None) -> None:
        props = task.get("Properties") or {}
        if depth >= MAX_NESTING:
            self.problem(label, task, "unsupported nesting deeper than 6 templates")
            return
        try:
            if path is not None or builtin is not None:
                child = load_child(path) if path is not None else builtin_definition(builtin)
                unknown = [k for k in props if k not in (child.get("Parameters") or {})]
                if unknown:
                    # Refused here, not half-way through the run: nothing the template says is dropped.
                    self.problem(label, task, f"{task['Action']} has no propert"
                                 f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(str, unknown))} (it takes: "
                                 f"{', '.join(child.get('Parameters') or {})})")
                    return
            elif "TemplateContent" in props:
                content = props["TemplateContent"]
                child = loader.load(content=content if isinstance(content, (str, dict)) else str(content))
            else:
                name = props.get("TemplateName")
                if not isinstance(name, str):
                    self.problem(label, task, "ACS::Template needs TemplateName or TemplateContent")
                    return
                child = load_child(self.find_named_template(name))
        except ConversionError as error:
            self.problem(label, task, f"unsupported nested template ({error})")
            return
        self.check_tasks(child["Tasks"], f"{label}({task['Action']}).", depth + 1)


@dataclass
class Conversion:
    plays: list
    template: dict
    edges: list
    notes: list
    delegated: list = field(default_factory=list)
    handed_over: dict = field(default_factory=dict)   # {task name: the construct with no Ansible form}: OOS runs it


def build(template: dict, options: Options) -> Conversion:
    check = TemplateCheck(template, options)
    check.check_tasks(template["Tasks"], "", 0)
    if check.problems:
        raise ConversionError(check.problems)
    notes = [f"Trigger {t['Name']}: {t['Action']}" for t in template["Tasks"]
             if str(t.get("Action", "")).lower() in actions.TRIGGERS]
    try:
        written = natural.build(template, options, check.delegation_reason)
    except natural.Unsupported as gap:
        where = f"task {gap.task}" if gap.task else "the template's Parameters or Outputs"
        if isinstance(gap, natural.RefusedByOos):
            raise ConversionError([f"{where} holds {gap}: correct the template"]) from None
        raise ConversionError([f"{where} holds {gap}, which has no Ansible form, and OOS cannot run it alone for the "
                               "playbook: run the whole template in OOS (alicloud.oos.oos_execution)"]) from None
    delegated = list(check.delegated) + [
        (f"Tasks[{index}]", f"{task['Action']}; not written as Ansible: {written.handed_over[str(task['Name'])]}")
        for index, task in enumerate(template["Tasks"]) if str(task["Name"]) in written.handed_over]
    return Conversion(plays=written.plays, template=template, edges=check.mermaid_edges, notes=notes,
                      delegated=delegated, handed_over=written.handed_over)
