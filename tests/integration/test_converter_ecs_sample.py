"""A sample of public ECS templates (../shared, skipped when absent), converted and run end to end.

Each template is converted with its parameters baked in (the lookup's ``parameters=``); one
ansible-playbook process imports them all in order (one start-up instead of twenty), against one
emulator with a small fleet and fast transitions. Every template must end Success, and the emulator
state must have changed as each template says.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import SHARED, run_playbook

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"
ACTIONS = SHARED / "oos-templates" / "CloudProductActions"


def ids(*instances) -> dict:
    return {"Type": "ResourceIds", "ResourceIds": [i["InstanceId"] for i in instances]}


def tags(**pairs) -> dict:
    return {"Type": "Tags", "Tags": [{"Key": k, "Value": v} for k, v in pairs.items()]}


def sample(fleet: dict, disk_id: str) -> list:
    """(template, parameters, extra vars) in run order; instance names are the emulator's seeded fleet."""
    f = fleet
    return [
        ("ACS-ECS-BulkyStopInstances", {"targets": tags(App="db", Env="dev")}, {}),            # 0003, 0007 stop
        ("ACS-ECS-BulkyStartInstances", {"targets": ids(f["db-dev-0003"])}, {}),               # 0003 back
        # Only classic-network instances: the fleet is VPC, so the loop has no items and nothing stops.
        ("ACS-ECS-BulkyStopClassicInstances", {"targets": ids(f["web-prod-0006"])}, {}),
        ("ACS-ECS-ScheduleToStopInstances", {"targets": ids(f["db-prod-0008"]), "endDate": "2099-01-01T00:00:00Z"}, {}),
        ("ACS-ECS-ScheduleToStartInstances", {"targets": ids(f["db-prod-0008"]), "endDate": "2099-01-01T00:00:00Z"}, {}),
        ("ACS-ECS-BulkyRebootInstances", {"targets": tags(App="web", Env="dev")}, {}),
        ("ACS-ECS-ScheduleToRebootInstances", {"targets": ids(f["web-prod-0002"]), "endDate": "2099-01-01T00:00:00Z"}, {}),
        ("ACS-ECS-ScheduleToRebootInstancesWithSLR", {"targets": ids(f["db-prod-0004"]), "timerTrigger": {
            "type": "cron", "expression": "0 0 12 ? * *", "timeZone": "UTC", "endDate": "2099-01-01T00:00:00Z"}}, {}),
        ("ACS-ECS-BulkyRunCommand", {"targets": tags(App="web", Env="dev"), "commandContent": "echo bulky > bulky.txt"}, {}),
        ("ACS-ECS-RunShellScript", {"instanceId": f["web-dev-0001"]["InstanceId"], "workingDir": "/root",
                                    "commandContent": "echo shell > shell.txt"}, {}),
        ("ACS-ECS-BulkyRunCommandAcrossRegions", {"instanceInfos": [
            {"regionId": "cn-hangzhou", "instanceId": f["web-prod-0002"]["InstanceId"]}],
            "commandContent": "echo across > across.txt"}, {}),
        ("ACS-ECS-BulkyTagInstanceByRunCommandResult", {"targets": tags(App="web", Env="dev"), "tagKey": "role",
                                                        "commandContent": "echo frontend"}, {}),
        ("ACS-ECS-BulkyTagInstanceByLinuxKernelVersion", {"targets": ids(f["db-dev-0003"])}, {}),
        ("ACS-ECS-BulkyDescribeDisks", {"targets": tags(App="web", Env="dev")}, {}),
        ("ACS-ECS-BulkyCreateSnapshot", {"diskIds": [disk_id]}, {}),
        ("ACS-ECS-InheritDiskTagToSnapshot", {"tagKeys": ["App"], "OOSAssumeRole": ""}, {}),
        ("ACS-ECS-CreateImage", {"instanceId": f["db-dev-0003"]["InstanceId"], "imageName": "sample-image"}, {}),
        ("ACS-ECS-BulkyDeleteExpiredImage", {"expiredDays": 1}, {}),
        ("ACS-ECS-AutoStartECSWhenStoppedByTags", {}, {
            "oos_trigger_event": {"content": {"resourceId": f["db-dev-0007"]["InstanceId"], "state": "Stopped"}}}),
        ("ACS-ECS-RebootInstanceAtHighCpuByTags", {"threshold": 80}, {
            "oos_trigger_event": {"instanceId": f["web-dev-0005"]["InstanceId"], "metricName": "cpu_total"}}),
    ]


@pytest.mark.heavy(60)
@pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/oos-templates absent: ECS sample skipped")
def test_sample_of_public_ecs_templates_runs_end_to_end(tmp_path, emulator_factory):
    emulator = emulator_factory("--instances", "8", "--seed", "5", "--transition-seconds", "0.1")
    fleet = {i["InstanceName"]: i for i in emulator.instances()}
    disk_id = emulator.control(f"instances/{fleet['web-dev-0001']['InstanceId']}")["SystemDiskId"]
    cases = sample(fleet, disk_id)
    assert len(cases) >= 20
    index = ["---"]
    for position, (name, parameters, extra) in enumerate(cases):
        result = convert(str(PUBLIC / f"{name}.yml"), action_templates_path=str(ACTIONS), parameters=parameters,
                         name=f"{name}")
        path = tmp_path / f"{position:02d}-{name}.yml"
        path.write_text(result.playbook_yaml(name))
        index.append(f"- name: Run {name}\n  ansible.builtin.import_playbook: {path.name}")
        if extra:
            index.append("  vars: " + json.dumps(extra))
    (tmp_path / "sample.yml").write_text("\n".join(index) + "\n")

    run = run_playbook(tmp_path / "sample.yml", emulator.env, timeout=900)
    (tmp_path / "run.log").write_text(run.output)
    summaries = [json.loads(m) for m in re.findall(r'TASK \[Show the template outputs\].*?"msg": (\{.*?\n    \})',
                                                   run.stdout, re.S)]
    assert run.rc == 0, run.output[-4000:]
    assert [s["status"] for s in summaries] == ["Success"] * len(cases)
    outputs = dict(zip([c[0] for c in cases], [s["outputs"] for s in summaries]))

    state = {i["InstanceName"]: i for i in emulator.instances()}
    calls = emulator.stats()["calls"]
    # Power: stopped and not restarted stays stopped; restarted ones run again.
    for name in ("db-dev-0003", "db-prod-0008", "db-dev-0007", "web-dev-0001", "web-dev-0005", "web-prod-0006"):
        assert state[name]["Status"] == "Running", name
    # One batched call per template wave: stop db-dev and 0008; start 0003, 0008 and (event) 0007;
    # reboot web-dev, 0002, 0004 and (alarm) 0005. The classic-only stop found nothing to stop.
    assert calls.get("StopInstances", 0) + calls.get("StopInstance", 0) == 2
    assert calls.get("StartInstances", 0) + calls.get("StartInstance", 0) == 3
    assert calls.get("RebootInstances", 0) + calls.get("RebootInstance", 0) == 4
    # Cloud Assistant scripts really ran, in each instance's own home.

    def home(name):
        return Path(emulator.control(f"instances/{fleet[name]['InstanceId']}")["FileRoot"]) / "root"
    assert (home("web-dev-0001") / "bulky.txt").read_text() == "bulky\n"
    assert (home("web-dev-0005") / "bulky.txt").read_text() == "bulky\n"
    assert (home("web-dev-0001") / "shell.txt").read_text() == "shell\n"
    assert (home("web-prod-0002") / "across.txt").read_text() == "across\n"
    # Tags written from command output and from the kernel version.
    # The tag value is the command output as OOS passes it (invocationOutput, trailing newline included).
    assert state["web-dev-0001"]["Tags"].get("role") == "frontend\n" == state["web-dev-0005"]["Tags"].get("role")
    assert state["db-dev-0003"]["Tags"].get("KernelVersion")
    # Disks described, a snapshot and an image created; the new image is not expired, so it stays.
    assert {d["DiskId"] for d in outputs["ACS-ECS-BulkyDescribeDisks"]["diskInfos"]} >= {disk_id}
    assert [s for s in emulator.control("snapshots") if s.get("SourceDiskId") == disk_id]
    # The action names the image after the execution: <imageName>__on_<execution id>_at_<date>.
    images = [i for i in emulator.control("images") if i.get("ImageName", "").startswith("sample-image__on_exec-")]
    assert len(images) == 1 and outputs["ACS-ECS-CreateImage"]["imageId"] == images[0]["ImageId"], emulator.control("images")
    assert outputs["ACS-ECS-BulkyDeleteExpiredImage"]["deletedImageIds"] == []
    # Event and alarm triggers: the body ran once for the event passed in.
    assert outputs["ACS-ECS-AutoStartECSWhenStoppedByTags"]["instanceId"] == fleet["db-dev-0007"]["InstanceId"]


@pytest.mark.heavy(40)
@pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/oos-templates absent")
@pytest.mark.parametrize("name, first, then", [
    ("ACS-ECS-ScheduleToStopAndStartInstances", "StopInstance", "Running"),
    ("ACS-ECS-ScheduleToStartAndStopInstances", "StartInstance", "Stopped"),
])
def test_schedule_templates_sleep_between_their_two_times_and_finish(tmp_path, emulator_factory, name, first, then):
    """Fn::DurationBetween feeds ACS::Sleep: the instances were left half way (stopped, or running) before. The
    playbook pauses for the computed Duration (``oos_duration_seconds``)."""
    emulator = emulator_factory("--instances", "2", "--seed", "5", "--transition-seconds", "0.1")
    fleet = emulator.instances()
    if first == "StartInstance":
        for instance in fleet:
            emulator.control(f"instances/{instance['InstanceId']}/status", {"Status": "Stopped"}, method="POST")
    times = {"dailyStopTime": "10:00:00Z", "dailyStartTime": "10:00:02Z"} if first == "StopInstance" else \
        {"dailyStartTime": "10:00:00Z", "dailyStopTime": "10:00:02Z"}
    parameters = dict(times, targets={"Type": "ResourceIds", "RegionId": "cn-hangzhou",
                                      "ResourceIds": [i["InstanceId"] for i in fleet]})
    path = tmp_path / "schedule.yml"
    result = convert(str(PUBLIC / f"{name}.yml"), parameters=parameters, name=name)
    path.write_text(result.playbook_yaml(name))
    run = run_playbook(path, emulator.env, timeout=600)
    assert run.rc == 0, run.output[-4000:]
    assert {i["Status"] for i in emulator.instances()} == {then}
    done = [m["action"] for m in emulator.control("mutations")]
    assert done.count("StopInstance") + done.count("StopInstances") >= 1
    assert done.count("StartInstance") + done.count("StartInstances") >= 1
