"""HTTP front end: signature checks, dispatch on (API version, action), faults, stats, control API.

Request flow for a cloud API call (``POST /`` or ``GET /``, RPC style; any other path is a ROA call,
dispatched on its method and path, see ``handle_roa``):

1. parameters = URL query + form body; the signature (V3 ``Authorization`` header or V2
   ``Signature`` query parameter) is verified against the configured key pair;
2. the action and version come from ``x-acs-action``/``x-acs-version`` (V3) or ``Action``/``Version``;
3. the call is counted in the stats, then injected faults apply (failing region, throttling,
   service errors, connection reset before or after the change, latency);
4. required parameters and ``RegionId`` are checked, ``ClientToken`` replays are answered from the
   idempotency cache, and the handler runs under the world lock.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

from . import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, ECS_VERSION, OOS_VERSION
from . import catalog, cloud_assistant, cs, ecs, oos  # noqa: F401  (importing registers the actions)
from .api import REGISTRY, Request, is_mutating
from .errors import ApiError, api_error
from .signing import (EMPTY_SHA256, V3_ALGORITHM, parse_authorization, signatures_equal, v2_signature,
                      v2_string_to_sign, v3_canonical_request, v3_signature, v3_string_to_sign)
from .state import INSTANCE_STATUSES, World, iso_minutes

NONCE_WINDOW_SECONDS = 15 * 60
MAX_CLOCK_SKEW_SECONDS = 15 * 60
HOSTS = {ECS_VERSION: "ecs.{region}.aliyuncs.com", OOS_VERSION: "oos.{region}.aliyuncs.com",
         cs.CS_VERSION: "cs.{region}.aliyuncs.com"}
PRODUCTS = {"ecs": "Ecs", "oos": "Oos"}
# The request log keeps the parameters of the most recent signed API calls (GET /_emulator/requests).
REQUEST_LOG_SIZE = 5000


class Faults:
    """Injected faults; changed at run time through ``POST /_emulator/faults``."""

    FIELDS = ("throttle_rate", "error_rate", "reset_rate", "latency_ms", "failing_regions", "actions",
              "retry_after_ms", "reset_phase", "max_resets")
    RESET_PHASES = ("either", "before", "after")

    def __init__(self, throttle_rate=0.0, error_rate=0.0, reset_rate=0.0, latency_ms=0.0, failing_regions=(),
                 actions=None, retry_after_ms=0, reset_phase="either", max_resets=None):
        self.throttle_rate = float(throttle_rate)
        self.error_rate = float(error_rate)
        self.reset_rate = float(reset_rate)
        self.latency_ms = float(latency_ms)
        self.failing_regions = set(failing_regions or ())
        self.actions = set(actions) if actions else None
        self.retry_after_ms = int(retry_after_ms or 0)
        # Mutating calls: reset before the change, after it, or either (half and half).
        self.reset_phase = reset_phase
        # Resets left before the reset fault stops (None: no limit).
        self.max_resets = None if max_resets is None else int(max_resets)

    def update(self, changes: dict) -> None:
        unknown = set(changes) - set(self.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {sorted(unknown)}; known: {', '.join(self.FIELDS)}")
        for key in ("throttle_rate", "error_rate", "reset_rate"):
            if key in changes:
                value = float(changes[key])
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1, got {value}")
                setattr(self, key, value)
        if "latency_ms" in changes:
            self.latency_ms = max(float(changes["latency_ms"]), 0.0)
        if "retry_after_ms" in changes:
            self.retry_after_ms = max(int(changes["retry_after_ms"] or 0), 0)
        if "failing_regions" in changes:
            self.failing_regions = set(changes["failing_regions"] or ())
        if "actions" in changes:
            self.actions = set(changes["actions"]) if changes["actions"] else None
        if "reset_phase" in changes:
            if changes["reset_phase"] not in self.RESET_PHASES:
                raise ValueError(f"reset_phase must be one of {', '.join(self.RESET_PHASES)}")
            self.reset_phase = changes["reset_phase"]
        if "max_resets" in changes:
            value = changes["max_resets"]
            if value is not None and int(value) < 0:
                raise ValueError("max_resets must be a number >= 0, or null for no limit")
            self.max_resets = None if value is None else int(value)

    def applies_to(self, action: str) -> bool:
        return self.actions is None or action in self.actions

    def to_dict(self) -> dict:
        return {"throttle_rate": self.throttle_rate, "error_rate": self.error_rate, "reset_rate": self.reset_rate,
                "latency_ms": self.latency_ms, "failing_regions": sorted(self.failing_regions),
                "actions": sorted(self.actions) if self.actions else None, "retry_after_ms": self.retry_after_ms,
                "reset_phase": self.reset_phase, "max_resets": self.max_resets}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: Counter = Counter()
            self.by_product: dict[str, Counter] = {}
            self.mutating = 0
            self.throttled = 0
            self.failed = 0
            self.resets = 0
            self.errors: Counter = Counter()

    def count_call(self, product: str, action: str) -> None:
        with self.lock:
            self.calls[action] += 1
            self.by_product.setdefault(product, Counter())[action] += 1
            if is_mutating(action):
                self.mutating += 1

    def count(self, field: str) -> None:
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)

    def count_error(self, code: str) -> None:
        with self.lock:
            self.errors[code] += 1

    def to_dict(self) -> dict:
        with self.lock:
            return {"calls": dict(self.calls), "calls_by_product": {p: dict(c) for p, c in self.by_product.items()},
                    "total_calls": sum(self.calls.values()), "mutating_calls": self.mutating,
                    "throttled": self.throttled, "failed": self.failed, "reset": self.resets,
                    "errors": dict(self.errors)}


class ConnectionDropped(Exception):
    """Close the connection without an answer (the reset fault)."""


class Emulator:
    """The whole emulator: world state, services, credentials, faults and stats."""

    def __init__(self, *, access_key_id: str = DEFAULT_ACCESS_KEY_ID,
                 access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET, security_token: str | None = None,
                 security_token_expired: bool = False, instances: int = 0, seed: int = 0, regions: list[str] | None = None, transition_seconds: float = 1.0,
                 faults: Faults | None = None, action_templates: str | None = None, workers: int = 16,
                 oos_engine: str = "auto", state_file: str | None = None):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token
        self.security_token_expired = security_token_expired
        self.start_options = {"instances": instances, "seed": seed, "regions": regions}
        self.world = World(instances=instances, seed=seed, regions=regions, transition_seconds=transition_seconds)
        # --state-file: the cloud side outlives an emulator restart (instance power states and the mutation log).
        self.state_file = state_file
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                self.world.restore_power_state(json.load(handle))
        self.cloud_assistant = cloud_assistant.CloudAssistant(self.world, workers=workers)
        self.oos = oos.Oos(self.world, emulator=self, action_templates=action_templates, engine=oos_engine)
        self.initial_faults = (faults or Faults()).to_dict()
        self.faults = faults or Faults()
        self.stats = Stats()
        # Parameters exactly as each signed call carried them (signature fields removed): what tests compare
        # with what a playbook meant to send.
        self.requests: deque = deque(maxlen=REQUEST_LOG_SIZE)
        self.requests_lock = threading.Lock()
        self.random = random.Random(f"faults-{seed}")
        self.random_lock = threading.Lock()
        self.nonces: OrderedDict[str, float] = OrderedDict()
        self.nonce_lock = threading.Lock()

    def reset(self, instances: int | None = None, seed: int | None = None, regions: list[str] | None = None) -> None:
        options = dict(self.start_options)
        if instances is not None:
            options["instances"] = int(instances)
        if seed is not None:
            options["seed"] = int(seed)
        if regions is not None:
            options["regions"] = list(regions) or None
        with self.world.lock:
            self.cloud_assistant.reset()
            self.world.reset(**options)
            self.oos.reset()
            self.faults = Faults(**self.initial_faults)
        self.stats.reset()
        self.clear_requests()
        with self.nonce_lock:
            self.nonces.clear()

    def save_state(self) -> None:
        """Write the power state atomically, so a kill at any moment leaves the last complete one."""
        with self.world.lock:
            temporary = f"{self.state_file}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(self.world.power_state(), handle)
            os.replace(temporary, self.state_file)

    def close(self) -> None:
        if self.state_file:
            self.save_state()
        self.oos.close()
        self.cloud_assistant.close()

    def log_request(self, entry: dict) -> None:
        with self.requests_lock:
            self.requests.append(entry)

    def clear_requests(self) -> None:
        with self.requests_lock:
            self.requests.clear()

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.random_lock:
            return self.random.random() < rate

    # ----- calls -------------------------------------------------------------------------------------
    def call(self, version: str, action: str, params: dict[str, str], *, request_id: str | None = None) -> dict:
        """Run one action in process (no signature, no faults, not counted): for the OOS engine."""
        spec = REGISTRY.lookup(version, action)
        if spec is None:
            raise api_error("InvalidAction.NotFound")
        return self.execute(spec, {k: str(v) for k, v in params.items()}, request_id or new_request_id())

    def call_roa(self, version: str, method: str, path: str, query: dict, body=None) -> dict:
        """Run one ROA API in process (no signature, no faults, not counted): for the OOS engine."""
        route, path_params = REGISTRY.match_route(version, method, quote(path, safe="/~"))
        if route is None:
            raise api_error("InvalidAction.NotFound")
        params = {k: str(v) for k, v in query.items()}
        params.update(path_params)
        with self.world.lock:
            request = Request(self.world, params, action=route.name, version=version, request_id=new_request_id(),
                              now=time.time(), emulator=self, body=body)
            return route.handler(request)

    def execute(self, spec, params: dict[str, str], request_id: str) -> dict:
        """Validate generic parameters, honour ClientToken, and run the handler under the world lock."""
        for name in spec.required:
            if params.get(name, "") == "" and not any(k.startswith(name + ".") and v != "" for k, v in params.items()):
                raise spec.missing(name)
        region = params.get("RegionId")
        if region is not None and region not in self.world.regions:
            raise api_error("InvalidRegionId.NotFound")
        with self.world.lock:
            request = Request(self.world, params, action=spec.name, version=spec.version, request_id=request_id,
                              now=time.time(), emulator=self)
            token = params.get("ClientToken", "") if spec.client_token else ""
            if token:
                key = (spec.version, spec.name, token)
                cached = self.world.idempotency.get(key)
                if cached is not None:
                    fingerprint, body = cached
                    if fingerprint != request.fingerprint():
                        raise api_error(spec.token_mismatch)
                    return json.loads(json.dumps(body))
            recorded = len(self.world.mutations)
            body = spec.handler(request) or {}
            if spec.mutating:
                self.record_generic_mutation(request, params, body, recorded)
            if token:
                self.world.idempotency[key] = (request.fingerprint(), json.loads(json.dumps(body)))
            if self.state_file and spec.mutating:
                self.save_state()
            return body

    # Where the resource a change concerns is named, in the answer or the request (first match wins).
    RESOURCE_KEYS = ("ImageId", "InvokeId", "CommandId", "SnapshotId", "ExecutionId", "TemplateName", "ClusterId",
                     "cluster_id", "InstanceId")

    def record_generic_mutation(self, request: Request, params: dict, answer, recorded: int) -> None:
        """Log a change whose handler did not log one itself (images, commands, OOS...), so that
        GET /_emulator/mutations lists every change actually applied."""
        if request.action in ecs.LOGGED_ACTIONS or len(self.world.mutations) != recorded:
            return
        resource = ""
        for source in (answer if isinstance(answer, dict) else {}, (answer or {}).get("Execution") or {},
                       (answer or {}).get("Template") or {}, params):
            resource = next((str(source[k]) for k in self.RESOURCE_KEYS if source.get(k)), "")
            if resource:
                break
        if not resource:
            resource = ",".join(v for k, v in sorted(params.items()) if k.split(".")[0] in self.RESOURCE_KEYS)
        self.world.record_mutation(request.action, resource, params.get("ClientToken", ""), request.now)

    # ----- authentication ----------------------------------------------------------------------------
    def authenticate(self, method: str, path: str, query_pairs: list, all_pairs: list, headers: dict,
                     body: bytes) -> tuple[str, str]:
        """Verify the request's signature; returns (action, version)."""
        authorization = headers.get("authorization", "")
        query = dict(query_pairs)
        if authorization:
            return self._verify_v3(method, path, query_pairs, headers, body, authorization)
        if "Signature" in query:
            return self._verify_v2(method, dict(all_pairs), query)
        raise api_error("IncompleteSignature", "The request signature does not conform to Aliyun standards. "
                        "Sign it with ACS3-HMAC-SHA256 (Authorization header) or HMAC-SHA1 (Signature parameter).")

    def _check_key_and_token(self, access_key_id: str, token: str | None) -> None:
        if access_key_id != self.access_key_id:
            raise api_error("InvalidAccessKeyId.NotFound")
        if self.security_token is None:
            if token:
                raise api_error("InvalidSecurityToken.Malformed")
        elif not token:
            raise api_error("InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed: this "
                            "AccessKey is temporary and needs its SecurityToken.")
        elif token != self.security_token:
            raise api_error("InvalidSecurityToken.MismatchWithAccessKey")
        elif self.security_token_expired:
            raise api_error("InvalidSecurityToken.Expired")

    def _check_nonce_and_time(self, nonce: str, timestamp: str) -> None:
        if timestamp:
            try:
                moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
            except ValueError:
                raise api_error("InvalidTimeStamp.Format", "Specified time stamp or date value is not well "
                                "formatted.") from None
            if abs(time.time() - moment) > MAX_CLOCK_SKEW_SECONDS:
                raise api_error("InvalidTimeStamp.Expired")
        if not nonce:
            return
        now = time.time()
        with self.nonce_lock:
            while self.nonces and next(iter(self.nonces.values())) < now - NONCE_WINDOW_SECONDS:
                self.nonces.popitem(last=False)
            if nonce in self.nonces:
                raise api_error("SignatureNonceUsed")
            self.nonces[nonce] = now

    def _verify_v3(self, method, path, query_pairs, headers, body, authorization) -> tuple[str, str]:
        try:
            parts = parse_authorization(authorization)
        except ValueError as exc:
            raise api_error("IncompleteSignature", f"The request signature does not conform to Aliyun "
                            f"standards: {exc}.") from None
        if parts["algorithm"] != V3_ALGORITHM:
            raise api_error("InvalidSignatureMethod", f"The signature algorithm {parts['algorithm']} is not "
                            f"supported by the emulator; use {V3_ALGORITHM}.")
        self._check_key_and_token(parts["credential"], headers.get("x-acs-security-token"))
        payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        declared = headers.get("x-acs-content-sha256")
        if declared is not None and declared != payload_hash:
            raise api_error("SignatureDoesNotMatch", "Specified signature is not matched with our calculation: "
                            "x-acs-content-sha256 does not match the body.")
        canonical = v3_canonical_request(method, path, query_pairs, headers, parts["signed_headers"], payload_hash)
        string_to_sign = v3_string_to_sign(canonical)
        if not signatures_equal(v3_signature(self.access_key_secret, string_to_sign), parts["signature"]):
            raise api_error("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                            f"server string to sign is:{string_to_sign}")
        self._check_nonce_and_time(headers.get("x-acs-signature-nonce", ""), headers.get("x-acs-date", ""))
        return _required_pair(headers, "x-acs-action", "x-acs-version")

    def _verify_v2(self, method, params, query) -> tuple[str, str]:
        if query.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
            raise api_error("InvalidSignatureMethod", "Specified signature method is not supported; use HMAC-SHA1.")
        self._check_key_and_token(query.get("AccessKeyId", ""), params.get("SecurityToken"))
        string_to_sign = v2_string_to_sign(method, params)
        if not signatures_equal(v2_signature(self.access_key_secret, string_to_sign), query["Signature"]):
            raise api_error("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                            f"server string to sign is:{string_to_sign}")
        self._check_nonce_and_time(query.get("SignatureNonce", ""), query.get("Timestamp", ""))
        return _required_pair(params, "Action", "Version")

    # ----- one API request ---------------------------------------------------------------------------
    def handle_api(self, method: str, path: str, query_pairs: list, body_pairs: list, headers: dict,
                   body: bytes, request_id: str) -> tuple[int, dict, dict]:
        """Returns (HTTP status, body, extra headers); raises ConnectionDropped for the reset fault."""
        all_pairs = query_pairs + body_pairs
        action, version = self.authenticate(method, path, query_pairs, all_pairs, headers, body)
        if path != "/":
            return self.handle_roa(method, path, query_pairs, body, request_id, action, version)
        params = {k: v for k, v in all_pairs
                  if k not in ("Action", "Version", "Signature", "SignatureMethod", "SignatureVersion",
                               "SignatureNonce", "Timestamp", "AccessKeyId", "SecurityToken", "Format")}
        spec = REGISTRY.lookup(version, action)
        product = product_of(version)
        self.stats.count_call(product, action)
        self.log_request({"product": product, "version": version, "action": action, "params": dict(params)})
        if spec is None:
            raise not_found(version)
        self.inject_faults(action, params)
        reset_after = self.draw_reset(action, spec.mutating)
        body = self.execute(spec, params, request_id)
        if reset_after:
            self.stats.count("resets")
            raise ConnectionDropped()
        return 200, body, {}

    def handle_roa(self, method: str, path: str, query_pairs: list, body: bytes, request_id: str, action: str,
                   version: str) -> tuple[int, dict, dict]:
        """A ROA call: the route comes from the method and the path, as the ROA gateway routes it."""
        route, path_params = REGISTRY.match_route(version, method, path)
        name = route.name if route else action
        self.stats.count_call(product_of(version), name)
        if route is None:
            raise not_found(version)
        params = dict(query_pairs)
        params.update(path_params)
        document = None
        if body.strip():
            try:
                document = json.loads(body)
            except ValueError:
                raise api_error("InvalidParameter", name="body") from None
        self.log_request({"product": REGISTRY.products.get(version, version), "version": version, "action": name,
                          "params": dict(params), "body": document})
        self.inject_faults(name, params)
        reset_after = self.draw_reset(name, route.mutating)
        with self.world.lock:
            request = Request(self.world, params, action=route.name, version=version, request_id=request_id,
                              now=time.time(), emulator=self, body=document)
            recorded = len(self.world.mutations)
            answer = route.handler(request)
            if route.mutating:
                self.record_generic_mutation(request, params, answer, recorded)
        if reset_after:
            self.stats.count("resets")
            raise ConnectionDropped()
        return 200, answer, {}

    def draw_reset(self, action: str, mutating: bool) -> bool:
        """The reset fault: raises ConnectionDropped now (before any change), or returns True when the
        connection is to be reset after the change (mutating calls only: then only a ClientToken, or a
        read-back, tells the client what happened)."""
        faults = self.faults
        if not faults.applies_to(action) or faults.max_resets == 0 or not self.chance(faults.reset_rate):
            return False
        if faults.max_resets is not None:
            faults.max_resets -= 1
        phase = faults.reset_phase if mutating else "before"
        if phase == "after" or (phase == "either" and self.chance(0.5)):
            return True
        self.stats.count("resets")
        raise ConnectionDropped()

    def inject_faults(self, action: str, params: dict) -> None:
        faults = self.faults
        if not faults.applies_to(action):
            return
        if faults.failing_regions and self.request_region(params) in faults.failing_regions:
            self.stats.count("failed")
            raise api_error("ServiceUnavailable")
        if self.chance(faults.throttle_rate):
            self.stats.count("throttled")
            headers = {"x-acs-retry-after": str(faults.retry_after_ms)} if faults.retry_after_ms else None
            raise ApiError("Throttling.User", api_error("Throttling.User").message, 400, headers)
        if self.chance(faults.error_rate):
            self.stats.count("failed")
            raise api_error("ServiceUnavailable")

    def request_region(self, params: dict) -> str:
        """The region a call is for: RegionId, else the region of the instance it names, else the default."""
        if params.get("RegionId"):
            return params["RegionId"]
        instance = self.world.instances.get(params.get("InstanceId", ""))
        if instance is not None:
            return instance.region
        return self.world.default_region

    def latency(self, action: str) -> float:
        return self.faults.latency_ms / 1000.0 if self.faults.applies_to(action) else 0.0

    # ----- control API -------------------------------------------------------------------------------
    def control(self, method: str, path: str, payload) -> tuple[int, object]:
        parts = [p for p in path.split("/") if p]
        now = time.time()
        if method == "GET":
            if parts == ["stats"]:
                return 200, self.stats.to_dict()
            if parts == ["faults"]:
                return 200, self.faults.to_dict()
            if parts == ["requests"]:
                with self.requests_lock:
                    return 200, list(self.requests)
            if parts == ["mutations"]:
                with self.world.lock:
                    return 200, list(self.world.mutations)
            if parts == ["instances"]:
                with self.world.lock:
                    return 200, [instance_view(i, now) for i in self.world.instances.values()]
            if len(parts) == 2 and parts[0] == "instances":
                with self.world.lock:
                    instance = self.world.instances.get(parts[1])
                    if instance is None:
                        return 404, {"error": f"no instance {parts[1]}"}
                    view = instance_view(instance, now)
                    view["FileRoot"] = str(self.cloud_assistant.instance_root(instance.id))
                    return 200, view
            if len(parts) == 3 and parts[0] == "instances" and parts[2] == "files":
                if parts[1] not in self.world.instances:
                    return 404, {"error": f"no instance {parts[1]}"}
                return 200, cloud_assistant.files_view(self.cloud_assistant, parts[1])
            if parts == ["images"]:
                with self.world.lock:
                    return 200, [image_view(img, now) for img in self.world.images.values() if img.owner != "system"]
            if parts == ["snapshots"]:
                with self.world.lock:
                    return 200, [ecs.snapshot_to_api(s, now) | {"RegionId": s.region}
                                 for s in self.world.snapshots.values()]
            if parts == ["invocations"]:
                return 200, cloud_assistant.invocations_view(self.cloud_assistant)
            if parts == ["executions"]:
                return 200, oos.executions_view(self.oos)
            if parts == ["clusters"]:
                return 200, cs.clusters_view(self.world)
            if parts == ["templates"]:
                with self.world.lock:
                    return 200, [t.to_api(listing=True) | {"RegionId": getattr(t, "region", "")}
                                 for t in list(self.oos.templates.values()) + list(self.oos.public.values())]
            return 404, {"error": f"unknown control path GET /_emulator/{path}"}
        if method == "POST":
            payload = payload or {}
            if not isinstance(payload, dict):
                return 400, {"error": "the body must be a JSON object"}
            if parts == ["reset"]:
                unknown = set(payload) - {"instances", "seed", "regions"}
                if unknown:
                    return 400, {"error": f"unknown reset option(s) {sorted(unknown)}"}
                self.reset(**payload)
                return 200, {"instances": len(self.world.instances), "regions": self.world.seed_regions}
            if parts == ["stats", "reset"]:
                self.stats.reset()
                self.clear_requests()
                return 200, self.stats.to_dict()
            if parts == ["faults"]:
                try:
                    self.faults.update(payload)
                except (TypeError, ValueError) as exc:
                    return 400, {"error": str(exc)}
                return 200, self.faults.to_dict()
            if len(parts) == 3 and parts[0] == "instances" and parts[2] == "status":
                return self.force_instance(parts[1], payload, now)
            return 404, {"error": f"unknown control path POST /_emulator/{path}"}
        return 405, {"error": f"method {method} not allowed on the control API"}

    def force_instance(self, instance_id: str, payload: dict, now: float) -> tuple[int, object]:
        """Test setup: force ``Status``, ``CloudAssistantStatus`` ("true"/"false"/"offline") or ``LockReason``."""
        with self.world.lock:
            instance = self.world.instances.get(instance_id)
            if instance is None:
                return 404, {"error": f"no instance {instance_id}"}
            unknown = set(payload) - {"Status", "CloudAssistantStatus", "LockReason"}
            if unknown:
                return 400, {"error": f"unknown field(s) {sorted(unknown)}; use Status, CloudAssistantStatus, "
                                      "LockReason"}
            if "Status" in payload:
                if payload["Status"] not in INSTANCE_STATUSES:
                    return 400, {"error": f"Status must be one of {', '.join(INSTANCE_STATUSES)}"}
                instance.force(payload["Status"])
            if "CloudAssistantStatus" in payload:
                agent = str(payload["CloudAssistantStatus"]).lower()
                if agent not in ("true", "false", "offline"):
                    return 400, {"error": "CloudAssistantStatus must be true, false (no agent) or offline (installed, "
                                          "not answering)"}
                instance.agent_installed, instance.agent_offline = agent != "false", agent == "offline"
                instance.agent_pending = False
            if "LockReason" in payload:
                instance.lock_reason = payload["LockReason"] or ""
            return 200, instance_view(instance, now)


def product_of(version: str) -> str:
    """The product a request is for: the emulated one, else the real product with that API version."""
    return REGISTRY.products.get(version) or catalog.product_name(version) or version


def not_found(version: str) -> ApiError:
    """A product's gateway answers an action it lacks with 404 InvalidAction.NotFound, whether or not the
    emulator emulates the product; only a version no product has is InvalidVersion."""
    if version not in REGISTRY.products and catalog.product_name(version) is None:
        return api_error("InvalidVersion")
    return api_error("InvalidAction.NotFound")


def instance_view(instance, now: float) -> dict:
    return {
        "InstanceId": instance.id, "InstanceName": instance.name, "HostName": instance.hostname,
        "Status": instance.status(now), "RegionId": instance.region, "ZoneId": instance.zone,
        "InstanceType": instance.instance_type, "ImageId": instance.image_id, "VpcId": instance.vpc_id,
        "VSwitchId": instance.vswitch_id, "PrivateIpAddress": instance.private_ip,
        "PublicIpAddress": instance.public_ip, "Tags": dict(instance.tags),
        "ResourceGroupId": instance.resource_group_id, "CloudAssistantStatus": instance.cloud_assistant_status(now),
        "SystemDiskId": instance.system_disk_id, "CreationTime": iso_minutes(instance.created_at),
        "LockReason": instance.lock_reason, "StoppedMode": instance.stopped_mode,
    }


def image_view(image, now: float) -> dict:
    return {"ImageId": image.id, "ImageName": image.name, "RegionId": image.region, "Status": image.status(now),
            "Progress": image.progress(now), "SourceInstanceId": image.source_instance_id,
            "SnapshotIds": list(image.snapshot_ids), "Tags": dict(image.tags)}


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def error_body(error: ApiError, request_id: str, version: str, region: str) -> dict:
    product = {ECS_VERSION: "Ecs", OOS_VERSION: "Oos", cs.CS_VERSION: "CS"}.get(version, "Ecs")
    host = HOSTS.get(version, "ecs.{region}.aliyuncs.com").format(region=region)
    return {"RequestId": request_id, "HostId": host, "Code": error.code, "Message": error.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product={product}&requestId={request_id}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AlibabaCloudEmulator"
    sys_version = ""
    emulator: Emulator = None  # set by make_server

    def log_message(self, format, *args):  # noqa: A002 - quiet by default; the SDK logs enough
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self):
        split = urlsplit(self.path)
        body = self.read_body()
        if split.path.startswith("/_emulator/") or split.path == "/_emulator":
            return self.control(split.path[len("/_emulator"):], body)
        return self.api(split, body)

    # ----- the control API ---------------------------------------------------------------------------
    def control(self, path: str, body: bytes):
        if self.client_address[0] not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            return self.send_json(403, {"error": "the control API answers loopback clients only"})
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return self.send_json(400, {"error": "the body is not valid JSON"})
        status, answer = self.emulator.control(self.command, path, payload)
        return self.send_json(status, answer)

    # ----- cloud API calls ---------------------------------------------------------------------------
    def api(self, split, body: bytes):
        emulator = self.emulator
        request_id = new_request_id()
        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        content_type = headers.get("content-type", "")
        body_pairs = []
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            body_pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        version = headers.get("x-acs-version") or dict(query_pairs).get("Version", "")
        action = headers.get("x-acs-action") or dict(query_pairs).get("Action", "")
        region = dict(query_pairs + body_pairs).get("RegionId") or emulator.world.default_region
        roa = (split.path or "/") != "/"
        try:
            status, answer, extra_headers = emulator.handle_api(self.command, split.path or "/", query_pairs,
                                                                body_pairs, headers, body, request_id)
            if not roa:  # ROA answers carry their request id in the x-acs-request-id header only
                answer = {"RequestId": request_id, **answer}
        except ConnectionDropped:
            return self.drop_connection()
        except cs.RoaError as error:
            emulator.stats.count_error(error.code)
            status, answer, extra_headers = error.status, error.body(request_id), error.headers
        except ApiError as error:
            emulator.stats.count_error(error.code)
            status, answer, extra_headers = error.status, error_body(error, request_id, version, region), error.headers
        except Exception as exc:  # noqa: BLE001 - a bug must still answer JSON the SDK can map
            emulator.stats.count_error("InternalError")
            error = ApiError("InternalError", f"The request processing has failed due to some unknown error. "
                             f"(emulator: {type(exc).__name__}: {exc})", 500)
            status, answer, extra_headers = 500, error_body(error, request_id, version, region), {}
            self.log_error("internal error in %s: %r", action, exc)
        delay = emulator.latency(action) if action else 0.0
        if delay:
            time.sleep(delay)
        self.send_json(status, answer, {"x-acs-request-id": request_id, **extra_headers})

    def drop_connection(self):
        """Reset the TCP connection without any answer (SO_LINGER 0 sends RST)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def send_json(self, status: int, payload, headers: dict | None = None):
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    verbose = False
    tls_context = None

    def finish_request(self, request, client_address):
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that rejects the certificate, or does not speak TLS
        super().finish_request(request, client_address)


def make_server(emulator: Emulator, host: str = "127.0.0.1", port: int = 0, tls_cert: str | None = None,
                tls_key: str | None = None) -> EmulatorServer:
    """The HTTP server; HTTPS when ``tls_cert``/``tls_key`` are given (the handshake runs in the request's thread)."""
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    server = EmulatorServer((host, port), handler)
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.tls_context = context
    return server


def _required_pair(source: dict, action_key: str, version_key: str) -> tuple[str, str]:
    """The (action, version) a signed request names, V3 in headers or V2 in the query."""
    for key in (action_key, version_key):
        if not source.get(key):
            raise api_error("MissingParameter", name=key)
    return source[action_key], source[version_key]
