# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin base of oos_instance, oos_run_command and oos_create_image.

Over inventory hosts (the task names no instance), the hosts of a play batch share batched calls: the
first host becomes the batch leader (``batch_cache``), acts for every host it may act for
(``batch_membership``: exactly the hosts Ansible runs the task for, with each host's own arguments) and
stores each host's result, with the request ids that concerned its instance (``call_recorder``). Hosts
known only by an IP address are resolved in bulk (``instance_addresses``).

Credentials come from the task's ``environment:`` (templated like the module path does) over the
controller's own environment. A follower takes a stored result only if it was computed for the account,
endpoint and region its own environment names (``environment_variant``), else it does its own work.
"""
from __future__ import annotations

import os
from collections import ChainMap

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS, resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import describe_instances
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.plain_data import plain
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import short_secret_warning
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    SELECTION_OPTIONS,
    finish_result,
    run_task,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils import ansible_internals as internals
from ansible_collections.alicloud.oos.plugins.plugin_utils.batch_cache import (
    BatchCache,
    BatchLeaderError,
    batch_key,
    digest,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.batch_membership import Membership
from ansible_collections.alicloud.oos.plugins.plugin_utils.call_recorder import CallRecorder
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_addresses import looks_like_ip, resolve_ips

# Extra seconds a follower waits for the leader beyond the task's own time limits.
FOLLOWER_GRACE = 900


# Environment variables that choose the account, endpoint and region (not the secrets themselves).
PUBLIC_AUTH_VARIABLES = frozenset(name for option in AUTH_OPTIONS.values() if not option.get("no_log")
                                  for name in option.get("env") or ())


def environment_variant(environment: dict) -> str:
    """Which account, endpoint and region a task environment points at, as a digest without secrets."""
    return digest(sorted((name, value) for name, value in environment.items() if name in PUBLIC_AUTH_VARIABLES))


def option_seconds(value, default: int) -> int:
    """A time option before validation (validation is skipped on the follower fast path)."""
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


class InstanceActionBase(ActionBase):
    """Run an instance workflow on the controller, batching the hosts of a play batch.

    Subclasses set ``MODULE`` (FQCN), ``ARGUMENT_SPEC`` (a function returning the module's argument
    spec), ``TASK`` (the module_utils ``task(client, params, check_mode, instances)``), ``LIST_KEY``
    (the per-instance list of the result, None for one-instance results) and ``DESCRIBE_FAILURE``
    (one failed entry as text).
    """

    MODULE = None
    SECRETS = None  # params -> module_utils.secrets.Secrets of the values to mask, for the short-secret warning
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
            internals.resolve_module_in_controller(cls.MODULE)

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
        except (BatchLeaderError, TimeoutError, internals.AnsibleInternalsChanged) as error:
            result.update({"failed": True, "msg": str(error)})
        if self.SECRETS is not None:  # the module path returned above: the module warns itself
            self.warn_short_secrets(args, result)
        return result

    def warn_short_secrets(self, args: dict, result: dict) -> None:
        """The module path warns about secrets too short to mask inside text; so does the controller path."""
        try:
            warning = short_secret_warning(self.SECRETS(args))
        except AlicloudInputError:
            return  # the task's own validation reports it
        if warning:
            result.setdefault("warnings", []).append(warning)

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
        outcome = validator.validate(plain(args))
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
            own = self.host_request(self.validate(args), environment, self.own_variables(task_vars), self._templar)
            return self.compute([host], {host: own})[host]
        play_batch = list(task_vars.get("ansible_play_batch") or [host])
        if host not in play_batch:
            play_batch.append(host)
        key = batch_key(internals.task_uuid(self._task), play_batch, task_vars.get(loop_var) if in_loop else None)
        cache = BatchCache(internals.cache_root(), key, self.wait_budget(args) + FOLLOWER_GRACE)

        requests = {}

        def compute(hosts):
            # Validated only here: a follower whose result the leader stored never needs it.
            own = self.host_request(self.validate(args), environment, self.own_variables(task_vars), self._templar)
            if hosts == [host]:
                requests[host] = own
            else:
                def make_request(templar, variables, raw_args, raw_environment):
                    if raw_args is None:
                        return self.host_request(own[0], own[1], variables, templar)
                    return self.template_request(templar, variables, raw_args, raw_environment)

                membership = Membership(self._task, task_vars, self._templar, make_request)
                requests.update(membership.requests(own, hosts, host))
            return self.compute([h for h in hosts if h in requests], requests)

        def variant_of(other):
            return environment_variant(requests[other][1])

        try:
            return cache.obtain(host, play_batch, compute, environment_variant(environment), variant_of)
        except BatchLeaderError:
            self.validate(args)  # this host's own input error says more than the leader's
            raise

    def template_request(self, templar, variables: dict, raw_args: dict, raw_environment: list) -> tuple:
        """Another host's request, templated with its own variables."""
        args = dict(self._task.args)  # the module defaults, which are the same for every host here
        args.update(templar.template(raw_args))
        return self.host_request(self.validate(args), self.task_environment(templar, raw_environment), variables,
                                 templar)

    def own_variables(self, task_vars: dict) -> dict:
        """This host's variables as the strategy computed them, before the task executor added the
        connection's (``ansible_host`` defaults to the connection address, ``127.0.0.1`` for localhost):
        the same source as for the other hosts of the batch, so a host is found the same way either way."""
        try:
            return internals.HostVariables(self._task, task_vars).of(task_vars["inventory_hostname"])
        except internals.AnsibleInternalsChanged:
            raise
        except Exception:  # e.g. a host added at run time (add_host): what this task was given
            return task_vars

    def host_request(self, params: dict, environment: dict, variables: dict, templar) -> tuple:
        """``(params, environment, host values)``: the host values are its instance id variable,
        ``ansible_host`` and ``region_id``, from its own variables for this task."""
        names = (params.get("instance_id_var") or "instance_id", "ansible_host", "region_id")
        known = {}
        for name in names:
            if name in variables:
                value = templar.template(variables[name])
                if value is not None:
                    known[name] = plain(value)
        return params, environment, known

    def compute(self, hosts: list, requests: dict) -> dict:
        """Results for ``hosts``: one ``TASK`` call per (region, arguments, environment) group of hosts."""
        results = {}
        groups = {}
        digests = {}
        for host in hosts:
            params, environment, known = requests[host]
            var_name = params.get("instance_id_var") or "instance_id"
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
            key = (id(params), id(environment))
            if key not in digests:  # hosts usually share one params object: digest it once
                digests[key] = (digest({k: v for k, v in params.items() if k not in ("instance_id", "batch")}),
                                digest(environment))
            group = groups.setdefault((region,) + digests[key], {
                "params": params, "environment": environment, "region": region, "hosts": []})
            group["hosts"].append((host, instance_id, address))
        for group in groups.values():
            results.update(self.compute_group(group))
        return results

    def compute_group(self, group: dict) -> dict:
        params = group["params"]
        client = self.client(params, group["environment"], group["region"])
        members = group["hosts"]
        addresses = [addr for _unused, iid, addr in members if not iid]
        # IPs map to ids through the per-run cache; statuses are always read fresh.
        by_ip = resolve_ips(client, addresses, internals.cache_root()) if addresses else {}
        members = [(host, iid or by_ip.get(str(address)), address) for host, iid, address in members]
        ids = [iid for _unused, iid, _unused in members if iid]
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
            results[host] = plain(finish_result(share, client.request_ids_for(iid), self.diff_mode))
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
