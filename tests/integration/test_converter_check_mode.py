"""``--check`` of a converted playbook changes nothing and completes: tasks that did not run (a mutating call not
sent, a wait not polled, an execution OOS would run not started) leave the Outputs a task that did not run has,
never a failure (hidden by ``no_log`` when the template holds secrets).
"""
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import REPO_ROOT, SHARED, run_playbook
from tests.integration.test_converter_ecs_sample import ids, tags

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"
SENT_BY_A_RUN = ("StartExecution", "NotifyExecution")

# A delegated CreateImage (resourceGroupId: the native mapping does not pass it) whose output a native task uses;
# the NoEcho parameter makes the outputs step no_log, which hid the failure.
DELEGATED = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
  imageName: {Type: String, NoEcho: true}
Tasks:
  - Name: mkImage
    Action: ACS::ECS::CreateImage
    Properties: {instanceId: '{{ instanceId }}', imageName: '{{ imageName }}', resourceGroupId: rg-123}
    Outputs:
      imageId: {Type: String, ValueSelector: .imageId}
  - Name: tagIt
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: TagResources
      Parameters:
        RegionId: '{{ ACS::RegionId }}'
        ResourceType: image
        ResourceIds: ['{{ mkImage.imageId }}']
        Tags: [{Key: made, Value: check}]
Outputs:
  imageId: {Type: String, Value: '{{ mkImage.imageId }}'}
"""


def summaries(stdout: str) -> list:
    return [json.loads(m) for m in re.findall(r'TASK \[Show the template outputs\].*?"msg": (\{.*?\n    \})', stdout, re.S)]


@pytest.mark.heavy(20)
def test_a_delegated_task_under_check_completes_without_starting_anything(tmp_path, emulator):
    converted = convert(content=DELEGATED)
    assert converted.delegated
    playbook = tmp_path / "delegated.yml"
    playbook.write_text(converted.playbook_yaml("delegated"))
    instance = emulator.instances()[0]["InstanceId"]
    result = run_playbook(playbook, emulator.env, extra_vars={"instanceId": instance, "imageName": "secret-name"},
                          args=("--check",))
    assert result.rc == 0, result.output[-3000:]
    assert summaries(result.stdout) == [{"status": "Success", "outputs": {"imageId": None}}], result.stdout[-3000:]
    sent = [r["action"] for r in emulator.control("requests")]
    assert not set(SENT_BY_A_RUN + ("TagResources", "CreateImage")) & set(sent), sent
    assert emulator.control("mutations") == [] and "secret-name" not in result.output


# A mutating call not sent under --check answers nothing: an Output whose selector iterates (a jq `[]` over null
# fails) is empty, and the task reading it still runs.
ITERATING = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: snap
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: CreateSnapshot
      Parameters: {DiskId: d-none, SnapshotName: check}
    Outputs:
      ids: {Type: List, ValueSelector: '.Snapshots.Snapshot[].SnapshotId'}
      first: {Type: String, ValueSelector: '.Snapshots.Snapshot[0].SnapshotId'}
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {RegionId: '{{ ACS::RegionId }}', InstanceIds: '{{ snap.ids }}'}
Outputs:
  ids: {Type: List, Value: '{{ snap.ids }}'}
  first: {Type: String, Value: '{{ snap.first }}'}
"""


@pytest.mark.heavy(15)
def test_outputs_of_a_call_not_sent_are_empty_whatever_their_selector(tmp_path, emulator):
    playbook = tmp_path / "iterating.yml"
    playbook.write_text(convert(content=ITERATING).playbook_yaml("iterating"))
    result = run_playbook(playbook, emulator.env, extra_vars={"instanceId": "i-x"}, args=("--check",))
    assert result.rc == 0, result.output[-3000:]
    assert summaries(result.stdout) == [{"status": "Success", "outputs": {"ids": [], "first": None}}], result.stdout[-3000:]
    assert "CreateSnapshot" not in [r["action"] for r in emulator.control("requests")]


def shared_cases(fleet: dict, disk_id: str) -> list:
    """(template, parameters): every construct of a converted playbook, from the public templates."""
    web, db = fleet["web-dev-0001"], fleet["db-dev-0003"]
    return [
        ("ACS-ECS-BulkyStopInstances", {"targets": tags(App="web", Env="dev")}),  # native loop
        ("ACS-ECS-BulkyRebootInstances", {"targets": ids(web)}),
        ("ACS-ECS-RunShellScript", {"instanceId": web["InstanceId"], "workingDir": "/root",
                                    "commandContent": "echo hi"}),  # Cloud Assistant
        ("ACS-ECS-BulkyCreateSnapshot", {"diskIds": [disk_id]}),  # WaitFor after a change, in a looped product action
        ("ACS-ECS-CreateImage", {"instanceId": db["InstanceId"], "imageName": "check"}),  # delegated
        ("ACS-ECS-ApproveBulkyRunCommand", {"targets": ids(web), "commandContent": "echo hi", "webHookUrl": "",
                                            "atMobiles": [], "approvers": ["alice"]}),  # approval
        ("ACS-ECS-BulkyDeleteInstancesWithApproval", {"targets": ids(db), "accessToken": "x"}),
        ("ACS-ECS-ScheduleToStopAndStartInstances", {"dailyStopTime": "10:00:00Z", "dailyStartTime": "10:00:01Z",
                                                     "targets": ids(db)}),  # ACS::Sleep
    ]


@pytest.mark.heavy(60)
@pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/oos-templates absent")
def test_shared_templates_under_check_change_nothing_and_complete(tmp_path, emulator_factory):
    emulator = emulator_factory("--instances", "8", "--seed", "5", "--transition-seconds", "0.1")
    fleet = {i["InstanceName"]: i for i in emulator.instances()}
    disk_id = emulator.control(f"instances/{fleet['web-dev-0001']['InstanceId']}")["SystemDiskId"]
    index, names = ["---"], []
    for name, parameters in shared_cases(fleet, disk_id):
        converted = convert(str(PUBLIC / f"{name}.yml"), parameters=parameters, name=name)
        path = tmp_path / f"{len(names):02d}-{name}.yml"
        path.write_text(converted.playbook_yaml(name))
        index.append(f"- name: {name}\n  ansible.builtin.import_playbook: {path.name}")
        names.append(name)
    (tmp_path / "all.yml").write_text("\n".join(index) + "\n")
    before = {i["InstanceId"]: i["Status"] for i in emulator.instances()}
    run = run_playbook(tmp_path / "all.yml", emulator.env, args=("--check",), timeout=900,
                       extra_vars={"oos_approval_decision": "approve", "oos_approval_approved_by": ["alice"]})
    assert run.rc == 0, run.output[-4000:]
    assert [s["status"] for s in summaries(run.stdout)] == ["Success"] * len(names), names
    assert emulator.control("mutations") == []
    assert {i["InstanceId"]: i["Status"] for i in emulator.instances()} == before
    sent = [r["action"] for r in emulator.control("requests")]
    assert not set(SENT_BY_A_RUN) & set(sent), sent
    assert emulator.control("invocations") == []   # no script ran


CORE = REPO_ROOT / "tests" / "integration" / "core_templates"


@pytest.mark.heavy(40)
def test_run_instances_a_looped_command_and_a_trigger_under_check_change_nothing(tmp_path, emulator):
    """The natural writer's RunInstances (the request not sent, the wait not polled: no ids), a Loop of RunCommand
    through alicloud.oos.oos_loop_item, and trigger Outputs read from -e oos_trigger_event."""
    instances = [i["InstanceId"] for i in emulator.instances()]
    cases = [
        (CORE / "run-instances.yml", {"imageId": "img-base", "instanceType": "ecs.g6.large",
                                      "securityGroupId": "sg-check", "vSwitchId": "vsw-check"}, {"launched": 0}),
        (CORE / "command-items.yml", {"items": [{"instanceId": instances[0], "word": "one"}],
                                      "rateControl": {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 1}},
         {"greetings": [""]}),
    ]
    if PUBLIC.is_dir():
        cases.append((PUBLIC / "ACS-ECS-AutoStartECSWhenStoppedByTags.yml", {"tags": {"App": "web"}},
                      {"instanceId": instances[1]}))
    before = {i["InstanceId"]: i["Status"] for i in emulator.instances()}
    for path, parameters, outputs in cases:
        converted = convert(str(path))
        assert not converted.handed_over, path.name
        playbook = tmp_path / f"{path.stem}.yml"
        playbook.write_text(converted.playbook_yaml(path.stem))
        run = run_playbook(playbook, emulator.env, args=("--check",), extra_vars=dict(
            parameters, oos_trigger_event={"content": {"resourceId": instances[1]}}))
        assert run.rc == 0, run.output[-4000:]
        assert summaries(run.stdout) == [{"status": "Success", "outputs": outputs}], (path.name, run.stdout[-3000:])
    assert emulator.control("mutations") == [] and emulator.control("invocations") == []
    assert {i["InstanceId"]: i["Status"] for i in emulator.instances()} == before
