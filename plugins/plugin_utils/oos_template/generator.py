"""OOS template -> list of Ansible plays.

Control flow: every OOS task becomes a block guarded by ``<ctx>.next == '<task>'``; its last step
sets ``next`` to the OnSuccess target and its ``rescue`` to the OnError target, so forward jumps,
``ACS::NEXT`` and ``ACS::END`` need no goto. Loops the modules cannot batch themselves become a play
over one in-memory host per item (``serial`` = Concurrency, MaxErrors checked after each batch).
Nested templates (``ACS::Template`` and cloud product actions without a native module) are inlined
with their own context fact.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.product_catalog import INTERNAL
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.products import (
    api_style, normalize_product, oos_only_service, unresolvable_service)
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import template_secret_names
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import (
    actions, checks, delegation, loader, natural, parameters, product_actions, runtime)
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.actions import F, Mapped, Step
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.filters import SELECT_TARGET_RESOURCES
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.parameters import variable_for
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.runtime import END, FAILED
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    Code, TemplateList, TemplateMap, TemplateText, expr, literal, mark, possibly_template)

NEXT_END = "__end_ok__"   # OnError ACS::NEXT on the last task: the execution still ends successfully
API_ACTIONS = ("acs::executeapi", "acs::waitfor", "acs::checkfor")
_TASK_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
_PRODUCT_ACTION = re.compile(r"^ACS::[A-Za-z0-9_\-]+::[A-Za-z0-9_\-]+$", re.IGNORECASE)
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_\-]+(?:::[A-Za-z0-9_\-]+)*$")
_PSEUDO_REF = re.compile(r"\{\{\s*(acs::[A-Za-z0-9_]+)\s*\}\}", re.IGNORECASE)
_STORE_REF = re.compile(r"\{\{\s*(oos(?:-secret)?):\s*([^{}\s]+)\s*\}\}", re.IGNORECASE)
MAX_NESTING = 6
# OOS tasks in one playbook, nested and inlined templates included (the largest public template: 70).
MAX_TASKS = 2000


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
    writer: str = "natural"                 # interpreter: the run-time interpreter style for every task


@dataclass
class Split:
    """A loop that runs as its own play over one in-memory host per item."""
    group: str
    task: dict
    label: str
    body: list
    on_success: str
    on_error: str


def display_name(text: str, limit: int) -> str:
    """A task or play name from template text: one line, capitalised, and inert by construction.

    No braces (shown as parentheses) and no leading ``#`` (a ``#jinja2:`` header), so Ansible has nothing to
    evaluate (the dumper checks it); names stay untagged, as ansible-lint matches its ``noqa`` comments to them.
    """
    text = " ".join(str(text).translate({ord("{"): "(", ord("}"): ")"}).split()).lstrip("# ")[:limit]
    return text[:1].upper() + text[1:]


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


class Converter:
    def __init__(self, template: dict, options: Options):
        self.template = template
        self.options = options
        self.problems: list = []
        self.counter = 0
        self.task_count = 0
        self.pseudo_used: set = set()
        self.store_refs: dict = {}
        # NoEcho/secret parameters of the template and of the templates it inlines: API keys that read one are
        # named to the module as secret_parameters.
        self.secret_names: set = template_secret_names(template)
        self.mermaid_edges: list = []
        self.delegated: list = []          # (label, action) of the tasks OOS runs (delegated product actions)
        self.digest = hashlib.sha1(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()[:6]
        self.inventory_bound = options.select_targets == "inventory" or (
            options.select_targets == "auto" and bool(options.hosts))

    # -- helpers ------------------------------------------------------------------------------
    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

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

    # -- compile a task list ------------------------------------------------------------------
    def compile_tasks(self, tasks: list, ctx: str, path: str, depth: int, allow_split: bool) -> list:
        names = {t["Name"].lower(): t["Name"] for t in tasks if isinstance(t.get("Name"), str)}
        order = {t["Name"]: position for position, t in enumerate(tasks)}
        items = []
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
                return items
            following = tasks[index + 1]["Name"] if index + 1 < len(tasks) else END
            self.check_jumps(task, label, names, order, index, following)
            on_success = self.resolve_target(task.get("OnSuccess"), names, following) or following
            if "OnError" in task:
                on_error = self.resolve_target(task["OnError"], names, following if following != END else NEXT_END)
                on_error = on_error or FAILED
            else:
                on_error = FAILED
            if depth == 0:
                self.mermaid_edges.append((name, task, on_success, on_error))
            items.extend(self.compile_task(task, ctx, label, on_success, on_error, names, following, depth, allow_split))
        return items

    def normalised_task(self, task: dict, names: dict, following: str) -> dict:
        """The task as its run time reads it (template data): Choice targets resolved to task names."""
        data = {k: v for k, v in task.items() if k != "Description"}
        if str(task.get("Action", "")).lower() == "acs::choice":
            props = copy.deepcopy(task.get("Properties") or {})
            for choice in props.get("Choices") or []:
                if isinstance(choice, dict):
                    # A choice without NextTask goes on with the next task, as OOS does.
                    choice["NextTask"] = self.resolve_target(choice.get("NextTask", "ACS::NEXT"), names, following)
            props["DefaultTask"] = self.resolve_target(props.get("DefaultTask", "ACS::NEXT"), names, following)
            data["Properties"] = props
        return mark(data)

    def compile_task(self, task, ctx, label, on_success, on_error, names, following, depth, allow_split) -> list:
        action = str(task.get("Action", ""))
        key = action.lower()
        description = loader.localized(task.get("Description"))
        title = f"OOS {task['Name']} ({action})" + (f": {description}" if description else "")
        title = display_name(title, 80)
        data = self.normalised_task(task, names, following)
        self.collect_store_refs(task)
        loop = task.get("Loop")
        step = Step(task=data, index_label=label, ctx=ctx, register=self.unique("oos_result"),
                    props_expr=f"(oos_task.Properties | default({{}}) | {F}oos_render({ctx}))")
        nested = key == "acs::template" or (key.count("::") == 2 and key not in actions.ECS_NATIVE)
        delegated = self.delegation_reason(key, task)
        if loop and ((nested and not allow_split) or delegated):
            if delegated:
                self.delegated.append((label, action))
            mapped = actions.map_delegated_loop(step)
        else:
            mapped = self.map_action(step, key, depth)
        if mapped is None:
            return []
        if loop and key in actions.TRIGGERS + ("acs::choice", "acs::sleep", "acs::approve", "acs::pause"):
            self.problem(label, task, f"unsupported Loop on {action}")
            return []
        guard = Code(f"{ctx}.next == {literal(task['Name'])}")
        block_vars = {"oos_task": data, "oos_next": on_success, "oos_on_error": on_error}
        when_extra = []
        if "When" in task and not delegation.when_reads_the_item(task):   # else OOS reads it (delegated)
            # Blocks pass their `when` down to every task inside; a nested template's tasks bind their own
            # oos_task, so the condition reads a variable of its own.
            when_var = self.unique("oos_when")
            block_vars[when_var] = mark(task["When"])
            when_extra.append(Code(f"{when_var} | {F}oos_condition({ctx})"))
        rescue = [{"name": f"OOS {task['Name']} | record the error",
                   "ansible.builtin.set_fact": {ctx: expr(f"{ctx} | {F}oos_task_failed(oos_task, ansible_failed_result, oos_on_error)")}}]

        if loop and not mapped.native_batch:
            if mapped.record and "oos_delegated_done" in mapped.record:
                body = list(mapped.tasks) + [{"name": f"OOS {task['Name']} | record the outputs",
                                              "ansible.builtin.set_fact": {ctx: expr(mapped.record)}}]
            elif mapped.loopable and len(mapped.tasks) == 1 and not (allow_split and self.needs_play(mapped)):
                body = self.sequential_loop(step, mapped)
            elif allow_split:
                return self.split_loop(task, data, step, title, guard, when_extra, block_vars, mapped, ctx,
                                       on_success, on_error, rescue)
            else:
                mapped = actions.map_delegated_loop(step)
                body = list(mapped.tasks) + [{"name": f"OOS {task['Name']} | record the outputs",
                                              "ansible.builtin.set_fact": {ctx: expr(mapped.record)}}]
        elif mapped.native_batch:
            body = list(mapped.tasks) + [{
                "name": f"OOS {task['Name']} | record the outputs of every item",
                "ansible.builtin.set_fact": {ctx: expr(f"{ctx} | {F}oos_batch_done(oos_task, {mapped.batch_documents}, oos_next)")}}]
        else:
            record = mapped.record or f"{ctx} | {F}oos_task_done(oos_task, {mapped.document}, oos_next)"
            body = list(mapped.tasks) + [{"name": f"OOS {task['Name']} | record the outputs",
                                          "ansible.builtin.set_fact": {ctx: expr(record)}}]
        unit = {"name": title, "when": [guard] + when_extra, "vars": block_vars, "block": body, "rescue": rescue}
        result = [unit]
        if when_extra:
            result.append({"name": f"OOS {task['Name']} | skipped: When is false",
                           "when": guard, "vars": {"oos_next": on_success},
                           "ansible.builtin.set_fact": {ctx: expr(f"{ctx} | {F}oos_skip(oos_next)")}})
        return result

    @staticmethod
    def needs_play(mapped: Mapped) -> bool:
        # Module calls gain real concurrency in a loop play; cheap local steps stay a plain loop.
        return any(k.startswith(F) for t in mapped.tasks for k in t)

    def sequential_loop(self, step: Step, mapped: Mapped) -> list:
        """One Ansible task looping over the items in order (Concurrency 1 is within any RateControl)."""
        looped = copy.deepcopy(mapped.tasks[0])
        item_ctx = f"({step.ctx} | {F}oos_with_item(oos_item))"
        self.replace_ctx(looped, step.props_expr, step.props_expr.replace(f"oos_render({step.ctx})", f"oos_render({item_ctx})"))
        looped["loop"] = expr(f"oos_task.Loop.Items | {F}oos_render({step.ctx})")
        looped["loop_control"] = {"loop_var": "oos_item"}
        looped["ignore_errors"] = True
        record = {"name": f"OOS {step.task['Name']} | record the outputs of every item",
                  "ansible.builtin.set_fact": {step.ctx: expr(
                      f"{step.ctx} | {F}oos_loop_documents_done(oos_task, {step.register}.results | "
                      f"{F}oos_item_documents('{mapped.document.split('.', 1)[-1]}'), oos_next)")}}
        return [looped, record]

    def replace_ctx(self, node, old: str, new: str):
        """Replace ``old`` by ``new`` in the converter's Jinja of ``node`` (template data is left alone)."""
        if isinstance(node, (TemplateMap, TemplateList)):
            return
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, Code):
                    node[key] = Code(value.replace(old, new))
                else:
                    self.replace_ctx(value, old, new)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, Code):
                    node[index] = Code(value.replace(old, new))
                else:
                    self.replace_ctx(value, old, new)

    def split_loop(self, task, data, step, title, guard, when_extra, block_vars, mapped, ctx, on_success, on_error, rescue):
        # Distinct templates never share a group, even when one ansible-playbook run imports several.
        group = f"oos_loop_{self.digest}_" + re.sub(r"[^A-Za-z0-9_]", "_", task["Name"]) + f"_{self.counter}"
        prepare = {
            "name": title + " [loop: add one host per item]", "when": [guard] + when_extra, "vars": block_vars,
            "block": [
                {"name": f"OOS {task['Name']} | evaluate the items and the rate control",
                 "ansible.builtin.set_fact": {"oos_loop": expr(f"oos_task | {F}oos_loop_start({ctx})")}},
                {"name": f"OOS {task['Name']} | add one in-memory host per item",
                 "ansible.builtin.add_host": {"name": expr(f"'{group}_' ~ oos_index"), "groups": group,
                                              "ansible_connection": "local",
                                              "ansible_python_interpreter": expr("ansible_playbook_python"),
                                              "oos_loop_index": expr("oos_index"),
                                              "oos_loop_execution": expr(f"{ctx}.pseudo['acs::executionid']")},
                 "loop": expr("range(oos_loop['items'] | length) | list"),
                 "loop_control": {"loop_var": "oos_index"}},
            ],
            "rescue": rescue,
        }
        record = f"oos | {F}oos_iteration_outputs(oos_task, {mapped.document})"
        iteration = {
            "name": title + " [one item]", "vars": {"oos_task": block_vars["oos_task"]},
            "block": [{"name": f"OOS {task['Name']} | context of this item",
                       "ansible.builtin.set_fact": {"oos": expr(f"hostvars['localhost']['oos'] | {F}oos_with_item("
                                                                f"hostvars['localhost']['oos_loop']['items'][oos_loop_index])")}}]
            + list(mapped.tasks)
            + [{"name": f"OOS {task['Name']} | record the outputs of this item",
                "ansible.builtin.set_fact": {"oos_iteration": expr(record)}}],
            "rescue": [{"name": f"OOS {task['Name']} | record the error of this item",
                        "ansible.builtin.set_fact": {"oos_iteration": expr(f"{{'error': ansible_failed_result | {F}oos_error_message}}")}}],
        }
        split = Split(group=group, task=data, label=title, body=[iteration], on_success=on_success, on_error=on_error)
        collect = {
            "name": f"OOS {task['Name']} | collect the loop results", "when": guard, "vars": block_vars,
            "block": [{"name": f"OOS {task['Name']} | aggregate the outputs and check MaxErrors",
                       "ansible.builtin.set_fact": {"oos": expr(
                           f"oos | {F}oos_loop_done(oos_task, groups['{group}'] | default([]) "
                           f"| {F}oos_loop_iterations(hostvars, oos.pseudo['acs::executionid']), oos_next)")}}],
            "rescue": rescue,
        }
        return [prepare, split, collect]

    # -- actions ------------------------------------------------------------------------------
    def map_action(self, step: Step, key: str, depth: int) -> Mapped | None:
        task = step.task
        if key in actions.ECS_NATIVE:
            unknown = actions.unknown_properties(key, task.get("Properties") or {})
            if unknown:
                self.problem(step.index_label, task, f"{task['Action']} has no propert"
                             f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(str, unknown))} (it takes: "
                             f"{', '.join(actions.NATIVE_PROPERTIES[key] + tuple(actions.DELEGATED_UNLESS_DEFAULT.get(key, {})))})")
                return None
        if key == "acs::template" and not self.valid_template_name(step):
            return None
        if self.delegation_reason(key, task):
            # OOS runs this one task, exactly as it runs it (named in the playbook's header).
            name = (task.get("Properties") or {}).get("TemplateName") if key == "acs::template" else None
            self.delegated.append((step.index_label, f"ACS::Template {name}" if isinstance(name, str) and "{{" not in name
                                   else task["Action"]))
            return actions.map_delegated_task(step)
        if key == "acs::selecttargets":
            resource = str((task.get("Properties") or {}).get("ResourceType", "ALIYUN::ECS::Instance"))
            computed = "{{" in resource
            # Only static ECS targets can be bound to inventory hosts; other types are listed through their API.
            inventory = self.inventory_bound and not computed and resource.lower() == "aliyun::ecs::instance"
            return actions.map_select_targets(step, inventory)
        if key in API_ACTIONS:
            # A product the client layer cannot resolve fails here, not as a playbook that fails later.
            unresolvable = unresolvable_service((task.get("Properties") or {}).get("Service"))
            if unresolvable:
                self.problem(step.index_label, task, unresolvable)
                return None
        if key in actions.BUILTIN:
            mapped = actions.BUILTIN[key](step)
            if key in API_ACTIONS:
                self.mask_secret_keys(mapped, task)
            return mapped
        if key in actions.ECS_NATIVE:
            local = action_index(self.options.action_templates_path).get(key)
            if actions.unmapped_properties(key, task.get("Properties") or {}) and local:
                return self.map_nested(step, depth, local)   # the definition takes every property
            return actions.ECS_NATIVE[key](step)
        if key == "acs::template":
            return self.map_nested(step, depth, None)
        if key in product_actions.DEFINITIONS:
            return self.map_nested(step, depth, None, builtin=key)
        if key.startswith("acs::") and key.count("::") == 2:
            return self.map_nested(step, depth, action_index(self.options.action_templates_path)[key])
        self.problem(step.index_label, task, f"unsupported action {task['Action']}")
        return None

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

    def valid_template_name(self, step: Step) -> bool:
        """A static TemplateName becomes a file name: never a path out of template_paths."""
        props = step.task.get("Properties") if isinstance(step.task.get("Properties"), dict) else {}
        name = props.get("TemplateName")
        if "TemplateContent" in props or not isinstance(name, str) or "{{" in name or _TEMPLATE_NAME.match(name):
            return True
        self.problem(step.index_label, step.task, f"TemplateName {name!r} is not a template name (letters, digits, "
                     "_, - and ::)")
        return False

    def find_named_template(self, name: str) -> str | None:
        for folder in self.options.template_paths or []:
            for ext in (".yml", ".yaml", ".json"):
                candidate = os.path.join(folder, name + ext)
                if os.path.isfile(candidate):
                    return candidate
        return action_index(self.options.action_templates_path).get(name.lower())

    def map_nested(self, step: Step, depth: int, path: str | None, builtin: str | None = None) -> Mapped | None:
        task = step.task
        props = task.get("Properties") or {}
        if depth >= MAX_NESTING:
            self.problem(step.index_label, task, "unsupported nesting deeper than 6 templates")
            return None
        try:
            if path is not None or builtin is not None:
                child = load_child(path) if path is not None else builtin_definition(builtin)
                unknown = [k for k in props if k not in (child.get("Parameters") or {})]
                if unknown:
                    # Refused here, not half-way through the run: nothing the template says is dropped.
                    self.problem(step.index_label, task, f"{task['Action']} has no propert"
                                 f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(str, unknown))} (it takes: "
                                 f"{', '.join(child.get('Parameters') or {})})")
                    return None
                parameters_expr = step.props_expr
            elif "TemplateContent" in props:
                content = props["TemplateContent"]
                child = loader.load(content=content if isinstance(content, (str, dict)) else str(content))
                parameters_expr = f"(oos_task.Properties.Parameters | default({{}}) | {F}oos_render({step.ctx}) | {F}oos_json_value)"
            else:
                name = props.get("TemplateName")
                if not isinstance(name, str):
                    self.problem(step.index_label, task, "ACS::Template needs TemplateName or TemplateContent")
                    return None
                found = self.find_named_template(name)
                child = load_child(found)
                parameters_expr = f"(oos_task.Properties.Parameters | default({{}}) | {F}oos_render({step.ctx}) | {F}oos_json_value)"
        except ConversionError as error:
            self.problem(step.index_label, task, f"unsupported nested template ({error})")
            return None
        self.scan_pseudo(child)
        self.secret_names |= template_secret_names(child)
        child_ctx = self.unique("oos_child")
        path_label = f"{step.index_label}({task['Action']})."
        units = self.compile_tasks(child["Tasks"], child_ctx, path_label, depth + 1, allow_split=False)
        if any(isinstance(u, Split) for u in units):
            return None
        first = child["Tasks"][0]["Name"] if child["Tasks"] else END
        enter = {"name": f"OOS {task['Name']} | start the nested template",
                 "vars": {"oos_child_parameters": mark(parameters.runtime_specs(child.get("Parameters")))},
                 "ansible.builtin.set_fact": {child_ctx: expr(
                     f"oos_child_parameters | {F}oos_child_start({parameters_expr}, {step.ctx}, {literal(first)})")}}
        finish = {"name": f"OOS {task['Name']} | evaluate the nested template outputs",
                  "vars": {"oos_outputs_spec": mark(child.get("Outputs") or {})},
                  "ansible.builtin.set_fact": {child_ctx: expr(f"{child_ctx} | {F}oos_finish(oos_outputs_spec)")}}
        check = {"name": f"OOS {task['Name']} | fail when the nested template failed",
                 "ansible.builtin.fail": {"msg": expr(f"{child_ctx} | {F}oos_error_text")},
                 "when": Code(f"{child_ctx}.status in ['Failed', 'Cancelled']")}
        return Mapped([enter] + units + [finish, check], document=f"{child_ctx}.outputs", loopable=False)

    def scan_pseudo(self, template: dict):
        """Note the pseudo-parameters a run must be given that ``template`` (or a nested one) refers to."""
        for name in _PSEUDO_REF.findall(repr(template)):
            if name.lower() in runtime.PSEUDO_SOURCES:
                self.pseudo_used.add(name.lower())

    def mask_secret_keys(self, mapped: Mapped, task: dict):
        props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
        keys = parameters.secret_keys(props.get("Parameters"), self.secret_names)
        for call in mapped.tasks:
            if keys and isinstance(call.get(F + "oos_execute_api"), dict):
                call[F + "oos_execute_api"]["secret_parameters"] = keys

    def collect_store_refs(self, task: dict):
        text = repr(task)
        if "oos" not in text.lower():
            return
        for kind, name in _STORE_REF.findall(text):
            self.store_refs[name] = kind.lower() == "oos-secret"


def find_store_refs(template: dict) -> dict:
    refs = {}
    for kind, name in _STORE_REF.findall(repr(template)):
        refs[name] = kind.lower() == "oos-secret"
    return refs


# ------------------------------------------------------------------------------------------------
# plays

@dataclass
class Conversion:
    plays: list
    template: dict
    edges: list
    notes: list
    delegated: list = field(default_factory=list)
    natural: bool = False    # written by :mod:`natural` (plain Ansible), not the run-time interpreter


def _play(name: str, hosts: str, tasks: list, extra: dict | None = None) -> dict:
    play = {"name": name, "hosts": hosts, "connection": "local", "gather_facts": False}
    play.update(extra or {})
    play["tasks"] = tasks
    return play


def start_tasks(template: dict, first: str, store_refs: dict, pseudo_used: list) -> list:
    values = []
    for name in template.get("Parameters") or {}:
        key = literal(name)
        # 'in' first: Jinja's subscript falls back to attributes, so a missing 'items' would be dict.items.
        values.append(f"{key}: {variable_for(name)} | default(oos_file_parameters[{key}] if {key} in oos_file_parameters "
                      f"else (oos_parameter_overrides[{key}] if {key} in oos_parameter_overrides else none))")
    # Pseudo-parameters OOS knows and the controller does not: given by the user (-e oos_execute_user=...).
    pseudo = [f"{literal(name)}: {variable} | default(none)" for name, (variable, _env, _what) in runtime.PSEUDO_SOURCES.items()]
    # One mapping each, not a variable per name: ansible-core before 2.19 turns a value that is None on its
    # own into '' (a parameter not given would read as given empty), but keeps None inside a mapping.
    tasks = [
        {"name": "Start the OOS execution: parameters, defaults and pseudo-parameters",
         "vars": {"oos_parameter_values": expr("{" + ", ".join(values) + "}"),
                  "oos_pseudo_values": expr("{" + ", ".join(pseudo) + "}"),
                  "oos_file_parameters": actions.data_file("oos_parameters_file", names="oos_parameters")},
         "ansible.builtin.set_fact": {"oos": expr(
             f"oos_parameters | {F}oos_start(oos_parameter_values, {literal(first)}, "
             f"oos_pseudo_parameters | default({{}}) | combine(oos_pseudo_values), {sorted(pseudo_used)!r})")}},
        {"name": "Check the template parameters",
         "ansible.builtin.assert": {"that": [Code("oos.problems | length == 0")],
                                    "fail_msg": expr("oos.problems | join('; ')"), "quiet": True}},
    ]
    for name, secret in sorted(store_refs.items()):
        api = "GetSecretParameter" if secret else "GetParameter"
        request = {"Name": TemplateText(name)}
        if secret:
            request["WithDecryption"] = True
        fetch = {"name": display_name(f"Read the parameter store value {name}", 120),
                 F + "oos_execute_api": {"service": "OOS", "api": api, "parameters": request},
                 "register": "oos_store_value"}
        if secret:
            fetch["no_log"] = True
        tasks.append(fetch)
        keep = {"name": display_name(f"Keep the parameter store value {name}", 120),
                "ansible.builtin.set_fact": {"oos": expr(f"oos | {F}oos_store_value({literal(name)}, oos_store_value.response)")}}
        if secret:
            keep["no_log"] = True
        tasks.append(keep)
    return tasks


def finish_tasks(template: dict, store_refs: dict) -> list:
    # The outputs and the final error are printed and published (set_stats, AWX artifacts): secret values in them
    # are masked, and an output computed from a secret (Fn::Base64Encode of it ...) is masked whole.
    secrets = sorted(template_secret_names(template))
    store = sorted(name for name, secret in store_refs.items() if secret)
    derived = parameters.secret_outputs(template, secrets)
    masked = f", {secrets!r}, {store!r}, {derived!r}" if secrets or store else ""
    return [
        {"name": "Evaluate the template outputs",
         "vars": {"oos_outputs_spec": mark(template.get("Outputs") or {})},
         "ansible.builtin.set_fact": {"oos": expr(f"oos | {F}oos_finish(oos_outputs_spec{masked})")}},
        {"name": "Publish the execution status and outputs",
         "ansible.builtin.set_stats": {"data": {"oos_execution_status": expr("oos.status"),
                                                "oos_outputs": expr("oos.outputs")}}},
        {"name": "Show the template outputs",
         "ansible.builtin.debug": {"msg": expr("{'status': oos.status, 'outputs': oos.outputs}")}},
        {"name": "End as OOS would: Failed or Cancelled executions fail the run",
         "ansible.builtin.fail": {"msg": expr(f"oos | {F}oos_error_text" + (f"({secrets!r}, {store!r})" if masked else ""))},
         "when": Code("oos.status in ['Failed', 'Cancelled']")},
    ]


def inventory_play(hosts: str, instance_id_var: str) -> dict:
    return {
        "name": "Bind the OOS targets to the inventory hosts",
        "hosts": hosts,
        "gather_facts": False,
        "tasks": [{
            "name": "Collect the instance ids of the play hosts",
            "ansible.builtin.set_fact": {"oos_inventory_targets": expr(
                f"ansible_play_hosts_all | {F}oos_inventory_instances(hostvars, {literal(instance_id_var)})")},
            "delegate_to": "localhost",
            "delegate_facts": True,
            "run_once": True,
        }],
    }


def loop_play(split: Split) -> dict:
    # hostvars is undefined while the play is only syntax-checked; oos_loop is, when the loop task did not run
    # (skipped, jumped over, or the execution failed before it).
    serial = expr("(hostvars['localhost']['oos_loop'] | default({'serial': 1}))['serial'] if hostvars is defined else 1")
    stop = {
        "name": f"OOS {split.task['Name']} | stop launching items once MaxErrors is exceeded",
        "ansible.builtin.meta": "end_play",
        "run_once": True,
        "when": Code(f"(ansible_play_hosts_all | {F}oos_loop_iterations(hostvars, hostvars['localhost']['oos']['pseudo']"
                     f"['acs::executionid']) | select('mapping') | selectattr('error', 'defined') | list | length) "
                     f"> hostvars['localhost']['oos_loop']['max_errors']"),
    }
    # Hosts left by an earlier execution of the same template in this ansible-playbook run sit this one out.
    stale = {"name": f"OOS {split.task['Name']} | skip items of another execution",
             "ansible.builtin.meta": "end_host",
             "when": Code("oos_loop_execution != hostvars['localhost']['oos']['pseudo']['acs::executionid']")}
    return {"name": split.label + " [loop]", "hosts": split.group, "gather_facts": False, "serial": serial,
            "tasks": [stale] + split.body + [stop]}


def has_secrets(template: dict, store_refs: dict) -> bool:
    """NoEcho or secret parameters, or {{ oos-secret:... }} values: the run's context holds secrets."""
    return bool(template_secret_names(template)) or any(store_refs.values())


def hide_context_facts(node) -> None:
    """``no_log`` on every task that sets an execution context (``oos``, ``oos_child_N``, ``oos_iteration``): at
    ``-v`` Ansible prints a set_fact's value, and the context holds the parameters and Parameter Store values."""
    if isinstance(node, list):
        for item in node:
            hide_context_facts(item)
    elif isinstance(node, dict):
        facts = node.get("ansible.builtin.set_fact")
        if isinstance(facts, dict) and any(str(key).startswith("oos") for key in facts):
            node["no_log"] = True
        for key in ("tasks", "block", "rescue", "always"):
            if key in node:
                hide_context_facts(node[key])


# The tasks that show the run's end: they print only masked values (finish_tasks), so they stay visible.
_SHOWN_WITH_SECRETS = ("Check the template parameters", "Publish the execution status and outputs",
                       "Show the template outputs", "End as OOS would: Failed or Cancelled executions fail the run")


def hide_secret_tasks(node, secret_values: Code) -> None:
    """``no_log`` on every task of a run whose template has secrets but those that print only masked values: module
    arguments, results and errors (a command's output, a webhook URL, a WaitFor's value) may carry a secret, whole
    or transformed, and Ansible prints them at -v, some at any verbosity. The run's error and Outputs are still
    shown, with the secrets masked. ansible-core 2.19 prints a failed task's message even under no_log: the
    collection's modules are given the secret values to mask in it (``secret_values``)."""
    if isinstance(node, list):
        for item in node:
            hide_secret_tasks(item, secret_values)
    elif isinstance(node, dict):
        nested = [key for key in ("tasks", "block", "rescue", "always") if key in node]
        for key in nested:
            hide_secret_tasks(node[key], secret_values)
        if not nested and "hosts" not in node and node.get("name") not in _SHOWN_WITH_SECRETS:
            node["no_log"] = True
            give_secret_values(node, secret_values)


def give_secret_values(task: dict, secret_values: Code) -> None:
    """``secret_values`` on the collection module a task calls (both writers)."""
    for key, arguments in task.items():
        if key.startswith(F) and isinstance(arguments, dict):
            arguments["secret_values"] = secret_values


def secret_values_expression(parameter_names, store_names) -> Code:
    """The values of the secret parameters and Parameter Store secrets of the run (its context ``oos`` on localhost,
    which the plays over loop items read too)."""
    context = "(hostvars['localhost'].oos | default({}))"
    parts = [f"({context}.{field} | default({{}})) | dict2items | selectattr('key', 'in', "
             f"[{', '.join(literal(name) for name in sorted(names))}]) | "
             "map(attribute='value') | list" for field, names in (("parameters", parameter_names), ("store", store_names))
             if names]
    return expr("(" + " + ".join(parts) + ") | alicloud.oos.oos_secret_texts")


def build(template: dict, options: Options) -> Conversion:
    converter = Converter(template, options)
    items = converter.compile_tasks(template["Tasks"], "oos", "", 0, allow_split=True)
    if converter.problems:
        raise ConversionError(converter.problems)
    store_refs = dict(converter.store_refs)
    store_refs.update(find_store_refs(template.get("Parameters") or {}))
    store_refs.update(find_store_refs(template.get("Outputs") or {}))
    description = loader.localized(template.get("Description")) or "OOS template"
    title = display_name(options.name or description, 80)
    notes = [f"Trigger {t['Name']}: {t['Action']}" for t in template["Tasks"]
             if str(t.get("Action", "")).lower() in actions.TRIGGERS]
    # Plain Ansible where the natural writer covers the whole template (it hands the same tasks to OOS, and hides
    # secret values as the interpreter does).
    secrets = has_secrets(template, store_refs)
    written = None
    if options.writer == "natural":
        try:
            written = natural.build(template, options, converter.delegation_reason)
        except natural.Unsupported:
            written = None
    if written is not None:
        delegated = list(converter.delegated) + [
            (f"Tasks[{index}]", f"{task['Action']}; not written as Ansible: {written.handed_over[str(task['Name'])]}")
            for index, task in enumerate(template["Tasks"]) if str(task["Name"]) in written.handed_over]
        return Conversion(plays=written.plays, template=template, edges=converter.mermaid_edges, notes=notes,
                          delegated=delegated, natural=True)
    plays = []
    if converter.inventory_bound and options.hosts and any(
            str(t.get("Action", "")).lower() == "acs::selecttargets" for t in template["Tasks"]):
        # The inventory pattern is the operator's own Ansible, not template text.
        plays.append(inventory_play(Code(options.hosts), options.instance_id_var))
    first_vars = {"oos_parameters": mark(parameters.runtime_specs(template.get("Parameters"))),
                  "oos_parameter_overrides": mark(dict(options.parameters or {}))}
    if options.template_name:
        first_vars["oos_template_name"] = mark(options.template_name)
    if template.get("RamRole") not in (None, ""):
        first_vars["oos_ram_role"] = mark(template["RamRole"])   # for the tasks delegated to OOS
    converter.scan_pseudo(template)
    current = start_tasks(template, template["Tasks"][0]["Name"], store_refs, converter.pseudo_used)
    current_name, current_vars = title, first_vars
    for item in items:
        if isinstance(item, Split):
            plays.append(_play(current_name, "localhost", current, {"vars": current_vars} if current_vars else None))
            plays.append(loop_play(item))
            current, current_name, current_vars = [], f"{title} (after {item.task['Name']})", None
        else:
            current.append(item)
    current.extend(finish_tasks(template, store_refs))
    plays.append(_play(current_name, "localhost", current, {"vars": current_vars} if current_vars else None))
    if secrets:
        hide_context_facts(plays)
        hide_secret_tasks(plays, secret_values_expression(template_secret_names(template),
                                                          [name for name, secret in store_refs.items() if secret]))
    plays = [hoist_template_data(play) for play in plays]
    return Conversion(plays=plays, template=template, edges=converter.mermaid_edges, notes=notes,
                      delegated=converter.delegated)


def hoist_template_data(play: dict) -> dict:
    """The play with each task variable that holds template text with Jinja markers moved to the play variable
    ``oos_template_data`` (the task reads it from there). ansible-lint's jinja rule parses such text in a task,
    !unsafe or not, but not in play variables; Ansible reads the same value either way."""
    data: dict = {}

    def rebuilt(tasks: list) -> list:
        # New task mappings: plays share task and vars objects (a loop's tasks before and after its own play).
        written = []
        for task in tasks:
            task = dict(task)
            for key in ("block", "rescue", "always"):
                if key in task:
                    task[key] = rebuilt(task[key])
            if isinstance(task.get("vars"), dict):
                task["vars"] = dict(task["vars"])
                for name, value in task["vars"].items():
                    if _holds_template_jinja(value):
                        key = f"{name}_{len(data) + 1}"
                        data[key] = value
                        task["vars"][name] = expr(f"oos_template_data.{key}")
            written.append(task)
        return written

    tasks = rebuilt(play.get("tasks") or [])
    if not data:
        return play
    hoisted = {k: v for k, v in play.items() if k != "tasks"}
    hoisted["vars"] = dict(play.get("vars") or {}, oos_template_data=data)
    hoisted["tasks"] = tasks
    return hoisted


def _holds_template_jinja(value) -> bool:
    if isinstance(value, TemplateText):
        return possibly_template(value)
    if isinstance(value, dict):
        return any(_holds_template_jinja(k) or _holds_template_jinja(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_template_jinja(item) for item in value)
    return False
