"""A looped nested template in the natural writer (issue #14): a ``serial`` play of one in-memory host per item.

Ansible cannot loop over a group of tasks in one play; OOS runs each item of a Loop over a nested template (an
``ACS::Template``, or a product action the converter inlines) as a child execution, at most ``Concurrency`` at a
time. The template's play is split around such a task:

* on localhost, the tasks before it, then one ``add_host`` per item into a group of this template and task: the
  child's parameter values for that item (evaluated there, so the item play needs none of the parent's variables),
  the item, the execution id (hosts of another execution in the same ansible-playbook run sit out), and the
  evaluated rate control (``serial``, MaxErrors);
* the play of the items (``serial``): the child as :mod:`natural_nested` writes it; each item's task Outputs or
  error is the host's fact ``oos_iteration`` (a failed item is not a failed host), and once more items failed than
  MaxErrors allows, no further batch starts (``meta: end_play``);
* on localhost again: the Loop.Outputs of the items that succeeded, in item order, and the task fails as OOS fails
  it when more items failed than MaxErrors allows; then the tasks after it.

Each localhost play keeps the run's block and rescue, so a failure anywhere ends the run as before; a failed
localhost is in no later play (ansible-playbook stops when every host of a play failed).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural, natural_loops, natural_nested
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, display_name, expr

F = "alicloud.oos."
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class LoopSplit:
    """Where a localhost play ends and the play of a Loop's items runs (a marker among the run's tasks)."""
    play: dict                                  # the play of the items (its vars are the run's, set by plays())
    secrets: set = field(default_factory=set)   # the item hosts' variables holding secret values


def check(task: dict) -> None:
    """Unsupported for the Loop of a nested template this module does not write."""
    loop = task["Loop"]
    if not isinstance(loop, dict) or "Items" not in loop:
        raise natural.Unsupported("a Loop without Items")
    natural_loops.check_keys(loop)
    static = natural_loops._static_rate_control(loop)
    if static is not None and static.concurrency_in_batches:
        # serial gives the batches; Ansible's forks, not OOS, would bound the items in flight within one.
        raise natural.Unsupported("a looped nested template with ConcurrencyInBatches")
    extra = set(task) - natural.TASK_KEYS - {"Loop"}
    if extra:
        raise natural.Unsupported(f"task keys {', '.join(sorted(extra))}")
    for name, spec in (task.get("Outputs") or {}).items():
        # An item's Outputs are computed on its host: they may read the item, nothing of the parent.
        if any(m.group(1).strip().lower() != "acs::taskloopitem" for m in natural.runtime.REFERENCE.finditer(json.dumps(spec))):
            raise natural.Unsupported(f"Outputs of a looped nested template that read more than the item ({name})")
    outputs = loop.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise natural.Unsupported("Loop.Outputs that is not a mapping")
    for spec in outputs.values():
        _aggregate(task, spec)


def _aggregate(task: dict, spec) -> tuple:
    """(the task Output a Loop output aggregates, whether it sums) or Unsupported."""
    spec = spec if isinstance(spec, dict) else {}
    if str(spec.get("AggregateType", "Fn::ListJoin")).lower() not in natural_loops.AGGREGATES:
        raise natural.Unsupported(f"the Loop.Outputs AggregateType {spec.get('AggregateType')}")
    wanted = str(spec.get("AggregateField", ""))
    name = next((str(k) for k in task.get("Outputs") or {} if str(k) == wanted), None)
    if name is None or not _FIELD.match(name):
        raise natural.Unsupported("a Loop.Outputs AggregateField that names no task Output")
    return name, str(spec.get("AggregateType", "")).lower() == "fn::sum"


def localhost_parts(units: list) -> list:
    """``units`` cut at each :class:`LoopSplit`: [tasks, split, tasks, ...] (one list when there is none)."""
    parts = [[]]
    for unit in units:
        if isinstance(unit, LoopSplit):
            parts += [unit, []]
        else:
            parts[-1].append(unit)
    return parts


def loop_units(task: dict, scope: natural.Scope) -> list:
    """[the localhost tasks that add the item hosts, the split, the localhost tasks that collect the items]."""
    check(task)
    title = natural.task_title(task)
    calling = title.split(" | ", maxsplit=1)[0]
    loop = task["Loop"]
    scope.pseudo_used.add("acs::executionid")
    # Distinct templates (and tasks) never share a group, even when one ansible-playbook run imports several.
    digest = hashlib.sha256(json.dumps(scope.template, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:8]
    group = f"oos_loop_{digest}_" + re.sub(r"[^A-Za-z0-9_]", "_", task["Name"])
    scope.loop_groups = getattr(scope, "loop_groups", set())
    while group in scope.loop_groups:   # a-b and a_b
        group += "_"
    scope.loop_groups.add(group)
    state = scope.invent(natural.fact_name(task["Name"]) + "_loop")   # the evaluated loop, on localhost
    secrets_before = set(scope.secrets)
    items = natural._bare(natural.expression(loop["Items"], scope)[0])
    rate_control = natural._bare(natural_loops._rate_control(loop, scope))
    unit, arguments, given = natural_nested.child_call(task, scope, looped=True)
    secrets = scope.secrets - secrets_before     # the child's variables that hold secret values
    if natural._jinja_names(Code(items)) & (secrets_before | set(getattr(scope, "root", scope).secrets)):
        secrets |= {"oos_loop_item", "oos_loop_given"}   # the items themselves are secret values

    # 1. localhost: one host per item, holding the child's parameter values for it.
    host = {"name": expr(f"'{group}_' ~ oos_execution_id ~ '_' ~ oos_loop_index"), "groups": group,
            "ansible_connection": "local", "ansible_python_interpreter": expr("ansible_playbook_python"),
            "oos_loop_execution": expr("oos_execution_id"), "oos_loop_item": expr("item")}
    for name, (variable, _jinja) in natural.PSEUDO_FACTS.items():
        if name in scope.pseudo_used:   # facts of the run, which the child may read
            host[variable] = expr(variable)
    host.update(arguments)
    if given:
        host["oos_loop_given"] = expr("{" + ", ".join(f"{scope.quote(name)}: {source}" for name, source in given.items()) + "}")
    register = scope.invent(natural.fact_name(task["Name"]) + "_hosts")
    add = {"name": display_name(f"{calling} | add one host per item (its parameter values)", 120),
           "ansible.builtin.add_host": host, "loop": expr(items),
           "loop_control": {"index_var": "oos_loop_index", "label": expr("oos_loop_index")}, "register": register}
    if secrets:   # a child parameter may be secret by itself (NoEcho with a Default)
        add["no_log"] = True
    count = f"{register}.results | length"
    start = {"name": display_name(f"{calling} | the rate control of the items", 120),
             "ansible.builtin.set_fact": {state: expr(
                 f"{{'execution': oos_execution_id, 'count': {count}, 'max_errors': "
                 f"{rate_control} | {F}max_errors_allowed({count}), 'serial': "
                 f"({rate_control} | {F}rate_control_to_serial({count})) if {count} > 0 else 1}}")}}
    prepare = [add, start]
    if "When" in task:
        for step in prepare:
            step["when"] = [Code(natural.condition(task["When"], scope))]

    # 2. the items, at most serial at a time; none starts once more failed than MaxErrors allows.
    current = (f"oos_loop_execution != hostvars['localhost']['oos_execution_id'] | default('') or "
               f"oos_loop_execution != (hostvars['localhost']['{state}'] | default({{}}))['execution'] | default('')")
    stale = {"name": display_name(f"{calling} | skip the items of another execution", 120),
             "ansible.builtin.meta": "end_host", "when": Code(current)}
    errors = (f"ansible_play_hosts_all | {F}oos_loop_iterations(hostvars, hostvars['localhost']['oos_execution_id']) "
              f"| select('mapping') | selectattr('error', 'defined') | map(attribute='error') | list")
    # A cancelled item (an approval rejected, a pause not resumed) cancels the whole execution: no item starts after.
    cancelled = f"{errors} | select('match', {scope.quote(natural.runtime.CANCELLED_MESSAGE)}) | list | length > 0"
    stop = {"name": display_name(f"{calling} | launch no further item once more failed than MaxErrors allows, or one "
                                 "was cancelled", 120),
            "ansible.builtin.meta": "end_play", "run_once": True,
            "when": Code(f"({errors} | length) > hostvars['localhost']['{state}']['max_errors'] | int or {cancelled}")}
    # hostvars is undefined while the playbook is only syntax-checked; the state, when the task did not run.
    serial = expr(f"(hostvars['localhost']['{state}'] | default({{'serial': 1}}))['serial'] if hostvars is defined else 1")
    play = {"name": display_name(f"{title} | one host per item", 120), "hosts": group, "gather_facts": False,
            "serial": serial, "tasks": [stale, unit, stop]}

    # 3. localhost: the Loop.Outputs of the items that succeeded, in item order, and MaxErrors.
    results = "oos_loop_results"
    # More items failed than MaxErrors allows, or items never ran (their hosts left out by --limit).
    collect = [{"name": display_name(f"{calling} | fail as OOS does when the items did", 120),
                "ansible.builtin.fail": {"msg": expr("oos_loop_failure")},
                "when": Code("oos_loop_failure | length > 0")}]
    if loop.get("Outputs"):
        fact = scope.add_task(task)
        succeeded = f"({results} | select('mapping') | selectattr('outputs', 'defined') | map(attribute='outputs'))"
        entries = []
        for name, spec in loop["Outputs"].items():
            output, summed = _aggregate(task, spec)
            entries.append(f"{scope.quote(name)}: {succeeded} | map(attribute={scope.quote(output)}) | "
                           f"{'sum' if summed else 'list'}")
        collect.append({"name": natural.display_name_outputs(title),
                        "ansible.builtin.set_fact": {fact: expr("{" + ", ".join(entries) + "}")}})
        if secrets:   # the items' outputs may hold the secret values they were given
            scope.secrets.add(fact)
    if secrets:
        for step in collect:
            step["no_log"] = True
    collected = {"name": display_name(f"{title} | the items", 120),
                 "when": [Code(f"({state} | default({{}}))['execution'] | default('') == oos_execution_id")],
                 "vars": {results: expr(f"groups['{group}'] | default([]) | "
                                        f"{F}oos_loop_iterations(hostvars, oos_execution_id)"),
                          "oos_loop_failure": expr(f"{results} | {F}oos_loop_failure({state}.max_errors)")},
                 "block": collect}
    return prepare + [LoopSplit(play, secrets), collected]


def item_secret_values(split: LoopSplit) -> Code:
    """The Jinja list of the secret values an item host holds (what its tasks mask)."""
    return expr("[" + ", ".join(f"{name} | default(none)" for name in sorted(split.secrets)) + f"] | {F}oos_secret_texts")


def plays(first: dict, parts: list, runs: list, finish: list, play_vars: dict, parameter_variables: set) -> list:
    """The plays of a template split at its looped nested templates: ``first`` (localhost, ending with ``runs[0]``),
    then for each split the play of its items and a localhost play with the next run block; ``finish`` after the
    last one."""
    plays_out = [first]
    splits = [part for part in parts if isinstance(part, LoopSplit)]
    play_vars = {k: v for k, v in play_vars.items() if k != "oos_parameter_specs"}   # read by the first play's check
    for number, split in enumerate(splits, 1):
        item_vars = {k: v for k, v in play_vars.items() if k not in parameter_variables}
        if item_vars:   # the run's own variables (template texts, pseudo-parameters), none of the parent's parameters
            split.play = {k: v for k, v in split.play.items() if k != "tasks"} | {"vars": item_vars, "tasks": split.play["tasks"]}
        plays_out.append(split.play)
        # The parameters again as play variables (a play's vars are its own): the same precedence as in the first
        # play (-e wins; the values of oos_parameters_file are facts set there, which win over play vars and stay).
        after = {"name": first["name"] + f" (after {split.play['name'].split(' | ')[0]})", "hosts": "localhost",
                 "connection": "local", "gather_facts": False}
        if play_vars:
            after["vars"] = play_vars
        after["tasks"] = [runs[number]] + (finish if number == len(splits) else [])
        plays_out.append(after)
    return plays_out
