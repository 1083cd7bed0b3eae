"""Container Service for Kubernetes (CS) 2015-12-15: a minimal ROA product.

It exists so ROA-style calls (a method and a path per API, JSON bodies, V3 signatures over the path
and the body hash) are tested against a real server rather than assumed. Three APIs, with the
paths, field names and shapes of the CS API reference:

* ``GET /clusters/{ClusterId}`` (DescribeClusterDetail): one cluster;
* ``GET /api/v1/clusters`` (DescribeClustersV1): ``{"clusters": [...], "page_info": {...}}``, filters
  ``name`` (substring), ``cluster_type``, ``cluster_id``, ``region_id``, ``profile``, ``cluster_spec``;
  ``page_number``/``page_size`` (default 10, at most 100);
* ``PUT /api/v2/clusters/{ClusterId}`` (ModifyCluster): ``deletion_protection``,
  ``instance_deletion_protection``, ``cluster_name`` from the JSON body.

Two ``running`` clusters are seeded in the first ``--regions`` region: ``ack-pro-web``
(ManagedKubernetes) and ``k8s-dedicated-db`` (Kubernetes, deletion protection on). Errors raised here answer in
the CS shape ``{"code", "message", "requestId", "status"}``; gateway errors (signature, throttling,
unknown path) keep the RPC shape. ``ErrorClusterNotFound`` (404) is the code CS users and the
Terraform provider check for; its message text is the emulator's own (unverified).
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

from .api import REGISTRY, Request
from .errors import ApiError
from .state import iso_seconds

CS_VERSION = "2015-12-15"
CLUSTER_TYPES = ("ManagedKubernetes", "Kubernetes", "ExternalKubernetes")


class RoaError(ApiError):
    """An error a ROA product answers itself: ``{"code", "message", "requestId", "status"}``."""

    def body(self, request_id: str) -> dict:
        return {"code": self.code, "message": self.message, "requestId": request_id, "status": self.status}


def cluster_not_found(cluster_id: str) -> RoaError:
    return RoaError("ErrorClusterNotFound", f"The specified cluster {cluster_id} does not exist.", 404)


def invalid_param(name: str, why: str) -> RoaError:
    return RoaError("ErrorParamsInvalid", f"The parameter {name} is invalid: {why}.", 400)


@dataclass
class Cluster:
    id: str
    name: str
    region: str
    cluster_type: str
    state: str
    vpc_id: str
    vswitch_id: str
    security_group_id: str
    resource_group_id: str
    zone_id: str
    created_at: float
    updated_at: float
    version: str = "1.30.1-aliyun.1"
    size: int = 3
    deletion_protection: bool = False
    instance_deletion_protection: bool = False
    tags: dict = field(default_factory=dict)
    profile: str = "Default"
    cluster_spec: str = "ack.pro.small"

    def to_api(self) -> dict:
        return {
            "cluster_id": self.id, "name": self.name, "region_id": self.region, "zone_id": self.zone_id,
            "cluster_type": self.cluster_type, "cluster_spec": self.cluster_spec, "profile": self.profile,
            "state": self.state, "current_version": self.version, "init_version": self.version,
            "size": self.size, "vpc_id": self.vpc_id, "vswitch_id": self.vswitch_id,
            "vswitch_ids": self.vswitch_id, "security_group_id": self.security_group_id,
            "resource_group_id": self.resource_group_id, "network_mode": "vpc",
            "deletion_protection": self.deletion_protection,
            "instance_deletion_protection": self.instance_deletion_protection,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "created": iso_seconds(self.created_at).replace("Z", "+08:00"),
            "updated": iso_seconds(self.updated_at).replace("Z", "+08:00"),
        }


def clusters(world) -> dict[str, Cluster]:
    """The account's clusters, seeded on first use after each reset (own RNG: ECS ids stay unchanged)."""
    if getattr(world, "clusters", None) is None:
        rng = random.Random(f"clusters-{world.seed}")
        region = world.default_region
        net = world.network(region)
        zone = net["zones"][0]
        epoch = time.time() - 86400 * 7
        seeded = {}
        for index, (name, kind, protected) in enumerate((("ack-pro-web", "ManagedKubernetes", False),
                                                         ("k8s-dedicated-db", "Kubernetes", True))):
            cluster_id = "c" + "".join(rng.choice("0123456789abcdef") for _unused in range(32))
            seeded[cluster_id] = Cluster(
                id=cluster_id, name=name, region=region, cluster_type=kind, state="running",
                vpc_id=net["vpc_id"], vswitch_id=net["vswitches"][zone], security_group_id=net["security_group_id"],
                resource_group_id=net["resource_groups"][index % 2], zone_id=zone,
                created_at=epoch + 3600 * index, updated_at=epoch + 3600 * index, size=3 + index,
                deletion_protection=protected, tags={"App": ("web", "db")[index]},
                cluster_spec="ack.pro.small" if kind == "ManagedKubernetes" else "")
        world.clusters = seeded
    return world.clusters


def roa(method: str, path: str, name: str):
    return REGISTRY.route("cs", CS_VERSION, method, path, name)


def find_cluster(request: Request) -> Cluster:
    cluster_id = request.params.get("ClusterId", "")
    cluster = clusters(request.world).get(cluster_id)
    if cluster is None:
        raise cluster_not_found(cluster_id)
    return cluster


@roa("GET", "/clusters/{ClusterId}", "DescribeClusterDetail")
def describe_cluster_detail(request: Request):
    return find_cluster(request).to_api()


@roa("GET", "/api/v1/clusters", "DescribeClustersV1")
def describe_clusters_v1(request: Request):
    page_size = _int_param(request, "page_size", 10, 1, 100)
    page_number = _int_param(request, "page_number", 1, 1, None)
    found = sorted(clusters(request.world).values(), key=lambda c: (c.created_at, c.id))
    name = request.str("name")
    for key, attribute in (("cluster_type", "cluster_type"), ("cluster_id", "id"), ("region_id", "region"),
                           ("profile", "profile"), ("cluster_spec", "cluster_spec")):
        if request.has(key):
            found = [c for c in found if getattr(c, attribute) == request.str(key)]
    if name:
        found = [c for c in found if name in c.name]
    start = (page_number - 1) * page_size
    return {"clusters": [c.to_api() for c in found[start:start + page_size]],
            "page_info": {"page_number": page_number, "page_size": page_size, "total_count": len(found)}}


@roa("PUT", "/api/v2/clusters/{ClusterId}", "ModifyCluster")
def modify_cluster(request: Request):
    cluster = find_cluster(request)
    body = request.body if request.body is not None else {}
    if not isinstance(body, dict):
        raise invalid_param("body", "it must be a JSON object")
    for key in ("deletion_protection", "instance_deletion_protection"):
        if key in body:
            if not isinstance(body[key], bool):
                raise invalid_param(key, "it must be true or false")
            setattr(cluster, key, body[key])
    if "cluster_name" in body:
        if not isinstance(body["cluster_name"], str) or not body["cluster_name"].strip():
            raise invalid_param("cluster_name", "it must be a non-empty string")
        cluster.name = body["cluster_name"]
    cluster.updated_at = request.now
    task_id = f"T-{uuid.uuid4().hex[:16]}"
    return {"cluster_id": cluster.id, "request_id": request.request_id, "task_id": task_id}


def _int_param(request: Request, name: str, default: int, minimum: int, maximum: int | None) -> int:
    text = request.str(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid_param(name, "it must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise invalid_param(name, f"it must be between {minimum} and {maximum or 'any'}")
    return value


def clusters_view(world) -> list[dict]:
    with world.lock:
        return [c.to_api() for c in clusters(world).values()]
