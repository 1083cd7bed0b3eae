"""Task mappers: one OOS action -> the Ansible tasks that do what OOS does, plus the document its Outputs read.

A mapper receives a :class:`Step` and returns a :class:`Mapped`. Template data reaches Ansible as the
``oos_task`` variable, or as a property value written as it is (both marked as template data, which the
dumper writes ``!unsafe``); module arguments read the rendered properties through ``step.props_expr``
(``oos_task.Properties | alicloud.oos.oos_render(ctx)``). Jinja is built with :func:`text.expr` only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.runtime import WHOLE_REFERENCE
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, expr, literal

F = "alicloud.oos."


@dataclass
class Step:
    task: dict
    index_label: str          # "Tasks[3]" (with the parent path for nested templates)
    ctx: str                  # Jinja name of the context fact: oos, oos_child_2, ...
    register: str             # unique register name for this step
    in_loop: bool = False     # rendering must pass the loop item (sequential Ansible loop)
    props_expr: str = ""      # Jinja expression of the rendered properties


@dataclass
class Mapped:
    tasks: list
    document: str = "{}"                 # Jinja expression the task Outputs select from
    record: str | None = None            # custom expression for the new context (instead of oos_task_done)
    native_batch: bool = False           # the module itself iterates Loop.Items with the RateControl
    batch_documents: str | None = None   # per-item documents when native_batch
    loopable: bool = True                # a single Ansible task that can take `loop:`
    extra: dict = field(default_factory=dict)


def is_static(value) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, str) and "{{" in value)


def prop(step: Step, name: str, default=None, jinja_default: str | None = None):
    """A module argument for property ``name``: the literal when static, else the rendered value."""
    props = step.task.get("Properties") or {}
    if name not in props:
        if jinja_default is not None:
            return expr(jinja_default)
        return default
    value = props[name]
    if is_static(value):
        return value
    return expr(f"{step.props_expr}[{name!r}]")


def prop_ref(step: Step, name: str, default_expr: str = "omit") -> str:
    return expr(f"{step.props_expr}[{name!r}] | default({default_expr})")


def _prefixed_name(step: Step, what: str) -> str:
    return f"OOS {step.task['Name']} | {what}"


# ------------------------------------------------------------------------------------------------
# API actions

def _api_args(step: Step) -> dict:
    args = {
        "service": prop(step, "Service"),
        "api": prop(step, "API"),
        "parameters": prop_ref(step, "Parameters", "{}"),
    }
    props = step.task.get("Properties") or {}
    if "Method" in props:
        args["method"] = prop(step, "Method")
    if "AutoPaging" in props:
        args["auto_paging"] = prop(step, "AutoPaging")
    if "URI" in props:
        # ROA style (CS, ...): the path selects it; Body and Headers go with the request as OOS sends them.
        args["uri"] = prop(step, "URI")
        if props.get("Body") is not None:
            args["body"] = prop_ref(step, "Body", "omit")
        if props.get("Headers") is not None:
            args["headers"] = prop_ref(step, "Headers", "omit")
        if props.get("Parameters") is None:
            args["parameters"] = {}
    return args


def _wait_args(step: Step, single_check: bool) -> dict:
    task = step.task
    props = task.get("Properties") or {}
    spec = {"property_selector": prop(step, "PropertySelector")}
    if "DesiredValues" in props:
        spec["desired_values"] = prop_ref(step, "DesiredValues", "[]")
    if props.get("NotDesiredValues") is not None:
        spec["not_desired_values"] = prop_ref(step, "NotDesiredValues", "[]")
    if props.get("StopRetryValues") is not None:
        if single_check:
            # One check cannot "stop retrying": a StopRetryValue simply fails it, as a not-desired value does.
            stops = [k for k in ("NotDesiredValues", "StopRetryValues") if props.get(k) is not None]
            spec["not_desired_values"] = expr(" + ".join(f"({step.props_expr}[{k!r}] | default([]) | list)" for k in stops))
        else:
            spec["stop_retry_values"] = prop_ref(step, "StopRetryValues", "[]")
    if not single_check:
        for key, name in (("Retries", "retries"), ("Delay", "delay"), ("DelayType", "delay_type"),
                          ("BackOff", "backoff"), ("MaxRetryInterval", "max_retry_interval")):
            if key in task:
                spec[name] = task[key] if is_static(task[key]) else expr(f"oos_task[{key!r}] | {F}oos_render({step.ctx})")
    return spec


def map_execute_api(step: Step) -> Mapped:
    call = {"name": _prefixed_name(step, "call the API"),
            F + "oos_execute_api": _api_args(step), "register": step.register}
    return Mapped([call], document=f"{step.register}.response")


def map_wait_for(step: Step) -> Mapped:
    args = _api_args(step)
    args["wait_for"] = _wait_args(step, single_check=False)
    call = {"name": _prefixed_name(step, "call the API until the property has the desired value"),
            F + "oos_execute_api": args, "register": step.register}
    return Mapped([call], document=f"{step.register}.response")


def map_check_for(step: Step) -> Mapped:
    args = _api_args(step)
    args["check_for"] = _wait_args(step, single_check=True)
    call = {"name": _prefixed_name(step, "call the API and check the property"),
            F + "oos_execute_api": args, "register": step.register}
    return Mapped([call], document=f"{step.register}.response")


def map_select_targets(step: Step, inventory_bound: bool) -> Mapped:
    if inventory_bound:
        note = {"name": _prefixed_name(step, "use the inventory hosts as targets"),
                "ansible.builtin.debug": {"msg": expr("oos_inventory_targets.Instances.Instance | map(attribute='InstanceId') | list")},
                "register": step.register}
        return Mapped([note], document="oos_inventory_targets", loopable=False)
    describe = {
        "name": _prefixed_name(step, "list the target resources"),
        F + "oos_execute_api": {"service": expr("oos_request.service"), "version": expr("oos_request.version | default(omit, true)"),
                                "api": expr("oos_request.api"), "parameters": expr("oos_request.parameters"),
                                "auto_paging": True},
        "loop": expr(f"{step.props_expr} | {F}oos_target_requests"),
        "loop_control": {"loop_var": "oos_request"},
        "register": step.register,
    }
    return Mapped([describe], document=f"{step.register}.results | {F}oos_merge_instances", loopable=False)


def map_choice(step: Step) -> Mapped:
    return Mapped([], record=f"{step.ctx} | {F}oos_choose(oos_task)", loopable=False)


def map_sleep(step: Step) -> Mapped:
    pause = {"name": _prefixed_name(step, "sleep"),
             "ansible.builtin.pause": {"seconds": expr(f"{step.props_expr} | {F}oos_sleep_seconds")}}
    return Mapped([pause])


def map_pause(step: Step) -> Mapped:
    """ACS::Pause: the execution waits for an explicit decision (``-e oos_pause_decision=resume``, or
    ``resume`` typed at the prompt); without one (no terminal) it is cancelled, never resumed by itself."""
    decision = f"oos_pause_decision | default('') | {F}oos_pause_decision(oos_task.Name)"
    pause = {"name": _prefixed_name(step, "wait for the operator to resume"),
             "ansible.builtin.pause": {"prompt": f"OOS task {step.task['Name']} paused: type resume to go on "
                                                 "(anything else cancels the execution)"},
             "register": step.register,
             "when": Code(f"({decision}) == ''")}
    return Mapped([pause], record=f"{step.ctx} | {F}oos_pause_done(oos_task, {decision}, "
                                  f"{step.register}.user_input | default(''), oos_next)", loopable=False)


def _webhook_uri(step: Step) -> dict:
    return {
        "name": _prefixed_name(step, "post the notification"),
        "ansible.builtin.uri": {
            "url": expr(f"{step.props_expr}.WebHook.URI"),
            "method": "POST",
            "headers": expr(f"{step.props_expr}.WebHook.Headers | default({{}})"),
            "body_format": expr(f"'json' if {step.props_expr}.WebHook.Content is mapping else 'raw'"),
            "body": expr(f"{step.props_expr}.WebHook.Content | default({{}})"),
            "status_code": [200, 201, 202, 204],
        },
    }


def map_notify(step: Step) -> Mapped:
    return Mapped([_webhook_uri(step)])


def map_approve(step: Step) -> Mapped:
    gate = {
        "name": _prefixed_name(step, "wait for approval"),
        "ansible.builtin.include_role": {"name": "alicloud.oos.oos_approval"},
        "vars": {
            "oos_approval_name": step.task["Name"],
            "oos_approval_webhook_url": expr(f"{step.props_expr}.WebHook.URI | default('')"),
            "oos_approval_webhook_headers": expr(f"{step.props_expr}.WebHook.Headers | default({{}})"),
            "oos_approval_webhook_body": expr(f"{step.props_expr}.WebHook.Content | default(omit)"),
            # Only the listed RAM users may approve, and MinRequiredApprovals of them must (the role checks).
            "oos_approval_approvers": expr(f"{step.props_expr}.Approvers | default([]) | {F}oos_approvers"),
            "oos_approval_min_approvals": expr(f"{step.props_expr}.MinRequiredApprovals | default(1) | int"),
            "oos_approval_on_reject": "continue",
        },
    }
    return Mapped([gate], record=f"{step.ctx} | {F}oos_approval_done(oos_task, oos_approval_approved, oos_next, "
                                 "oos_approval_reason | default(''))", loopable=False)


TRIGGER_KINDS = {"acs::timertrigger": "TimerTrigger", "acs::eventtrigger": "EventTrigger", "acs::alarmtrigger": "AlarmTrigger"}


def map_trigger(step: Step) -> Mapped:
    kind = TRIGGER_KINDS[step.task["Action"].lower()]
    # The schedule is rendered at run time ('{{ triggerCron }}' shows the cron the run was given).
    note = {"name": _prefixed_name(step, "trigger (run this playbook from a schedule)"),
            "ansible.builtin.debug": {"msg": expr(f"{step.props_expr} | {F}oos_trigger_note({literal(kind)})")}}
    event = f"oos_trigger_event | default({data_file('oos_trigger_event_file', inner=True)})"
    return Mapped([note], document=event, loopable=False)


def data_file(variable: str, inner: bool = False, names: str | None = None):
    """The mapping in the JSON/YAML file named by ``-e <variable>=PATH`` (empty without it), read as data.
    ``names``: the expression of the mapping whose keys are the only names the file may give (the parameters)."""
    # Relative to the directory ansible-playbook runs in, as -e @FILE is (lookup('file') alone would look next to
    # the playbook first).
    known = f", {names}" if names else ""
    jinja = (f"(lookup('ansible.builtin.file', {variable} | ansible.builtin.expanduser | ansible.builtin.realpath) "
             f"| {F}oos_data({literal(variable)}{known})) "
             f"if {variable} is defined else {{}}")
    return f"({jinja})" if inner else expr(jinja)


# ------------------------------------------------------------------------------------------------
# ECS cloud product actions with a native module

def _loop_item_only(step: Step, key: str) -> bool:
    """Properties[key] is exactly {{ ACS::TaskLoopItem }} and no other property uses the item."""
    props = step.task.get("Properties") or {}
    value = props.get(key)
    match = WHOLE_REFERENCE.match(value.strip()) if isinstance(value, str) else None
    if not match or match.group(1).strip().lower() != "acs::taskloopitem":
        return False
    others = {k: v for k, v in props.items() if k != key}
    return "taskloopitem" not in repr(others).lower()


def _batch_step(step: Step) -> bool:
    """True when the module iterates Loop.Items itself; the other properties then render without the item."""
    batch = bool(step.task.get("Loop")) and _loop_item_only(step, "instanceId")
    if batch:
        # instanceId (the only property using the item) is replaced by instance_ids: render it as ''.
        step.props_expr = step.props_expr.replace(f"oos_render({step.ctx})", f"oos_render({step.ctx}, '')")
    return batch


def _has_items(step: Step) -> Code:
    # An OOS loop over no items succeeds without doing anything; the modules refuse an empty id list.
    return Code(f"(oos_task.Loop.Items | {F}oos_render({step.ctx}) | length) > 0")


def _instance_selection(step: Step, batch: bool) -> dict:
    if batch:
        return {"instance_ids": expr(f"oos_task.Loop.Items | {F}oos_render({step.ctx})"),
                "rate_control": expr(f"oos_task.Loop | {F}oos_loop_rate_control({step.ctx})")}
    return {"instance_id": prop(step, "instanceId")}


def map_run_command(step: Step) -> Mapped:
    batch = _batch_step(step)
    args = dict(_instance_selection(step, batch))
    args.update({"command_content": prop(step, "commandContent"), "command_type": prop(step, "commandType", "RunShellScript")})
    props = step.task.get("Properties") or {}
    for key, name in (("workingDir", "working_dir"), ("timeout", "timeout"), ("username", "username"),
                      ("enableParameter", "enable_parameter"), ("windowsPasswordName", "windows_password_name")):
        if key in props:
            args[name] = prop(step, key)
    # The action's defaults where the module's differ: ACS::ECS::RunCommand waits 600 s (the module 60) and leaves
    # enableParameter off (the module turns it on for a script holding {{ACS::...}}).
    args.setdefault("timeout", 600)
    args.setdefault("enable_parameter", False)
    if "parameters" in props:
        args["parameters"] = prop_ref(step, "parameters", "omit")
    if "regionId" in props:
        args["region"] = prop_ref(step, "regionId")
    call = {"name": _prefixed_name(step, "run the command with Cloud Assistant"),
            F + "oos_run_command": args, "register": step.register}
    if batch:
        call["when"] = _has_items(step)
        return Mapped([call], native_batch=True, batch_documents=f"{step.register} | {F}oos_command_documents")
    return Mapped([call], document=f"({step.register} | {F}oos_command_documents)[0]")


def _power(state: str):
    def mapper(step: Step) -> Mapped:
        batch = _batch_step(step)
        args = dict(_instance_selection(step, batch))
        args["state"] = state
        props = step.task.get("Properties") or {}
        if "forceStop" in props:
            args["force"] = prop(step, "forceStop")
        if state == "stopped" and "stoppedMode" in props:
            args["stopped_mode"] = prop(step, "stoppedMode")
        if "regionId" in props:
            args["region"] = prop_ref(step, "regionId")
        call = {"name": _prefixed_name(step, f"make the instance {state}"), F + "oos_instance": args,
                "register": step.register}
        if batch:
            call["when"] = _has_items(step)
            return Mapped([call], native_batch=True,
                          batch_documents=f"{step.register}.instance_ids | default([]) | map('alicloud.oos.oos_empty_document') | list")
        return Mapped([call])
    return mapper


def map_create_image(step: Step) -> Mapped:
    props = step.task.get("Properties") or {}
    args = {"instance_id": prop(step, "instanceId"), "image_name": prop(step, "imageName")}
    for key, name in (("imageDescription", "description"), ("imageFamily", "image_family")):
        if key in props:
            args[name] = prop(step, key)
    if "tags" in props:
        args["tags"] = expr(f"{step.props_expr}['tags'] | {F}oos_tags_dict")
    if "regionId" in props:
        args["region"] = prop_ref(step, "regionId")
    call = {"name": _prefixed_name(step, "create the image and wait until it is available"),
            F + "oos_create_image": args, "register": step.register}
    return Mapped([call], document=f"{{'imageId': {step.register}.image_id}}")


def _region(step: Step, args: dict) -> dict:
    if "regionId" in (step.task.get("Properties") or {}):
        args["region"] = prop_ref(step, "regionId")
    return args


def map_run_instances(step: Step) -> Mapped:
    run = {"name": _prefixed_name(step, "run the instances"),
           F + "oos_execute_api": _region(step, {"service": "ECS", "api": "RunInstances",
                                                 "parameters": expr(f"{step.props_expr} | {F}oos_run_instances_request")}),
           "register": step.register}
    wait = {"name": _prefixed_name(step, "wait until the instances are running"),
            F + "oos_execute_api": _region(step, {
                "service": "ECS", "api": "DescribeInstances",
                "parameters": expr(f"{{'InstanceIds': {step.register}.response.InstanceIdSets.InstanceIdSet | to_json}}"),
                "wait_for": {"property_selector": ".Instances.Instance[].Status", "desired_values": ["Running"],
                             "retries": 120, "delay": 2, "delay_type": "Constant"}}),
            "register": step.register + "_wait"}
    return Mapped([run, wait], document=f"{{'instanceIds': {step.register}.response.InstanceIdSets.InstanceIdSet}}",
                  loopable=False)


def map_delete_instance(step: Step) -> Mapped:
    call = {"name": _prefixed_name(step, "delete the instance"),
            # Without Force, as the action: ECS refuses an instance that is not Stopped (the action checks it first).
            F + "oos_execute_api": _region(step, {"service": "ECS", "api": "DeleteInstance",
                                                  "parameters": {"InstanceId": prop(step, "instanceId")}}),
            "register": step.register}
    return Mapped([call])


def map_delegated_loop(step: Step) -> Mapped:
    """A loop inside a loop (or inside a nested template's loop): OOS runs the looped task itself."""
    return _delegated(step, "run the loop as an OOS execution")


def map_delegated_task(step: Step) -> Mapped:
    """A cloud product action with no mapping and no local definition: OOS runs that one task as it runs it."""
    return _delegated(step, "run the action as an OOS execution")


def _delegated(step: Step, what: str) -> Mapped:
    """The one-task execution, started and waited for until it ends or waits for an approval. A waiting execution
    is answered as the native ACS::Approve gate decides (``oos_approval_decision``, else the prompt, else no
    terminal: rejected), through NotifyExecution; the answer holds for every approval that execution reaches."""
    handover = {"oos_delegation": expr(f"oos_task | {F}oos_delegated_execution({step.ctx}, "
                                       "oos_parameters | default({}), oos_ram_role | default(''))")}
    call = {"name": _prefixed_name(step, what), "vars": handover,
            F + "oos_execution": {"template_content": expr("oos_delegation.template"),
                                  "parameters": expr("oos_delegation.parameters"),
                                  "secret_parameters": expr("oos_delegation.secret_parameters"),
                                  "client_token": expr("oos_delegation.client_token"),
                                  "wait": True, "wait_until": "waiting", "cancel_on_interrupt": True},
            "register": step.register}
    answer_register = step.register + "_answer"
    # The approval it may wait for is decided as a native ACS::Approve's; a rejection is recorded by the flow.
    answer = {"name": _prefixed_name(step, "answer the approval the OOS execution waits for"),
              "ansible.builtin.include_role": {"name": "alicloud.oos.oos_execution_approval"},
              "vars": {**handover, "oos_execution_approval_execution": expr(step.register),
                       "oos_execution_approval_name": step.task["Name"],
                       "oos_execution_approval_register": answer_register,
                       "oos_execution_approval_secret_parameters": expr("oos_delegation.secret_parameters"),
                       "oos_execution_approval_on_reject": "continue"},
              "when": Code(f"{step.register}.status | default('') == 'Waiting'")}
    return Mapped([call, answer],
                  record=f"{step.ctx} | {F}oos_delegated_done(oos_task, {step.register}, oos_next, "
                         f"{answer_register} | default({{}}), "
                         "oos_approval_reason | default(''))",
                  loopable=False)


BUILTIN = {
    "acs::executeapi": map_execute_api,
    "acs::waitfor": map_wait_for,
    "acs::checkfor": map_check_for,
    "acs::choice": map_choice,
    "acs::sleep": map_sleep,
    "acs::pause": map_pause,
    "acs::notify": map_notify,
    "acs::approve": map_approve,
    "acs::timertrigger": map_trigger,
    "acs::eventtrigger": map_trigger,
    "acs::alarmtrigger": map_trigger,
}

ECS_NATIVE = {
    "acs::ecs::runcommand": map_run_command,
    "acs::ecs::stopinstance": _power("stopped"),
    "acs::ecs::startinstance": _power("running"),
    "acs::ecs::rebootinstance": _power("rebooted"),
    "acs::ecs::createimage": map_create_image,
    "acs::ecs::runinstances": map_run_instances,
    "acs::ecs::deleteinstance": map_delete_instance,
}

# The properties of each natively mapped action's OOS definition that its mapping passes on. The definition's
# other properties (DELEGATED_UNLESS_DEFAULT) make OOS run the task instead (nothing the template says is
# dropped), unless they hold the definition's Default, which changes nothing. A property the definition does not
# have is refused at conversion, as OOS refuses it.
NATIVE_PROPERTIES = {
    "acs::ecs::runcommand": ("regionId", "instanceId", "commandType", "commandContent", "workingDir", "timeout",
                             "enableParameter", "parameters", "username", "windowsPasswordName"),
    "acs::ecs::stopinstance": ("regionId", "instanceId", "stoppedMode", "forceStop"),
    "acs::ecs::startinstance": ("regionId", "instanceId"),
    "acs::ecs::rebootinstance": ("regionId", "instanceId", "forceStop"),
    "acs::ecs::createimage": ("regionId", "imageName", "instanceId", "tags", "imageFamily", "imageDescription"),
    "acs::ecs::runinstances": ("regionId", "instanceChargeType", "periodUnit", "period", "vSwitchId", "instanceType",
                               "imageId", "systemDiskCategory", "systemDiskSize", "internetMaxBandwidthIn",
                               "internetMaxBandwidthOut", "securityGroupId", "amount", "instanceName", "ramRoleName",
                               "tags"),
    "acs::ecs::deleteinstance": ("regionId", "instanceId"),
}
DELEGATED_UNLESS_DEFAULT = {
    "acs::ecs::stopinstance": {"hibernate": False},
    "acs::ecs::createimage": {"resourceGroupId": "", "detectionStrategy": ""},
}


def unknown_properties(key: str, props: dict) -> list:
    """Properties the OOS definition of a natively mapped action does not have (refused, as OOS refuses them)."""
    known = set(NATIVE_PROPERTIES[key]) | set(DELEGATED_UNLESS_DEFAULT.get(key, {}))
    return [name for name in props if name not in known]


def unmapped_properties(key: str, props: dict) -> list:
    """Properties of the definition the native mapping does not pass on, set to something other than their
    Default: OOS runs such a task."""
    defaults = DELEGATED_UNLESS_DEFAULT.get(key, {})
    return [name for name, value in props.items() if name in defaults
            and not (isinstance(value, type(defaults[name])) and value == defaults[name])]


TRIGGERS = ("acs::timertrigger", "acs::eventtrigger", "acs::alarmtrigger")
# Actions with no Ansible counterpart: OOS runs them (the task is delegated, see generator.delegation_reason).
UNSUPPORTED = {
    "acs::gitcoderepo": "ACS::GitCodeRepo (a code-repository authorization)",
    "acs::loop": "ACS::Loop (multi-task loop bodies)",
    "acs::executehttprequest": "ACS::ExecuteHttpRequest",
}
