# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACS::ExecuteAPI / WaitFor / CheckFor for any product: shared by ``oos_execute_api`` and the ``oos_api`` lookup.

* ``execute_api_argument_spec()``: the module's own options (the common ones come from ``auth``).
* ``parse_request(options) -> ApiRequest``: validates everything (product, action, parameters,
  selectors, outputs, wait/check specs) and raises ``AlicloudInputError`` before anything is sent.
  ``uri`` selects the ROA style (OOS ``URI``/``Method``/``Headers``/``Body``): a path such as
  ``/clusters/{id}``, ``parameters`` in the query, ``body`` sent as JSON; RPC otherwise.
* ``execute(client_factory, request, check_mode=False) -> dict``: runs it; the dict is the module
  result (``changed``, ``response``, ``outputs``, ``query_result``, ``request_ids``, ``pages``,
  ``attempts``, ``polls``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.client import (
    ROA_METHODS,
    flatten_parameters,
    roa_body,
    roa_headers,
    roa_path,
)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.products import (
    api_style,
    is_read_only,
    normalize_product,
    resolve_endpoint,
)
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import (
    MIN_TEXT_LENGTH,
    Secrets,
    is_secret_name,
    secret_parameter_names,
)
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

RPC_METHODS = ("POST", "GET")


def wait_for_argument_spec() -> dict:
    """``wait_for`` suboptions (the waiter's table, OOS ``StopRetryValues`` included)."""
    return poll_argument_spec(single_check=False)


def execute_api_argument_spec() -> dict:
    return {
        "service": {"type": "str", "required": True, "aliases": ["product"]},
        "api": {"type": "str", "required": True, "aliases": ["action"]},
        "parameters": {"type": "raw", "default": {}},
        "version": {"type": "str"},
        "method": {"type": "str", "choices": list(ROA_METHODS)},
        "uri": {"type": "str"},
        "body": {"type": "raw"},
        "headers": {"type": "dict"},
        "auto_paging": {"type": "bool", "default": True},
        "list_path": {"type": "str"},
        "outputs": {"type": "raw"},
        "query": {"type": "str"},
        "wait_for": {"type": "dict", "options": wait_for_argument_spec()},
        "check_for": {"type": "dict", "options": poll_argument_spec(single_check=True)},
        "idempotent": {"type": "bool", "default": False},
        "secret_parameters": {"type": "list", "elements": "str", "no_log": False},
    }


def request_secrets(options: dict) -> Secrets:
    """What oos_execute_api masks: the ``parameters``, ``headers`` and ``body`` keys named in
    ``secret_parameters``, and every key named like a secret (``Password``, ``SecurityToken``,
    ``Authorization``) in them and in the response."""
    given = {}
    for option in ("parameters", "headers", "body"):
        if isinstance(options.get(option), dict):
            given.update(options[option])
    names = secret_parameter_names(options.get("secret_parameters"), given, "secret_parameters")
    values = [str(given[name]) for name in given if name in names or is_secret_name(name)]
    secrets = Secrets(names, [v for v in values if v], secret_keys=True)
    secrets.short_names = tuple(sorted(n for n in given if (n in names or is_secret_name(n))
                                       and 0 < len(str(given[n])) < MIN_TEXT_LENGTH))
    return secrets


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
    uri: str | None = None
    body: object = None
    headers: dict = field(default_factory=dict)

    @property
    def roa(self) -> bool:
        return self.uri is not None

    @property
    def read_only(self) -> bool:
        # ROA APIs say what they do with the HTTP method, whatever their name.
        return self.method == "GET" if self.roa else is_read_only(self.api)


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


def _parse_style(options: dict, service: str) -> dict:
    """The RPC/ROA-specific options, checked; the presence of ``uri`` selects ROA."""
    uri = options.get("uri")
    style = api_style(service)
    method = options.get("method")
    method = method.upper() if isinstance(method, str) else method
    if uri is None:
        if style == "ROA":
            raise AlicloudInputError("uri", f"{normalize_product(service).upper()} APIs are ROA style: set uri to the "
                                     "API's path (e.g. /clusters/c-123) and method")
        for name in ("body", "headers"):
            if options.get(name) not in (None, {}):
                raise AlicloudInputError(name, "is only for ROA calls (set uri to the API's path); RPC parameters "
                                         "go in parameters")
        method = method or "POST"
        if method not in RPC_METHODS:
            raise AlicloudInputError("method", f"{method!r} is only for ROA calls (with uri); RPC actions use POST or GET")
        return {"method": method, "uri": None, "body": None, "headers": {}}
    if style == "RPC":
        raise AlicloudInputError("uri", f"{normalize_product(service).upper()} APIs are RPC style: remove uri and "
                                 "give the action's parameters in parameters")
    roa_path(uri)
    method = method or "GET"
    if method not in ROA_METHODS:
        raise AlicloudInputError("method", f"{method!r} is not supported; use one of {', '.join(ROA_METHODS)}")
    body = roa_body(options.get("body"))
    if body is not None and method == "GET":
        raise AlicloudInputError("body", "is not sent with GET; use POST, PUT, PATCH or DELETE")
    if options.get("list_path") is not None:
        raise AlicloudInputError("list_path", "ROA calls (with uri) are not paged; remove list_path")
    return {"method": method, "uri": uri, "body": body, "headers": roa_headers(options.get("headers"))}


def _parse_wait_for(spec: dict, request: ApiRequest) -> dict:
    spec = {k: v for k, v in spec.items() if v is not None}
    parsed = validate_wait_spec(spec, "wait_for")
    if not request.read_only and not request.idempotent:
        what = f"{request.method} {request.uri}" if request.roa else request.api
        raise AlicloudInputError("wait_for", f"polls by repeating {what}, which may change resources; use wait_for on a "
                                 "read-only call (Describe*, List*, Get*, Query*, Check*, or a ROA GET) in a following "
                                 "task, or set idempotent=true if repeating it is safe")
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
    style = _parse_style(options, service)
    request = ApiRequest(
        service=service, api=api, parameters=parameters, version=options.get("version"),
        auto_paging=options.get("auto_paging", True) is not False, list_path=options.get("list_path"),
        outputs=parse_outputs(options.get("outputs")), query=options.get("query"),
        idempotent=bool(options.get("idempotent")), **style,
    )
    if options.get("wait_for") is not None:
        if not isinstance(options["wait_for"], dict):
            raise AlicloudInputError("wait_for", "must be a dict with property_selector and desired_values")
        request.wait_for = _parse_wait_for(options["wait_for"], request)
    if options.get("check_for") is not None:
        spec = {k: v for k, v in options["check_for"].items() if v is not None}
        request.check_for = validate_wait_spec(spec, "check_for", single_check=True)
    return request


def _fetch(client, request):
    if request.roa:
        return client.call_roa(request.api, request.uri, method=request.method, params=request.parameters,
                               body=request.body, headers=request.headers, idempotent=request.idempotent), 1
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
    if check_mode and (not request.read_only or request.wait_for):
        # No answer (null, not an empty one): what is selected from it is nothing, whatever the selector.
        result["response"] = None
        # Full validation, nothing sent. A wait is not polled either: what it waits for comes from changes that
        # check mode does not make, so it could only time out (or fail on the ids those changes would return).
        if request.roa:
            client.prepare_roa(request.api, request.uri, request.method, request.parameters, request.body,
                               request.headers)
        else:
            client.prepare(request.api, request.parameters)
        result["msg"] = f"Would call {normalize_product(request.service).upper()} {request.api}" + (
            " (check mode: not sent)" if not request.read_only else " until it answers the desired value (check mode: "
                                                                    "not waited for)")
        return result

    state = {"pages": 0}

    def fetch():
        body, pages = _fetch(client, request)
        state["pages"] = pages
        return body

    if request.wait_for:
        spec = request.wait_for
        waited = wait_for(fetch, spec["property_selector"], spec.get("desired_values"), spec.get("not_desired_values"),
                          retries=spec["retries"], delay=spec["delay"], delay_type=spec["delay_type"],
                          backoff=spec["backoff"], max_retry_interval=spec["max_retry_interval"],
                          timeout=spec.get("timeout"), field="wait_for",
                          stop_retry_values=spec.get("stop_retry_values"))
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
