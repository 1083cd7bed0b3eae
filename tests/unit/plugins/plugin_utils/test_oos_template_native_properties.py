"""Native mappings of cloud product actions are complete or refuse: every property is passed on or refused.

Checked against the OOS definitions in ../shared (skipped without them), and by converting templates.
"""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import actions, product_actions
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from tests.conftest import SHARED

ECS_ACTIONS = SHARED / "oos-templates" / "CloudProductActions" / "ECS"
needs_definitions = pytest.mark.skipif(not ECS_ACTIONS.is_dir(), reason="../shared/oos-templates absent")


def definition(key: str) -> dict:
    name = "ACS::ECS::" + next(p.stem.split("::")[-1] for p in ECS_ACTIONS.glob("*.yml") if p.stem.lower() == key)
    return yaml.safe_load((ECS_ACTIONS / f"{name}.yml").read_text(encoding="utf-8"))


@needs_definitions
@pytest.mark.parametrize("key", sorted(actions.ECS_NATIVE))
def test_each_native_mapping_passes_or_refuses_every_property_of_the_definition(key):
    parameters = definition(key)["Parameters"]
    accepted = set(actions.NATIVE_PROPERTIES[key])
    delegated = actions.DELEGATED_UNLESS_DEFAULT.get(key, {})
    assert accepted <= set(parameters), f"{key} accepts properties OOS does not have: {accepted - set(parameters)}"
    assert set(parameters) - accepted == set(delegated), f"{key}: properties neither passed nor delegated"
    for name, default in delegated.items():
        assert parameters[name]["Default"] == default, (key, name)


@needs_definitions
@pytest.mark.parametrize("key", sorted(product_actions.DEFINITIONS))
def test_built_in_definitions_make_the_calls_oos_makes(key):
    ours = yaml.safe_load(product_actions.DEFINITIONS[key])
    theirs = definition(key)
    assert list(ours["Parameters"]) == list(theirs["Parameters"])
    for name, spec in theirs["Parameters"].items():
        assert ours["Parameters"][name].get("Default") == spec.get("Default"), name
    steps = [[(t["Name"], t["Action"], (t.get("Properties") or {}).get("API"),
               (t.get("Properties") or {}).get("DesiredValues"), t.get("Retries"), t.get("Delay")) for t in d["Tasks"]]
             for d in (ours, theirs)]
    assert steps[0] == steps[1]
    assert ours.get("Outputs", {}) == theirs.get("Outputs", {})


def one_task(action: str, props: dict) -> str:
    return yaml.safe_dump({"FormatVersion": "OOS-2019-06-01",
                           "Tasks": [{"Name": "t", "Action": action, "Properties": props}]})


@pytest.mark.parametrize("action, props, named", [
    ("ACS::ECS::StopInstance", {"instanceId": "i-1", "hibernating": True}, "hibernating"),
    ("ACS::ECS::CreateImage", {"instanceId": "i-1", "imageName": "x", "resourceGroup": "rg-1"}, "resourceGroup"),
    ("ACS::ECS::RunCommand", {"instanceId": "i-1", "commandType": "RunShellScript", "commandContent": "id",
                              "colour": "red"}, "colour"),
    ("ACS::ECS::InstallCloudAssistant", {"instanceId": "i-1", "force": True}, "force"),
])
def test_a_property_the_definition_does_not_have_is_refused_naming_it(action, props, named):
    with pytest.raises(ConversionError) as info:
        convert(content=one_task(action, props))
    assert len(info.value.problems) == 1 and f" {named} " in info.value.problems[0] and "at Tasks[0] (t)" in \
        info.value.problems[0]


@pytest.mark.parametrize("action, props", [
    ("ACS::ECS::StopInstance", {"instanceId": "i-1", "hibernate": True}),
    ("ACS::ECS::CreateImage", {"instanceId": "i-1", "imageName": "x", "resourceGroupId": "rg-1"}),
    ("ACS::ECS::CreateImage", {"instanceId": "i-1", "imageName": "x", "detectionStrategy": "Standard"}),
])
def test_a_property_the_mapping_does_not_pass_makes_oos_run_the_task(action, props):
    result = convert(content=one_task(action, props))
    assert result.delegated == [("Tasks[0]", action)]
    text = result.playbook_yaml("t.yml")
    assert text.count("client_token:") == 1 and "alicloud.oos.oos_instance:" not in text \
        and "alicloud.oos.oos_create_image:" not in text


def test_a_delegated_property_holding_its_default_changes_nothing_and_stays_native():
    for action, props, module in (
            ("ACS::ECS::StopInstance", {"instanceId": "i-1", "hibernate": False}, "oos_instance"),
            ("ACS::ECS::CreateImage", {"instanceId": "i-1", "imageName": "x", "detectionStrategy": ""},
             "oos_create_image")):
        result = convert(content=one_task(action, props))
        assert result.delegated == [] and f"alicloud.oos.{module}:" in result.playbook_yaml("t.yml")


def test_run_command_passes_every_property_to_the_module():
    props = {"regionId": "cn-beijing", "instanceId": "i-1", "commandType": "RunPowerShellScript",
             "commandContent": "dir", "workingDir": "C:\\\\", "timeout": 30, "enableParameter": True,
             "parameters": {"a": "b"}, "username": "admin", "windowsPasswordName": "pw"}
    assert set(props) == set(actions.NATIVE_PROPERTIES["acs::ecs::runcommand"])
    plays = convert(content=one_task("ACS::ECS::RunCommand", props)).data()
    calls = [t for play in plays for block in play["tasks"] for t in block.get("block", [block])
             if "alicloud.oos.oos_run_command" in t]
    args = calls[0]["alicloud.oos.oos_run_command"]
    assert {k: args[k] for k in ("command_type", "command_content", "timeout", "enable_parameter", "username",
                                 "windows_password_name", "instance_id")} == {
        "command_type": "RunPowerShellScript", "command_content": "dir", "timeout": 30, "enable_parameter": True,
        "username": "admin", "windows_password_name": "pw", "instance_id": "i-1"}
    assert args["working_dir"] == "C:\\\\" and args["parameters"] == {"a": "b"} and args["region"] == "cn-beijing"
