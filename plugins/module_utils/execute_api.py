# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACS::ExecuteAPI / WaitFor / CheckFor for any product: shared by ``oos_execute_api`` and the ``oos_api`` lookup.

* ``execute_api_argument_spec()``: the module's own options (the common ones come from ``auth``).
* ``parse_request(options) -> ApiRequest``: validates everything (product, action, parameters,
  selectors, outputs, wait/check specs) and raises ``AlicloudInputError`` before anything is sent.
* ``execute(client_factory, request, check_mode=False) -> dict``: runs it; the dict is the module
  result (``changed``, ``response``, ``outputs``, ``query_result``, ``request_ids``, ``pages``,
  ``attempts``, ``polls``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.client import flatten_parameters
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.products import is_read_only, normalize_product, resolve_endpoint
from ansible_collections.alicloud.oos.plugins.module_utils.selectors import (
    compile_jmespath,
    compile_jq,
    jmespath_select,
    normalize_output_type,
    select_output,
)
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import (
    check_for,
    poll_argument_spec,
    validate_wait_spec,
    wait_for,
)


def execute_api_argument_spec() -> dict:
    return {
        "service": {"type": "str", "required": True, "aliases": ["product"]},
        "api": {"type": "str", "required": True, "aliases": ["action"]},
        "parameters": {"type": "raw", "default": {}},
        "version": {"type": "str"},
        "method": {"type": "str", "default": "POST", "choices": ["POST", "GET"]},
        "auto_paging": {"type": "bool", "default": True},
        "list_path": {"type": "str"},
        "outputs": {"type": "raw"},
        "query": {"type": "str"},
        "wait_for": {"type": "dict", "options": poll_argument_spec(single_check=False)},
        "check_for": {"type": "dict", "options": poll_argument_spec(single_check=True)},
        "idempotent": {"type": "bool", "default": False},
    }


@dataclass
class ApiRequest:
    service: str
    api: str
    parameters: dict = field(default_factory=dict)
    version: str | None = None
    method: str = "POST"
    auto_paging: bool = True
    list_path: str | None = None
    outputs: dict = field(default_factory=dict)
    query: str | None = None
    wait_for: dict | None = None
    check_for: dict | None = None
    idempotent: bool = False

    @property
    def read_only(self) -> bool:
        return is_read_only(self.api)


def parse_outputs(outputs, field_name="outputs") -> dict:
    """``{name: {value_selector, type}}`` -> ``{name: (selector, Type)}`` with selectors compiled."""
    if outputs in (None, {}):
        return {}
    if not isinstance(outputs, dict):
        raise AlicloudInputError(field_name, "must be a dict such as {ids: {value_selector: 'Instances.Instance[].InstanceId', type: List}}")
    parsed = {}
    for name, spec in outputs.items():
        where = f"{field_name}.{name}"
        if isinstance(spec, str):
            spec = {"value_selector": spec}
        if not isinstance(spec, dict):
            raise AlicloudInputError(where, "must be a dict with value_selector and type")
        unknown = sorted(set(spec) - {"value_selector", "type"})
        if unknown:
            raise AlicloudInputError(where, f"unknown key(s) {unknown}; use value_selector and type")
        if not spec.get("value_selector"):
            raise AlicloudInputError(f"{where}.value_selector", "is required: a jq selector such as Instances.Instance[].InstanceId")
        compile_jq(spec["value_selector"], f"{where}.value_selector")
        parsed[name] = (spec["value_selector"], normalize_output_type(spec.get("type"), f"{where}.type"))
    return parsed


def parse_request(options: dict, region=None, endpoint=None) -> ApiRequest:
    """Validate module/lookup options (see the module docstring). Nothing is sent."""
    service = options.get("service")
    normalize_product(service)
    api = options.get("api")
    if not isinstance(api, str) or not api or not api[0].isalpha() or not api.isalnum():
        raise AlicloudInputError("api", f"{api!r} is not an API action name; use one like DescribeInstances")
    resolve_endpoint(service, region, version=options.get("version"), endpoint=endpoint)
    parameters = options.get("parameters")
    parameters = {} if parameters is None else parameters
    flatten_parameters(parameters, service, api)  # raises the clear error for non-dicts
    if options.get("query") is not None:
        compile_jmespath(options["query"], "query")
    request = ApiRequest(
        service=service, api=api, parameters=parameters, version=options.get("version"),
        method=(options.get("method") or "POST").upper(),
        auto_paging=options.get("auto_paging", True) is not False, list_path=options.get("list_path"),
        outputs=parse_outputs(options.get("outputs")), query=options.get("query"),
        idempotent=bool(options.get("idempotent")),
    )
    if request.method not in ("POST", "GET"):
        raise AlicloudInputError("method", f"{request.method!r} is not supported; use POST or GET")
    if options.get("wait_for") is not None:
        spec = {k: v for k, v in options["wait_for"].items() if v is not None}
        request.wait_for = validate_wait_spec(spec, "wait_for")
        if not request.read_only and not request.idempotent:
            raise AlicloudInputError("wait_for", f"polls by repeating {api}, which may change resources; use wait_for on a "
                                     "read-only action (Describe*, List*, Get*, Query*, Check*) in a following task, "
                                     "or set idempotent=true if repeating it is safe")
    if options.get("check_for") is not None:
        spec = {k: v for k, v in options["check_for"].items() if v is not None}
        request.check_for = validate_wait_spec(spec, "check_for", single_check=True)
    return request


def _fetch(client, request):
    if request.auto_paging and request.read_only:
        return client.paginate(request.api, request.parameters, list_path=request.list_path, method=request.method,
                               idempotent=request.idempotent)
    return client.call(request.api, request.parameters, method=request.method, idempotent=request.idempotent), 1


def execute(client, request: ApiRequest, check_mode: bool = False) -> dict:
    """Run ``request`` with ``client`` (an ``AlicloudClient`` for ``request.service``).

    Errors keep ``request_ids`` and ``attempts`` in their details so failures are traceable.
    """
    try:
        return _execute(client, request, check_mode)
    except AlicloudError as error:
        error.details.setdefault("request_ids", list(client.request_ids))
        error.details["attempts"] = client.attempts
        raise


def _execute(client, request: ApiRequest, check_mode: bool) -> dict:
    result = {"changed": not request.read_only, "response": {}, "outputs": {}, "request_ids": [], "pages": 0,
              "attempts": 0, "polls": 0}
    if check_mode and not request.read_only:
        client.prepare(request.api, request.parameters)  # full validation, nothing sent
        result["msg"] = f"Would call {normalize_product(request.service).upper()} {request.api} (check mode: not sent)"
        return result

    state = {"pages": 0}

    def fetch():
        body, pages = _fetch(client, request)
        state["pages"] = pages
        return body

    if request.wait_for:
        spec = request.wait_for
        waited = wait_for(fetch, spec["property_selector"], spec["desired_values"], spec.get("not_desired_values"),
                          retries=spec["retries"], delay=spec["delay"], delay_type=spec["delay_type"],
                          backoff=spec["backoff"], max_retry_interval=spec["max_retry_interval"],
                          timeout=spec.get("timeout"), field="wait_for")
        response = waited.data
        result["polls"] = waited.attempts
    else:
        response = fetch()
        result["polls"] = 1
    result["response"] = response
    result["pages"] = state["pages"]
    result["request_ids"] = list(client.request_ids)
    result["attempts"] = client.attempts
    if request.check_for:
        spec = request.check_for
        check_for(response, spec["property_selector"], spec.get("desired_values"), spec.get("not_desired_values"),
                  field="check_for")
    result["outputs"] = {name: select_output(selector, response, output_type, f"outputs.{name}")
                         for name, (selector, output_type) in request.outputs.items()}
    if request.query is not None:
        result["query_result"] = jmespath_select(request.query, response, "query")
    return result
