"""OOS ``Loop`` in the natural writer (issue #14): each looped task as an Ansible engineer would write it.

OOS runs a Loop's items at most ``Concurrency`` at a time and launches no further item once more items failed
than ``MaxErrors`` allows; the task fails then. Its ``{{ task.X }}`` are the ``Loop.Outputs``: the
``AggregateField`` output of every item that succeeded, in the order of the items (``Fn::ListJoin``) or summed
(``Fn::Sum``). The forms below run the items one after the other: they never launch an item OOS would not have
launched, whatever the timing (OOS may still run the items in flight when the limit is crossed; docs/fidelity.md).

* An ECS action over instance ids (Stop/Start/Reboot, RunCommand) is one call of the module that batches them
  itself with the ``rate_control`` (:func:`batched`).
* Any other looped call is a ``loop:`` (:func:`loop_tasks`). Where MaxErrors is 0 as written, the items after
  the first failed one are skipped (each item's ``when:`` reads the previous item's registered result) and the
  task fails. Where it may allow failures (a
  RateControl parameter), each item runs through the role ``alicloud.oos.oos_loop_item``, which launches no item
  once MaxErrors is exceeded and fails the loop on its last item when they are.
"""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import (
    LOOP_ONLY_KEYS, RATE_CONTROL_KEYS, rate_control_from_loop)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural, runtime
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, expr

F = "alicloud.oos."
# Actions written as one module call per item (natural.action_task); those over oos_execute_api may take the role.
API_ACTIONS = ("acs::executeapi", "acs::waitfor", "acs::checkfor")
LOOPED_ACTIONS = API_ACTIONS + ("acs::ecs::deleteinstance", "acs::ecs::stopinstance", "acs::ecs::startinstance",
                                "acs::ecs::rebootinstance", "acs::ecs::runcommand", "acs::ecs::createimage")
# Keys a Loop may hold: Items, RateControl, Outputs, or the legacy flat rate control.
LOOP_KEYS = set(LOOP_ONLY_KEYS) | set(RATE_CONTROL_KEYS)
AGGREGATES = ("fn::listjoin", "fn::sum")
ROLE = "alicloud.oos.oos_loop_item"
# The oos_execute_api arguments the role passes on (roles/oos_loop_item/tasks/main.yml).
ROLE_ARGUMENTS = {"service", "api", "region", "version", "parameters", "method", "uri", "body", "headers", "auto_paging",
                  "wait_for", "check_for", "secret_values"}
# The oos_run_command arguments the role passes on (oos_loop_item_command), for a looped ACS::ECS::RunCommand.
ROLE_COMMAND_ARGUMENTS = {"instance_id", "region", "command_content", "command_type", "working_dir", "timeout", "username",
                          "enable_parameter", "windows_password_name", "parameters", "secret_values"}
# The role's variable holding the call of each module it runs.
ROLE_CALLS = {F + "oos_execute_api": ("oos_loop_item_call", ROLE_ARGUMENTS),
              F + "oos_run_command": ("oos_loop_item_command", ROLE_COMMAND_ARGUMENTS)}


def batched(task: dict) -> bool:
    """A Loop the module runs itself: an ECS action over instance ids (one call with the RateControl)."""
    key = str(task.get("Action", "")).lower()
    loop = task.get("Loop")
    props = task.get("Properties") or {}
    item = props.get("instanceId")
    whole = runtime.WHOLE_REFERENCE.match(item.strip()) if isinstance(item, str) else None
    return (isinstance(loop, dict) and (key in natural.POWER_STATES or key == "acs::ecs::runcommand")
            and whole is not None and whole.group(1).lower() == "acs::taskloopitem"
            and "taskloopitem" not in repr({k: v for k, v in props.items() if k != "instanceId"}).lower()
            and set(loop) <= {"Items", "RateControl", "Outputs"}
            and (not loop.get("Outputs") or key == "acs::ecs::runcommand"))


def _static_rate_control(loop: dict):
    """The RateControl as written when it holds no reference, else None (known only at run time)."""
    rate = {k: v for k, v in loop.items() if k not in ("Items", "Outputs")}
    if natural.has_code(rate) or isinstance(rate.get("RateControl"), str):
        return None
    try:
        return rate_control_from_loop(rate)
    except AlicloudInputError as error:
        raise natural.RefusedByOos(f"a Loop whose rate control OOS refuses ({error})") from None


def _form(task: dict) -> str:
    """How a looped call is written: 'stop' (a ``loop:`` that stops at the first failed item) or 'role' (one item
    at a time through alicloud.oos.oos_loop_item, which counts the failures against MaxErrors)."""
    static = _static_rate_control(task["Loop"])
    if static is not None and static.max_errors.resolve(1000) == 0:
        return "stop"
    if str(task.get("Action", "")).lower() in API_ACTIONS + ("acs::ecs::deleteinstance", "acs::ecs::runcommand"):
        return "role"
    raise natural.Unsupported(f"a Loop over {task['Action']} whose MaxErrors may allow failures")


def check_keys(loop: dict) -> None:
    """Unsupported for a Loop key this module does not write, or a pause between batches (BatchPauseOption, in the
    RateControl or flat): it waits for a person to resume the execution, which no play here does."""
    rate_control = loop.get("RateControl") if isinstance(loop.get("RateControl"), dict) else loop
    if str(rate_control.get("BatchPauseOption") or "Automatic") != "Automatic":
        raise natural.Unsupported("a Loop that pauses between batches (BatchPauseOption)")
    unknown = set(loop) - LOOP_KEYS
    if unknown:
        raise natural.Unsupported(f"Loop keys {', '.join(sorted(map(str, unknown)))}")


def looped_call(task: dict) -> bool:
    """A Loop written as a ``loop:`` over the items (every Loop that is not :func:`batched`)."""
    return isinstance(task.get("Loop"), dict) and not batched(task)


def check(task: dict) -> bool:
    """Whether the task's Loop is written (Unsupported names what is not); False when the task has no Loop."""
    loop = task.get("Loop")
    if loop is None:
        return False
    if not isinstance(loop, dict) or "Items" not in loop:
        raise natural.Unsupported("a Loop without Items")
    check_keys(loop)   # (a batched module call too: a written pause goes to OOS, one the run gives the module refuses)
    _static_rate_control(loop)   # one OOS refuses fails the conversion, in every form
    if batched(task):
        return True
    key = str(task.get("Action", "")).lower()
    if key not in LOOPED_ACTIONS:
        raise natural.Unsupported(f"a Loop over {task.get('Action')}")
    outputs = loop.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise natural.Unsupported("Loop.Outputs that is not a mapping")
    if outputs and key not in API_ACTIONS + ("acs::ecs::runcommand",):
        raise natural.Unsupported(f"Loop.Outputs of a looped {task.get('Action')}")   # documents of API calls and commands
    for spec in outputs.values():
        _aggregated_output(task, spec)
    _form(task)
    return True


def _aggregated_output(task: dict, spec) -> tuple:
    """(the task Output an aggregate reads, whether it sums), or Unsupported."""
    spec = spec if isinstance(spec, dict) else {}
    kind = str(spec.get("AggregateType", "Fn::ListJoin")).lower()
    if kind not in AGGREGATES:
        raise natural.Unsupported(f"the Loop.Outputs AggregateType {spec.get('AggregateType')}")
    field = str(spec.get("AggregateField", "")).lower()
    name = next((k for k in task.get("Outputs") or {} if str(k).lower() == field), None)
    output = (task.get("Outputs") or {}).get(name) if name is not None else None
    selector = output.get("ValueSelector") if isinstance(output, dict) else None
    command = str(task.get("Action", "")).lower() == "acs::ecs::runcommand"
    if not isinstance(selector, str) or (natural.has_code(selector) and (command or not _reads_only_the_item(selector))):
        # Per item, as OOS does: the item is substituted into the program, the other references are not known.
        raise natural.Unsupported("a Loop.Outputs field without a plain ValueSelector")
    return output, kind == "fn::sum"


def _reads_only_the_item(selector: str) -> bool:
    return all(m.group(1).strip().lower() == "acs::taskloopitem" for m in runtime.REFERENCE.finditer(selector))


def _rate_control(loop: dict, scope) -> str:
    """The Jinja of the loop's rate control (its RateControl, or the legacy flat keys as one mapping). One computed
    by the run is refused there when it asks for a pause between batches (check_keys hands a written one to OOS)."""
    written = loop["RateControl"] if loop.get("RateControl") is not None else {
        k: v for k, v in loop.items() if k in RATE_CONTROL_KEYS}
    jinja = natural.expression(written, scope)[0]
    return f"({natural._bare(jinja)} | {F}oos_unpaused_rate_control)" if natural.has_code(written) else jinja


def loop_tasks(task: dict, scope, step: dict, register: str):
    """Make ``step`` (the call of one item) loop over the items: as it is, or through the role."""
    loop = task["Loop"]
    step["loop"] = expr(natural._bare(natural.expression(loop["Items"], scope)[0]))
    step["register"] = register
    form = _form(task)
    if form == "stop":
        # MaxErrors 0: OOS launches nothing after the first failed item, and the task fails. Within a loop the
        # register holds the previous item's result (ansible-core 2.16 too, which has no loop_control.break_when).
        after_failure = Code(f"{register} is not defined or {register} is not failed and {register} is not skipped")
        step["when"] = (step["when"] if isinstance(step.get("when"), list) else [step["when"]] if "when" in step
                        else []) + [after_failure]
        return
    # MaxErrors may allow failures: each item through the role, which launches none once they are exceeded and
    # fails the loop on its last item.
    module = next(name for name in ROLE_CALLS if name in step)
    variable, known = ROLE_CALLS[module]
    unknown = set(step[module]) - known
    if unknown:
        raise natural.Unsupported(f"a looped call with {', '.join(sorted(unknown))}, which {ROLE} does not pass on")
    looped = {"name": step["name"], "ansible.builtin.include_role": {"name": ROLE},
              "vars": {variable: step[module], "oos_loop_item_register": register,
                       "oos_loop_item_rate_control": expr(natural._bare(_rate_control(loop, scope)))},
              "loop": step["loop"], "loop_control": {"extended": True}}
    if "OnError" not in task:   # its failure is the run's last message (an OnError path words its own)
        looped["vars"]["oos_loop_item_task"] = natural.inert(task["Name"])
    if "when" in step:
        looped["when"] = step["when"]
    step.clear()
    step.update(looped)


def outputs_task(task: dict, scope, register: str, fact: str, title: str) -> dict:
    """Loop.Outputs: the AggregateField output of every item that succeeded, in item order (or their sum)."""
    if batched(task):
        documents = f"({register} | {F}oos_command_documents | rejectattr('__error__', 'defined'))"
    else:
        # The role sets no results where there are no items.
        results = f"{register}.results" + (" | default([])" if _form(task) == "role" else "")
        succeeded = f"({results} | select('succeeded'))"
        if str(task.get("Action", "")).lower() == "acs::ecs::runcommand":   # one instance per item: its document
            documents = f"({succeeded} | map('{F}oos_command_documents') | map('first'))"
        else:
            documents = f"({succeeded} | map(attribute='response'))"
    entries = []
    for name, spec in (task["Loop"].get("Outputs") or {}).items():
        output, summed = _aggregated_output(task, spec)
        selector, kind = scope.quote(output["ValueSelector"]), scope.quote(output.get("Type", "String"))
        if natural.has_code(output["ValueSelector"]):   # the selector reads the item: one program per item
            values = f"{succeeded} | {F}jq_items({selector}, {kind})"
        else:
            values = f"{documents} | map('{F}jq', {selector}, {kind})"
        entries.append(f"{scope.quote(name)}: {values} | {'sum' if summed else 'list'}")
    return {"name": natural.display_name_outputs(title),
            "ansible.builtin.set_fact": {fact: expr("{" + ", ".join(entries) + "}")}}
