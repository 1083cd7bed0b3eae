# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the instance workflow modules share: which instances a task means, how a fleet is cut into
waves by an OOS RateControl, the MaxErrors failure message, and how a task's
result is finished (diff, request ids) and run as a module.

Used by ``oos_run_command``, ``oos_instance`` and ``oos_create_image`` (module path) and by their
action plugins (controller path), so both paths select and batch instances the same way.
"""
from __future__ import annotations


from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import (
    MAX_IDS_PER_CALL,
    TAGS_FILTER,
    describe_filters,
    describe_instances,
    resolve_targets,
    validate_filters,
)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import (
    MODE_BATCH,
    batch_sizes,
    concurrency_for,
    max_errors_allowed,
    parse_unpaused_rate_control,
)

SELECTION_OPTIONS = ("instance_id", "instance_ids", "targets", "filters", "tags")
# Selections that are queries: matching nothing is "nothing to do" unless fail_on_no_match is set.
QUERY_OPTIONS = ("targets", "filters", "tags")

# Argument spec shared by the three modules for choosing instances.
SELECTION_ARGUMENT_SPEC = {
    "instance_id": {"type": "str"},
    "instance_ids": {"type": "list", "elements": "str"},
    "targets": {"type": "raw"},
    "filters": {"type": "dict"},
    "tags": {"type": "dict"},
    "fail_on_no_match": {"type": "bool", "default": False},
    "rate_control": {"type": "raw"},
}

# The error code of an instance not acted on because more than MaxErrors had failed before (OOS launches no more).
NOT_ATTEMPTED = "NotAttempted.MaxErrorsExceeded"


def chunked(items, size: int = MAX_IDS_PER_CALL) -> list:
    """``items`` in consecutive lists of at most ``size`` (the API limit of a batch call)."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def selection_from_params(params: dict) -> tuple:
    """``(field_name, value)`` of the one instance selection option the user set.

    Raises AlicloudInputError when none or several are set, or an id list is empty.
    """
    empty_list = params.get("instance_ids") == []
    given = [name for name in SELECTION_OPTIONS
             if params.get(name) not in (None, "") and not (name == "instance_ids" and empty_list)]
    for name in QUERY_OPTIONS:
        if name in given and params[name] in ({}, []):
            # An empty query would mean every instance of the region.
            raise AlicloudInputError(name, f"{name} is empty: give at least one condition, such as {{Env: dev}}, "
                                     "or remove the option")
    if set(given) == {"filters", "tags"}:
        filters = params["filters"]
        if isinstance(filters, dict) and filters.get(TAGS_FILTER):
            raise AlicloudInputError("tags", "set tags either in filters.tags or in tags, not both")
        return "filters", dict(filters, **{TAGS_FILTER: params["tags"]})
    if len(given) > 1:
        raise AlicloudInputError(given[1], f"set only one of {', '.join(SELECTION_OPTIONS)}; got {' and '.join(given)}")
    if not given:
        if empty_list:
            raise AlicloudInputError("instance_ids", "instance_ids is an empty list: list at least one instance id (i-...)")
        raise AlicloudInputError("instance_ids", f"no instance selected: set one of {', '.join(SELECTION_OPTIONS)}")
    name = given[0]
    value = params[name]
    if name == "tags":
        return "filters", {TAGS_FILTER: value}
    if name == "instance_id":
        value = [value]
    if name in ("instance_id", "instance_ids"):
        cleaned = [str(v).strip() for v in value if v is not None and str(v).strip()]
        if len(cleaned) != len(value):
            raise AlicloudInputError(name, f"{name} holds an empty instance id: {value!r}")
        value = list(dict.fromkeys(cleaned))
    return name, value


def find_instances(client, field_name: str, value, allow_empty: bool = False) -> list:
    """The normalized instances (see ecs_instances.normalize_instance) a selection means.

    ``field_name`` is ``instance_id``/``instance_ids`` (``value`` is a list of ids), ``targets``
    (``value`` is an OOS Targets value) or ``filters`` (DescribeInstances filters, ``tags`` included).
    Unknown ids are input errors naming the field, and so is a query that matches nothing unless
    ``allow_empty``; only read-only DescribeInstances calls are sent.
    """
    if field_name == "targets":
        return resolve_targets(client, value, field_name, allow_empty=allow_empty)
    if field_name == "filters":
        filters = validate_filters(value, "filters")
        instances = describe_instances(client, filters, "filters")
        if not instances and not allow_empty:
            where = getattr(client, "region", None) or "the region"
            raise AlicloudInputError("filters", f"filters match no instance in {where} ({describe_filters(filters)}); "
                                     "set fail_on_no_match=false to treat that as nothing to do")
        return instances
    instances = describe_instances(client, {"InstanceIds": list(value)}, field_name)
    found = {i["instance_id"]: i for i in instances}
    missing = [i for i in value if i not in found]
    if missing:
        where = getattr(client, "region", None) or "the region"
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise AlicloudInputError(field_name, f"instance(s) not found in {where}: {shown}; check the ids and the region")
    return [found[i] for i in value]


def validate_rate_control(value):
    """Parse ``rate_control`` (None means: everything at once, no error tolerated)."""
    if value in (None, "", {}):
        return None
    return parse_unpaused_rate_control(value, "rate_control")


def waves(rate_control, items: list) -> list:
    """Cut ``items`` into the consecutive groups OOS would run at the same time.

    Without rate control every item is in one wave. ``Mode: Concurrency`` gives waves of
    ``Concurrency`` items; ``Mode: Batch`` gives the batch sizes (the last one repeats). Each wave
    is handled with batched API calls, then awaited before the next one starts.
    """
    items = list(items)
    if not items:
        return []
    if rate_control is None:
        return [items]
    if rate_control.mode == MODE_BATCH:
        sizes = batch_sizes(rate_control, len(items))
    else:
        sizes = [concurrency_for(rate_control, len(items))]
    groups = []
    start = 0
    index = 0
    while start < len(items):
        size = sizes[min(index, len(sizes) - 1)]
        groups.append(items[start:start + size])
        start += size
        index += 1
    return groups


def errors_allowed(rate_control, total: int) -> int:
    """OOS MaxErrors for ``total`` items; 0 without rate control."""
    if rate_control is None:
        return 0
    return max_errors_allowed(rate_control, total)


def count_by(results: list, key: str) -> dict:
    """``{value: count}`` of ``key`` over a list of result dicts."""
    counts = {}
    for item in results:
        value = item.get(key)
        counts[value] = counts.get(value, 0) + 1
    return counts


# Options read only by the action plugins (accepted, and ignored, by the modules themselves).
ACTION_ARGUMENT_SPEC = {
    "instance_id_var": {"type": "str", "default": "instance_id"},
    "batch": {"type": "bool", "default": True},
}


def task_argument_spec(*specs: dict) -> dict:
    """A module argument spec: the common connection options plus ``specs`` (fresh copies)."""
    import copy

    from ansible_collections.alicloud.oos.plugins.module_utils.auth import auth_argument_spec

    spec = auth_argument_spec()
    for extra in (SELECTION_ARGUMENT_SPEC, ACTION_ARGUMENT_SPEC) + specs:
        spec.update(copy.deepcopy(extra))
    return spec


def select_instances(client, params: dict) -> list:
    """The instances the selection options of ``params`` mean (see find_instances); a query (targets,
    filters, tags) that matches nothing gives ``[]`` unless ``fail_on_no_match``."""
    field_name, value = selection_from_params(params)
    return find_instances(client, field_name, value, allow_empty=not params.get("fail_on_no_match"))


def no_match_result(params: dict, list_key: str) -> dict:
    """The result of a task whose query matched no instance: ok, unchanged, and saying so."""
    field_name, value = selection_from_params(params)
    described = describe_filters(validate_filters(value, "filters")) if field_name == "filters" else repr(value)
    return {"changed": False, list_key: [], "instance_ids": [], "failed_instances": [], "max_errors": 0,
            "counts": {"total": 0, "changed": 0, "failed": 0, "unchanged": 0},
            "msg": f"no instance matched {field_name} ({described}): nothing to do"}


def max_errors_message(result: dict, what: str, describe) -> str | None:
    """One message naming each failed instance (``describe(entry)``) when failures exceed MaxErrors; the
    instances never acted on once they did (NOT_ATTEMPTED) are counted apart."""
    failed = result["failed_instances"]
    if len(failed) <= result["max_errors"]:
        return None
    not_started = sum(1 for f in failed if f.get("error_code") == NOT_ATTEMPTED)
    shown = "; ".join(describe(f) for f in failed[:20])
    more = f"; and {len(failed) - 20} more" if len(failed) > 20 else ""
    return (f"{what} failed on {len(failed) - not_started} instance(s)"
            + (f" ({not_started} not started)" if not_started else "")
            + f", more than MaxErrors ({result['max_errors']}) allows: {shown}{more}")


def run_task(task, client, params: dict, check_mode: bool = False, instances: list | None = None) -> dict:
    """``task(client, params, check_mode, instances)``; an API error keeps the request ids sent so far."""
    try:
        return task(client, params, check_mode=check_mode, instances=instances)
    except AlicloudError as error:
        error.details.setdefault("request_ids", list(client.request_ids))
        raise


def finish_result(output: dict, request_ids, diff_mode: bool) -> dict:
    """The task result as returned to the user: ``diff`` only with --diff, and the request ids."""
    diff = output.pop("diff", None)
    if diff is not None and diff_mode:
        output["diff"] = diff
    output["request_ids"] = list(request_ids)
    return output


def run_instance_module(argument_spec: dict, task, required_if=None, secrets=None) -> None:
    """``main()`` of oos_instance, oos_run_command and oos_create_image: run ``task`` with one ECS client.

    ``secrets(params)``: the ``Secrets`` to mask in the result (see module_utils/secrets.py).
    """
    from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule

    module = AlicloudModule(argument_spec=argument_spec, supports_check_mode=True, required_if=required_if)
    if secrets is not None:
        try:
            module.secrets = secrets(module.params)
        except AlicloudInputError as error:
            module.fail_from_error(error)

    def handler(mod):
        client = mod.client("ecs")
        result = finish_result(run_task(task, client, mod.params, mod.check_mode), client.request_ids, mod.diff_mode)
        if result.get("failed"):
            mod.fail_json(**result)
        return result

    module.run(handler)
