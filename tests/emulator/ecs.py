"""ECS 2014-05-26: instances, images, snapshots, disks, tags and regions.

Shapes follow ``ECS_OOS_SHAPES.md`` §0-3 and the official demos; error codes, statuses and messages
come from the per-API tables in ``ECS_OOS_ERRORS_AND_DEMOS.md``.
"""
from __future__ import annotations

import re

from . import ECS_VERSION
from .api import REGISTRY, Request, ecs_tags, paging, tags_match
from .errors import ApiError, api_error, invalid_parameter
from .state import INSTANCE_STATUSES, INSTANCE_TYPES, SYSTEM_IMAGES, Disk, Image, Instance, Snapshot, iso_minutes, iso_seconds, public_ip_address

MAX_BATCH_IDS = 100
# Handlers that log each change they apply, per instance (server.record_generic_mutation logs the others):
# a batch call that changes nothing logs nothing.
LOGGED_ACTIONS = frozenset({"StartInstance", "StopInstance", "RebootInstance", "StartInstances", "StopInstances",
                            "RebootInstances", "DeleteInstance", "DeleteInstances", "RunInstances", "CreateImage"})


def ecs(name: str | None = None, **options):
    return REGISTRY.action("ecs", ECS_VERSION, name, **options)


def region_param(request: Request) -> str:
    return request.str("RegionId") or request.world.default_region


# ----- instance lookups and the state machine -------------------------------------------------------
def find_instance(request: Request, instance_id: str, region: str | None = None) -> Instance:
    instance = request.world.instances.get(instance_id)
    if instance is None or (region and instance.region != region):
        raise api_error("InvalidInstanceId.NotFound")
    return instance


# operation -> (statuses it is allowed from, phases, settled status). Phase lengths are fractions of
# --transition-seconds so that every call-induced change completes in one transition time.
POWER_OPERATIONS = {
    "start": ({"Stopped"}, (("Starting", 1.0),), "Running"),
    "stop": ({"Running"}, (("Stopping", 1.0),), "Stopped"),
    "reboot": ({"Running"}, (("Starting", 1.0),), "Running"),
}


def power_problem(instance: Instance, operation: str, now: float) -> ApiError | None:
    if instance.lock_reason == "security":
        return api_error("InstanceLockedForSecurity")
    allowed = POWER_OPERATIONS[operation][0]
    if instance.status(now) not in allowed:
        return api_error("IncorrectInstanceStatus")
    return None


def apply_power(request: Request, instance: Instance, operation: str) -> tuple[str, str]:
    """Start the transition; returns (PreviousStatus, CurrentStatus)."""
    now, seconds = request.now, request.world.transition_seconds
    previous = instance.status(now)
    _unused, phases, settled = POWER_OPERATIONS[operation]
    instance.begin([(status, fraction * seconds) for status, fraction in phases], settled, now)
    if operation == "stop":
        instance.stopped_mode = request.str("StoppedMode", "KeepCharging")
    request.world.record_mutation(request.action, instance.id, request.str("ClientToken"), now)
    return previous, instance.status(now)


def validate_stopped_mode(request: Request) -> None:
    request.enum("StoppedMode", ("StopCharging", "KeepCharging", "Not-applicable"))


def single_power(request: Request, operation: str) -> dict:
    if operation == "stop":
        validate_stopped_mode(request)
    instance = find_instance(request, request.str("InstanceId"))
    problem = power_problem(instance, operation, request.now)
    if problem:
        raise problem
    if request.bool("DryRun"):
        raise api_error("DryRunOperation")
    apply_power(request, instance, operation)
    return {}


@ecs(required=("InstanceId",))
def StartInstance(request: Request):
    return single_power(request, "start")


@ecs(required=("InstanceId",))
def StopInstance(request: Request):
    return single_power(request, "stop")


@ecs(required=("InstanceId",))
def RebootInstance(request: Request):
    return single_power(request, "reboot")


def batch_instance_ids(request: Request) -> list[str]:
    ids = request.list("InstanceId")
    if len(ids) > MAX_BATCH_IDS:
        raise api_error("InvalidParameter.TooManyInstanceIds")
    return ids


def batch_power(request: Request, operation: str) -> dict:
    """Start/Stop/RebootInstances: AllTogether (all or nothing) or SuccessFirst (per-instance results)."""
    region = request.str("RegionId")
    ids = batch_instance_ids(request)
    mode = request.enum("BatchOptimization", ("AllTogether", "SuccessFirst"), "AllTogether")
    if operation == "stop":
        validate_stopped_mode(request)
    dry_run = request.bool("DryRun")
    world, now = request.world, request.now
    found = {i: world.instances.get(i) for i in ids}
    found = {i: inst if inst is not None and inst.region == region else None for i, inst in found.items()}
    if mode == "AllTogether":
        if any(inst is None for inst in found.values()):
            raise api_error("InvalidInstanceIds.NotFound")
        for instance in found.values():
            problem = power_problem(instance, operation, now)
            if problem:
                raise ApiError(problem.code, f"{problem.message} InstanceId: {instance.id}", problem.status)
        if dry_run:
            raise api_error("DRYRUN.SUCCESS")
    elif dry_run:
        raise api_error("DRYRUN.SUCCESS")
    responses = []
    for instance_id in ids:
        instance = found[instance_id]
        if instance is None:
            error = api_error("InvalidInstanceId.NotFound")
            responses.append({"InstanceId": instance_id, "Code": error.code, "Message": error.message,
                              "PreviousStatus": "", "CurrentStatus": ""})
            continue
        problem = power_problem(instance, operation, now)
        if problem:
            status = instance.status(now)
            responses.append({"InstanceId": instance_id, "Code": problem.code, "Message": problem.message,
                              "PreviousStatus": status, "CurrentStatus": status})
            continue
        previous, current = apply_power(request, instance, operation)
        responses.append({"InstanceId": instance_id, "Code": "200", "Message": "success",
                          "PreviousStatus": previous, "CurrentStatus": current})
    return {"InstanceResponses": {"InstanceResponse": responses}}


@ecs(required=("RegionId", "InstanceId"))
def StartInstances(request: Request):
    return batch_power(request, "start")


@ecs(required=("RegionId", "InstanceId"))
def StopInstances(request: Request):
    return batch_power(request, "stop")


@ecs(required=("RegionId", "InstanceId"))
def RebootInstances(request: Request):
    return batch_power(request, "reboot")


def delete_problem(instance: Instance, force: bool, now: float) -> ApiError | None:
    if instance.lock_reason == "security":
        return api_error("InstanceLockedForSecurity")
    if instance.deletion_protection:
        return api_error("InvalidOperation.DeletionProtection")
    status = instance.status(now)
    if status == "Pending":
        return api_error("IncorrectInstanceStatus.Initializing")
    if status != "Stopped" and not force:
        return api_error("IncorrectInstanceStatus")
    return None


@ecs(required=("InstanceId",))
def DeleteInstance(request: Request):
    instance = find_instance(request, request.str("InstanceId"))
    problem = delete_problem(instance, request.bool("Force"), request.now)
    if problem:
        raise problem
    if request.bool("DryRun"):
        raise api_error("DryRunOperation")
    request.world.remove_instance(instance)
    request.world.record_mutation(request.action, instance.id, request.str("ClientToken"), request.now)
    return {}


@ecs(required=("RegionId", "InstanceId"), client_token=True)
def DeleteInstances(request: Request):
    ids = batch_instance_ids(request)
    instances = [request.world.instances.get(i) for i in ids]
    if any(inst is None or inst.region != request.str("RegionId") for inst in instances):
        raise api_error("InvalidInstanceIds.NotFound")
    force = request.bool("Force")
    for instance in instances:
        problem = delete_problem(instance, force, request.now)
        if problem:
            raise ApiError(problem.code, f"{problem.message} InstanceId: {instance.id}", problem.status)
    if request.bool("DryRun"):
        raise api_error("DRYRUN.SUCCESS")
    for instance in instances:
        request.world.remove_instance(instance)
        request.world.record_mutation(request.action, instance.id, request.str("ClientToken"), request.now)
    return {}


# ----- describing instances ---------------------------------------------------------------------------
def instance_to_api(instance: Instance, now: float) -> dict:
    """The DescribeInstances item: a cached static part plus the fields that change over time."""
    static = instance.api_static
    if static is None:
        static = instance.api_static = instance_static_fields(instance)
    started = instance.started_at if instance.started_at and instance.started_at <= now else 0.0
    return {
        **static, "Status": instance.status(now), "StartTime": iso_minutes(started),
        "StoppedMode": instance.stopped_mode, "DeletionProtection": instance.deletion_protection,
        "OperationLocks": {"LockReason": ([{"LockReason": instance.lock_reason, "LockMsg": ""}]
                                          if instance.lock_reason else [])},
        "Tags": ecs_tags(instance.tags),
    }


def instance_static_fields(instance: Instance) -> dict:
    """Fields no implemented API changes after creation (cached per instance)."""
    cpu, memory, family = instance.cpu_memory_family()
    os_name, os_name_en, _unused = SYSTEM_IMAGES.get(instance.image_id, ("Linux", "Linux", ""))
    return {
        "InstanceId": instance.id, "InstanceName": instance.name, "HostName": instance.hostname,
        "Description": instance.description, "RegionId": instance.region,
        "ZoneId": instance.zone, "InstanceType": instance.instance_type, "InstanceTypeFamily": family,
        "Cpu": cpu, "Memory": memory, "ImageId": instance.image_id, "OSType": "linux", "OSName": os_name,
        "OSNameEn": os_name_en, "InstanceChargeType": instance.charge_type, "InternetChargeType": "PayByTraffic",
        "InternetMaxBandwidthOut": 5 if instance.public_ip else 0, "InternetMaxBandwidthIn": 100,
        "CreationTime": iso_minutes(instance.created_at),
        "ExpiredTime": "2099-12-31T15:59Z", "AutoReleaseTime": "", "InstanceNetworkType": "vpc", "IoOptimized": True,
        "SerialNumber": instance.serial, "KeyPairName": instance.key_pair_name,
        "ResourceGroupId": instance.resource_group_id, "SpotStrategy": "NoSpot", "SpotPriceLimit": 0.0,
        "SpotDuration": 0, "DeviceAvailable": True, "Recyclable": False, "CreditSpecification": "",
        "DeploymentSetId": "", "GPUAmount": 0, "GPUSpec": "", "LocalStorageAmount": 0, "LocalStorageCapacity": 0,
        "SaleCycle": "", "VlanId": "", "ClusterId": "", "HpcClusterId": "",
        "VpcAttributes": {"VpcId": instance.vpc_id, "VSwitchId": instance.vswitch_id, "NatIpAddress": "",
                          "PrivateIpAddress": {"IpAddress": [instance.private_ip]}},
        "PublicIpAddress": {"IpAddress": [instance.public_ip] if instance.public_ip else []},
        "InnerIpAddress": {"IpAddress": []}, "RdmaIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": "", "IpAddress": "", "InternetChargeType": "", "Bandwidth": 0,
                       "IsSupportUnassociate": False},
        "SecurityGroupIds": {"SecurityGroupId": list(instance.security_group_ids)},
        "NetworkInterfaces": {"NetworkInterface": [{
            "NetworkInterfaceId": instance.eni_id, "Type": "Primary", "MacAddress": instance.mac,
            "PrimaryIpAddress": instance.private_ip,
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": instance.private_ip, "Primary": True}]}}]},
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "optional", "HttpPutResponseHopLimit": 0},
        "CpuOptions": {"CoreCount": max(cpu // 2, 1), "ThreadsPerCore": 2, "Numa": ""},
        "HibernationOptions": {"Configured": False}, "DedicatedHostAttribute": {},
        "EcsCapacityReservationAttr": {}, "DedicatedInstanceAttribute": {}, "ImageOptions": {},
    }


def wildcard(pattern: str):
    """``InstanceName`` matching: ``*`` is a wildcard, everything else literal."""
    if "*" not in pattern:
        return lambda value: value == pattern
    regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def json_id_list(request: Request, name: str, limit: int = 100) -> list[str] | None:
    """``InstanceIds``/``SnapshotIds``-style parameters: a JSON array string (None when absent)."""
    if not request.has(name):
        return None
    values = request.json(name)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or len(values) > limit:
        raise invalid_parameter(name)
    return values


def instance_filters(request: Request) -> list:
    """Predicates for every DescribeInstances filter given in the request."""
    now = request.now
    predicates = []
    status = request.str("Status")
    if status:
        if status not in INSTANCE_STATUSES:
            raise api_error("InvalidStatus.NotFound")
        predicates.append(lambda i: i.status(now) == status)
    if request.has("InstanceName"):
        matches = wildcard(request.str("InstanceName"))
        predicates.append(lambda i: matches(i.name))
    simple = {"ZoneId": "zone", "VpcId": "vpc_id", "VSwitchId": "vswitch_id", "InstanceType": "instance_type",
              "ImageId": "image_id", "ResourceGroupId": "resource_group_id", "KeyPairName": "key_pair_name",
              "InstanceChargeType": "charge_type"}
    for param, attribute in simple.items():
        if request.has(param):
            wanted = request.str(param)
            predicates.append(lambda i, a=attribute, w=wanted: getattr(i, a) == w)
    if request.has("InstanceTypeFamily"):
        family = request.str("InstanceTypeFamily")
        predicates.append(lambda i: i.cpu_memory_family()[2] == family)
    if request.has("SecurityGroupId"):
        group = request.str("SecurityGroupId")
        predicates.append(lambda i: group in i.security_group_ids)
    if request.has("LockReason"):
        reason = request.str("LockReason")
        predicates.append(lambda i: i.lock_reason == reason)
    for param, attribute in (("PrivateIpAddresses", "private_ip"), ("PublicIpAddresses", "public_ip")):
        addresses = json_id_list(request, param)
        if addresses is not None:
            wanted = set(addresses)
            predicates.append(lambda i, a=attribute, w=wanted: getattr(i, a) in w)
    tag_filters = request.tag_filter("Tag")
    if tag_filters:
        predicates.append(lambda i: tags_match(i.tags, tag_filters))
    return predicates


@ecs(required=("RegionId",))
def DescribeInstances(request: Request):
    world, region = request.world, request.str("RegionId")
    page = paging(request, max_size=100)
    predicates = instance_filters(request)
    ids = json_id_list(request, "InstanceIds")
    if ids is not None:
        candidates = [world.instances[i] for i in dict.fromkeys(ids)
                      if i in world.instances and world.instances[i].region == region]
    else:
        candidates = list(world.by_region.get(region, {}).values())
    for predicate in predicates:   # one pass per filter: cheaper than all() over a generator
        candidates = [i for i in candidates if predicate(i)]
    if request.bool("DryRun"):
        raise api_error("DryRunOperation")
    body = page.fields(len(candidates))
    body["Instances"] = {"Instance": [instance_to_api(i, request.now) for i in page.slice(candidates)]}
    return body


@ecs(required=("RegionId",))
def DescribeInstanceStatus(request: Request):
    world, region = request.world, request.str("RegionId")
    ids = request.list("InstanceId")
    if len(ids) > MAX_BATCH_IDS:
        raise api_error("InvalidParameter.TooManyInstanceIds")
    page = paging(request, max_size=50)
    if ids:
        candidates = [world.instances[i] for i in dict.fromkeys(ids)
                      if i in world.instances and world.instances[i].region == region]
    else:
        candidates = list(world.by_region.get(region, {}).values())
    if request.has("ZoneId"):
        candidates = [i for i in candidates if i.zone == request.str("ZoneId")]
    body = page.fields(len(candidates))
    body["InstanceStatuses"] = {"InstanceStatus": [{"InstanceId": i.id, "Status": i.status(request.now)}
                                                   for i in page.slice(candidates)]}
    return body


# ----- RunInstances -----------------------------------------------------------------------------------
@ecs(required=("RegionId",), client_token=True)
def RunInstances(request: Request):
    world, region, now = request.world, request.str("RegionId"), request.now
    image_id = request.str("ImageId")
    if not image_id:
        raise api_error("MissingParameter", name="ImageId")
    instance_type = request.str("InstanceType")
    if not instance_type:
        raise api_error("MissingParameter", name="InstanceType")
    if instance_type not in INSTANCE_TYPES:
        raise api_error("InvalidInstanceType.ValueNotSupported")
    image = world.image(region, image_id)
    if image is None or image.region != region or image.status(now) != "Available":
        raise api_error("InvalidImageId.NotFound")
    amount = request.int("Amount", 1, 1, 100)
    net = world.network(region)
    vswitch_id = request.str("VSwitchId")
    if vswitch_id:
        zone = next((z for z, v in net["vswitches"].items() if v == vswitch_id), None)
        if zone is None:
            raise api_error("InvalidVSwitchId.NotFound")
        if request.has("ZoneId") and request.str("ZoneId") != zone:
            raise invalid_parameter("ZoneId")
    else:
        zone = request.str("ZoneId", net["zones"][0])
        if zone not in net["vswitches"]:
            raise api_error("InvalidZoneId.NotFound")
        vswitch_id = net["vswitches"][zone]
    groups = request.list("SecurityGroupIds") or ([request.str("SecurityGroupId")] if request.has("SecurityGroupId")
                                                  else [net["security_group_id"]])
    if any(group != net["security_group_id"] for group in groups):
        raise api_error("InvalidSecurityGroupId.NotFound")
    tags = request.tags_to_set("Tag")
    charge_type = request.enum("InstanceChargeType", ("PrePaid", "PostPaid"), "PostPaid")
    bandwidth = request.int("InternetMaxBandwidthOut", 0, 0, 1024)
    if request.bool("DryRun"):
        raise api_error("DryRunOperation")
    unique_suffix = request.bool("UniqueSuffix") and amount > 1
    created = []
    for n in range(amount):
        instance_id = world.new_id("i", region)
        name = request.str("InstanceName", instance_id)
        hostname = request.str("HostName", f"iZ{instance_id[2:]}Z")
        if unique_suffix:
            name, hostname = f"{name}{n + 1:03d}", f"{hostname}{n + 1:03d}"
        instance = Instance(
            id=instance_id, name=name, hostname=hostname, description=request.str("Description"), region=region,
            zone=zone, instance_type=instance_type, image_id=image_id, vpc_id=net["vpc_id"], vswitch_id=vswitch_id,
            security_group_ids=groups, private_ip=world.allocate_private_ip(),
            public_ip=(public_ip_address(world.rng)
                       if bandwidth else ""),
            tags=dict(tags), resource_group_id=request.str("ResourceGroupId", net["resource_groups"][0]),
            created_at=now, started_at=0.0, settled="Pending", index=len(world.instances),
            charge_type=charge_type, deletion_protection=request.bool("DeletionProtection"),
            key_pair_name=request.str("KeyPairName"),
        )
        world.finish_instance(instance, world.rng)
        seconds = world.transition_seconds
        instance.begin([("Pending", seconds / 2), ("Starting", seconds / 2)], "Running", now)
        world.add_instance(instance)
        world.record_mutation(request.action, instance_id, request.str("ClientToken"), now)
        created.append(instance_id)
    body = {"InstanceIdSets": {"InstanceIdSet": created}, "TradePrice": round(0.165 * amount, 3)}
    if charge_type == "PrePaid":
        body["OrderId"] = str(200000000000000 + int(now))
    return body


# ----- images -----------------------------------------------------------------------------------------
IMAGE_STATUSES = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")


def valid_name(name: str) -> bool:
    """Image/snapshot names: 2-128 characters, start with a letter, not a URL."""
    return (2 <= len(name) <= 128 and (name[0].isalpha()) and not name.lower().startswith(("http://", "https://")))


def new_snapshot(request: Request, disk: Disk, *, name: str = "", usage: str = "none", ready_at: float | None = None,
                 tags: dict | None = None, description: str = "", retention_days=None, category: str = "standard",
                 instant_access: bool = False) -> Snapshot:
    world = request.world
    snapshot = Snapshot(
        id=world.new_id("s", disk.region), name=name, region=disk.region, disk_id=disk.id,
        instance_id=disk.instance_id, disk_type=disk.type, disk_size=disk.size, created_at=request.now,
        ready_at=ready_at if ready_at is not None else request.now + world.transition_seconds, usage=usage,
        tags=dict(tags or {}), description=description, retention_days=retention_days, category=category,
        instant_access=instant_access)
    world.snapshots[snapshot.id] = snapshot
    return snapshot


@ecs(required=("RegionId",), client_token=True, token_mismatch="IdempotenceParamNotMatch")
def CreateImage(request: Request):
    world, region, now = request.world, request.str("RegionId"), request.now
    name = request.str("ImageName")
    if name and not valid_name(name):
        raise api_error("InvalidImageName.Malformed")
    if name and any(img.name == name and img.region == region and img.owner == "self" for img in world.images.values()):
        raise api_error("InvalidImageName.Duplicated")
    tags = request.tags_to_set("Tag")
    source_image = None
    snapshot_ids = []
    ready_at = now + world.transition_seconds
    if request.has("InstanceId"):
        instance = find_instance(request, request.str("InstanceId"), region)
        if instance.lock_reason == "security":
            raise api_error("InstanceLockedForSecurity", status=400)
        if instance.status(now) not in ("Running", "Stopped"):
            raise api_error("IncorrectInstanceStatus", "The current status of the instance does not support this "
                            "operation.", status=400)
        source_image = world.image(region, instance.image_id)
        disk = world.disks.get(instance.system_disk_id)
        if disk is not None:
            snapshot_ids.append(new_snapshot(request, disk, usage="image", ready_at=ready_at).id)
        source_instance = instance.id
    elif request.has("SnapshotId"):
        snapshot = world.snapshots.get(request.str("SnapshotId"))
        if snapshot is None or snapshot.region != region:
            raise api_error("InvalidSnapshotId.NotFound")
        if snapshot.status(now) != "accomplished":
            raise api_error("InvalidSnapshotId.NotReady")
        snapshot.usage = "image"
        snapshot_ids.append(snapshot.id)
        source_instance = ""
    else:
        raise api_error("MissingParameter", "The input parameter SnapshotId or InstanceId or DiskDeviceMapping that "
                        "is mandatory for processing this request is not supplied.")
    image_id = world.new_id("m", region)
    image = Image(
        id=image_id, name=name or image_id, region=region, owner="self", created_at=now, ready_at=ready_at,
        os_name=getattr(source_image, "os_name", "Linux"), os_name_en=getattr(source_image, "os_name_en", "Linux"),
        platform=getattr(source_image, "platform", "Others Linux"), description=request.str("Description"),
        family=request.str("ImageFamily"), version=request.str("ImageVersion"), tags=tags,
        resource_group_id=request.str("ResourceGroupId"), snapshot_ids=snapshot_ids,
        source_instance_id=source_instance, size=40)
    world.add_image(image)
    world.record_mutation(request.action, source_instance or image_id, request.str("ClientToken"), now)
    return {"ImageId": image_id}


def image_to_api(image: Image, now: float, world) -> dict:
    status = image.status(now)
    return {
        "ImageId": image.id, "ImageName": image.name, "ImageFamily": image.family, "ImageVersion": image.version,
        "Description": image.description, "Status": status, "Progress": image.progress(now),
        "ImageOwnerAlias": image.owner, "OSType": image.os_type, "OSName": image.os_name, "OSNameEn": image.os_name_en,
        "Platform": image.platform, "Architecture": image.architecture, "Size": image.size,
        "CreationTime": iso_seconds(image.created_at), "IsSelfShared": "", "IsCopied": False, "IsPublic":
        image.owner == "system", "IsSupportCloudinit": True, "IsSupportIoOptimized": True,
        "Usage": "instance" if any(i.image_id == image.id for i in world.by_region.get(image.region, {}).values())
        else "none",
        "ResourceGroupId": image.resource_group_id, "BootMode": "BIOS",
        "DiskDeviceMappings": {"DiskDeviceMapping": [
            {"SnapshotId": sid, "Size": str(image.size), "Device": "/dev/xvda", "Type": "system", "Format": "",
             "Progress": image.progress(now)} for sid in image.snapshot_ids]},
        "Tags": ecs_tags(image.tags),
    }


@ecs(required=("RegionId",))
def DescribeImages(request: Request):
    world, region, now = request.world, request.str("RegionId"), request.now
    page = paging(request, max_size=100)
    statuses_param = request.str("Status", "Available")
    if statuses_param.lower() == "all":
        statuses = set(IMAGE_STATUSES)
    else:
        statuses = {s.strip() for s in statuses_param.split(",") if s.strip()}
        if not statuses <= set(IMAGE_STATUSES):
            raise api_error("InvalidFilterValue", "The specified Filter Value is not valid.", status=404)
    owner = request.str("ImageOwnerAlias")
    if owner and owner not in ("system", "self", "others", "marketplace"):
        raise api_error("InvalidImageOwnerAlias.ValueNotSupported",
                        "The specified ImageOwnerAlias value is not supported.", status=400)
    ids = {i.strip() for i in request.str("ImageId").split(",") if i.strip()}
    name = request.str("ImageName").lower()
    tag_filters = request.tag_filter("Tag")
    images = []
    for image in world.region_images(region):
        if image.status(now) not in statuses or (owner and image.owner != owner):
            continue
        if (ids and image.id not in ids) or (name and name not in image.name.lower()):
            continue
        if request.has("OSType") and image.os_type != request.str("OSType").lower():
            continue
        if request.has("Architecture") and image.architecture != request.str("Architecture"):
            continue
        if request.has("ImageFamily") and image.family != request.str("ImageFamily"):
            continue
        if tag_filters and not tags_match(image.tags, tag_filters):
            continue
        images.append(image)
    images.sort(key=lambda img: (img.owner != "self", -img.created_at))
    body = page.fields(len(images))
    body["RegionId"] = region
    body["Images"] = {"Image": [image_to_api(img, now, world) for img in page.slice(images)]}
    return body


@ecs(required=("RegionId", "ImageId"))
def DeleteImage(request: Request):
    world, region = request.world, request.str("RegionId")
    image = world.image(region, request.str("ImageId"))
    if image is None or image.region != region:
        raise api_error("InvalidImageId.NotFound")
    if image.owner == "system":
        raise api_error("ImageIsPublic")
    in_use = any(i.image_id == image.id for i in world.by_region.get(region, {}).values())
    if in_use and not request.bool("Force"):
        raise api_error("ImageUsingByInstance")
    if request.bool("DryRun"):
        raise api_error("DryRunOperation")
    del world.images[image.id]
    return {}


# ----- disks and snapshots ----------------------------------------------------------------------------
def disk_to_api(disk: Disk, world) -> dict:
    return {
        "DiskId": disk.id, "DiskName": disk.name, "Description": "", "RegionId": disk.region, "ZoneId": disk.zone,
        "InstanceId": disk.instance_id, "Type": disk.type, "Category": disk.category, "Size": disk.size,
        "Device": disk.device, "Status": "In_use" if disk.instance_id else "Available",
        "CreationTime": iso_minutes(disk.created_at), "AttachedTime": iso_minutes(disk.created_at),
        "Portable": disk.type == "data", "DeleteWithInstance": True, "Encrypted": False, "PerformanceLevel": "PL0",
        "ImageId": getattr(world.instances.get(disk.instance_id), "image_id", ""), "Tags": ecs_tags(disk.tags),
    }


@ecs(required=("RegionId",))
def DescribeDisks(request: Request):
    world, region = request.world, request.str("RegionId")
    page = paging(request, max_size=100)
    ids = json_id_list(request, "DiskIds")
    disk_type = request.enum("DiskType", ("all", "system", "data"), "all")
    tag_filters = request.tag_filter("Tag")
    disks = [d for d in world.disks.values() if d.region == region
             and (ids is None or d.id in ids)
             and (not request.has("InstanceId") or d.instance_id == request.str("InstanceId"))
             and (not request.has("ZoneId") or d.zone == request.str("ZoneId"))
             and (disk_type == "all" or d.type == disk_type)
             and (not tag_filters or tags_match(d.tags, tag_filters))]
    body = page.fields(len(disks))
    body["Disks"] = {"Disk": [disk_to_api(d, world) for d in page.slice(disks)]}
    return body


@ecs(required=("DiskId",), client_token=True)
def CreateSnapshot(request: Request):
    world, now = request.world, request.now
    disk = world.disks.get(request.str("DiskId"))
    if disk is None:
        raise api_error("InvalidDiskId.NotFound")
    name = request.str("SnapshotName")
    if name and (not valid_name(name) or name.lower().startswith("auto")):
        raise api_error("InvalidSnapshotName.Malformed")
    instance = world.instances.get(disk.instance_id)
    if instance is not None:
        if instance.lock_reason == "security":
            raise api_error("InstanceLockedForSecurity", "The disk attached instance is locked due to security.")
        if instance.status(now) not in ("Running", "Stopped"):
            raise api_error("IncorrectInstanceStatus")
    if any(s.disk_id == disk.id and s.status(now) == "progressing" for s in world.snapshots.values()):
        raise api_error("IncorrectDiskStatus.CreatingSnapshot")
    retention = request.int("RetentionDays", None, 1, 65536)
    snapshot = new_snapshot(request, disk, name=name, tags=request.tags_to_set("Tag"),
                            description=request.str("Description"), retention_days=retention,
                            category=request.str("Category", "standard"),
                            instant_access=request.bool("InstantAccess"))
    return {"SnapshotId": snapshot.id}


def snapshot_to_api(snapshot: Snapshot, now: float) -> dict:
    status = snapshot.status(now)
    return {
        "SnapshotId": snapshot.id, "SnapshotName": snapshot.name, "Status": status, "Progress": snapshot.progress(now),
        "SourceDiskId": snapshot.disk_id, "SourceDiskSize": str(snapshot.disk_size), "SourceDiskType": snapshot.disk_type,
        "SourceStorageType": "disk", "CreationTime": iso_seconds(snapshot.created_at),
        "LastModifiedTime": iso_seconds(min(now, snapshot.ready_at)), "RetentionDays": snapshot.retention_days or 0,
        "Usage": snapshot.usage, "Encrypted": False, "Available": status == "accomplished",
        "InstantAccess": snapshot.instant_access, "Category": snapshot.category, "Description": snapshot.description,
        "SnapshotType": snapshot.snapshot_type, "RegionId": snapshot.region, "ProductCode": "", "RemainTime": 0,
        "SnapshotSN": snapshot.id.replace("s-", "64"), "ResourceGroupId": "", "Tags": ecs_tags(snapshot.tags),
    }


@ecs(required=("RegionId",))
def DescribeSnapshots(request: Request):
    world, region, now = request.world, request.str("RegionId"), request.now
    page = paging(request, max_size=100)
    ids = json_id_list(request, "SnapshotIds")
    status = request.enum("Status", ("progressing", "accomplished", "failed", "all"), "all",
                          error=api_error("InvalidStatus.NotFound"))
    snapshot_type = request.enum("SnapshotType", ("auto", "user", "all"), "all",
                                 error=api_error("InvalidSnapshotType.NotFound", "The specfied SnapshotType is not "
                                                 "found.", status=404))
    source_type = request.str("SourceDiskType").lower()
    tag_filters = request.tag_filter("Tag")
    snapshots = [s for s in world.snapshots.values() if s.region == region
                 and (ids is None or s.id in ids)
                 and (not request.has("InstanceId") or s.instance_id == request.str("InstanceId"))
                 and (not request.has("DiskId") or s.disk_id == request.str("DiskId"))
                 and (not request.has("SnapshotName") or s.name == request.str("SnapshotName"))
                 and (status == "all" or s.status(now) == status)
                 and (snapshot_type == "all" or s.snapshot_type == snapshot_type)
                 and (not source_type or s.disk_type == source_type)
                 and (not request.has("Usage") or s.usage == request.str("Usage"))
                 and (not tag_filters or tags_match(s.tags, tag_filters))]
    snapshots.sort(key=lambda s: -s.created_at)
    body = page.fields(len(snapshots))
    body["Snapshots"] = {"Snapshot": [snapshot_to_api(s, now) for s in page.slice(snapshots)]}
    return body


# ----- tags -------------------------------------------------------------------------------------------
def _taggable_instances(world, region):
    return world.by_region.get(region, {}).values()


# ResourceType -> function(world, region) returning the taggable objects (each with .id, .region, .tags)
TAGGABLE = {
    "instance": _taggable_instances,
    "disk": lambda world, region: [d for d in world.disks.values() if d.region == region],
    "snapshot": lambda world, region: [s for s in world.snapshots.values() if s.region == region],
    "image": lambda world, region: [i for i in world.images.values() if i.region == region and i.owner == "self"],
}


def tag_missing(name: str) -> ApiError:
    """TagResources & co. answer a missing parameter with 404 ``MissingParameter.<Name>``."""
    plural = {"ResourceId": "ResourceIds", "Tag": "Tags"}.get(name, name)
    return ApiError(f"MissingParameter.{plural}", f"The parameter - {plural} should not be null.", 404)


def tag_targets(request: Request, ids: list[str]) -> list:
    resource_type = request.str("ResourceType").lower()
    if resource_type not in TAGGABLE:
        raise api_error("InvalidResourceType.NotFound")
    if len(ids) > 50:
        raise api_error("NumberExceed.ResourceIds")
    objects = {obj.id: obj for obj in TAGGABLE[resource_type](request.world, request.str("RegionId"))}
    if any(i not in objects for i in ids):
        raise api_error("InvalidResourceId.NotFound")
    return [objects[i] for i in ids]


@ecs(required=("RegionId", "ResourceType", "ResourceId", "Tag"), missing=tag_missing)
def TagResources(request: Request):
    ids = request.list("ResourceId")
    tags = request.tags_to_set("Tag")
    targets = tag_targets(request, ids)
    for target in targets:
        if len({**target.tags, **tags}) > 20:
            raise api_error("OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.")
    for target in targets:
        target.tags.update(tags)
    return {}


@ecs(required=("RegionId", "ResourceType", "ResourceId"), missing=tag_missing)
def UntagResources(request: Request):
    keys = request.list("TagKey")
    remove_all = request.bool("All")
    if keys and remove_all:
        raise ApiError("Param.Conflict", "The specified all is true, but the specified TagKey.N is not empty.", 403)
    if len(keys) > 20:
        raise api_error("NumberExceed.Tags")
    for target in tag_targets(request, request.list("ResourceId")):
        for key in (list(target.tags) if remove_all else keys):
            target.tags.pop(key, None)
    return {}


@ecs(required=("RegionId", "ResourceType"), missing=tag_missing)
def ListTagResources(request: Request):
    resource_type = request.str("ResourceType").lower()
    if resource_type not in TAGGABLE:
        raise api_error("InvalidResourceType.NotFound")
    ids = request.list("ResourceId")
    tag_filters = request.tag_filter("Tag")
    if not ids and not tag_filters:
        raise api_error("BothEmpty.TagsAndResources")
    if len(ids) > 50:
        raise api_error("NumberExceed.ResourceIds")
    wanted = set(ids)
    rows = []
    for obj in TAGGABLE[resource_type](request.world, request.str("RegionId")):
        if (wanted and obj.id not in wanted) or (tag_filters and not tags_match(obj.tags, tag_filters)):
            continue
        rows.extend({"ResourceId": obj.id, "ResourceType": resource_type, "TagKey": k, "TagValue": v}
                    for k, v in obj.tags.items())
    page = paging(request, default_size=50, max_size=50, token_error="Invalid.NextToken")
    body = page.fields(len(rows))
    return {"NextToken": body["NextToken"], "TagResources": {"TagResource": page.slice(rows)}}


# ----- regions ----------------------------------------------------------------------------------------
def region_endpoint(region: str) -> str:
    return "ecs-cn-hangzhou.aliyuncs.com" if region == "cn-hangzhou" else f"ecs.{region}.aliyuncs.com"


@ecs()
def DescribeRegions(request: Request):
    regions = [{"RegionId": region, "LocalName": local, "RegionEndpoint": region_endpoint(region), "Status": "available"}
               for region, (local, _unused, _unused) in sorted(request.world.regions.items())]
    return {"Regions": {"Region": regions}}
