"""Managed OOS (issue #9): oos_template, oos_execution and oos_execution_info against the emulator's OOS engine,
run with ansible-playbook as a user would."""
from __future__ import annotations

from pathlib import Path

import pytest

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
