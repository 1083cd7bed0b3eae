"""Every implemented action, once, through the real SDK's generic call_api, signed V3 and V2."""
from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import start_emulator
from tests.emulator.server import REGISTRY   # importing the server registers every action

from .conftest import SdkClient, wait_until

REGION = "cn-hangzhou"
TEMPLATE = json.dumps({"FormatVersion": "OOS-2019-06-01", "Parameters": {"name": {"Type": "String", "Default": "x"}},
                       "Tasks": [{"Name": "pause", "Action": "ACS::Sleep", "Properties": {"Duration": "PT1S"}}]})


@pytest.fixture(scope="module")
def shared_emulator():
    emu = start_emulator("--instances", "4", "--seed", "3", "--transition-seconds", "0.1", "--oos-engine", "queued")
    yield emu
    emu.stop()


@pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])
def test_every_action_round_trips(emu, v2):
    client = SdkClient(emu, v2=v2)
    ecs, oos = client.ecs, client.oos
    ids = [i["InstanceId"] for i in ecs("DescribeInstances", RegionId=REGION)["Instances"]["Instance"]]
    assert len(ids) == 4
    assert ecs("DescribeInstanceStatus", RegionId=REGION)["TotalCount"] == 4
    assert ecs("DescribeRegions")["Regions"]["Region"]
    ecs("StopInstance", InstanceId=ids[0])
    ecs("StopInstances", RegionId=REGION, InstanceId=[ids[1]])
    ecs("RebootInstance", InstanceId=ids[2])
    ecs("RebootInstances", RegionId=REGION, InstanceId=[ids[3]])

    def status(i):
        return emu.control(f"instances/{i}")["Status"]

    wait_until(lambda: [status(i) for i in ids] == ["Stopped", "Stopped", "Running", "Running"])
    ecs("StartInstance", InstanceId=ids[0])
    ecs("StartInstances", RegionId=REGION, InstanceId=[ids[1]])
    created = ecs("RunInstances", RegionId=REGION, ImageId="ubuntu_22_04_x64_20G_alibase_20240101.vhd",
                  InstanceType="ecs.g6.large", Amount=2)["InstanceIdSets"]["InstanceIdSet"]
    wait_until(lambda: all(status(i) == "Running" for i in created))
    ecs("DeleteInstance", InstanceId=created[0], Force=True)
    ecs("DeleteInstances", RegionId=REGION, InstanceId=[created[1]], Force=True)
    image = ecs("CreateImage", RegionId=REGION, InstanceId=ids[2], ImageName="roundtrip")["ImageId"]
    assert ecs("DescribeImages", RegionId=REGION, ImageId=image, Status="Creating,Available")["TotalCount"] == 1
    ecs("DeleteImage", RegionId=REGION, ImageId=image)
    disk = ecs("DescribeDisks", RegionId=REGION, InstanceId=ids[2])["Disks"]["Disk"][0]["DiskId"]
    snapshot = ecs("CreateSnapshot", DiskId=disk)["SnapshotId"]
    assert ecs("DescribeSnapshots", RegionId=REGION, SnapshotIds=json.dumps([snapshot]))["TotalCount"] == 1
    ecs("TagResources", RegionId=REGION, ResourceType="snapshot", ResourceId=[snapshot], Tag=[{"Key": "k", "Value": "v"}])
    assert ecs("ListTagResources", RegionId=REGION, ResourceType="snapshot",
               ResourceId=[snapshot])["TagResources"]["TagResource"][0]["TagValue"] == "v"
    ecs("UntagResources", RegionId=REGION, ResourceType="snapshot", ResourceId=[snapshot], All=True)

    run = ecs("RunCommand", RegionId=REGION, Type="RunShellScript", CommandContent="sleep 5", InstanceId=[ids[2]])
    ecs("StopInvocation", RegionId=REGION, InvokeId=run["InvokeId"])
    command = ecs("CreateCommand", RegionId=REGION, Name="rt", Type="RunShellScript",
                  CommandContent=base64.b64encode(b"echo rt").decode())["CommandId"]
    invoke = ecs("InvokeCommand", RegionId=REGION, CommandId=command, InstanceId=[ids[3]])["InvokeId"]
    assert ecs("DescribeCommands", RegionId=REGION, CommandId=command)["TotalCount"] == 1
    wait_until(lambda: ecs("DescribeInvocations", RegionId=REGION,
                           InvokeId=invoke)["Invocations"]["Invocation"][0]["InvocationStatus"] == "Success")
    result = ecs("DescribeInvocationResults", RegionId=REGION, InvokeId=invoke)["Invocation"]["InvocationResults"]
    assert base64.b64decode(result["InvocationResult"][0]["Output"]) == b"rt\n"
    ecs("DeleteCommand", RegionId=REGION, CommandId=command)
    assert ecs("DescribeCloudAssistantStatus", RegionId=REGION, InstanceId=[ids[3]])["TotalCount"] == 1
    ecs("InstallCloudAssistant", RegionId=REGION, InstanceId=[ids[3]])
    sent = ecs("SendFile", RegionId=REGION, Name="f", TargetDir="/tmp", Content="x", InstanceId=[ids[3]])["InvokeId"]
    assert ecs("DescribeSendFileResults", RegionId=REGION, InvokeId=sent)["TotalCount"] == 1

    oos("CreateTemplate", TemplateName="rt", Content=TEMPLATE)
    oos("UpdateTemplate", TemplateName="rt", Content=TEMPLATE + " ")
    assert oos("GetTemplate", TemplateName="rt")["Template"]["TemplateVersion"] == "v2"
    assert oos("ListTemplates")["Templates"][0]["TemplateName"] == "rt"
    assert oos("ValidateTemplateContent", Content=TEMPLATE)["Tasks"][0]["Type"] == "ACS::Sleep"
    execution = oos("StartExecution", TemplateName="rt")["Execution"]["ExecutionId"]
    assert oos("ListExecutions", ExecutionId=execution)["Executions"][0]["Status"] == "Queued"
    assert oos("ListTaskExecutions", ExecutionId=execution)["TaskExecutions"] == []
    assert oos("ListExecutionLogs", ExecutionId=execution)["ExecutionLogs"] == []
    assert oos("GetExecutionTemplate", ExecutionId=execution)["Content"] == TEMPLATE + " "
    oos("NotifyExecution", ExecutionId=execution, NotifyType="Approve")
    oos("CancelExecution", ExecutionId=execution)
    oos("DeleteExecutions", ExecutionIds=json.dumps([execution]))
    oos("DeleteTemplate", TemplateName="rt")

    implemented = {}
    for (version, action), spec in REGISTRY.actions.items():
        implemented.setdefault(spec.product, set()).add(action)
    called = {product: set(actions) for product, actions in emu.stats()["calls_by_product"].items()}
    assert called == implemented
    assert emu.stats()["errors"] == {}
