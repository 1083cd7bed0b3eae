"""The ECS product actions the reference engine runs itself (``oos_engine/product_actions.py``).

Each scenario runs one product action as an OOS execution in an in-process emulator (its real ECS, Cloud
Assistant and OOS handlers, no HTTP), with no ``--action-templates``, and checks its status, outputs, the API
calls it made and the state it left. When ``../shared`` holds the actions' OOS definitions, the same scenario is
also run from the definitions (``--action-templates``), and both runs must agree: status, outputs, the sequence
of API calls with their parameters, the child's task names, and the final instance, image and snapshot state.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.emulator.oos_engine.product_actions import NATIVE_NAMES
from tests.emulator.server import Emulator

ACTIONS = SHARED / "oos-templates" / "CloudProductActions"
OOS, ECS = "2019-06-01", "2014-05-26"
REGION = "cn-hangzhou"
IMAGE = "aliyun_3_x64_20G_alibase_20240101.vhd"
GENERATED_ID = re.compile(r"\b(?:exec|task-exec|t|c|m|s|d|i|sg|vsw|vpc|rg)-[0-9a-z]{8,}\b")


@dataclass
class Run:
    status: str
    message: str
    outputs: dict
    calls: list                    # (action, parameters) in order, consecutive repeats (polls) collapsed
    child_tasks: list              # (task name, status) of the child execution, Choice tasks left out
    state: dict
    raw_calls: list = field(default_factory=list)


class Cloud:
    """An in-process emulator whose engine's API calls are recorded."""

    def __init__(self, action_templates: Path | None = None):
        self.emulator = Emulator(instances=4, seed=11, transition_seconds=0.05, workers=4,
                                 action_templates=str(action_templates) if action_templates else None)
        self.api = self.emulator.call
        self.calls: list = []

        def recording(version, action, params, **options):
            self.calls.append((action, dict(params)))
            return self.api(version, action, params, **options)

        self.emulator.call = recording
        self.ids = sorted(self.emulator.world.instances)

    def close(self):
        self.emulator.close()

    def instance(self, number: int):
        return self.emulator.world.instances[self.ids[number]]

    def ecs(self, action: str, **params) -> dict:
        return self.api(ECS, action, {"RegionId": REGION, **params})

    def run(self, action: str, properties: dict, outputs: dict | None = None, timeout: float = 30) -> Run:
        task = {"Name": "act", "Action": action, "Properties": properties}
        document = {"FormatVersion": "OOS-2019-06-01", "Tasks": [task]}
        if outputs:
            task["Outputs"] = {name: {"Type": kind, "ValueSelector": name} for name, kind in outputs.items()}
            document["Outputs"] = {name: {"Type": kind, "Value": "{{ act.%s }}" % name} for name, kind in outputs.items()}
        self.calls.clear()
        execution_id = self.api(OOS, "StartExecution", {
            "RegionId": REGION, "TemplateContent": json.dumps(document), "SafetyCheck": "Skip"})["Execution"]["ExecutionId"]
        deadline = time.monotonic() + timeout
        while True:
            execution = self.api(OOS, "ListExecutions", {"RegionId": REGION, "ExecutionId": execution_id})["Executions"][0]
            if execution["Status"] in ("Success", "Failed", "Cancelled"):
                break
            assert time.monotonic() < deadline, f"{action} still {execution['Status']}"
            time.sleep(0.02)
        children = self.api(OOS, "ListExecutions", {"RegionId": REGION, "ParentExecutionId": execution_id})["Executions"]
        tasks = []
        for child in children:
            listed = self.api(OOS, "ListTaskExecutions", {"RegionId": REGION, "ExecutionId": child["ExecutionId"],
                                                          "MaxResults": 100})["TaskExecutions"]
            tasks += [(t["TaskName"], t["Status"]) for t in sorted(listed, key=lambda t: t["TaskExecutionId"])
                      if t["TaskAction"] != "ACS::Choice"]
        collapsed = [call for index, call in enumerate(self.calls) if index == 0 or call != self.calls[index - 1]]
        world = self.emulator.world
        state = {"instances": sorted((i.id, i.status(), i.agent_installed) for i in world.instances.values()),
                 "images": sorted((i.name, i.status()) for i in world.images.values() if i.owner != "system"),
                 "snapshots": sorted((s.name, s.disk_id) for s in world.snapshots.values())}
        return Run(execution["Status"], execution["StatusMessage"], json.loads(execution["Outputs"]), collapsed,
                   _dedupe(tasks), state, list(self.calls))


def _dedupe(items: list) -> list:
    return [item for index, item in enumerate(items) if index == 0 or item != items[index - 1]]


def masked(value):
    """Generated ids replaced by their order of first appearance: the same shape compares equal."""
    seen: dict[str, str] = {}

    def name(match):
        return seen.setdefault(match.group(0), f"<{match.group(0).split('-')[0]}{len(seen) + 1}>")

    return json.loads(GENERATED_ID.sub(name, json.dumps(value, sort_keys=True)))


# ------------------------------------------------------------------ scenarios: (setup, action, properties, outputs)

def stopped(cloud, number):
    cloud.instance(number).force("Stopped")


def agent_missing(cloud, number):
    cloud.instance(number).agent_installed = False


def parameter_command(cloud) -> str:
    return cloud.ecs("CreateCommand", Name="greet", Type="RunShellScript", EnableParameter="true",
                     CommandContent="ZWNobyBoZWxsbyB7e3dob319")["CommandId"]   # echo hello {{who}}


def system_disk(cloud, number) -> str:
    return cloud.ecs("DescribeDisks", InstanceId=cloud.ids[number])["Disks"]["Disk"][0]["DiskId"]


def network(cloud) -> dict:
    instance = cloud.instance(0)
    return {"securityGroupId": instance.security_group_ids[0], "vSwitchId": instance.vswitch_id}


SCENARIOS = {
    "stop-running": (None, "ACS::ECS::StopInstance", lambda c: {"instanceId": c.ids[0]}, None),
    "stop-already-stopped": (lambda c: stopped(c, 0), "ACS::ECS::StopInstance", lambda c: {"instanceId": c.ids[0]},
                             None),
    "stop-forced-stop-charging": (None, "ACS::ECS::StopInstance", lambda c: {
        "instanceId": c.ids[1], "stoppedMode": "StopCharging", "forceStop": True}, None),
    "stop-unknown-instance": (None, "ACS::ECS::StopInstance", lambda c: {"instanceId": "i-bp1nothere000000000"},
                              None),
    "start-stopped": (lambda c: stopped(c, 2), "ACS::ECS::StartInstance", lambda c: {"instanceId": c.ids[2]}, None),
    "start-already-running": (None, "ACS::ECS::StartInstance", lambda c: {"instanceId": c.ids[2]}, None),
    "reboot": (None, "ACS::ECS::RebootInstance", lambda c: {"instanceId": c.ids[3], "forceStop": True}, None),
    "run-command": (None, "ACS::ECS::RunCommand", lambda c: {
        "instanceId": c.ids[0], "commandType": "RunShellScript", "commandContent": "echo out; basename \"$(pwd)\"",
        "workingDir": "/tmp", "timeout": 60}, {"invocationOutput": "String"}),
    "run-command-exit-code": (None, "ACS::ECS::RunCommand", lambda c: {
        "instanceId": c.ids[0], "commandType": "RunShellScript", "commandContent": "echo broken; exit 3"},
        {"invocationOutput": "String"}),
    "run-command-parameters": (None, "ACS::ECS::RunCommand", lambda c: {
        "instanceId": c.ids[1], "commandType": "RunPythonScript", "commandContent": "echo {{who}}",
        "enableParameter": True, "parameters": {"who": "world"}}, {"invocationOutput": "String"}),
    "run-command-bad-type": (None, "ACS::ECS::RunCommand", lambda c: {
        "instanceId": c.ids[1], "commandType": "RunRubyScript", "commandContent": "echo"}, None),
    "run-command-on-stopped": (lambda c: stopped(c, 1), "ACS::ECS::RunCommand", lambda c: {
        "instanceId": c.ids[1], "commandType": "RunShellScript", "commandContent": "echo"}, None),
    "invoke-command": (None, "ACS::ECS::InvokeCommand", lambda c: {
        "instanceId": c.ids[2], "commandId": parameter_command(c), "parameters": {"who": "oos"}},
        {"invocationOutput": "String"}),
    "create-image": (lambda c: stopped(c, 0), "ACS::ECS::CreateImage", lambda c: {
        "instanceId": c.ids[0], "imageName": "native-image", "imageDescription": "from a test",
        "tags": [{"Key": "team", "Value": "ops"}]}, {"imageId": "String"}),
    "create-image-missing-instance": (None, "ACS::ECS::CreateImage", lambda c: {
        "instanceId": "i-bp1nothere000000000", "imageName": "nothing"}, {"imageId": "String"}),
    "create-snapshot": (None, "ACS::ECS::CreateSnapshot", lambda c: {
        "diskId": system_disk(c, 1), "snapshotName": "native-snapshot", "retentionDays": "7"},
        {"snapshotId": "String"}),
    "create-snapshot-missing-disk": (None, "ACS::ECS::CreateSnapshot", lambda c: {"diskId": "d-bp1nothere00000000"},
                                     {"snapshotId": "String"}),
    "delete-stopped": (lambda c: stopped(c, 3), "ACS::ECS::DeleteInstance", lambda c: {"instanceId": c.ids[3]}, None),
    "delete-running-refused": (None, "ACS::ECS::DeleteInstance", lambda c: {"instanceId": c.ids[3]}, None),
    "run-instances": (None, "ACS::ECS::RunInstances", lambda c: {
        "imageId": IMAGE, "instanceType": "ecs.g6.large", "amount": 2, "instanceName": "native-run",
        "tags": [{"Key": "made-by", "Value": "test"}], **network(c)}, {"instanceIds": "List"}),
    "run-instances-bad-period": (None, "ACS::ECS::RunInstances", lambda c: {
        "imageId": IMAGE, "instanceType": "ecs.g6.large", "instanceChargeType": "PrePaid", "period": 10,
        **network(c)}, None),
    "install-cloud-assistant-present": (None, "ACS::ECS::InstallCloudAssistant", lambda c: {"instanceId": c.ids[0]},
                                        None),
    "install-cloud-assistant-missing": (lambda c: agent_missing(c, 1), "ACS::ECS::InstallCloudAssistant",
                                        lambda c: {"instanceId": c.ids[1]}, None),
    "missing-property": (None, "ACS::ECS::StopInstance", lambda c: {"regionId": REGION}, None),
    "unknown-property": (None, "ACS::ECS::RebootInstance", lambda c: {"instanceId": c.ids[0], "force": True}, None),
}


def run_scenario(name: str, action_templates: Path | None = None) -> Run:
    setup, action, properties, outputs = SCENARIOS[name]
    cloud = Cloud(action_templates)
    try:
        if setup:
            setup(cloud)
        return cloud.run(action, properties(cloud), outputs)
    finally:
        cloud.close()


def actions_called(run: Run) -> list:
    return [action for action, _unused in run.calls]


# ------------------------------------------------------------------ what each action does, natively

def test_every_native_action_has_a_scenario():
    assert {action for _unused, action, _unused, _unused in SCENARIOS.values()} == set(NATIVE_NAMES)


def test_stop_checks_status_stops_and_waits():
    run = run_scenario("stop-running")
    assert run.status == "Success", run.message
    assert actions_called(run) == ["DescribeInstances", "StopInstance", "DescribeInstances"]
    assert run.calls[1][1] == {"RegionId": REGION, "InstanceId": run.calls[1][1]["InstanceId"], "Hibernate": "false",
                               "ForceStop": "false"}      # the empty stoppedMode is not sent
    assert run.child_tasks == [("getInstanceStatus", "Success"), ("stopInstance", "Success"),
                               ("untilInstanceReady", "Success")]
    stopped_id = run.calls[1][1]["InstanceId"]
    assert {i: status for i, status, _unused in run.state["instances"]} == {
        i: "Stopped" if i == stopped_id else "Running" for i, _unused, _unused in run.state["instances"]}


def test_stop_of_a_stopped_instance_changes_nothing():
    run = run_scenario("stop-already-stopped")
    assert run.status == "Success" and actions_called(run) == ["DescribeInstances"]


def test_stop_sends_its_options():
    run = run_scenario("stop-forced-stop-charging")
    assert run.status == "Success", run.message
    stop = dict(run.calls)["StopInstance"]
    assert (stop["StoppedMode"], stop["ForceStop"]) == ("StopCharging", "true")


def test_stop_of_an_unknown_instance_fails_with_the_api_error():
    run = run_scenario("stop-unknown-instance")
    assert run.status == "Failed" and "InvalidInstanceId.NotFound" in run.message


def test_start_and_reboot_wait_for_running():
    started = run_scenario("start-stopped")
    assert started.status == "Success" and actions_called(started) == [
        "DescribeInstances", "StartInstance", "DescribeInstances"]
    assert all(status == "Running" for _unused, status, _unused in started.state["instances"])
    assert actions_called(run_scenario("start-already-running")) == ["DescribeInstances"]
    rebooted = run_scenario("reboot")
    assert rebooted.status == "Success" and actions_called(rebooted)[:2] == ["RebootInstance", "DescribeInstances"]
    assert dict(rebooted.calls)["RebootInstance"]["ForceStop"] == "true"


def test_run_command_returns_the_decoded_output_and_fails_on_a_nonzero_exit():
    run = run_scenario("run-command")
    assert run.status == "Success", run.message
    assert run.outputs == {"invocationOutput": "out\ntmp\n"}
    sent = dict(run.calls)["RunCommand"]
    assert sent["Type"] == "RunShellScript" and sent["Timeout"] == "60" and sent["WorkingDir"] == "/tmp"
    assert sent["Name"].startswith("exec-") and sent["InstanceId.1"]      # the child's execution id; InstanceId.N
    failed = run_scenario("run-command-exit-code")
    assert failed.status == "Failed" and "StopRetryValue" in failed.message
    # The WaitFor on the invocation stops at Failed: the output is never read.
    assert failed.child_tasks == [("runCommand", "Success"), ("untilInvocationReady", "Failed")]


def test_run_command_parameters_and_script_types():
    run = run_scenario("run-command-parameters")
    assert run.status == "Success", run.message
    assert run.outputs == {"invocationOutput": "world\n"}
    sent = dict(run.calls)["RunCommand"]
    assert sent["Type"] == "RunShellScript" and json.loads(sent["Parameters"]) == {"who": "world"}
    bad = run_scenario("run-command-bad-type")
    assert bad.status == "Failed" and "commandType must be one of" in bad.message and bad.calls == []
    stopped_run = run_scenario("run-command-on-stopped")
    assert stopped_run.status == "Failed"


def test_invoke_command_runs_an_existing_command():
    run = run_scenario("invoke-command")
    assert run.status == "Success", run.message
    assert run.outputs == {"invocationOutput": "hello oos\n"}


def test_create_image_checks_the_instance_and_waits_for_available():
    run = run_scenario("create-image")
    assert run.status == "Success", run.message
    assert ("native-image", "Available") in run.state["images"]
    assert re.fullmatch(r"m-[0-9a-z]+", run.outputs["imageId"])
    sent = dict(run.calls)["CreateImage"]
    assert sent["Description"] == "from a test" and sent["Tag.1.Key"] == "team" and "ImageFamily" not in sent
    assert dict(run.calls)["DescribeImages"]["Status"] == "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
    missing = run_scenario("create-image-missing-instance")
    assert missing.status == "Failed" and "createImage, which has not run" in missing.message
    assert actions_called(missing) == ["DescribeInstances"]


def test_create_snapshot_of_an_attached_disk():
    run = run_scenario("create-snapshot")
    assert run.status == "Success", run.message
    assert [name for name, _unused in run.state["snapshots"]] == ["native-snapshot"]
    assert actions_called(run) == ["DescribeDisks", "DescribeInstances", "CreateSnapshot", "DescribeSnapshots"]
    assert dict(run.calls)["CreateSnapshot"]["RetentionDays"] == "7"
    missing = run_scenario("create-snapshot-missing-disk")
    assert missing.status == "Failed" and actions_called(missing) == ["DescribeDisks"]


def test_delete_instance_needs_a_stopped_instance():
    run = run_scenario("delete-stopped")
    assert run.status == "Success", run.message
    assert len(run.state["instances"]) == 3
    refused = run_scenario("delete-running-refused")
    assert refused.status == "Failed" and "expected one of ['Stopped']" in refused.message
    assert "DeleteInstance" not in actions_called(refused)


def test_run_instances_waits_for_each_new_instance():
    run = run_scenario("run-instances")
    assert run.status == "Success", run.message
    assert len(run.outputs["instanceIds"]) == 2 and len(run.state["instances"]) == 6
    sent = dict(run.calls)["RunInstances"]
    assert sent["Amount"] == "2" and sent["SystemDiskCategory"] == "cloud_essd" and "Period" not in sent
    assert sent["Tag.1.Key"] == "made-by"
    waits = [params["InstanceIds"] for action, params in run.calls if action == "DescribeInstances"]
    assert [json.loads(w) for w in waits] == [[i] for i in run.outputs["instanceIds"]]
    bad = run_scenario("run-instances-bad-period")
    assert bad.status == "Failed" and "period must be one of" in bad.message and bad.calls == []


def test_install_cloud_assistant_installs_then_reboots_only_when_missing():
    present = run_scenario("install-cloud-assistant-present")
    assert present.status == "Success", present.message
    assert "InstallCloudAssistant" not in actions_called(present)
    missing = run_scenario("install-cloud-assistant-missing")
    assert missing.status == "Success", missing.message
    assert actions_called(missing)[-4:] == ["InstallCloudAssistant", "RebootInstance", "DescribeInstances",
                                            "DescribeCloudAssistantStatus"]
    assert all(agent for _unused, _unused, agent in missing.state["instances"])


def test_properties_are_checked_like_a_template_s_parameters():
    missing = run_scenario("missing-property")
    assert missing.status == "Failed" and "Parameter instanceId is required" in missing.message
    unknown = run_scenario("unknown-property")
    assert unknown.status == "Failed" and "Parameter force is not defined" in unknown.message


def test_an_action_the_engine_does_not_implement_names_the_option():
    cloud = Cloud()
    try:
        run = cloud.run("ACS::ECS::CopyImage", {"imageId": IMAGE})
    finally:
        cloud.close()
    assert run.status == "Failed" and "--action-templates" in run.message and "ACS::ECS::StopInstance" in run.message


# ------------------------------------------------------------------ the same scenarios from the OOS definitions

@pytest.mark.skipif(not ACTIONS.is_dir(), reason="../shared/oos-templates absent: no OOS definitions to compare with")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_native_action_agrees_with_its_oos_definition(name):
    native = run_scenario(name)
    defined = run_scenario(name, ACTIONS)
    assert (native.status, masked(native.outputs)) == (defined.status, masked(defined.outputs)), (
        native.message, defined.message)
    assert masked(native.calls) == masked(defined.calls)
    assert native.child_tasks == defined.child_tasks
    assert masked(native.state) == masked(defined.state)


def test_action_templates_override_the_native_actions(tmp_path):
    (tmp_path / "ECS").mkdir()
    (tmp_path / "ECS" / "ACS::ECS::StopInstance.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters:\n  instanceId: {Type: String}\nTasks:\n"
        "- {Name: pretend, Action: ACS::Sleep, Properties: {Duration: PT0S}}\n"
        "Outputs:\n  said: {Type: String, Value: 'would stop {{ instanceId }}'}\n")
    cloud = Cloud(tmp_path)
    try:
        run = cloud.run("ACS::ECS::StopInstance", {"instanceId": cloud.ids[0]}, {"said": "String"})
    finally:
        cloud.close()
    assert run.status == "Success", run.message
    assert run.outputs == {"said": f"would stop {cloud.ids[0]}"}
    assert run.calls == [] and run.child_tasks == [("pretend", "Success")]
    assert all(status == "Running" for _unused, status, _unused in run.state["instances"])
