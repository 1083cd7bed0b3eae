"""Nested templates in the natural writer (issue #14): an ``ACS::Template`` (TemplateContent, or a TemplateName found
in ``template_paths``) or a cloud product action the converter inlines (its own definitions in
:mod:`product_actions`, or ``action_templates_path``), called without a Loop, written as plain Ansible.

The call is one ``block`` named after the calling task:

* ``vars:`` the child's Parameters, each under a name of its own (``<calling task>_<parameter>``: a block var that
  reads a parent variable of the same name would be a recursive template in Ansible), holding the value the
  calling task passes (Jinja over the parent's variables) or the child's Default;
* first the child's parameter check (as OOS validates a child execution's parameters), then the child's tasks,
  written by :mod:`natural` with a child :class:`ChildScope` (its facts, registers and branch facts prefixed, so
  they never meet the parent's or another child's), then the calling task's Outputs, selected from the child's;
* a ``rescue`` that fails the calling task with the message OOS gives for a failed child execution, so the parent's
  OnError (or the end of the run) names the calling task, as OOS does.

A looped call among the template's own tasks is a play of one host per item (:mod:`natural_loop_play`, which writes
each item's block with :func:`child_call`); a looped call inside a nested template is run by OOS (delegated). A nested
construct :mod:`natural` does not write, or nesting deeper than OOS allows, raises :class:`natural.Unsupported`: OOS
runs the calling task.
"""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import actions, loader, natural, product_actions
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, display_name, expr, inner

F = actions.F


def is_nested(task: dict, options) -> bool:
    """Whether the converter inlines ``task`` as a nested template (``generator.TemplateCheck.check_task`` walks the
    same ones; the tasks OOS runs, delegated, are decided before)."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import action_index
    key = str(task.get("Action", "")).lower()
    if key in actions.ECS_NATIVE:
        # A property the native module does not take: the action's definition takes every property.
        return bool(actions.unmapped_properties(key, task.get("Properties") or {})
                    and action_index(getattr(options, "action_templates_path", None)).get(key))
    return key == "acs::template" or key in product_actions.DEFINITIONS or (key.startswith("acs::") and key.count("::") == 2)


def check_call(task: dict, nested: bool = False) -> None:
    """The calling task itself (its child is checked when it is written). A Loop is a play of its own
    (:mod:`natural_loop_play`): only where the template's own tasks run, on localhost."""
    if task.get("Loop"):
        if nested:
            raise natural.Unsupported(f"a looped nested template inside a nested template ({task['Action']} with a Loop)")
        from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_loop_play
        natural_loop_play.check(task)
        return
    extra = set(task) - natural.TASK_KEYS
    if extra:
        raise natural.Unsupported(f"task keys {', '.join(sorted(extra))}")


class ChildScope(natural.Scope):
    """What a reference names inside a nested template: its own parameters (block vars named after the call), its
    own tasks; the run's pseudo-parameters, texts and the names taken are the parent's (one playbook)."""

    def __init__(self, child: dict, parent: natural.Scope, prefix: str, given_secret: set):
        super().__init__(child)
        self.prefix, self.parent = prefix, parent
        self.root = getattr(parent, "root", parent)
        self.depth = getattr(parent, "depth", 0) + 1
        self.options = parent.options
        # One playbook: names taken, pseudo-parameters used and template texts are shared.
        self.facts, self.pseudo_used, self.texts = parent.facts, parent.pseudo_used, parent.texts
        self.delegated_templates = parent.delegated_templates
        specs = dict(child.get("Parameters") or {})
        for name in given_secret:   # a parameter given a secret value is secret in the child
            specs[name] = dict(specs[name] or {}, NoEcho=True)
        # Delegated tasks run as the template's RamRole, with the child's secrets.
        self.template = dict(child, Parameters=specs, RamRole=self.root.template.get("RamRole") or "")
        for name in child.get("Parameters") or {}:
            variable = natural.Scope.invent(self, f"{prefix}_{natural.fact_name(self.aliases[str(name)])}")
            self.aliases[str(name)] = variable
            self.parameters[str(name).lower()] = (variable, self.parameters[str(name).lower()][1])
        from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.delegation import secret_sources
        self.secrets = {self.parameters[name][0] for name in secret_sources(specs)}
        self.root.secrets |= self.secrets   # no_log from the root: every task that reads them, at any depth
        self.root.masked_values += sorted(self.secrets - set(self.root.masked_values))

    def invent(self, name: str) -> str:
        # One prefix: a register named after a fact invented here (snapshot_disk_create_snapshot_result) has it.
        return super().invent(name if name.startswith(self.prefix + "_") else f"{self.prefix}_{name}")


def _load_child(task: dict, scope: natural.Scope) -> tuple:
    """(the child template, the parameters the calling task gives it)."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import generator
    key = str(task["Action"]).lower()
    props = task.get("Properties") if isinstance(task.get("Properties"), dict) else {}
    try:
        if key == "acs::template":
            given = props.get("Parameters") or {}
            if "TemplateContent" in props:
                content = props["TemplateContent"]
                return loader.load(content=content if isinstance(content, (str, dict)) else str(content)), given
            name = props.get("TemplateName")
            found = (_converter(scope).find_named_template(name) if isinstance(name, str)
                     and generator._TEMPLATE_NAME.match(name) else None)
            if not found:
                raise natural.Unsupported(f"ACS::Template without TemplateContent or a TemplateName found ({task['Name']})")
            return generator.load_child(found), given
        if key in product_actions.DEFINITIONS:
            return generator.builtin_definition(key), props
        return generator.load_child(generator.action_index(scope.options.action_templates_path)[key]), props
    except ConversionError as error:
        raise natural.Unsupported(f"the nested template of {task['Name']} ({error})") from None


def _converter(scope):
    root = getattr(scope, "root", scope)
    if getattr(root, "converter", None) is None:
        from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import TemplateCheck
        root.converter = TemplateCheck(root.template, root.options)
    return root.converter


def root_masked(scope: natural.Scope) -> list:
    return getattr(scope, "root", scope).masked_values


def _argument(data, spec, scope: natural.Scope) -> tuple:
    """(a value the calling task gives a child parameter as a block var: Jinja over the parent's variables, the
    Jinja expression of the value as given when it is one reference or function, else None)."""
    kind = (spec or {}).get("Type", "String") if isinstance(spec, dict) else "String"
    if not natural.has_code(data):
        return natural.inert(data), None
    whole = isinstance(data, dict) or natural.runtime.WHOLE_REFERENCE.match(str(data).strip())
    if whole:
        text, found = natural.expression(data, scope)
        if kind == "String" and found != "String":
            # OOS gives a String parameter text: JSON for a list or a mapping, true/false for a Boolean.
            return natural.whole_string(natural._as_text(text, found), "String"), text
        return natural.whole_string(text, found), text
    return natural.value(data, scope), None


def nested_units(task: dict, scope: natural.Scope) -> list:
    """The Ansible tasks of a call to a nested template (one block, see the module's docstring)."""
    check_call(task)
    unit, arguments, _given = child_call(task, scope)
    if arguments:   # name, when, vars, block, rescue: the order ansible-lint asks for
        unit = {k: unit[k] for k in ("name", "when") if k in unit} | {"vars": arguments} | {
            k: v for k, v in unit.items() if k not in ("name", "when")}
    return [unit]


def child_call(task: dict, scope: natural.Scope, looped: bool = False) -> tuple:
    """(the block of a call to the nested template of ``task`` without its vars, the values it gives the child's
    parameters {variable: Jinja over the parent's variables}, the values as given {parameter: Jinja} that the child's
    parameter check reads).

    ``looped``: the block of one item of a Loop (:mod:`natural_loop_play`): the values are evaluated per item
    (``item``) on localhost and become the item host's variables, the check reads those given from ``oos_loop_given``,
    and the block records the item's result in ``oos_iteration`` (``{'outputs': ...}`` or ``{'error': ...}``)
    instead of setting the calling task's fact or failing."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import MAX_NESTING
    if getattr(scope, "depth", 0) + 1 > MAX_NESTING:
        raise natural.Unsupported(f"nesting deeper than {MAX_NESTING} templates")
    child, given = _load_child(task, scope)
    specs = child.get("Parameters") or {}
    if not isinstance(given, dict) or any(natural.has_code(k) for k in given):
        raise natural.Unsupported("nested template Parameters that are not a written mapping")
    unknown = [str(k) for k in given if k not in specs]
    if unknown:
        raise natural.Unsupported(f"{task['Action']} given parameters its template does not declare: {', '.join(unknown)}")
    tainted = set(scope.secrets) | set(getattr(scope, "root", scope).secrets)
    if looped:
        if natural._jinja_names(Code(natural.expression(task["Loop"]["Items"], scope)[0])) & tainted:
            tainted.add("item")    # the items are secret values: so is every value given from one
        scope.loop_item = "item"   # the values of each item are evaluated on localhost, in the loop adding its host
    secret = {name for name in given if natural._jinja_names(_argument(given[name], specs[name], scope)[0]) & tainted}

    fact = scope.add_task(task) if task.get("Outputs") and not looped else None
    title = natural.task_title(task)
    calling = title.split(" | ", maxsplit=1)[0]
    # The calling task's name alone (invent keeps names apart): short names, short lines deep in blocks.
    prefix = natural.fact_name(task["Name"])
    child_scope = ChildScope(child, scope, prefix, secret)
    # A looped call in a child has no play of its own (the child runs in a block): OOS runs that loop.
    inner_loops = frozenset(str(t["Name"]).lower() for t in child["Tasks"] if t.get("Loop") and is_nested(t, scope.options))
    child_scope.delegated = natural.delegated_tasks(child, scope.options, _converter(scope).delegation_reason) | inner_loops
    natural.check_tasks(child["Tasks"], child_scope.delegated, scope.options, nested=True)
    arguments, checked, sources = {}, dict(child_scope.aliases), {}
    for name, spec in specs.items():
        variable = child_scope.aliases[str(name)]
        if name in given and given[name] != "":
            arguments[variable], source = _argument(given[name], spec, scope)
            if source and variable in child_scope.secrets and source not in root_masked(scope):
                root_masked(scope).append(source)   # a secret inside the child: masked where the run prints it
            if source:   # checked as given: a value that is none (an output nothing selected) is missing, as in OOS
                sources[str(name)] = source
                checked[str(name)] = f"oos_loop_given[{scope.quote(str(name))}]" if looped else f"({source})"
        elif isinstance(spec, dict) and "Default" in spec:
            arguments[variable] = natural.value(spec["Default"], child_scope)
            default = spec["Default"]
            if variable in child_scope.secrets and isinstance(default, str) and default and not natural.has_code(default):
                # A secret Default, masked where the run prints it (outside the child's block its variable is none).
                if scope.quote(default) not in root_masked(scope):
                    root_masked(scope).append(scope.quote(default))
        # else: no value; the check names the parameter required
    scope.loop_item = "oos_loop_item" if looped else None   # the item host's own item, for the task's Outputs

    # The check: as check_task for a template, without the pseudo-parameters (the run's check has them).
    (pseudo, child_scope.pseudo_used), (aliases, child_scope.aliases) = (child_scope.pseudo_used, set()), (child_scope.aliases, checked)
    check = natural.check_task(child_scope.template, child_scope)
    child_scope.pseudo_used, child_scope.aliases = pseudo, aliases
    check["name"] = display_name(f"{calling} | check the parameters of {task['Action']}", 120)
    body = [check] + natural.flow_tasks(child, child_scope)
    own = [check["name"]]
    if fact or looped:
        document_var = child_scope.invent("outputs")
        document = ", ".join(f"{child_scope.quote(name)}: "
                             f"{natural.typed((spec or {}).get('Value'), (spec or {}).get('Type', 'String'), child_scope)}"
                             for name, spec in (child.get("Outputs") or {}).items())
        record = natural.outputs_task(task, scope, document_var, fact or "oos_iteration", title)
        if looped:   # the item's result: its task Outputs, which the Loop.Outputs aggregate
            record["ansible.builtin.set_fact"] = {"oos_iteration": expr(
                "{'outputs': " + inner(record["ansible.builtin.set_fact"]["oos_iteration"]) + "}")}
        record["vars"] = {document_var: expr("{" + document + "}")}
        body.append(record)
        own.append(record["name"])
    scope.loop_item = None
    unit = {"name": display_name(f"{title} | {task['Action']}", 120)}
    if "When" in task and not looped:
        unit["when"] = [Code(natural.condition(task["When"], scope))]
    unit["block"] = body
    failed = failed_child(child, child_scope, calling, own)
    if looped:   # a failed item is recorded: the Loop's MaxErrors decides
        failed = {"name": display_name(f"{calling} | this item failed", 120), "ansible.builtin.set_fact": {
            "oos_iteration": expr("{'error': " + inner(failed["ansible.builtin.fail"]["msg"]) + "}")}}
    unit["rescue"] = [failed]
    return unit, arguments, sources


def failed_child(child: dict, scope: ChildScope, calling: str, own: list) -> dict:
    """Fail the calling task as OOS fails a task whose child execution failed: ``OOS execution Failed: task <child
    task> failed: <error>`` (the parameter check and the calling task's Outputs fail the calling task itself)."""
    renamed = {display_name(t["Name"], 120): t["Name"] for t in child["Tasks"] if display_name(t["Name"], 120) != t["Name"]}
    return {"name": display_name(f"{calling} | the nested template failed", 120),
            "ansible.builtin.fail": {"msg": expr(scope.masked(natural.failure_message(renamed, scope, own)))}}
