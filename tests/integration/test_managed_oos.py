"""Managed OOS (issue #9): oos_template, oos_execution and oos_execution_info against the emulator's OOS engine,
run with ansible-playbook as a user would."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.converter import seeds

HERE = Path(__file__).resolve().parent / "managed_oos"


@pytest.fixture
def oos_emulator(emulator_factory):
    return emulator_factory("--instances", "20", "--seed", "1", "--transition-seconds", "0.2")


def running_instance(emu) -> str:
    return next(i["InstanceId"] for i in emu.instances() if i["Status"] == "Running")


def root_executions(emu, template_name=None) -> list:
    return [e for e in emu.control("executions") if not e.get("ParentExecutionId")
            and (template_name is None or e.get("TemplateName") == template_name)]


def test_publish_update_run_and_retry(oos_emulator, playbook):
    result = playbook(HERE / "lifecycle.yml", oos_emulator.env)
    assert result.rc == 0, result.output
    r = result.results

    assert r["predicted"]["changed"] is True and r["predicted"]["created"] is True
    assert "selectInstances" in r["predicted"]["diff"]["after"] and r["predicted"]["diff"]["before"] == ""
    assert oos_emulator.stats()["calls"].get("CreateTemplate", 0) == 1  # only the real run created it

    assert r["v1"]["changed"] is True and r["v1"]["template_version"] == "v1" and r["v1"]["template_id"]
    assert r["unchanged"]["changed"] is False and r["unchanged"]["template_version"] == "v1"
    assert r["v2"]["changed"] is True and r["v2"]["template_version"] == "v2"
    assert "stoppedCount" in r["v2"]["diff"]["after"] and "stoppedCount" not in r["v2"]["diff"]["before"]
    assert r["v2"]["hash"] and r["v2"]["hash"] != r["v1"]["hash"]

    run = r["run"]
    expected = sorted(i["InstanceId"] for i in oos_emulator.instances() if i["Tags"].get("App") == "db")
    assert run["changed"] is True and run["status"] == "Success", run
    assert sorted(run["outputs"]["stoppedInstanceIds"]) == expected
    assert run["outputs"]["stoppedCount"] == len(expected)
    assert [(t["task_name"], t["status"]) for t in run["task_executions"]] == [
        ("selectInstances", "Success"), ("stopInstances", "Success"), ("waitStopped", "Success")]
    statuses = {i["InstanceId"]: i["Status"] for i in oos_emulator.instances()}
    assert all(statuses[i] == "Stopped" for i in expected)
    assert all(s == "Running" for i, s in statuses.items() if i not in expected)

    retried = r["retried"]
    assert retried["execution_id"] == run["execution_id"] and retried["changed"] is False
    assert len(root_executions(oos_emulator, "stop-tagged")) == 1

    listed = r["listed"]["executions"]
    assert [e["execution_id"] for e in listed] == [run["execution_id"]]
    shown = r["shown"]["executions"][0]
    assert shown["status"] == "Success" and len(shown["task_executions"]) == 3
    assert any("waitStopped" in entry["message"] for entry in shown["logs"])


def test_approval_then_rejection(oos_emulator, playbook):
    instance_id = running_instance(oos_emulator)
    result = playbook(HERE / "approval.yml", oos_emulator.env, extra_vars={"instance_id": instance_id})
    assert result.rc == 0, result.output
    r = result.results

    assert r["pending"]["status"] == "Waiting"
    assert r["pending"]["task_executions"][0]["status"] == "Waiting"
    assert r["not_matching"]["changed"] is False and r["not_matching"]["status"] == "Waiting"
    approved = r["approved"]
    assert approved["changed"] is True and approved["status"] == "Success"
    assert approved["outputs"] == {"rebooted": instance_id}
    assert approved["task_executions"][1]["task_name"] == "rebootInstance"
    assert oos_emulator.stats()["calls"].get("NotifyExecution") == 2

    assert r["second"]["execution_id"] != r["pending"]["execution_id"]
    assert r["rejected"]["changed"] is True and r["rejected"]["status"] == "Cancelled"
    assert [t["status"] for t in r["rejected"]["task_executions"]] == ["Cancelled"]
    assert r["rejected_again"]["changed"] is False


def test_failing_template_and_bad_content(oos_emulator, playbook):
    instance_id = running_instance(oos_emulator)
    result = playbook(HERE / "failures.yml", oos_emulator.env, extra_vars={"instance_id": instance_id})
    assert result.rc == 0, result.output
    assert "Traceback" not in result.output
    r = result.results

    failed = r["failed_run"]
    assert failed["failed"] is True and failed["status"] == "Failed"
    assert "startRunningInstance" in failed["msg"] and "IncorrectInstanceStatus" in failed["msg"], failed["msg"]
    assert failed["failed_task"]["task_name"] == "startRunningInstance"
    assert [t["status"] for t in failed["task_executions"]] == ["Success", "Failed"]

    invalid = r["invalid"]
    assert invalid["failed"] is True
    assert "ValidateTemplateContent" in invalid["msg"] and "Tasks[1]" in invalid["msg"], invalid["msg"]
    assert r["not_yaml"]["failed"] is True and "neither valid JSON nor valid YAML" in r["not_yaml"]["msg"]
    assert r["absent_check"]["changed"] is False  # nothing was created
    assert oos_emulator.stats()["calls"].get("CreateTemplate", 0) == 0


def fleet_network(emu) -> dict:
    """Security group and vSwitch of the first instance (read with the collection's client), for templates that
    launch instances."""
    if str(REPO_ROOT / ".collections") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / ".collections"))
    from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth
    from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient

    client = AlicloudClient(resolve_auth({}, emu.env), "ecs", region=emu.region, endpoint=emu.url)
    instance = client.call("DescribeInstances", {"RegionId": emu.region})["Instances"]["Instance"][0]
    return {"baseImageId": "aliyun_3_x64_20G_alibase_20240101.vhd", "instanceType": "ecs.g6.large",
            "securityGroupId": instance["SecurityGroupIds"]["SecurityGroupId"][0],
            "vSwitchId": instance["VpcAttributes"]["VSwitchId"]}


def test_product_actions_run_without_action_templates(oos_emulator, playbook):
    """The emulator as a user starts it (no --action-templates) runs ACS::ECS::* product actions itself."""
    fleet = {i["InstanceId"] for i in oos_emulator.instances()}
    target = sorted(fleet)[0]
    result = playbook(HERE / "product_actions.yml", oos_emulator.env,
                      extra_vars={"network": fleet_network(oos_emulator), "snapshot_instance": target})
    assert result.rc == 0, result.output[-3000:]
    r = result.results

    baked = r["baked"]
    assert baked["status"] == "Success", baked.get("msg")
    assert baked["outputs"]["patchLog"] == "patched\nLinux\n"
    images = {i["ImageId"]: i for i in oos_emulator.control("images")}
    assert images[baked["outputs"]["imageId"]]["ImageName"] == "baked-by-test"
    assert images[baked["outputs"]["imageId"]]["Status"] == "Available"
    assert [(t["task_name"], t["status"]) for t in baked["task_executions"]] == [
        ("imageNameIsFree", "Success"), ("launchBuilder", "Success"), ("ensureAgent", "Success"),
        ("applyPatch", "Success"), ("stopBuilder", "Success"), ("bakeImage", "Success"), ("releaseBuilder", "Success")]
    children = [e for e in oos_emulator.control("executions") if e.get("ParentExecutionId") == baked["execution_id"]]
    assert sorted(e["TemplateName"] for e in children) == sorted([
        "ACS::ECS::RunInstances", "ACS::ECS::InstallCloudAssistant", "ACS::ECS::RunCommand",
        "ACS::ECS::StopInstance", "ACS::ECS::CreateImage"])
    assert all(e["Status"] == "Success" for e in children)

    broken = r["broken"]
    assert broken["status"] == "Failed"
    assert "task applyPatch (ACS::ECS::RunCommand) failed" in broken["msg"], broken["msg"]
    # The OnError jump ran the cleanup task, skipping the image steps; the execution still ends Failed.
    assert [(t["task_name"], t["status"]) for t in broken["task_executions"]][-2:] == [
        ("applyPatch", "Failed"), ("releaseBuilder", "Success")]
    assert not [i for i in images.values() if i["ImageName"] == "never-baked"]
    # Both builders were released: the fleet is what it was.
    assert {i["InstanceId"] for i in oos_emulator.instances()} == fleet

    snapshot = r["snapshot"]
    assert snapshot["status"] == "Success", snapshot.get("msg")
    snapshots = {s["SnapshotId"]: s for s in oos_emulator.control("snapshots")}
    assert snapshots[snapshot["outputs"]["snapshotId"]]["SnapshotName"].startswith("nightly-exec-")
    tags = next(i["Tags"] for i in oos_emulator.instances() if i["InstanceId"] == target)
    assert tags["last-snapshot"] == snapshot["outputs"]["snapshotId"]


@pytest.mark.skipif(seeds.seed_path("004") is None, reason="../shared/seeds absent: seed 004 not run")
def test_seed_update_image_runs_without_action_templates(oos_emulator, playbook, tmp_path):
    """ACS-ECS-UpdateImage (seed 004) as published, on the emulator a user starts: no --action-templates."""
    source = tmp_path / "update-image.yml"
    source.write_text(seeds.update_image_template())
    network = fleet_network(oos_emulator)
    parameters = {"sourceImageId": network["baseImageId"], "instanceType": network["instanceType"],
                  "securityGroupId": network["securityGroupId"], "vSwitchId": network["vSwitchId"],
                  "commandContent": "echo updated", "commandType": "RunShellScript", "targetImageName": "seed-image"}
    fleet = {i["InstanceId"] for i in oos_emulator.instances()}
    result = playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_execution:
                template_content: "{{ lookup('ansible.builtin.file', source) }}"
                parameters: "{{ oos_parameters }}"
                poll_interval: 0.2
                wait_timeout: 180
              register: run
            - ansible.builtin.copy:
                dest: "{{ results_file }}"
                content: "{{ run | to_json }}"
                mode: "0600"
        """, oos_emulator.env, extra_vars={"source": str(source), "oos_parameters": parameters})
    assert result.rc == 0, result.output[-3000:]
    run = result.results
    assert run["status"] == "Success", run.get("msg")
    image = next(i for i in oos_emulator.control("images") if i["ImageId"] == run["outputs"]["imageId"])
    assert (image["ImageName"], image["Status"]) == ("seed-image", "Available")
    assert {i["InstanceId"] for i in oos_emulator.instances()} == fleet     # the temporary instance was deleted
