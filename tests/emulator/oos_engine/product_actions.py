"""The ECS cloud product actions the reference engine runs itself, without ``--action-templates``.

OOS runs ``Action: ACS::ECS::StopInstance`` as a child execution of the action's own template (OOS_LANGUAGE.md
§7.2). Each action here takes the same properties (names, types, defaults and constraints: the action's interface),
makes the same API calls with the same parameters, checks and waits as its OOS definition, and returns the same
Outputs; only the way it is written differs (Python steps instead of template tasks). ``--action-templates DIR``
still overrides any of them with the template of the same name.

A step is one task execution of the child (``NativeSteps`` in ``engine.py``), named after the definition's task,
so ListTaskExecutions of the child shows what ran. Choices are plain ``if`` statements and leave no task record.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Callable

STATUS = "Instances.Instance[].Status"
REGION = {"Type": "String", "Default": "{{ ACS::RegionId }}"}


def given(kind: str = "String", **constraints) -> dict:
    """A property the task must set (no Default)."""
    return {"Type": kind, **constraints}


def optional(default, kind: str = "String", **constraints) -> dict:
    return {"Type": kind, "Default": default, **constraints}


def unless_empty(value):
    """``Fn::If [Fn::Equals [value, ''], Null, value]``: an empty property is not sent at all."""
    return None if value == "" else value


@dataclass(frozen=True)
class NativeAction:
    name: str
    parameters: dict
    tasks: tuple          # (task name, action) of the definition, in order: the child's task list
    run: Callable         # run(steps, properties) -> the child execution's Outputs

    @property
    def document(self) -> dict:
        """The child's template as far as the engine needs one: parameters to resolve and tasks to count."""
        return {"FormatVersion": "OOS-2019-06-01", "Parameters": self.parameters,
                "Tasks": [{"Name": name, "Action": action} for name, action in self.tasks]}


def _instance(p: dict) -> dict:
    return {"RegionId": p["regionId"], "InstanceIds": [p["instanceId"]]}


# ----------------------------------------------------------------------------------------- power

def _power(target: str, transitional: str, api: str, extra: Callable[[dict], dict]) -> Callable:
    """Start/Stop: nothing to do when already ``target``; wait only when already ``transitional``."""

    def run(steps, p):
        status = steps.api("getInstanceStatus", "DescribeInstances", _instance(p),
                           {"status": (STATUS, "String")})["status"]
        if status == target:
            return {}
        if status != transitional:
            steps.api(api[0].lower() + api[1:], api, {"RegionId": p["regionId"], "InstanceId": p["instanceId"],
                                                      **extra(p)})
        steps.wait_for("untilInstanceReady", "DescribeInstances", _instance(p), STATUS, [target])
        return {}

    return run


def reboot_instance(steps, p):
    steps.api("rebootInstance", "RebootInstance", {"RegionId": p["regionId"], "InstanceId": p["instanceId"],
                                                   "ForceStop": p["forceStop"]})
    steps.wait_for("untilInstanceReady", "DescribeInstances", _instance(p), STATUS, ["Running"])
    return {}


def delete_instance(steps, p):
    steps.check_for("checkInstanceReady", "DescribeInstances", _instance(p), STATUS, ["Stopped"])
    steps.api("deleteInstance", "DeleteInstance", {"RegionId": p["regionId"], "InstanceId": p["instanceId"]})
    return {}


def run_instances(steps, p):
    prepaid = p["instanceChargeType"] == "PrePaid"
    created = steps.api("runInstances", "RunInstances", {
        "RegionId": p["regionId"], "Amount": p["amount"], "ImageId": p["imageId"],
        "InstanceType": p["instanceType"], "InstanceName": p["instanceName"], "RamRoleName": p["ramRoleName"],
        "SecurityGroupId": p["securityGroupId"], "VSwitchId": p["vSwitchId"],
        "InternetMaxBandwidthIn": p["internetMaxBandwidthIn"], "InternetMaxBandwidthOut": p["internetMaxBandwidthOut"],
        "SystemDiskCategory": p["systemDiskCategory"], "SystemDiskSize": p["systemDiskSize"], "Tags": p["tags"],
        "InstanceChargeType": p["instanceChargeType"], "PeriodUnit": p["periodUnit"] if prepaid else "",
        "Period": p["period"] if prepaid else ""}, {"instanceIds": ("InstanceIdSets.InstanceIdSet[]", "List")})
    # The definition loops one WaitFor over the new instances, one at a time, stopping at the first failure.
    for instance_id in created["instanceIds"]:
        steps.wait_for("untilInstanceReady", "DescribeInstances",
                       {"RegionId": p["regionId"], "InstanceIds": [instance_id]}, STATUS, ["Running"])
    return {"instanceIds": created["instanceIds"]}


# ----------------------------------------------------------------------------------------- images and snapshots

IMAGE_STATUSES = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"


def create_image(steps, p):
    found = steps.api("getInstances", "DescribeInstances", _instance(p),
                      {"instanceId": (".Instances.Instance[].InstanceId", "List")})
    if found["instanceId"] == []:
        # The definition ends here, and its Outputs name a task that never ran.
        steps.fail("Outputs.imageId: {{ createImage.imageId }} refers to task createImage, which has not run")
    ready = steps.check_for("checkInstanceReady", "DescribeInstances", _instance(p), STATUS, ["Running", "Stopped"],
                            outputs={"resourceGroupId": (".Instances.Instance[0].ResourceGroupId", "String")})
    image = steps.api("createImage", "CreateImage", {
        "RegionId": p["regionId"], "ImageName": p["imageName"], "InstanceId": p["instanceId"], "Tags": p["tags"],
        "ResourceGroupId": p["resourceGroupId"] or ready["resourceGroupId"],
        "DetectionStrategy": unless_empty(p["detectionStrategy"]), "ImageFamily": unless_empty(p["imageFamily"]),
        "Description": unless_empty(p["imageDescription"])}, {"imageId": ("ImageId", "String")})
    steps.wait_for("untilImageReady", "DescribeImages", {
        "RegionId": p["regionId"], "ImageId": image["imageId"], "Status": IMAGE_STATUSES},
        "Images.Image[].Status", ["Available"], Retries=296, MaxRetryInterval=300)
    return {"imageId": image["imageId"]}


def create_snapshot(steps, p):
    attached = steps.api("describeDisks", "DescribeDisks", {"RegionId": p["regionId"], "DiskIds": [p["diskId"]]},
                         {"instanceIds": ("Disks.Disk[].InstanceId", "List")})["instanceIds"]
    if attached == []:
        steps.fail("Outputs.snapshotId: {{ createSnapshot.snapshotId }} refers to task createSnapshot, which has "
                   "not run")
    if attached != [""]:  # attached to an instance: wait until it is not in transition
        steps.wait_for("waitUtilInstanceRunningOrStopped", "DescribeInstances",
                       {"RegionId": p["regionId"], "InstanceIds": attached}, STATUS, ["Running", "Stopped"],
                       Delay=20, Retries=30, DelayType="Constant")
    snapshot = steps.api("createSnapshot", "CreateSnapshot", {
        "RegionId": p["regionId"], "DiskId": p["diskId"], "SnapshotName": p["snapshotName"], "Tags": p["tags"],
        "RetentionDays": unless_empty(p["retentionDays"])}, {"snapshotId": ("SnapshotId", "String")})
    steps.wait_for("untilSnapshotsReady", "DescribeSnapshots",
                   {"RegionId": p["regionId"], "SnapshotIds": [snapshot["snapshotId"]]}, "Snapshots.Snapshot[].Status",
                   ["accomplished"], stop=["failed"], Retries=57)
    return {"snapshotId": snapshot["snapshotId"]}


# ----------------------------------------------------------------------------------------- Cloud Assistant

def _invocation_output(steps, p, invoke_id: str, **wait) -> dict:
    """Wait for the invocation, read its output, then require exit code 0 (the output is read even on failure)."""
    query = {"RegionId": p["regionId"], "InvokeId": invoke_id}
    steps.wait_for("untilInvocationReady", "DescribeInvocations", query, "Invocations.Invocation[].InvokeStatus",
                   ["Finished"], **wait)
    output = steps.api("describeInvocationResults", "DescribeInvocationResults", query, {
        "invocationResult": ("Invocation.InvocationResults.InvocationResult[].Output", "String")})
    steps.check_for("checkInvocationResult", "DescribeInvocationResults", query,
                    "Invocation.InvocationResults.InvocationResult[].ExitCode", [0])
    return {"invocationOutput": _base64_decode(output["invocationResult"])}


def _base64_decode(text: str) -> str:
    return base64.b64decode(text).decode("utf-8", errors="replace")


def run_command(steps, p):
    # RunPythonScript and RunPerlScript are sent as RunShellScript: the script carries its interpreter line.
    kind = "RunShellScript" if p["commandType"] in ("RunPythonScript", "RunPerlScript") else p["commandType"]
    invoke = steps.api("runCommand", "RunCommand", {
        "RegionId": p["regionId"], "CommandContent": p["commandContent"], "InstanceIds": [p["instanceId"]],
        "Name": steps.execution_id, "Type": kind, "WorkingDir": p["workingDir"], "Timeout": p["timeout"],
        "EnableParameter": p["enableParameter"], "Parameters": p["parameters"], "Username": p["username"],
        "WindowsPasswordName": p["windowsPasswordName"]}, {"invokeId": ("InvokeId", "String")})
    return _invocation_output(steps, p, invoke["invokeId"], stop=["Failed", "Stopped"], Retries=296,
                              MaxRetryInterval=300)


def invoke_command(steps, p):
    invoke = steps.api("invokeCommand", "InvokeCommand", {
        "RegionId": p["regionId"], "CommandId": p["commandId"], "Parameters": p["parameters"],
        "Username": p["username"], "InstanceIds": [p["instanceId"]]}, {"invokeId": ("InvokeId", "String")})
    return _invocation_output(steps, p, invoke["invokeId"], stop=["Failed"])


def install_cloud_assistant(steps, p):
    by_id = {"RegionId": p["regionId"], "InstanceId": [p["instanceId"]]}
    agent = "InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[].CloudAssistantStatus"
    steps.check_for("checkInstanceReady", "DescribeInstances", _instance(p), STATUS, ["Running"])
    if steps.api("queryCloudAssistantReady", "DescribeCloudAssistantStatus", by_id,
                 {"cloudAssistantStatus": (agent, "String")})["cloudAssistantStatus"] != "true":
        # Not heartbeating: give a recent start a minute, then install and reboot (it takes effect at the reboot).
        steps.sleep("waitDataRecover", "PT1M")
        if steps.api("queryCloudAssistantStatus", "DescribeCloudAssistantStatus", by_id,
                     {"cloudAssistantStatus": (agent, "String")})["cloudAssistantStatus"] != "true":
            steps.api("installCloudAssistant", "InstallCloudAssistant", _instance(p))
            steps.api("rebootInstance", "RebootInstance", {"RegionId": p["regionId"], "InstanceId": p["instanceId"]})
            steps.wait_for("untilInstanceReady", "DescribeInstances", _instance(p), STATUS, ["Running"])
    steps.wait_for("waitCloudAssistantStatusReachtrue", "DescribeCloudAssistantStatus", _instance(p), agent, ["true"])
    return {}


# ----------------------------------------------------------------------------------------- the catalogue

COMMAND_TYPES = ["RunBatScript", "RunPowerShellScript", "RunShellScript", "RunPythonScript", "RunPerlScript"]
DISK_CATEGORIES = ["cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto", "cloud"]
PERIODS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60]
INSTANCE_ID = given(MinLength=1, MaxLength=30)


def _power_tasks(target: str, transitional: str, api: str) -> tuple:
    return (("getInstanceStatus", "ACS::ExecuteAPI"), (f"whetherInstanceIs{target}", "ACS::Choice"),
            (f"whetherInstanceIs{transitional}", "ACS::Choice"), (api[0].lower() + api[1:], "ACS::ExecuteAPI"),
            ("untilInstanceReady", "ACS::WaitFor"))


INVOCATION = (("untilInvocationReady", "ACS::WaitFor"), ("describeInvocationResults", "ACS::ExecuteAPI"),
              ("checkInvocationResult", "ACS::CheckFor"))

ACTIONS = (
    NativeAction("ACS::ECS::StartInstance", {"regionId": REGION, "instanceId": given()},
                 _power_tasks("Running", "Starting", "StartInstance"),
                 _power("Running", "Starting", "StartInstance", lambda p: {})),
    NativeAction("ACS::ECS::StopInstance", {
        "regionId": REGION, "instanceId": given(), "stoppedMode": optional(""),
        "hibernate": optional(False, "Boolean"), "forceStop": optional(False, "Boolean")},
        _power_tasks("Stopped", "Stopping", "StopInstance"),
        _power("Stopped", "Stopping", "StopInstance", lambda p: {
            "StoppedMode": p["stoppedMode"], "Hibernate": p["hibernate"], "ForceStop": p["forceStop"]})),
    NativeAction("ACS::ECS::RebootInstance", {
        "regionId": REGION, "instanceId": given(), "forceStop": optional(False, "Boolean")},
        (("rebootInstance", "ACS::ExecuteAPI"), ("untilInstanceReady", "ACS::WaitFor")), reboot_instance),
    NativeAction("ACS::ECS::DeleteInstance", {"regionId": REGION, "instanceId": given()},
                 (("checkInstanceReady", "ACS::CheckFor"), ("deleteInstance", "ACS::ExecuteAPI")), delete_instance),
    NativeAction("ACS::ECS::RunInstances", {
        "regionId": REGION, "instanceChargeType": optional("PostPaid", AllowedValues=["PrePaid", "PostPaid"]),
        "periodUnit": optional("Month", AllowedValues=["Week", "Month"]),
        "period": optional(1, "Number", AllowedValues=PERIODS), "vSwitchId": given(MinLength=1, MaxLength=30),
        "instanceType": given(MinLength=1, MaxLength=30), "imageId": given(MinLength=1, MaxLength=100),
        "systemDiskCategory": optional("cloud_essd", AllowedValues=DISK_CATEGORIES), "systemDiskSize": optional(""),
        "internetMaxBandwidthIn": optional(200, "Number"), "internetMaxBandwidthOut": optional(0, "Number"),
        "securityGroupId": given(MinLength=1, MaxLength=30), "amount": optional(1, "Number"),
        "instanceName": optional(""), "ramRoleName": optional(""), "tags": optional([], "Json")},
        (("runInstances", "ACS::ExecuteAPI"), ("untilInstanceReady", "ACS::WaitFor")), run_instances),
    NativeAction("ACS::ECS::CreateImage", {
        "regionId": REGION, "imageName": given(), "instanceId": INSTANCE_ID, "tags": optional([], "Json"),
        "imageFamily": optional(""), "imageDescription": optional(""), "resourceGroupId": optional(""),
        "detectionStrategy": optional("", AllowedValues=["Standard", ""])},
        (("getInstances", "ACS::ExecuteAPI"), ("checkWhetherInstanceExist", "ACS::Choice"),
         ("checkInstanceReady", "ACS::CheckFor"), ("createImage", "ACS::ExecuteAPI"),
         ("untilImageReady", "ACS::WaitFor")), create_image),
    NativeAction("ACS::ECS::CreateSnapshot", {
        "regionId": REGION, "diskId": given(MinLength=1, MaxLength=30), "snapshotName": optional(""),
        "retentionDays": optional(""), "tags": optional([], "Json")},
        (("describeDisks", "ACS::ExecuteAPI"), ("whetherDiskAttachedToInstance", "ACS::Choice"),
         ("waitUtilInstanceRunningOrStopped", "ACS::WaitFor"), ("createSnapshot", "ACS::ExecuteAPI"),
         ("untilSnapshotsReady", "ACS::WaitFor")), create_snapshot),
    NativeAction("ACS::ECS::RunCommand", {
        "regionId": REGION, "instanceId": given(), "commandType": given(AllowedValues=COMMAND_TYPES),
        "commandContent": given(), "workingDir": optional(""), "timeout": optional(600, "Number"),
        "enableParameter": optional(False, "Boolean"), "parameters": optional({}, "Json"),
        "username": optional(""), "windowsPasswordName": optional("")},
        (("runCommand", "ACS::ExecuteAPI"),) + INVOCATION, run_command),
    NativeAction("ACS::ECS::InvokeCommand", {
        "regionId": REGION, "commandId": given(), "instanceId": INSTANCE_ID, "username": optional(""),
        "parameters": optional({"": ""}, "Json")},
        (("invokeCommand", "ACS::ExecuteAPI"),) + INVOCATION, invoke_command),
    NativeAction("ACS::ECS::InstallCloudAssistant", {"regionId": REGION, "instanceId": INSTANCE_ID}, (
        ("checkInstanceReady", "ACS::CheckFor"), ("queryCloudAssistantReady", "ACS::ExecuteAPI"),
        ("whetherCloudAssistantIsReady", "ACS::Choice"), ("waitDataRecover", "ACS::Sleep"),
        ("queryCloudAssistantStatus", "ACS::ExecuteAPI"), ("whetherCloudAssistantStatusIsTrue", "ACS::Choice"),
        ("installCloudAssistant", "ACS::ExecuteAPI"), ("rebootInstance", "ACS::ExecuteAPI"),
        ("untilInstanceReady", "ACS::WaitFor"), ("waitCloudAssistantStatusReachtrue", "ACS::WaitFor")),
        install_cloud_assistant),
)
NATIVE_ACTIONS = {action.name.lower(): action for action in ACTIONS}
NATIVE_NAMES = tuple(action.name for action in ACTIONS)
