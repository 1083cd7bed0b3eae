"""ECS through the real SDK: the instance state machine, batch calls, filters, paging, images, snapshots, tags."""
from __future__ import annotations

import fnmatch
import json

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from .conftest import wait_until

REGION = "cn-hangzhou"


def status_of(emu, instance_id):
    return emu.control(f"instances/{instance_id}")["Status"]


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientException) as caught:
        call(*args, **kwargs)
    return caught.value


def test_stop_start_reboot_follow_the_state_machine(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    assert error_of(sdk.ecs, "StartInstance", InstanceId=instance).code == "IncorrectInstanceStatus"
    sdk.ecs("StopInstance", InstanceId=instance, StoppedMode="StopCharging")
    assert status_of(emu, instance) == "Stopping"
    wait_until(lambda: status_of(emu, instance) == "Stopped")
    described = sdk.ecs("DescribeInstances", RegionId=REGION, InstanceIds=json.dumps([instance]))
    assert described["Instances"]["Instance"][0]["StoppedMode"] == "StopCharging"
    error = error_of(sdk.ecs, "RebootInstance", InstanceId=instance)
    assert (error.code, error.status_code) == ("IncorrectInstanceStatus", 403)
    sdk.ecs("StartInstance", InstanceId=instance)
    assert status_of(emu, instance) == "Starting"
    wait_until(lambda: status_of(emu, instance) == "Running")
    sdk.ecs("RebootInstance", InstanceId=instance)
    assert status_of(emu, instance) == "Starting"
    wait_until(lambda: status_of(emu, instance) == "Running")


def test_batch_power_calls_in_the_target_or_a_transitional_state_are_refused(emu, sdk):
    """As documented (StartInstances: the instance must be Stopped; RebootInstances: Running): a repeated call on
    an instance that the first call moved answers IncorrectInstanceStatus and changes nothing."""
    ids = [i["InstanceId"] for i in emu.instances()[:2]]

    def codes(action):
        answer = sdk.ecs(action, RegionId=REGION, InstanceId=ids, BatchOptimization="SuccessFirst")
        return [r["Code"] for r in answer["InstanceResponses"]["InstanceResponse"]]

    assert codes("RebootInstances") == ["200", "200"]
    assert status_of(emu, ids[0]) == "Starting"
    assert codes("RebootInstances") == ["IncorrectInstanceStatus"] * 2      # rebooting already
    assert codes("StartInstances") == ["IncorrectInstanceStatus"] * 2       # starting is not stopped
    wait_until(lambda: all(status_of(emu, i) == "Running" for i in ids))
    assert codes("StopInstances") == ["200", "200"]
    assert codes("StopInstances") == ["IncorrectInstanceStatus"] * 2        # stopping already
    wait_until(lambda: all(status_of(emu, i) == "Stopped" for i in ids))
    assert codes("StopInstances") == ["IncorrectInstanceStatus"] * 2        # stopped already
    assert [m["action"] for m in emu.control("mutations")] == ["RebootInstances"] * 2 + ["StopInstances"] * 2


def test_run_instances_then_delete(emu, sdk):
    created = sdk.ecs("RunInstances", RegionId=REGION, ImageId="aliyun_3_x64_20G_alibase_20240101.vhd",
                      InstanceType="ecs.g7.large", Amount=2, InstanceName="batch-", UniqueSuffix=True,
                      Tag=[{"Key": "Env", "Value": "test"}])
    ids = created["InstanceIdSets"]["InstanceIdSet"]
    assert len(ids) == 2 and all(i.startswith("i-bp") for i in ids)
    assert status_of(emu, ids[0]) == "Pending"
    wait_until(lambda: all(status_of(emu, i) == "Running" for i in ids))
    described = sdk.ecs("DescribeInstances", RegionId=REGION, InstanceIds=json.dumps(ids))["Instances"]["Instance"]
    assert sorted(i["InstanceName"] for i in described) == ["batch-001", "batch-002"]
    assert described[0]["Tags"]["Tag"] == [{"TagKey": "Env", "TagValue": "test"}]
    assert error_of(sdk.ecs, "DeleteInstance", InstanceId=ids[0]).code == "IncorrectInstanceStatus"
    sdk.ecs("DeleteInstance", InstanceId=ids[0], Force=True)
    assert error_of(sdk.ecs, "StopInstance", InstanceId=ids[0]).code == "InvalidInstanceId.NotFound"
    sdk.ecs("StopInstance", InstanceId=ids[1])
    wait_until(lambda: status_of(emu, ids[1]) == "Stopped")
    sdk.ecs("DeleteInstances", RegionId=REGION, InstanceId=[ids[1]])
    assert len(emu.instances()) == 20


def test_run_instances_validation(sdk):
    assert error_of(sdk.ecs, "RunInstances", RegionId=REGION, InstanceType="ecs.g7.large").code == "MissingParameter"
    assert error_of(sdk.ecs, "RunInstances", RegionId=REGION, ImageId="m-nope",
                    InstanceType="ecs.g7.large").code == "InvalidImageId.NotFound"
    assert error_of(sdk.ecs, "RunInstances", RegionId=REGION, ImageId="aliyun_3_x64_20G_alibase_20240101.vhd",
                    InstanceType="ecs.huge").code == "InvalidInstanceType.ValueNotSupported"
    assert error_of(sdk.ecs, "RunInstances", RegionId=REGION, ImageId="aliyun_3_x64_20G_alibase_20240101.vhd",
                    InstanceType="ecs.g7.large", DryRun=True).code == "DryRunOperation"


def test_client_token_makes_run_instances_idempotent(emu, sdk):
    params = dict(RegionId=REGION, ImageId="aliyun_3_x64_20G_alibase_20240101.vhd", InstanceType="ecs.g7.large",
                  ClientToken="token-1")
    first = sdk.ecs("RunInstances", **params)
    second = sdk.ecs("RunInstances", **params)
    assert first["InstanceIdSets"] == second["InstanceIdSets"]
    assert first["RequestId"] != second["RequestId"]
    assert len(emu.instances()) == 21
    error = error_of(sdk.ecs, "RunInstances", **(params | {"InstanceType": "ecs.c7.large"}))
    assert (error.code, error.status_code) == ("IdempotentParameterMismatch", 403)


def test_batch_all_together_is_all_or_nothing(emu, sdk):
    ids = [i["InstanceId"] for i in emu.instances()[:3]]
    error = error_of(sdk.ecs, "StopInstances", RegionId=REGION, InstanceId=ids + ["i-missing"])
    assert (error.code, error.status_code) == ("InvalidInstanceIds.NotFound", 404)
    assert all(status_of(emu, i) == "Running" for i in ids)
    assert error_of(sdk.ecs, "StopInstances", RegionId=REGION, InstanceId=ids, DryRun=True).code == "DRYRUN.SUCCESS"
    assert all(status_of(emu, i) == "Running" for i in ids)
    answer = sdk.ecs("StopInstances", RegionId=REGION, InstanceId=ids)
    responses = answer["InstanceResponses"]["InstanceResponse"]
    assert [(r["InstanceId"], r["Code"], r["PreviousStatus"], r["CurrentStatus"]) for r in responses] == \
        [(i, "200", "Running", "Stopping") for i in ids]
    error = error_of(sdk.ecs, "StopInstances", RegionId=REGION, InstanceId=ids)
    assert (error.code, error.status_code) == ("IncorrectInstanceStatus", 403)


def test_batch_success_first_answers_per_instance(emu, sdk):
    ids = [i["InstanceId"] for i in emu.instances()[:2]]
    emu.control(f"instances/{ids[1]}/status", {"Status": "Stopped"})
    answer = sdk.ecs("StartInstances", RegionId=REGION, InstanceId=ids + ["i-missing"],
                     BatchOptimization="SuccessFirst")
    codes = {r["InstanceId"]: (r["Code"], r["CurrentStatus"]) for r in answer["InstanceResponses"]["InstanceResponse"]}
    assert codes == {ids[0]: ("IncorrectInstanceStatus", "Running"), ids[1]: ("200", "Starting"),
                     "i-missing": ("InvalidInstanceId.NotFound", "")}
    too_many = error_of(sdk.ecs, "RebootInstances", RegionId=REGION, InstanceId=[f"i-{n}" for n in range(101)])
    assert (too_many.code, too_many.status_code) == ("InvalidParameter.TooManyInstanceIds", 403)


def test_describe_instances_filters(emu, sdk):
    fleet = emu.instances()

    def names(**filters):
        body = sdk.ecs("DescribeInstances", RegionId=REGION, PageSize=100, **filters)
        return sorted(i["InstanceName"] for i in body["Instances"]["Instance"])
    assert len(names()) == 20
    assert names(Tag=[{"Key": "Env", "Value": "dev"}, {"Key": "App", "Value": "db"}]) == \
        sorted(i["InstanceName"] for i in fleet if i["Tags"] == {"Env": "dev", "App": "db"})
    assert len(names(Tag=[{"Key": "App"}])) == 20
    assert names(InstanceName="db-*-001*") == sorted(
        i["InstanceName"] for i in fleet if fnmatch.fnmatchcase(i["InstanceName"], "db-*-001*"))
    assert len(names(InstanceName="db-*-001*")) == 5
    assert names(InstanceName="web-dev-0001") == ["web-dev-0001"]
    assert len(names(InstanceName="web-*")) == 10
    target = fleet[5]
    for param, key in (("ZoneId", "ZoneId"), ("VSwitchId", "VSwitchId"), ("InstanceType", "InstanceType"),
                       ("ImageId", "ImageId"), ("ResourceGroupId", "ResourceGroupId"), ("VpcId", "VpcId")):
        expected = sorted(i["InstanceName"] for i in fleet if i[key] == target[key])
        assert names(**{param: target[key]}) == expected, param
    assert names(PrivateIpAddresses=json.dumps([target["PrivateIpAddress"]])) == [target["InstanceName"]]
    public = next(i for i in fleet if i["PublicIpAddress"])
    assert names(PublicIpAddresses=json.dumps([public["PublicIpAddress"]])) == [public["InstanceName"]]
    assert names(InstanceIds="[]") == []
    emu.control(f"instances/{target['InstanceId']}/status", {"Status": "Stopped"})
    assert names(Status="Stopped") == [target["InstanceName"]]
    assert error_of(sdk.ecs, "DescribeInstances", RegionId=REGION, Status="Sleeping").code == "InvalidStatus.NotFound"
    assert error_of(sdk.ecs, "DescribeInstances", RegionId=REGION,
                    Tag=[{"Value": "dev"}]).code == "InvalidTag.Mismatch"


@pytest.mark.parametrize("style", ["page", "token"])
def test_describe_instances_paging(sdk, style):
    seen, page, token = [], 1, None
    while True:
        if style == "page":
            body = sdk.ecs("DescribeInstances", RegionId=REGION, PageNumber=page, PageSize=7)
        else:
            params = {"RegionId": REGION, "MaxResults": 7}
            if token:
                params["NextToken"] = token
            body = sdk.call("DescribeInstances", params)
        batch = [i["InstanceId"] for i in body["Instances"]["Instance"]]
        seen += batch
        if style == "page":
            assert body["TotalCount"] == 20 and body["PageSize"] == 7
            if page * 7 >= 20:
                break
            page += 1
        else:
            token = body["NextToken"]
            if not token:
                break
    assert len(seen) == len(set(seen)) == 20
    error = error_of(sdk.ecs, "DescribeInstances", RegionId=REGION, NextToken="forged")
    assert error.code == "InvalidParameter.NextToken"


def test_describe_instance_status(emu, sdk):
    ids = [i["InstanceId"] for i in emu.instances()[:3]]
    emu.control(f"instances/{ids[0]}/status", {"Status": "Stopped"})
    body = sdk.ecs("DescribeInstanceStatus", RegionId=REGION, InstanceId=ids)
    assert {s["InstanceId"]: s["Status"] for s in body["InstanceStatuses"]["InstanceStatus"]} == \
        {ids[0]: "Stopped", ids[1]: "Running", ids[2]: "Running"}
    assert sdk.ecs("DescribeInstanceStatus", RegionId=REGION, PageSize=50)["TotalCount"] == 20
    assert error_of(sdk.ecs, "DescribeInstanceStatus", RegionId=REGION, PageSize=51).code == "InvalidParameter"


def test_locked_instance_refuses_changes(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    emu.control(f"instances/{instance}/status", {"LockReason": "security"})
    assert error_of(sdk.ecs, "StopInstance", InstanceId=instance).code == "InstanceLockedForSecurity"


def test_images_are_invisible_while_creating(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    image_id = sdk.ecs("CreateImage", RegionId=REGION, InstanceId=instance, ImageName="golden-1")["ImageId"]
    assert image_id.startswith("m-")
    default = sdk.ecs("DescribeImages", RegionId=REGION, ImageId=image_id)
    assert default["TotalCount"] == 0
    creating = sdk.ecs("DescribeImages", RegionId=REGION, ImageId=image_id, Status="Creating,Available")
    assert creating["Images"]["Image"][0]["Status"] == "Creating"
    wait_until(lambda: sdk.ecs("DescribeImages", RegionId=REGION, ImageId=image_id)["TotalCount"] == 1)
    image = sdk.ecs("DescribeImages", RegionId=REGION, ImageName="golden")["Images"]["Image"][0]
    assert (image["ImageId"], image["ImageOwnerAlias"], image["Progress"]) == (image_id, "self", "100%")
    assert error_of(sdk.ecs, "CreateImage", RegionId=REGION, InstanceId=instance,
                    ImageName="golden-1").code == "InvalidImageName.Duplicated"
    assert error_of(sdk.ecs, "CreateImage", RegionId=REGION, InstanceId=instance,
                    ImageName="1bad").code == "InvalidImageName.Malformed"
    assert error_of(sdk.ecs, "CreateImage", RegionId=REGION).code == "MissingParameter"
    assert sdk.ecs("DescribeImages", RegionId=REGION, ImageOwnerAlias="system")["TotalCount"] == 3
    sdk.ecs("DeleteImage", RegionId=REGION, ImageId=image_id)
    assert error_of(sdk.ecs, "DeleteImage", RegionId=REGION, ImageId=image_id).code == "InvalidImageId.NotFound"


def test_create_image_is_idempotent_with_client_token(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    first = sdk.ecs("CreateImage", RegionId=REGION, InstanceId=instance, ImageName="img-a", ClientToken="ct")
    assert sdk.ecs("CreateImage", RegionId=REGION, InstanceId=instance, ImageName="img-a",
                   ClientToken="ct")["ImageId"] == first["ImageId"]
    error = error_of(sdk.ecs, "CreateImage", RegionId=REGION, InstanceId=instance, ImageName="img-b", ClientToken="ct")
    assert (error.code, error.status_code) == ("IdempotenceParamNotMatch", 400)
    assert len(emu.control("images")) == 1


def test_snapshots(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    disks = sdk.ecs("DescribeDisks", RegionId=REGION, InstanceId=instance)["Disks"]["Disk"]
    assert [d["Type"] for d in disks] == ["system"]
    disk = disks[0]["DiskId"]
    snapshot = sdk.ecs("CreateSnapshot", DiskId=disk, SnapshotName="before-upgrade",
                       Tag=[{"Key": "k", "Value": "v"}])["SnapshotId"]
    assert error_of(sdk.ecs, "CreateSnapshot", DiskId=disk).code == "IncorrectDiskStatus.CreatingSnapshot"
    listed = sdk.ecs("DescribeSnapshots", RegionId=REGION, SnapshotIds=json.dumps([snapshot]))["Snapshots"]["Snapshot"]
    assert listed[0]["Status"] == "progressing" and listed[0]["SourceDiskId"] == disk
    wait_until(lambda: sdk.ecs("DescribeSnapshots", RegionId=REGION, DiskId=disk,
                               Status="accomplished")["TotalCount"] == 1)
    assert error_of(sdk.ecs, "CreateSnapshot", DiskId="d-missing").code == "InvalidDiskId.NotFound"
    image = sdk.ecs("CreateImage", RegionId=REGION, SnapshotId=snapshot, ImageName="from-snapshot")["ImageId"]
    assert image.startswith("m-")


def test_tags(emu, sdk):
    ids = [i["InstanceId"] for i in emu.instances()[:2]]
    sdk.ecs("TagResources", RegionId=REGION, ResourceType="instance", ResourceId=ids,
            Tag=[{"Key": "Owner", "Value": "ops"}])
    listed = sdk.ecs("ListTagResources", RegionId=REGION, ResourceType="instance",
                     Tag=[{"Key": "Owner", "Value": "ops"}])["TagResources"]["TagResource"]
    assert sorted({r["ResourceId"] for r in listed}) == sorted(ids)
    described = sdk.ecs("DescribeInstances", RegionId=REGION, Tag=[{"Key": "Owner", "Value": "ops"}])
    assert described["TotalCount"] == 2
    sdk.ecs("UntagResources", RegionId=REGION, ResourceType="instance", ResourceId=ids, TagKey=["Owner"])
    assert sdk.ecs("DescribeInstances", RegionId=REGION, Tag=[{"Key": "Owner"}])["TotalCount"] == 0
    error = error_of(sdk.ecs, "TagResources", ResourceType="instance", ResourceId=ids, Tag=[{"Key": "a", "Value": "b"}])
    assert (error.code, error.status_code) == ("MissingParameter.RegionId", 404)
    assert error_of(sdk.ecs, "TagResources", RegionId=REGION, ResourceType="instance", ResourceId=["i-x"],
                    Tag=[{"Key": "a", "Value": "b"}]).code == "InvalidResourceId.NotFound"
    assert error_of(sdk.ecs, "TagResources", RegionId=REGION, ResourceType="instance", ResourceId=ids,
                    Tag=[{"Key": "acs:x", "Value": "b"}]).code == "InvalidTagKey.Malformed"


def test_regions_and_multi_region_fleet(emu, sdk):
    regions = {r["RegionId"] for r in sdk.ecs("DescribeRegions")["Regions"]["Region"]}
    assert {"cn-hangzhou", "cn-shanghai", "cn-beijing"} <= regions
    emu.reset(instances=5, regions=["cn-shanghai", "cn-beijing"])
    assert sdk.ecs("DescribeInstances", RegionId="cn-shanghai")["TotalCount"] == 3
    beijing = sdk.ecs("DescribeInstances", RegionId="cn-beijing")["Instances"]["Instance"]
    assert len(beijing) == 2 and all(i["ZoneId"].startswith("cn-beijing-") for i in beijing)
    assert sdk.ecs("DescribeInstances", RegionId="cn-hangzhou")["TotalCount"] == 0


def test_seed_makes_the_fleet_deterministic(emu):
    first = [(i["InstanceId"], i["PrivateIpAddress"], i["InstanceType"]) for i in emu.instances()]
    emu.reset()
    assert [(i["InstanceId"], i["PrivateIpAddress"], i["InstanceType"]) for i in emu.instances()] == first
    emu.reset(seed=2)
    assert [i["InstanceId"] for i in emu.instances()] != [i[0] for i in first]
