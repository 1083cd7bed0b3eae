# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of the collection: any product, any RPC action, through the SDK's generic ``call_api``.

    client = AlicloudClient(auth, "ecs")                     # auth: auth.AuthSettings
    body = client.call("DescribeInstances", {"RegionId": "cn-hangzhou", "InstanceId": ["i-1", "i-2"]})
    body, pages = client.paginate("DescribeInstances", {"RegionId": "cn-hangzhou"})

* ``call(action, params=None, method="POST", client_token=None, idempotent=None, read_back=False) -> dict``:
  the response body (``RequestId`` included). Parameters are flattened like the SDK (``Key.N``,
  ``Key.Sub``; JSON strings for the parameters the API takes as JSON). ``RegionId`` is added from
  the client's region when absent. Retries follow :mod:`retries`: a mutating call that accepts a
  ``ClientToken`` gets one automatically (the same token on every retry). After a lost answer (reset,
  read timeout, 5xx) a mutating call is repeated only when :mod:`mutating_apis` says a repeat is
  harmless (or ``idempotent=True``); otherwise it raises :class:`errors.OutcomeUnknown`, which a
  caller that passed ``read_back=True`` catches to read the state back instead.
* ``paginate(action, params=None, list_path=None, method="POST", max_pages=1000)`` ->
  ``(merged_body, pages)``: PageNumber/PageSize or NextToken/MaxResults paging, wrapped lists
  (``Instances.Instance``) concatenated like OOS AutoPaging. Page size is raised to the API maximum
  when the docs give one and the caller did not set it.
* ``call_roa(action, uri, method="GET", params=None, body=None, headers=None, idempotent=None)``:
  a ROA-style API (CS and the other products whose APIs are paths, such as ``GET /clusters/{id}``).
  ``uri`` is the path (an optional ``?a=b`` part joins the query); ``params`` become query
  parameters; ``body`` (dict, list or JSON text) is sent as JSON. V3 signing covers the path, the
  query and the SHA-256 of the body. Returns the decoded answer (a dict, or a list for the few APIs
  that answer a JSON array; ``{}`` for an empty answer). ``prepare_roa`` validates without sending.
* Bookkeeping for module results: ``request_ids`` (every successful request), ``attempts`` (HTTP
  requests sent), ``last_attempts`` (requests of the latest ``call``).

Raises :class:`errors.AlicloudError` (API/network/credentials) or :class:`errors.AlicloudInputError`.
"""
from __future__ import annotations

import copy
import json
import os
import re
import time
import uuid
from urllib.parse import parse_qsl, quote

from ansible_collections.alicloud.oos.plugins.module_utils import paging
from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_API,
    AlicloudError,
    AlicloudInputError,
    OutcomeUnknown,
    from_sdk_exception,
)
from ansible_collections.alicloud.oos.plugins.module_utils.mutating_apis import (
    RETRY,
    done_codes,
    how_to_check,
    lost_answer_policy,
)
from ansible_collections.alicloud.oos.plugins.module_utils.products import (
    accepts_client_token,
    is_read_only,
    json_parameters,
    normalize_product,
    page_size_limit,
    plural_repeat_list,
    resolve_endpoint,
)
from ansible_collections.alicloud.oos.plugins.module_utils.retries import (
    is_lost_answer,
    is_retryable,
    is_throttling,
    time_budget,
)

try:
    from alibabacloud_tea_openapi import utils_models as open_api_models
    from alibabacloud_tea_openapi.client import Client as OpenApiClient
    from darabonba.runtime import RuntimeOptions

    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError as exc:  # reported by AlicloudModule / the plugin base as a missing library
    HAS_SDK = False
    SDK_IMPORT_ERROR = exc

SDK_LIBRARY = "alibabacloud-tea-openapi"
USER_AGENT = "AnsibleCollection/alicloud.oos"
DEFAULT_MAX_PAGES = 1000


def _forget_inherited_connections() -> None:
    """In a forked child, drop the HTTP keep-alive pool inherited from the parent.

    The SDK keeps one pool per process (``darabonba.core.DaraCore._sessions``). Ansible forks a worker per
    host after the main process used the pool (the ``alicloud.oos.ecs`` inventory, lookups): two workers on
    one inherited socket read each other's answers. The child forgets the sockets (closing its copies leaves
    the parent's connections alone) and opens its own.
    """
    try:
        from darabonba.core import DaraCore
    except ImportError:
        return
    if isinstance(getattr(DaraCore, "_sessions", None), dict):
        DaraCore._sessions = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)
ROA_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
# Every API parameter name is spelt this way; anything else is a typo the service would answer with a signature
# mismatch that blames the credentials.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
# Headers the SDK computes and signs itself: a caller's value would break the signature or the request.
RESERVED_HEADERS = ("host", "authorization", "content-length", "user-agent", "x-acs-action", "x-acs-version",
                    "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-security-token",
                    "x-acs-accesskey-id", "x-acs-signature-type", "x-acs-bearer-token")


def _flatten_into(key: str, value, out: dict) -> None:
    """The SDK's ``Utils._object_handler``: lists -> ``Key.N``, dicts -> ``Key.Sub``, scalars -> ``str()``."""
    if value is None:
        return
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            _flatten_into(f"{key}.{sub_key}", sub_value, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value, start=1):
            _flatten_into(f"{key}.{index}", item, out)
    elif isinstance(value, bytes):
        out[key] = value.decode("utf-8")
    elif key in out:
        # {"a.b": 1, "a": {"b": 2}}: two values for one parameter name, one of them would be lost.
        raise AlicloudInputError("parameters", f"{key!r} is given twice (once as a name with dots, once nested): "
                                 "give it once")
    else:
        out[key] = str(value)  # booleans become True/False, exactly as the SDK sends them


def flatten_parameters(params, product=None, action=None) -> dict:
    """API parameters -> ``{name: str}`` query parameters, as the SDK sends them.

    Parameters the API takes as a JSON string (known from the API docs for ECS and OOS, e.g. OOS
    ``StartExecution.Parameters``, ECS ``DescribeInstances.InstanceIds``) are JSON-encoded with
    compact separators when given as a list or dict; everything else is flattened. A list under the
    plural name of a repeatList parameter (RunCommand ``InstanceIds``, TagResources ``ResourceIds``/``Tags``,
    as OOS templates write them) is sent as that parameter (``InstanceId.N``), as OOS ExecuteAPI does.
    """
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise AlicloudInputError("parameters", f"must be a dict of API parameter names to values (got {type(params).__name__}), "
                                 "e.g. {RegionId: cn-hangzhou, InstanceId: [i-1, i-2]}")
    as_json = json_parameters(product, action) if product and action else ()
    out = {}
    for key, value in params.items():
        if not isinstance(key, str) or not _PARAMETER_NAME.fullmatch(key):
            raise AlicloudInputError("parameters", f"{key!r} is not an API parameter name: use letters, digits, '.', "
                                     "'_' and '-', as the API reference spells it (e.g. InstanceId, Tag.1.Key)")
        if key in as_json and isinstance(value, (dict, list, tuple)):
            out[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            continue
        if isinstance(value, (list, tuple)) and product and action:
            key = plural_repeat_list(product, action, key) or key
        _flatten_into(key, value, out)
    # Nested keys become parameter names too (Tag.1.Key): one the API cannot spell fails the same way.
    nested = sorted(name for name in out if not _PARAMETER_NAME.fullmatch(name) or "" in name.split("."))
    if nested:
        raise AlicloudInputError("parameters", f"{nested[0]!r} (a nested key flattened into a parameter name) is not an "
                                 "API parameter name: nested keys use letters, digits, '.', '_' and '-'; give a value "
                                 "the API takes as JSON as a JSON string instead")
    return out


def find_list_paths(body, prefix=()) -> list:
    """Paths (tuples of keys) of the lists in a response body, e.g. ``[("Instances", "Instance")]``."""
    paths = []
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list):
                paths.append(prefix + (key,))
            elif isinstance(value, dict):
                paths.extend(find_list_paths(value, prefix + (key,)))
    return paths


def get_path(body, path):
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _parse_list_path(list_path):
    if list_path is None:
        return None
    if isinstance(list_path, str):
        parts = tuple(p for p in list_path.strip().lstrip(".").split(".") if p)
        if parts:
            return [parts]
    raise AlicloudInputError("list_path", f"{list_path!r} is not a dotted path such as Instances.Instance")


def roa_body(body, field: str = "body"):
    """A ROA request body as the SDK sends it with ``req_body_type='json'``: dicts and lists are
    JSON-encoded by the SDK, text is sent as is and must already be JSON."""
    if body is None or isinstance(body, (dict, list)):
        return body
    if isinstance(body, str):
        try:
            json.loads(body)
        except ValueError as exc:
            raise AlicloudInputError(field, f"is not JSON text ({exc}); give a dict, a list, or JSON text such as "
                                     '\'{"deletion_protection": true}\'')
        return body
    raise AlicloudInputError(field, f"must be a dict, a list or JSON text, got {type(body).__name__}")


def roa_headers(headers, field: str = "headers") -> dict:
    """Extra request headers, names lower-cased (the SDK's own ``content-type`` must win, not duplicate)."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise AlicloudInputError(field, f"must be a dict of header names to values, got {type(headers).__name__}")
    out = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not name.strip() or any(c in name for c in " :\r\n"):
            raise AlicloudInputError(field, f"{name!r} is not a header name")
        lowered = name.strip().lower()
        if lowered in RESERVED_HEADERS:
            raise AlicloudInputError(f"{field}.{name}", "is computed and signed by the client; remove it")
        if value is None:
            continue
        if isinstance(value, (dict, list)):
            raise AlicloudInputError(f"{field}.{name}", "must be a string")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if "\n" in text or "\r" in text:
            raise AlicloudInputError(f"{field}.{name}", "must be a single line")
        out[lowered] = text
    return out


def roa_path(uri, field: str = "uri") -> tuple:
    """``/clusters/c 1?a=b`` -> (``/clusters/c%201``, ``[("a", "b")]``): the path percent-encoded as the
    SDK's generated clients encode it (what is signed is exactly what is sent)."""
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise AlicloudInputError(field, f"{uri!r} is not a ROA path; it must start with '/', e.g. /clusters/c-123 "
                                 "(OSS-style sub-resources such as ?acl are not supported)")
    if "#" in uri or any(c in uri for c in "\r\n"):
        raise AlicloudInputError(field, f"{uri!r} must not contain '#' or line breaks")
    path, _unused, query = uri.partition("?")
    return quote(path, safe="/~"), parse_qsl(query, keep_blank_values=True)


class AlicloudClient:
    """Client for one product in one region (see the module docstring)."""

    def __init__(self, auth, product, region=None, version=None, endpoint=None, retry=None,
                 sleep=time.sleep, clock=time.monotonic):
        self.auth = auth
        self.product = normalize_product(product)
        self.region = region or auth.region
        self.endpoint = resolve_endpoint(self.product, self.region, version=version, endpoint=endpoint or auth.endpoint)
        self.version = self.endpoint.version
        self.retry = retry or auth.retry
        self._sleep = sleep
        self._clock = clock
        self._sdk = None
        self.request_ids = []
        self.attempts = 0
        self.last_attempts = 0

    def _sdk_client(self):
        if self._sdk is None:
            if not HAS_SDK:
                raise AlicloudError(f"the {SDK_LIBRARY} Python library is required on the host that runs this task "
                                    f"(pip install {SDK_LIBRARY}): {SDK_IMPORT_ERROR}", code="MissingLibrary",
                                    product=self.product, failure="credentials")
            from ansible_collections.alicloud.oos.plugins.module_utils.auth import build_credentials

            config = open_api_models.Config(
                credential=build_credentials(self.auth),
                endpoint=self.endpoint.host,
                protocol=self.endpoint.protocol,
                region_id=self.region,
                user_agent=USER_AGENT,
            )
            self._sdk = OpenApiClient(config)
        return self._sdk

    def _send(self, action, query, method):
        params = open_api_models.Params(
            action=action, version=self.version, protocol=self.endpoint.protocol.upper(), pathname="/",
            method=method, auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        request = open_api_models.OpenApiRequest(query=query)
        runtime = RuntimeOptions(ignore_ssl=not self.auth.validate_certs)
        return self._sdk_client().call_api(params, request, runtime)

    def prepare(self, action, params=None, client_token=None):
        """Validate and build the query (with ``RegionId`` and ``ClientToken``) without sending anything."""
        if not isinstance(action, str) or not action or not action[0].isalpha() or not action.isalnum():
            raise AlicloudInputError("api", f"{action!r} is not an API action name; use one like DescribeInstances")
        query = flatten_parameters(params, self.product, action)
        if self.region and "RegionId" not in query:
            query["RegionId"] = self.region
        if client_token is None and "ClientToken" not in query and not is_read_only(action) \
                and accepts_client_token(self.product, action):
            client_token = str(uuid.uuid4())
        if client_token is not None:
            query["ClientToken"] = str(client_token)
        return query

    def call(self, action, params=None, method="POST", client_token=None, idempotent=None, read_back=False) -> dict:
        """Send one action (with retries); returns the response body. See the module docstring."""
        method = (method or "POST").upper()
        if method not in ("POST", "GET"):
            raise AlicloudInputError("method", f"{method!r} is not supported; use POST or GET")
        query = self.prepare(action, params, client_token)
        policy = lost_answer_policy(self.product, action, client_token="ClientToken" in query,
                                    idempotent=bool(idempotent), read_back=read_back)
        plain_repeat = not is_read_only(action) and "ClientToken" not in query
        return self._body(self._with_retries(action, lambda: self._send(action, query, method), policy, plain_repeat))

    def prepare_roa(self, action, uri, method="GET", params=None, body=None, headers=None) -> dict:
        """Validate a ROA call and build what ``call_roa`` sends, without sending anything."""
        if not isinstance(action, str) or not action or not action[0].isalpha() or not action.isalnum():
            raise AlicloudInputError("api", f"{action!r} is not an API action name; use one like DescribeClusterDetail")
        method = (method or "GET").upper()
        if method not in ROA_METHODS:
            raise AlicloudInputError("method", f"{method!r} is not supported for ROA calls; use one of {', '.join(ROA_METHODS)}")
        pathname, uri_query = roa_path(uri)
        query = dict(uri_query)
        for key, value in flatten_parameters(params).items():
            if key in query and query[key] != value:
                raise AlicloudInputError("parameters", f"{key} is given both in uri and in parameters; keep one")
            query[key] = value
        body = roa_body(body)
        if body is not None and method == "GET":
            raise AlicloudInputError("body", "is not sent with GET; use POST, PUT, PATCH or DELETE")
        return {"action": action, "method": method, "pathname": pathname, "query": query, "body": body,
                "headers": roa_headers(headers)}

    def call_roa(self, action, uri, method="GET", params=None, body=None, headers=None, idempotent=None):
        """Send one ROA call (with retries); returns the decoded answer. See the module docstring."""
        request = self.prepare_roa(action, uri, method, params, body, headers)
        # ROA APIs say what they do with the HTTP method, whatever their name.
        policy = lost_answer_policy(self.product, action, read_only=request["method"] == "GET",
                                    idempotent=bool(idempotent))
        response = self._with_retries(action, lambda: self._send_roa(request), policy, request["method"] != "GET")
        return self._roa_body(response)

    def _send_roa(self, request):
        # body_type 'string' rather than 'json': ROA answers may be empty (202/204), which the SDK's JSON
        # reader rejects; the text is decoded in _roa_body.
        params = open_api_models.Params(
            action=request["action"], version=self.version, protocol=self.endpoint.protocol.upper(),
            pathname=request["pathname"], method=request["method"], auth_type="AK", style="ROA",
            req_body_type="json", body_type="string")
        sdk_request = open_api_models.OpenApiRequest(query=request["query"] or None, body=request["body"],
                                                     headers=request["headers"] or None)
        runtime = RuntimeOptions(ignore_ssl=not self.auth.validate_certs)
        return self._sdk_client().call_api(params, sdk_request, runtime)

    @property
    def url(self) -> str:
        return f"{self.endpoint.protocol}://{self.endpoint.host}"

    def _with_retries(self, action, send, policy, plain_repeat=False):
        """Run ``send()`` with the retry policy; SDK/network/credential failures become AlicloudError.

        ``policy`` (mutating_apis.lost_answer_policy) decides what a lost answer leads to: a repeat, or
        OutcomeUnknown for the caller to read the state back or to fail with. ``plain_repeat``: a repeat
        of this call is a second mutation (no ClientToken), so its error may be the first one's doing.
        """
        started = self._clock()
        attempt = 0
        lost = None  # the lost-answer error a repeat followed, if any
        while True:
            attempt += 1
            self.attempts += 1
            self.last_attempts = attempt
            try:
                return send()
            except (AlicloudError, AlicloudInputError):
                raise
            except Exception as exc:  # every SDK/network/credential failure, mapped once
                error = from_sdk_exception(exc, self.product, action, redact=self.auth.secrets, url=self.url,
                                           access_key_id=self.auth.access_key)
            error.details.setdefault("attempts", attempt)
            if lost is not None and plain_repeat and error.failure == FAILURE_API and not is_lost_answer(error) \
                    and not is_throttling(error):
                if error.code in done_codes(self.product, action):
                    # The repeat found the change already made: the lost attempt made it.
                    return {"body": {"RequestId": error.request_id}, "headers": {}}
                error.message += (f" (an earlier attempt's answer was lost: {lost.message}; that attempt may have "
                                  "been applied, which can be why this one failed)")
                raise error
            if is_lost_answer(error):
                if policy != RETRY:
                    unknown = self._outcome_unknown(action, error)
                    unknown.details["attempts"] = attempt
                    raise unknown
                lost = error
            if attempt < self.retry.attempts and is_retryable(error, policy == RETRY):
                pause = self.retry.delay(attempt, error.retry_after)
                if self._clock() - started + pause <= time_budget(error, self.endpoint.host, self.retry):
                    self._sleep(pause)
                    continue
            raise error

    def _outcome_unknown(self, action, error):
        where = f"{self.product.upper()} {action}"
        return OutcomeUnknown(
            f"the answer to {where} was lost ({error.code}: {error.message}) after the request was sent, so it may "
            f"or may not have been applied. It was not sent again because a repeat could apply it twice. Check with "
            f"{how_to_check(self.product, action)}", error, product=self.product, action=action)

    def _roa_body(self, response):
        text = response.get("body") if isinstance(response, dict) else None
        headers = (response.get("headers") or {}) if isinstance(response, dict) else {}
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if isinstance(text, dict):
            body = text
        elif text is None or not str(text).strip():
            body = {}
        else:
            try:
                body = json.loads(text)
            except ValueError:
                body = {"Body": text}  # not JSON: keep the text rather than fail after the call succeeded
        request_id = headers.get("x-acs-request-id")
        if not request_id and isinstance(body, dict):
            request_id = body.get("RequestId") or body.get("requestId") or body.get("request_id")
        if request_id:
            self.request_ids.append(request_id)
        return body

    def _body(self, response) -> dict:
        body = response.get("body") if isinstance(response, dict) else None
        if not isinstance(body, dict):
            body = {"Body": body}
        headers = response.get("headers") or {} if isinstance(response, dict) else {}
        request_id = body.get("RequestId") or headers.get("x-acs-request-id")
        if request_id:
            body.setdefault("RequestId", request_id)
            self.request_ids.append(request_id)
        return body

    def paginate(self, action, params=None, list_path=None, method="POST", max_pages=DEFAULT_MAX_PAGES,
                 idempotent=None):
        """Fetch every page of a list action; returns ``(merged_body, pages)``."""
        paths = _parse_list_path(list_path)
        params = {} if params is None else params
        if not isinstance(params, dict):
            flatten_parameters(params)  # raises the clear input error
        params = dict(params)
        limit = page_size_limit(self.product, action)
        token_style = "NextToken" in params or "MaxResults" in params
        number_style = not token_style and ("PageNumber" in params or "PageSize" in params)
        if limit and not (token_style or number_style):
            size_name, maximum = limit
            params[size_name] = maximum
            token_style, number_style = size_name == "MaxResults", size_name == "PageSize"

        style = paging.TOKEN if token_style else paging.NUMBER if number_style else None
        lists = {"paths": paths}

        def items_of(body):
            if lists["paths"] is None:  # unknown action: the first answer tells where its list is
                lists["paths"] = find_list_paths(body)
            found = [get_path(body, path) or [] for path in lists["paths"]]
            return max(found, key=len, default=[]), body.get("TotalCount")

        merged, pages = None, 0
        for body, _unused in paging.pages(self, action, params, items_of, style=style, method=method,
                                          idempotent=idempotent, max_pages=max_pages):
            pages += 1
            if merged is None:
                merged = copy.deepcopy(body)
                continue
            for path in lists["paths"]:
                items = get_path(body, path)
                target = get_path(merged, path)
                if isinstance(items, list) and isinstance(target, list):
                    target.extend(items)
        if "NextToken" in merged:
            merged["NextToken"] = ""
        return merged, pages
