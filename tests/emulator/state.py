"""The emulated account: regions, instances, disks, images and snapshots, with a lazy state machine.

Nothing runs in the background: an instance's status is computed from timestamps when it is read
(``Instance.status``), so a fleet of 10,000 idle instances costs only memory. Every mutation and
every read that must be consistent happens under ``World.lock`` (the HTTP layer takes it around each
handler).
"""
from __future__ import annotations

import ipaddress
import random
import string
import threading
import time
from datetime import datetime, timezone

from . import DEFAULT_REGION, DEFAULT_TRANSITION_SECONDS

ACCOUNT_ID = "1234567890123456"
EXECUTED_BY = f"root({ACCOUNT_ID})"

# RegionId -> (LocalName, id infix used in resource ids, zone suffixes). Real region ids and zones.
REGIONS: dict[str, tuple[str, str, str]] = {
    "cn-hangzhou": ("China (Hangzhou)", "bp", "hijk"),
    "cn-shanghai": ("China (Shanghai)", "uf", "befg"),
    "cn-beijing": ("China (Beijing)", "2z", "acfg"),
    "cn-shenzhen": ("China (Shenzhen)", "wz", "acde"),
    "cn-qingdao": ("China (Qingdao)", "m5", "bc"),
    "cn-zhangjiakou": ("China (Zhangjiakou)", "8v", "abc"),
    "cn-hongkong": ("China (Hong Kong)", "j6", "bcd"),
    "ap-southeast-1": ("Singapore", "t4", "abc"),
    "us-west-1": ("US (Silicon Valley)", "rj", "ab"),
    "eu-central-1": ("Germany (Frankfurt)", "gw", "ab"),
}

# InstanceType -> (Cpu, Memory MiB, InstanceTypeFamily)
INSTANCE_TYPES: dict[str, tuple[int, int, str]] = {
    "ecs.t6-c1m1.large": (2, 2048, "ecs.t6"),
    "ecs.g6.large": (2, 8192, "ecs.g6"),
    "ecs.g7.large": (2, 8192, "ecs.g7"),
    "ecs.c6.xlarge": (4, 8192, "ecs.c6"),
    "ecs.c7.large": (2, 4096, "ecs.c7"),
    "ecs.r7.large": (2, 16384, "ecs.r7"),
    "ecs.g5.large": (2, 8192, "ecs.g5"),
}
SEED_INSTANCE_TYPES = ("ecs.g6.large", "ecs.c6.xlarge", "ecs.t6-c1m1.large", "ecs.g7.large")

# System images available in every region: ImageId -> (OSName, OSNameEn, Platform)
SYSTEM_IMAGES: dict[str, tuple[str, str, str]] = {
    "aliyun_3_x64_20G_alibase_20240101.vhd": ("Alibaba Cloud Linux  3.2104 LTS 64位", "Alibaba Cloud Linux  3.2104 LTS 64 bit", "Aliyun"),
    "ubuntu_22_04_x64_20G_alibase_20240101.vhd": ("Ubuntu  22.04 64位", "Ubuntu  22.04 64 bit", "Ubuntu"),
    "centos_7_9_x64_20G_alibase_20240101.vhd": ("CentOS  7.9 64位", "CentOS  7.9 64 bit", "CentOS"),
}

INSTANCE_STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
SEED_ENVS = ("dev", "prod")
SEED_APPS = ("web", "db")


def public_ip_address(rng: random.Random) -> str:
    """A "public" IP from 198.18.0.0/15 (RFC 2544, benchmarking): never routed, so a playbook that
    mistakenly connects to an emulated instance reaches nobody's real machine."""
    return str(ipaddress.IPv4Address("198.18.0.0") + rng.randrange(1, 2 ** 17 - 1))


def iso_seconds(ts: float | None) -> str:
    """Cloud Assistant, images, snapshots and OOS: second precision."""
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_minutes(ts: float | None) -> str:
    """ECS instance times (CreationTime, StartTime...): minute precision."""
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


class Instance:
    __slots__ = (
        "id", "name", "hostname", "description", "region", "zone", "instance_type", "image_id",
        "vpc_id", "vswitch_id", "security_group_ids", "private_ip", "public_ip", "tags",
        "resource_group_id", "created_at", "started_at", "charge_type", "deletion_protection",
        "key_pair_name", "stopped_mode", "settled", "phases", "agent_installed", "agent_pending", "agent_offline",
        "lock_reason", "system_disk_id", "serial", "mac", "eni_id", "index", "last_invoked_at",
        "invocation_count", "api_static",
    )

    def __init__(self, **fields):
        self.description = ""
        self.charge_type = "PostPaid"
        self.deletion_protection = False
        self.key_pair_name = ""
        self.stopped_mode = "Not-applicable"
        self.phases = ()
        self.agent_installed = True
        self.agent_pending = False
        self.agent_offline = False   # installed, but its service does not answer (no heartbeat)
        self.lock_reason = ""
        self.public_ip = ""
        self.last_invoked_at = 0.0
        self.invocation_count = 0
        self.api_static = None
        for key, value in fields.items():
            setattr(self, key, value)

    def status(self, now: float | None = None) -> str:
        """Status as of ``now``: the first unfinished transition phase, else the settled status."""
        if self.phases:
            now = time.time() if now is None else now
            for phase_status, until in self.phases:
                if now < until:
                    return phase_status
        return self.settled

    def begin(self, phases: list[tuple[str, float]], settled: str, now: float) -> None:
        """Start a transition: each ``(status, seconds)`` phase in turn, then ``settled``."""
        timeline, at = [], now
        for phase_status, seconds in phases:
            at += seconds
            timeline.append((phase_status, at))
        self.phases = tuple(timeline)
        self.settled = settled
        if settled == "Running":
            self.started_at = at
            if self.agent_pending:  # InstallCloudAssistant takes effect on the next (re)start
                self.agent_installed, self.agent_pending = True, False
        self.stopped_mode = "Not-applicable" if settled != "Stopped" else self.stopped_mode

    def force(self, status: str) -> None:
        self.phases = ()
        self.settled = status
        if status != "Stopped":
            self.stopped_mode = "Not-applicable"
        elif self.stopped_mode == "Not-applicable":
            self.stopped_mode = "KeepCharging"

    def cloud_assistant_status(self, now: float | None = None) -> str:
        """``"true"`` while the agent heartbeats: installed, online and the instance Running (a string, as the API)."""
        running = self.agent_installed and not self.agent_offline and self.status(now) == "Running"
        return "true" if running else "false"

    def cpu_memory_family(self) -> tuple[int, int, str]:
        return INSTANCE_TYPES.get(self.instance_type, (2, 4096, self.instance_type.rsplit(".", 1)[0]))


class Disk:
    __slots__ = ("id", "region", "zone", "instance_id", "size", "category", "device", "type", "created_at",
                 "tags", "name")

    def __init__(self, **fields):
        self.tags = {}
        self.name = ""
        for key, value in fields.items():
            setattr(self, key, value)


class Image:
    def __init__(self, **fields):
        self.description = ""
        self.family = ""
        self.version = ""
        self.tags = {}
        self.resource_group_id = ""
        self.snapshot_ids: list[str] = []
        self.source_instance_id = ""
        self.ready_at = 0.0
        self.final_status = "Available"
        self.size = 40
        self.architecture = "x86_64"
        self.os_type = "linux"
        self.__dict__.update(fields)

    def status(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        return "Creating" if now < self.ready_at else self.final_status

    def progress(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if now >= self.ready_at:
            return "100%"
        span = max(self.ready_at - self.created_at, 1e-9)
        return f"{int(100 * (now - self.created_at) / span)}%"


class Snapshot:
    def __init__(self, **fields):
        self.description = ""
        self.tags = {}
        self.retention_days = None
        self.category = "standard"
        self.usage = "none"
        self.snapshot_type = "user"
        self.instant_access = False
        self.__dict__.update(fields)

    def status(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        return "progressing" if now < self.ready_at else "accomplished"

    def progress(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if now >= self.ready_at:
            return "100%"
        span = max(self.ready_at - self.created_at, 1e-9)
        return f"{int(100 * (now - self.created_at) / span)}%"


class World:
    """All emulated state of one account, plus the settings it was created with."""

    def __init__(self, *, instances: int = 0, seed: int = 0, regions: list[str] | None = None,
                 transition_seconds: float = DEFAULT_TRANSITION_SECONDS):
        self.lock = threading.RLock()
        self.transition_seconds = transition_seconds
        self.reset(instances=instances, seed=seed, regions=regions)

    # ----- lifecycle -------------------------------------------------------------------------
    def reset(self, *, instances: int = 0, seed: int = 0, regions: list[str] | None = None) -> None:
        with self.lock:
            self.seed = seed
            self.seed_regions = list(regions or [DEFAULT_REGION])
            self.regions = dict(REGIONS)
            for region in self.seed_regions:
                self.regions.setdefault(region, (region, "xx", "abc"))
            self.default_region = self.seed_regions[0]
            self.rng = random.Random(f"ids-{seed}")
            self.instances: dict[str, Instance] = {}
            self.by_region: dict[str, dict[str, Instance]] = {r: {} for r in self.regions}
            self.disks: dict[str, Disk] = {}
            self.images: dict[str, Image] = {}
            self.snapshots: dict[str, Snapshot] = {}
            self.idempotency: dict[tuple, tuple[str, dict]] = {}
            self.networks: dict[str, dict] = {}
            self.clusters = None  # CS clusters, seeded on first use by cs.clusters()
            # Every applied change, in order: what GET /_emulator/mutations shows (replays are not applied).
            self.mutations: list[dict] = []
            self.next_ip_index = instances
            self._seed_images()
            self._seed_fleet(instances)

    def _seed_images(self) -> None:
        epoch = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
        for region in self.regions:
            for image_id, (os_name, os_name_en, platform) in SYSTEM_IMAGES.items():
                self.images[f"{region}/{image_id}"] = Image(
                    id=image_id, name=image_id, region=region, owner="system", os_name=os_name,
                    os_name_en=os_name_en, platform=platform, created_at=epoch, ready_at=epoch, size=20)

    def network(self, region: str) -> dict:
        """The region's default VPC, one vSwitch per zone and a security group (created on first use)."""
        net = self.networks.get(region)
        if net is None:
            rng = random.Random(f"net-{self.seed}-{region}")
            infix = self.regions[region][1]
            zones = [f"{region}-{z}" for z in self.regions[region][2]]
            net = {
                "vpc_id": f"vpc-{infix}{_random_suffix(rng, 18)}",
                "zones": zones,
                "vswitches": {z: f"vsw-{infix}{_random_suffix(rng, 18)}" for z in zones},
                "security_group_id": f"sg-{infix}{_random_suffix(rng, 18)}",
                "resource_groups": [f"rg-acfm{_random_suffix(rng, 11)}", f"rg-aek2{_random_suffix(rng, 11)}"],
            }
            self.networks[region] = net
        return net

    def _seed_fleet(self, count: int) -> None:
        rng = random.Random(f"fleet-{self.seed}")
        now = time.time()
        base_ip = int(ipaddress.IPv4Address("172.16.0.10"))
        images = list(SYSTEM_IMAGES)
        for index in range(count):
            region = self.seed_regions[index % len(self.seed_regions)]
            net = self.network(region)
            env, app = SEED_ENVS[index % 2], SEED_APPS[(index // 2) % 2]
            zone = net["zones"][index % len(net["zones"])]
            name = f"{app}-{env}-{index + 1:04d}"
            created = now - 86400 * (1 + rng.random() * 30)
            instance = Instance(
                id=self.new_id("i", region, rng), name=name, hostname=name, region=region, zone=zone,
                instance_type=SEED_INSTANCE_TYPES[rng.randrange(len(SEED_INSTANCE_TYPES))],
                image_id=images[rng.randrange(len(images))], vpc_id=net["vpc_id"],
                vswitch_id=net["vswitches"][zone], security_group_ids=[net["security_group_id"]],
                private_ip=str(ipaddress.IPv4Address(base_ip + index)),
                public_ip=(public_ip_address(rng)
                           if app == "web" else ""),
                tags={"Env": env, "App": app}, resource_group_id=net["resource_groups"][0 if env == "dev" else 1],
                created_at=created, started_at=created + 60, settled="Running", index=index,
            )
            self.finish_instance(instance, rng)
            self.add_instance(instance)

    def finish_instance(self, instance: Instance, rng: random.Random) -> None:
        instance.serial = "-".join(_random_suffix(rng, n, string.hexdigits[:16]) for n in (8, 4, 4, 4, 12))
        instance.mac = "00:16:3e:" + ":".join(f"{rng.randrange(256):02x}" for _unused in range(3))
        instance.eni_id = self.new_id("eni", instance.region, rng)
        disk = Disk(id=self.new_id("d", instance.region, rng), region=instance.region, zone=instance.zone,
                    instance_id=instance.id, size=40, category="cloud_essd", device="/dev/xvda", type="system",
                    created_at=instance.created_at)
        self.disks[disk.id] = disk
        instance.system_disk_id = disk.id

    # ----- ids and lookups -------------------------------------------------------------------
    def new_id(self, prefix: str, region: str | None = None, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        infix = self.regions.get(region or self.default_region, ("", "xx", ""))[1]
        return f"{prefix}-{infix}{_random_suffix(rng, 18)}"

    def allocate_private_ip(self) -> str:
        self.next_ip_index += 1
        return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("172.16.0.10")) + self.next_ip_index - 1))

    def add_instance(self, instance: Instance) -> None:
        self.instances[instance.id] = instance
        self.by_region.setdefault(instance.region, {})[instance.id] = instance

    def remove_instance(self, instance: Instance) -> None:
        self.instances.pop(instance.id, None)
        self.by_region.get(instance.region, {}).pop(instance.id, None)
        for disk_id in [d.id for d in self.disks.values() if d.instance_id == instance.id]:
            self.disks.pop(disk_id, None)

    def image(self, region: str, image_id: str) -> Image | None:
        return self.images.get(f"{region}/{image_id}") or self.images.get(image_id)

    def region_images(self, region: str) -> list[Image]:
        return [image for image in self.images.values() if image.region == region]

    def add_image(self, image: Image) -> None:
        self.images[image.id] = image

    # ----- the mutation log and the persisted power state (--state-file) ---------------------
    def record_mutation(self, action: str, resource_id: str, client_token: str, now: float) -> None:
        self.mutations.append({"action": action, "instance_id": resource_id, "client_token": client_token,
                               "applied_at": now})

    def power_state(self) -> dict:
        """What survives a restart: each instance's power timeline, and the mutation log."""
        return {"instances": {i.id: {"settled": i.settled, "phases": [list(p) for p in i.phases],
                                     "stopped_mode": i.stopped_mode} for i in self.instances.values()},
                "mutations": self.mutations}

    def restore_power_state(self, state: dict) -> None:
        """Apply ``power_state()`` to the same seeded fleet (instances created since are not restored)."""
        for instance_id, saved in state.get("instances", {}).items():
            instance = self.instances.get(instance_id)
            if instance is not None:
                instance.settled = saved["settled"]
                instance.phases = tuple((status, until) for status, until in saved["phases"])
                instance.stopped_mode = saved["stopped_mode"]
        self.mutations = list(state.get("mutations", []))


def _random_suffix(rng: random.Random, length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _unused in range(length))
