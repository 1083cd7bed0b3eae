"""What the converter knows of each OOS action: the ones it writes itself, the ECS product actions with a native
module and the properties those modules take, the triggers, and the actions with no Ansible counterpart."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import expr, literal

F = "alicloud.oos."

# Actions of the OOS language the natural writer writes (ACS::SelectTargets aside: it depends on its ResourceType).
KNOWN = frozenset(("acs::executeapi", "acs::waitfor", "acs::checkfor", "acs::choice", "acs::sleep", "acs::pause",
                   "acs::notify", "acs::approve", "acs::timertrigger", "acs::eventtrigger", "acs::alarmtrigger"))
# ECS product actions written as a call of the collection's module (oos_run_command, oos_instance, ...).
ECS_NATIVE = frozenset(("acs::ecs::runcommand", "acs::ecs::stopinstance", "acs::ecs::startinstance",
                        "acs::ecs::rebootinstance", "acs::ecs::createimage", "acs::ecs::runinstances",
                        "acs::ecs::deleteinstance"))
TRIGGER_KINDS = {"acs::timertrigger": "TimerTrigger", "acs::eventtrigger": "EventTrigger", "acs::alarmtrigger": "AlarmTrigger"}


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
# Actions with no Ansible counterpart: OOS runs them (the task is delegated, see generator.TemplateCheck.delegation_reason).
UNSUPPORTED = {
    "acs::gitcoderepo": "ACS::GitCodeRepo (a code-repository authorization)",
    "acs::loop": "ACS::Loop (multi-task loop bodies)",
    "acs::executehttprequest": "ACS::ExecuteHttpRequest",
}
