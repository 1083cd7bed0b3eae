# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side batching for the instance workflow action plugins.

With ``hosts: web`` Ansible calls an action plugin once per host, in up to ``forks`` worker
processes at a time. To spend one API call per 100 instances instead of several per host:

* the first host of the play batch to take the batch lock becomes the **leader**: it reads every
  host's instance from hostvars (or resolves it by IP), runs the module logic ONCE for all of them
  (``module_utils``: the same functions as the module path), and stores each host's result;
* every other host waits on the lock, then reads its own result: no API call, no module process.

The cache lives in Ansible's private per-run temp dir (removed at exit) and is keyed by task uuid +
play batch (+ loop item), so ``serial`` batches, ``--limit`` and hosts removed after failures
give different keys. A leader that fails stores its error for the others; one that dies (lock
released with no result) is reported, never waited on forever. A host the leader left out (its
``when`` was false or could not be decided for it) does its own work when it arrives. A host that
already consumed its result starts a new generation (the same task run again).

Followers do as little as possible (they are most of the hosts): no argument validation when the
leader stored their result, three small file operations under the lock. Each host's result carries
the request ids of the calls that concerned its instance (``CallRecorder``).

Credentials come from the task's ``environment:`` (templated like the module path does) over the
controller's own environment. The leader templates it for every host; a follower takes a stored
result only if it was computed for the account, endpoint and region its own environment names
(``environment_variant``), else it does its own work.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import time
from collections import ChainMap
from contextlib import contextmanager

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS, resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    SELECTION_OPTIONS,
    finish_result,
    run_task,
)
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError

LOCK_POLL_SECONDS = 0.02


class BatchLeaderError(Exception):
    """The leader of the batch failed; the message says why (shown to every follower)."""


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def cache_root() -> str:
    """Private per-run directory on the controller (Ansible removes it at exit)."""
    from ansible import constants as C

    root = os.path.join(C.DEFAULT_LOCAL_TMP, "alicloud_oos_batches")
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root


@contextmanager
def file_lock(path: str, timeout: float):
    """Exclusive ``fcntl`` lock on ``path`` (works across the forked workers); TimeoutError after ``timeout``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"waited {timeout:.0f}s for the batch lock {path}") from None
                time.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_json(path: str, data) -> None:
    """Write ``data`` atomically (readers that do not hold the lock never see half a file)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, default=str))
    os.replace(tmp, path)


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        return None


class BatchCache:
    """Results of one batched task for the hosts of one play batch.

    Layout under ``root/<key>/``: ``lock``, ``state.json`` (status, hosts, leader, error,
    generation), ``r-<host+variant digest>.json`` (one result per host), renamed ``c-<host digest>``
    once that host consumed it. Every file is read and written with the lock held.

    A *variant* says what a result was computed with (the action plugins: which account, endpoint
    and region): a host takes a stored result only if it was computed with its own variant, else it
    does its own work.
    """

    def __init__(self, root: str, key: str, timeout: float):
        self.dir = os.path.join(root, key)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.timeout = timeout

    def _consumed(self, host: str) -> str:
        return os.path.join(self.dir, f"c-{_digest(host)}")

    def _result(self, host: str, variant: str) -> str:
        return os.path.join(self.dir, f"r-{_digest(host, variant)}.json")

    def obtain(self, host: str, hosts: list, compute, variant: str = "", variant_of=None) -> dict:
        """This host's result: computed for every host of ``hosts`` by whoever comes first.

        ``compute(hosts) -> {host: result}`` runs in the leader's process with the lock held; hosts it
        leaves out of its answer do their own ``compute([host])`` when they arrive. ``variant`` is
        this host's variant; ``variant_of(other)``, asked after ``compute``, the one the leader
        computed another host's result with.
        """
        state_path = os.path.join(self.dir, "state.json")
        with file_lock(os.path.join(self.dir, "lock"), self.timeout):
            state = _read_json(state_path)
            consumed = os.path.exists(self._consumed(host))
            if state is not None and not consumed:
                if state["status"] == "done":
                    result = _read_json(self._result(host, variant))
                    if result is not None:
                        self._consume(host, variant)
                        return result
                    # Left out by the leader: do this host alone, without touching the batch state.
                    return compute([host])[host]
                if state["status"] == "running":
                    # We hold the lock, so the leader that wrote "running" is gone.
                    raise BatchLeaderError(f"the batch leader ({state['leader']}) exited before storing results; "
                                           "see its own error above")
                if host in state["hosts"]:
                    self._consume(host, variant)
                    raise BatchLeaderError(f"the batch leader ({state['leader']}) failed for the whole batch: "
                                           f"{state['error']}")
                return compute([host])[host]
            generation = (state or {}).get("generation", 0) + 1
            if consumed:
                for name in os.listdir(self.dir):
                    if name.startswith(("r-", "c-")):
                        os.unlink(os.path.join(self.dir, name))
            _write_json(state_path, {"status": "running", "leader": host, "hosts": hosts, "generation": generation,
                                     "pid": os.getpid()})
            try:
                results = compute(hosts)
            except Exception as exc:
                message = exc.to_dict()["msg"] if isinstance(exc, (AlicloudError, AlicloudInputError)) else str(exc)
                _write_json(state_path, {"status": "error", "leader": host, "hosts": hosts, "error": message,
                                         "generation": generation})
                self._consume(host, variant)
                raise
            for other, result in results.items():
                if other != host:
                    # Plain writes: followers read them only after the state says "done", under the lock.
                    path = self._result(other, variant_of(other) if variant_of else variant)
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(json.dumps(result, default=str))
            # No host list once done: every follower reads this file, and only its own result matters.
            _write_json(state_path, {"status": "done", "leader": host, "generation": generation})
            self._consume(host, variant)
            return results[host]

    def _consume(self, host: str, variant: str) -> None:
        """Mark this host's result as taken (a later run of the same task starts a new generation)."""
        try:
            os.replace(self._result(host, variant), self._consumed(host))
        except FileNotFoundError:
            with open(self._consumed(host), "w", encoding="utf-8"):
                pass


def batch_key(task_uuid: str, play_batch: list, loop_marker=None) -> str:
    # Every host computes it over the whole batch: plain string hashing, no JSON of the host list.
    hosts = hashlib.sha256("\0".join(sorted(map(str, play_batch))).encode()).hexdigest()
    return _digest(task_uuid, hosts, loop_marker)


# --------------------------------------------------------------------------------------------------
# Which instance is this host?

def looks_like_ip(value) -> bool:
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def resolve_ips(client, ips: list, root: str | None, timeout: float = 600) -> dict:
    """``{ip: instance id}`` for the addresses that belong to an instance of the client's region.

    Private addresses first, then public ones, 100 addresses per DescribeInstances call. The mapping
    is cached for the run in ``root`` (shared by every worker and task), so each address costs one
    lookup per run.
    """
    region = getattr(client, "region", None) or "default"
    found = {}
    wanted = list(dict.fromkeys(str(ip) for ip in ips))
    if root is None:
        return _describe_ips(client, wanted)
    # One map per region, endpoint and account: a task environment may point elsewhere.
    account = (getattr(getattr(client, "endpoint", None), "host", None),
               getattr(getattr(client, "auth", None), "access_key", None))
    path = os.path.join(root, f"ipmap-{_digest(region, account)}.json")
    with file_lock(path + ".lock", timeout):
        cached = _read_json(path) or {}
        missing = [ip for ip in wanted if ip not in cached]
        if missing:
            resolved = _describe_ips(client, missing)
            for ip in missing:
                cached[ip] = resolved.get(ip)  # None: known not to match, not asked again
            _write_json(path, cached)
    for ip in wanted:
        if cached.get(ip):
            found[ip] = cached[ip]
    return found


def _describe_ips(client, ips: list) -> dict:
    found = {}
    for filter_name, attribute in (("PrivateIpAddresses", "private_ip"), ("PublicIpAddresses", "public_ip")):
        remaining = [ip for ip in ips if ip not in found]
        if not remaining:
            break
        for instance in describe_instances(client, {filter_name: remaining}):
            if instance.get(attribute) in remaining:
                found[instance[attribute]] = instance["instance_id"]
    return found


# --------------------------------------------------------------------------------------------------
# Which calls served which host?

# An ``i-...`` value in JSON text, also inside JSON-string parameters (``InstanceIds='["i-1"]'``).
INSTANCE_ID_IN_JSON = re.compile(r'"(i-[A-Za-z0-9-]+)')


def _instance_ids_in(*values) -> set:
    """Every ``i-...`` string value in a request's parameters and its answer (scanned as JSON text:
    a DescribeInstances page is large, and the leader scans every one)."""
    return set(INSTANCE_ID_IN_JSON.findall(json.dumps(values, default=str)))


class CallRecorder:
    """An ``AlicloudClient`` that also remembers which instances each successful call concerned.

    A call concerns the instances named in its parameters or in its answer; a call that names none
    (an image lookup, an IP lookup that found nothing) concerns every instance of the batch.
    """

    def __init__(self, client):
        self.client = client
        self._mentions = {}

    def __getattr__(self, name):
        return getattr(self.client, name)

    def call(self, action, params=None, *args, **kwargs):
        body = self.client.call(action, params, *args, **kwargs)
        request_id = body.get("RequestId") if isinstance(body, dict) else None
        if request_id:
            self._mentions[request_id] = _instance_ids_in(params, body)
        return body

    def request_ids_for(self, instance_id: str) -> list:
        """Request ids, in order, of the calls that concerned ``instance_id``."""
        return [rid for rid in self.client.request_ids
                if not self._mentions.get(rid) or instance_id in self._mentions[rid]]


# --------------------------------------------------------------------------------------------------
# The action plugin base shared by oos_instance, oos_run_command and oos_create_image

TEMPLATE_MARKERS = ("{{", "{%")
# Extra seconds a follower waits for the leader beyond the task's own time limits.
FOLLOWER_GRACE = 900


def _has_template(value) -> bool:
    if isinstance(value, str):
        return any(marker in value for marker in TEMPLATE_MARKERS)
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


def _plain(value):
    """Tagged/lazy Ansible containers -> plain JSON-able Python (for the cache and the client)."""
    return json.loads(json.dumps(value, default=str))


# Environment variables that choose the account, endpoint and region (not the secrets themselves).
PUBLIC_AUTH_VARIABLES = frozenset(name for option in AUTH_OPTIONS.values() if not option.get("no_log")
                                  for name in option.get("env") or ())


def environment_variant(environment: dict) -> str:
    """Which account, endpoint and region a task environment points at, as a digest without secrets."""
    return _digest(sorted((name, value) for name, value in environment.items() if name in PUBLIC_AUTH_VARIABLES))


def option_seconds(value, default: int) -> int:
    """A time option before validation (validation is skipped on the follower fast path)."""
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _resolve_module_in_controller(name: str) -> None:
    """Resolve the module's path once in the controller process.

    The strategy imports action plugin classes in the controller before it forks a worker per host;
    each worker then resolves the task's module again (a directory glob per host, about 1.5 ms of CPU).
    Resolved here, the answer is inherited by every fork.
    """
    from ansible.plugins.loader import module_loader

    try:
        module_loader.find_plugin_with_context(name)
    except Exception:  # only an optimisation: the worker resolves it as usual
        pass


class InstanceActionBase(ActionBase):
    """Run an instance workflow on the controller, batching the hosts of a play batch.

    Subclasses set ``MODULE`` (FQCN), ``ARGUMENT_SPEC`` (a function returning the module's argument
    spec), ``TASK`` (the module_utils ``task(client, params, check_mode, instances)``), ``LIST_KEY``
    (the per-instance list of the result, None for one-instance results) and ``DESCRIBE_FAILURE``
    (one failed entry as text).
    """

    MODULE = None
    ARGUMENT_SPEC = None
    TASK = None
    LIST_KEY = None
    DESCRIBE_FAILURE = None
    SELECTION_OPTIONS = SELECTION_OPTIONS
    BATCHABLE = True
    _requires_connection = False
    TRANSFERS_FILES = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.MODULE:
            _resolve_module_in_controller(cls.MODULE)

    def wait_budget(self, args: dict) -> float:
        """Seconds the task may take (``args`` not validated yet)."""
        return float(option_seconds(args.get("wait_timeout"), 600))

    # --- entry point ------------------------------------------------------------------------------
    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        explicit = not self.instance_from_host(args)
        try:
            if explicit and self._connection_is_local():
                # The module path: the module runs where the task runs (localhost or delegate_to),
                # with the task environment like any module.
                result.update(self._execute_module(module_name=self.MODULE, module_args=args, task_vars=task_vars))
                return result
            environment = self.task_environment(self._templar)
            if explicit:
                result.update(self.run_explicit(self.validate(args), environment))
            else:
                result.update(self.run_for_host(args, task_vars, environment))
        except (AlicloudError, AlicloudInputError) as error:
            result.update(error.to_dict())
            result["failed"] = True
        except (BatchLeaderError, TimeoutError) as error:
            result.update({"failed": True, "msg": str(error)})
        return result

    def instance_from_host(self, args: dict) -> bool:
        """Does the task take its instance from the inventory host (it names none itself)?"""
        return not any(args.get(name) is not None for name in self.SELECTION_OPTIONS)

    def _connection_is_local(self) -> bool:
        return getattr(self._connection, "transport", None) == "local"

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self._task.diff)

    def validate(self, args: dict) -> dict:
        """Module argument spec validation on the controller: the module's own errors, nothing sent."""
        validator = getattr(self, "_validator", None)
        if validator is None:
            validator = self._validator = ArgumentSpecValidator(self.ARGUMENT_SPEC())
        outcome = validator.validate(_plain(args))
        if outcome.error_messages:
            raise AlicloudInputError(_error_field(outcome.errors[0]), outcome.error_messages[0])
        return outcome.validated_parameters

    def task_environment(self, templar, environments=None) -> dict:
        """The task's ``environment:`` (play, block and task levels, templated), as a module would get it.

        ``environments``: raw entries to template for another host (default: this task's own).
        """
        if environments is None:
            environments = self._task.environment
        if not environments:
            return {}
        if not isinstance(environments, list):
            environments = [environments]
        merged = {}
        for environment in environments:
            if not environment:
                continue
            value = templar.template(environment)
            if not isinstance(value, dict):
                # The value itself may hold credentials: name only its type.
                raise AlicloudInputError("environment", f"must be a mapping of variable names to values, not a "
                                         f"{type(value).__name__}")
            merged.update(value)
        return {str(name): str(value) for name, value in merged.items() if value is not None}

    def client(self, params: dict, environment: dict, region: str | None = None) -> CallRecorder:
        """An ECS client with the task's credentials: options, then the task environment, then the controller's."""
        options = dict(params)
        if region:
            options["region"] = region
        environ = ChainMap(environment, os.environ) if environment else os.environ
        return CallRecorder(AlicloudClient(resolve_auth(options, environ=environ), "ecs"))

    # --- explicit instance options: one call, in this process ---------------------------------------
    def run_explicit(self, params: dict, environment: dict) -> dict:
        client = self.client(params, environment)
        output = run_task(self.TASK, client, params, self.check_mode)
        return finish_result(output, client.request_ids, self.diff_mode)

    # --- instance from hostvars ---------------------------------------------------------------------
    def run_for_host(self, args: dict, task_vars: dict, environment: dict) -> dict:
        host = task_vars.get("inventory_hostname")
        loop_var = (self._task.loop_control.loop_var if self._task.loop_control else None) or "item"
        in_loop = self._task.loop is not None or bool(getattr(self._task, "loop_with", None))
        batched = self.BATCHABLE and boolean(args.get("batch", True), strict=False)
        if not batched or self._task.run_once or in_loop:
            return self.compute(task_vars, [host], {host: (self.validate(args), environment)})[host]
        play_batch = list(task_vars.get("ansible_play_batch") or [host])
        if host not in play_batch:
            play_batch.append(host)
        key = batch_key(self._task._uuid, play_batch, task_vars.get(loop_var) if in_loop else None)
        cache = BatchCache(cache_root(), key, self.wait_budget(args) + FOLLOWER_GRACE)

        requests = {}

        def compute(hosts):
            # Validated only here: a follower whose result the leader stored never needs it.
            own = (self.validate(args), environment)
            requests.update(self.requests_per_host(own, task_vars, hosts, host) if hosts != [host] else {host: own})
            return self.compute(task_vars, [h for h in hosts if h in requests], requests)

        def variant_of(other):
            return environment_variant(requests[other][1])

        try:
            return cache.obtain(host, play_batch, compute, environment_variant(environment), variant_of)
        except BatchLeaderError:
            self.validate(args)  # this host's own input error says more than the leader's
            raise

    def requests_per_host(self, own: tuple, task_vars: dict, hosts: list, me: str) -> dict:
        """``{host: (validated params, environment)}`` for the hosts of the batch that run this task.

        The ``when`` condition, templated arguments and a templated environment are decided per host
        from its hostvars; hosts for which that fails are left out (they do their own work when they arrive).
        """
        raw_args = self._raw_args()
        templated = raw_args is None or _has_template(raw_args)
        # Unreadable: every host is assumed to share this one's (a follower checks the variant anyway).
        raw_environment = self._raw_environment()
        env_templated = _has_template(raw_environment)
        conditions = list(self._task.when or [])
        if not templated and not env_templated and not conditions:
            return {h: own for h in hosts}
        hostvars = task_vars.get("hostvars") or {}
        task_level = {}
        try:
            task_level = dict(self._task.get_vars())
        except Exception:
            pass
        chosen = {me: own}
        for other in hosts:
            if other == me:
                continue
            try:
                variables = dict(hostvars[other])
                variables.update(task_level)
                if conditions and not self._task._resolve_conditional(conditions, variables):
                    continue
                params, environment = own
                if templated and raw_args is None:
                    continue
                engine = self._templar.copy_with_new_env(available_variables=variables) \
                    if templated or env_templated else None
                if templated:
                    merged = dict(self._task.args)
                    merged.update(engine.template(raw_args))
                    params = self.validate(merged)
                if env_templated:
                    environment = self.task_environment(engine, raw_environment)
                chosen[other] = (params, environment)
            except Exception:  # undecidable here: that host decides for itself when it runs
                continue
        return chosen

    def _raw_environment(self):
        """The ``environment:`` entries of the play, blocks and task before templating (Ansible
        templates them for the current host only), or None when they cannot be read."""
        from ansible.playbook.block import Block

        try:
            parent = self._task._parent
            if parent is not None and not isinstance(parent, Block):
                return None
            # The attribute itself reads the finalized (own) value only; this walks blocks, roles and play.
            inherited = parent._get_parent_attribute("environment") if parent is not None else None
            own = self._task.get_ds().get("environment")
        except Exception:
            return None
        entries = [entry for entry in (inherited if isinstance(inherited, list) else [inherited])
                   if isinstance(entry, (dict, str))]
        if own:
            entries.extend(own if isinstance(own, list) else [own])
        return entries

    def _raw_args(self):
        """The task's module arguments before templating, or None when they cannot be read."""
        try:
            from ansible.parsing.mod_args import ModuleArgsParser

            parser = ModuleArgsParser(self._task.get_ds(), collection_list=self._task.collections)
            return parser.parse(skip_action_validation=True)[1]
        except Exception:
            return None

    def compute(self, task_vars: dict, hosts: list, requests: dict) -> dict:
        """Results for ``hosts``: one ``TASK`` call per (region, arguments, environment) group of hosts."""
        hostvars = task_vars.get("hostvars") or {}
        results = {}
        groups = {}
        digests = {}
        for host in hosts:
            request = requests[host]
            params, environment = request
            var_name = params.get("instance_id_var") or "instance_id"
            known = self.host_values(hostvars, host, (var_name, "ansible_host", "region_id"))
            instance_id = known.get(var_name)
            address = None
            if not instance_id:
                address = known.get("ansible_host") or host
                if not looks_like_ip(address):
                    results[host] = {"failed": True, "changed": False, "invalid_option": var_name, "request_ids": [],
                                     "msg": f"Invalid option {var_name}: host {host} has no {var_name} host variable and "
                                            f"no IP address (ansible_host) to find its instance by; set {var_name} or "
                                            f"one of {', '.join(self.SELECTION_OPTIONS)}"}
                    continue
            region = known.get("region_id") or params.get("region")
            if id(request) not in digests:  # hosts usually share one request object: digest it once
                digests[id(request)] = (_digest({k: v for k, v in params.items() if k not in ("instance_id", "batch")}),
                                        _digest(environment))
            group = groups.setdefault((region,) + digests[id(request)], {
                "params": params, "environment": environment, "region": region, "hosts": []})
            group["hosts"].append((host, instance_id, address))
        for group in groups.values():
            results.update(self.compute_group(group))
        return results

    def host_values(self, hostvars, host: str, names: tuple) -> dict:
        """Host variables among ``names``: the inventory's own host vars first (cheap); the others from
        the host's full variables (group vars, vars plugins), computed at most once per host."""
        values = {}
        inventory = getattr(hostvars, "_inventory", None)
        inventory_host = inventory.get_host(host) if inventory is not None else None
        own = inventory_host.vars if inventory_host is not None else {}
        for name in names:
            if name in own:
                values[name] = own[name]
        missing = [name for name in names if name not in own]
        if missing:
            try:
                full = hostvars[host] if host in hostvars else {}
                values.update({name: full[name] for name in missing if name in full})
            except Exception:  # an undefined or broken variable counts as not set
                pass
        return {name: _plain(value) for name, value in values.items() if value is not None}

    def compute_group(self, group: dict) -> dict:
        params = group["params"]
        client = self.client(params, group["environment"], group["region"])
        members = group["hosts"]
        addresses = [addr for _, iid, addr in members if not iid]
        # IPs map to ids through the per-run cache; statuses are always read fresh.
        by_ip = resolve_ips(client, addresses, cache_root()) if addresses else {}
        members = [(host, iid or by_ip.get(str(address)), address) for host, iid, address in members]
        ids = [iid for _, iid, _ in members if iid]
        found = {}
        if ids:
            found = {i["instance_id"]: i for i in describe_instances(client, {"InstanceIds": list(dict.fromkeys(ids))})}
        results = {}
        host_instance = {}
        for host, iid, address in members:
            instance = found.get(iid) if iid else None
            if instance is None:
                what = f"instance {iid}" if iid else f"no instance with the IP address {address}"
                if iid and address:
                    what = f"instance {iid} (IP address {address})"
                field = params.get("instance_id_var") or "instance_id"
                results[host] = {"failed": True, "changed": False, "invalid_option": field,
                                 "request_ids": list(client.request_ids),
                                 "msg": f"Invalid option {field}: {what} found in region {client.region} for host "
                                        f"{host}; check the host's {field}/ansible_host and region_id"}
                continue
            host_instance[host] = instance
        if not host_instance:
            return results
        instances = list({i["instance_id"]: i for i in host_instance.values()}.values())
        try:
            output = run_task(self.TASK, client, params, self.check_mode, instances)
        except (AlicloudError, AlicloudInputError) as error:
            failure = dict(error.to_dict(), failed=True, changed=False)
            failure.setdefault("request_ids", list(client.request_ids))
            return dict(results, **{host: failure for host in host_instance})
        entries = {e["instance_id"]: e for e in output[self.LIST_KEY]} if self.LIST_KEY else None
        failed_ids = {f["instance_id"] for f in output.get("failed_instances") or []}
        for host, instance in host_instance.items():
            iid = instance["instance_id"]
            share = self.split(output, entries[iid], len(host_instance), failed_ids) if entries else output
            results[host] = _plain(finish_result(share, client.request_ids_for(iid), self.diff_mode))
        return results

    def split(self, output: dict, entry: dict, batch_size: int, failed_ids: set) -> dict:
        """This instance's share of a batched result, shaped like the module's own result."""
        own_failed = entry["instance_id"] in failed_ids
        max_errors = output.get("max_errors", 0)
        result = {
            "changed": bool(entry.get("changed")),
            self.LIST_KEY: [entry],
            "failed_instances": [entry] if own_failed else [],
            "max_errors": max_errors,
            "batch": {"hosts": batch_size, "instances": len(output[self.LIST_KEY]), "failed": len(failed_ids)},
        }
        self.add_host_fields(result, output, entry)
        if own_failed and len(failed_ids) > max_errors:
            result["failed"] = True
            result["msg"] = (f"{self.DESCRIBE_FAILURE(entry)}; {len(failed_ids)} instance(s) of the batch failed, "
                             f"more than MaxErrors ({max_errors}) allows")
        return result

    def add_host_fields(self, result: dict, output: dict, entry: dict) -> None:
        """Module-specific keys of a per-host result."""


def _error_field(error) -> str:
    """Best-effort option name of an ArgumentSpecValidator error."""
    for attr in ("name", "parameter"):
        value = getattr(error, attr, None)
        if isinstance(value, str) and value:
            return value
    text = str(error)
    for marker in ("value of ", "argument '", "parameters are mutually exclusive: "):
        if marker in text:
            return text.split(marker, 1)[1].split()[0].strip("',:")
    return "arguments"
