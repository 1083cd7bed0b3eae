"""Structure of generated plays, error listing, survey and flowchart (no Ansible run)."""
from __future__ import annotations

import json

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert

TEMPLATE = """
FormatVersion: OOS-2019-06-01
Description: {en: Reboot with cleanup}
Parameters:
  targets: {Type: Json}
  rateControl: {Type: Json, Default: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}}
  size: {Type: Number, Default: 1, MinValue: 1}
  mode: {Type: String, AllowedValues: [a, b], Default: a}
Tasks:
  - Name: getInstance
    Action: ACS::SelectTargets
    Properties: {ResourceType: 'ALIYUN::ECS::Instance', Filters: ['{{ targets }}']}
    Outputs: {instanceIds: {Type: List, ValueSelector: 'Instances.Instance[].InstanceId'}}
  - Name: reboot
    Action: ACS::ECS::RebootInstance
    OnError: cleanup
    Properties: {instanceId: '{{ ACS::TaskLoopItem }}'}
    Loop: {Items: '{{ getInstance.instanceIds }}', RateControl: '{{ rateControl }}'}
  - Name: describe
    Action: ACS::ExecuteApi
    OnSuccess: ACS::END
    Properties: {Service: ECS, API: DescribeInstances, Parameters: {InstanceIds: '{{ getInstance.instanceIds }}'}}
  - Name: cleanup
    Action: ACS::Sleep
    Properties: {Duration: PT1S}
"""


def _tasks(result) -> dict:
    """The tasks of the one natural play by name (the OnError blocks opened)."""
    (play,) = result.plays
    run = next(t for t in play["tasks"] if t["name"] == "Run the template tasks")
    found = {}
    for task in run["block"]:
        found[task["name"]] = task
        for inner in task.get("block", []):
            found[inner["name"]] = inner
    return found


def test_flow_compiles_to_when_and_block_rescue():
    result = convert(content=TEMPLATE)
    assert not result.handed_over
    tasks = _tasks(result)
    # OnError cleanup: the task runs in a block whose rescue records the failure; the flow reads that fact.
    guarded = tasks["Reboot | with its OnError"]
    assert list(guarded) == ["name", "block", "rescue"]
    assert set(guarded["rescue"][0]["ansible.builtin.set_fact"]) == {"reboot_failed"}
    assert tasks["Describe"]["when"] == ["reboot_failed is not defined"]
    assert tasks["Cleanup"]["when"] == ["reboot_failed is defined"]      # describe goes to ACS::END on success
    end = tasks["End as OOS would: a task failed and its OnError task ran"]
    assert end["when"] == "reboot_failed is defined"                    # the cleanup ran: the execution still fails
    # The ECS loop is one module call over every item with the template's RateControl.
    call = tasks["Reboot"]["alicloud.oos.oos_instance"]
    assert call == {"instance_ids": "{{ get_instance.instanceIds }}",
                    "rate_control": "{{ rate_control | alicloud.oos.oos_parameter_value('Json') }}",
                    "state": "rebooted"}
    assert tasks["Reboot"]["when"] == "(get_instance.instanceIds) | length > 0"
    # Outputs: one set_fact named after the task, the ValueSelector through alicloud.oos.jq.
    outputs = tasks["GetInstance | outputs"]["ansible.builtin.set_fact"]["get_instance"]
    assert outputs == ("{{ {'instanceIds': (get_instance_result.results | alicloud.oos.oos_merge_instances) | "
                       "alicloud.oos.jq('Instances.Instance[].InstanceId', 'List')} }}")
    # Parameters are play variables holding their Defaults, read under their OOS names too.
    assert result.plays[0]["vars"]["rate_control"] == (
        "{{ rateControl | default({'Mode': 'Concurrency', 'Concurrency': 2, 'MaxErrors': 0}) }}")
    assert result.plays[0]["vars"]["size"] == 1 and result.plays[0]["vars"]["mode"] == "a"
    assert "oos.next" not in result.playbook_yaml()


def test_a_loop_of_calls_whose_max_errors_is_a_parameter_runs_each_item_through_the_role():
    template = TEMPLATE.replace("Action: ACS::ECS::RebootInstance", "Action: ACS::ExecuteAPI").replace(
        "Properties: {instanceId: '{{ ACS::TaskLoopItem }}'}",
        "Properties: {Service: ECS, API: DescribeInstanceAttribute, Parameters: {InstanceId: '{{ ACS::TaskLoopItem }}'}}")
    # Read-only or not, OOS launches no item once MaxErrors is exceeded: the role counts the failures before each.
    for api in ("DescribeInstanceAttribute", "RebootInstance"):
        call = _tasks(convert(content=template.replace("DescribeInstanceAttribute", api)))["Reboot"]
        assert call["loop"] == "{{ get_instance.instanceIds }}" and call["loop_control"] == {"extended": True}
        assert call["ansible.builtin.include_role"] == {"name": "alicloud.oos.oos_loop_item"}
        assert call["vars"]["oos_loop_item_call"]["parameters"] == {"InstanceId": "{{ item }}"}
        assert call["vars"]["oos_loop_item_register"] == "reboot_result"


def test_every_problem_is_listed_at_once():
    bad = """
FormatVersion: OOS-2019-06-01
Tasks:
  - {Name: a, Action: 'ACS::Template', Properties: {TemplateName: '../../etc/passwd'}}
  - {Name: b, Action: 'ACS::ECS::CreateSnapshot', Properties: {diskId: d-1, encrypted: true}}
  - {Name: c, Action: 'ACS::Sleep', OnError: nowhere, Properties: {Duration: PT1S}}
"""
    with pytest.raises(ConversionError) as info:
        convert(content=bad)
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0] == ("TemplateName '../../etc/passwd' is not a template name (letters, digits, _, - and ::) "
                           "at Tasks[0] (a)")
    assert problems[1] == ("ACS::ECS::CreateSnapshot has no property encrypted (it takes: regionId, diskId, snapshotName, "
                           "retentionDays, tags) at Tasks[1] (b)")
    assert problems[2] == ("OnError 'nowhere' is not a task of this template (use a task name, ACS::NEXT or ACS::END) "
                           "at Tasks[2] (c)")


@pytest.mark.parametrize("task, delegated", [
    ({"Name": "repo", "Action": "ACS::GitCodeRepo",
      "Properties": {"Platform": "github", "Owner": "o", "Repository": "r"}}, "ACS::GitCodeRepo"),
    ({"Name": "pick", "Action": "ACS::SelectTargets",
      "Properties": {"ResourceType": "ALIYUN::SLB::LoadBalancer", "Filters": [{"Type": "All"}]}}, "ACS::SelectTargets"),
    ({"Name": "run", "Action": "ACS::Template", "Properties": {"TemplateName": "{{ which }}"}}, "ACS::Template"),
    ({"Name": "run", "Action": "ACS::Template", "Properties": {"TemplateName": "my-own-template"}},
     "ACS::Template my-own-template"),
    ({"Name": "put", "Action": "ACS::ExecuteAPI",
      "Properties": {"Service": "OSS", "API": "PutBucketAcl", "Method": "PUT", "URI": "?acl"}}, "ACS::ExecuteAPI"),
])
def test_constructs_the_playbook_cannot_run_are_delegated_to_oos_one_task_each(task, delegated):
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {"which": {"Type": "String", "Default": "x"}},
                "Tasks": [{"Name": "first", "Action": "ACS::Sleep", "Properties": {"Duration": "PT1S"}}, task]}
    result = convert(content=json.dumps(template))
    assert result.delegated == [("Tasks[1]", delegated)]
    text = result.playbook_yaml("t.yml")
    assert text.count("client_token:") == 1 and f"# Tasks[1] ({delegated}) is delegated" in text


def test_tasks_as_a_map_and_json_are_accepted():
    result = convert(content='{"FormatVersion": "OOS-2019-06-01", "Tasks": {"one": {"Action": "ACS::Sleep", '
                             '"Properties": {"Duration": "PT1S"}}}}')
    assert "one" in result.flowchart


def test_survey_and_flowchart():
    result = convert(content=TEMPLATE)
    spec = {q["variable"]: q for q in result.survey["spec"]}
    assert spec["targets"]["type"] == "textarea" and spec["targets"]["required"] is True
    assert spec["size"]["type"] == "integer" and spec["size"]["min"] == 1 and spec["size"]["default"] == "1"
    assert spec["mode"]["type"] == "multiplechoice" and spec["mode"]["choices"] == ["a", "b"]
    assert "t_reboot -.->|error| t_cleanup" in result.flowchart
    assert "t_describe --> finish" in result.flowchart
    assert result.playbook_yaml().startswith("# Generated by alicloud.oos.oos_template")


def test_unknown_baked_parameter_is_rejected():
    with pytest.raises(ConversionError, match="unknown parameter"):
        convert(content=TEMPLATE, parameters={"nope": 1})


DELEGATED = """
FormatVersion: OOS-2019-06-01
Parameters:
  disk: {Type: String}
Tasks:
  - Name: attach
    Action: ACS::ECS::AttachDisk
    Properties: {diskId: '{{ disk }}', instanceId: i-1}
  - Name: snap
    Action: ACS::ECS::CreateSnapshot
    Properties: {diskId: '{{ disk }}'}
"""


def test_unmapped_product_actions_are_delegated_to_oos_and_named_in_the_header(tmp_path):
    result = convert(content=DELEGATED)
    text = result.playbook_yaml("t.yml")
    assert result.delegated == [("Tasks[0]", "ACS::ECS::AttachDisk")]
    assert "# Tasks[0] (ACS::ECS::AttachDisk) is delegated: OOS runs it (alicloud.oos.oos_execution)" in text
    assert text.count("client_token:") == 1
    # CreateSnapshot is mapped: its steps are in the playbook, no execution is started for it.
    assert "CreateSnapshot" in text and "DescribeSnapshots" in text


def test_a_local_definition_is_inlined_instead_of_delegated(tmp_path):
    (tmp_path / "ACS::ECS::AttachDisk.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters: {diskId: {Type: String}, instanceId: {Type: String}}\n"
        "Tasks:\n  - {Name: call, Action: 'ACS::ExecuteAPI', Properties: {Service: ECS, API: AttachDisk, "
        "Parameters: {DiskId: '{{ diskId }}', InstanceId: '{{ instanceId }}'}}}\n")
    result = convert(content=DELEGATED, action_templates_path=str(tmp_path))
    assert result.delegated == []
    assert "alicloud.oos.oos_execution:" not in result.playbook_yaml("t.yml")


def test_a_looped_unmapped_product_action_is_delegated_with_its_loop():
    looped = """
FormatVersion: OOS-2019-06-01
Parameters: {ids: {Type: List}}
Tasks:
  - Name: attach
    Action: ACS::ECS::AttachDisk
    Properties: {diskId: '{{ ACS::TaskLoopItem }}', instanceId: i-1}
    Loop: {Items: '{{ ids }}', RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}}
"""
    result = convert(content=looped)
    text = result.playbook_yaml("t.yml")
    assert result.delegated == [("Tasks[0]", "ACS::ECS::AttachDisk")]
    assert text.count("client_token:") == 1 and len(result.plays) == 1   # OOS runs the loop


def test_an_acs_template_naming_a_product_action_not_found_locally_is_delegated_and_other_names_refused():
    named = """
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: clone
    Action: ACS::Template
    Properties: {TemplateName: 'ACS::ECS::CloneInstanceAcrossAZ', Parameters: {instanceId: i-1}}
"""
    result = convert(content=named)
    assert result.delegated == [("Tasks[0]", "ACS::Template ACS::ECS::CloneInstanceAcrossAZ")]
    assert "alicloud.oos.oos_execution:" in result.playbook_yaml("t.yml")
    # A template OOS knows by name (the account's own or public) and the folders do not hold: OOS runs it too.
    result = convert(content=named.replace("ACS::ECS::CloneInstanceAcrossAZ", "my-own-template"))
    assert result.delegated == [("Tasks[0]", "ACS::Template my-own-template")]
