# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which API version, style and endpoint a product has, and per-action API facts.

The data is generated: ``product_catalog.py`` from the official SDK packages (``python -m tools.products``),
``api_facts.py`` from the ECS/OOS API docs. This module only reads it; a product's entry of the catalogue is
parsed the first time a call names the product.

* ``resolve_endpoint(product, region, version=None, endpoint=None)`` -> :class:`Endpoint`
  (``host``, ``protocol``, ``version``). ``endpoint`` is a URL (``http://127.0.0.1:8080``) or a
  bare host; it overrides the table (``ALICLOUD_ENDPOINT`` points every product at one gateway).
* ``api_style(product)``: ``"ROA"`` (APIs are paths, e.g. CS), ``"RPC"``, or None when unknown or mixed.
* ``catalogued(code)``, ``known_products()``: a product's catalogue entry, every product code.
* ``unresolvable_service(service)``: why an OOS template's ``Service`` cannot be called (None when it can).
* ``oos_only_service(service)``: why only OOS itself can make a call to ``service`` (None when the client can).
* ``is_read_only(action)``: Describe*/List*/Get*/Query*/Check* never change anything.
* ``accepts_client_token``, ``page_size_limit``, ``json_parameters``, ``plural_repeat_list``: API facts.
"""
from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache
from urllib.parse import urlsplit

from ansible_collections.alicloud.oos.plugins.module_utils.api_facts import (
    CLIENT_TOKEN_ACTIONS,
    JSON_PARAMETERS,
    PAGE_SIZE_LIMITS,
    REPEAT_LIST_PLURALS,
)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.product_catalog import (
    ALIASES,
    INTERNAL,
    OWN_SIGNATURE,
    PRODUCT_LINES,
)

Endpoint = namedtuple("Endpoint", "host protocol version")

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Query", "Check")

_PRODUCT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REGION = re.compile(r"^[a-z0-9-]+$")
# DNS labels (letters, digits, '-', '_' as some private zones use) or an IPv4 address; IPv6 in brackets.
_HOST_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$")


def normalize_product(product) -> str:
    """Lower-case product code (``ECS``/``Ecs`` -> ``ecs``, ``FC`` -> ``fc-open``), aliases resolved."""
    if not isinstance(product, str) or not _PRODUCT_CODE.match(product):
        raise AlicloudInputError("service", f"{product!r} is not a product code; use one like 'ecs' or 'oos'")
    code = product.lower()
    return ALIASES.get(code, code)


def known_products() -> list:
    return re.findall(r"^([^ \n]+) ", PRODUCT_LINES, re.M)


@lru_cache(maxsize=None)
def catalogued(code: str):
    """``(API version, style, endpoint pattern, {region: host})`` of a lower-case product code, None when the
    catalogue lacks it (``product_catalog.py`` says how an entry reads)."""
    found = re.search(rf"^{re.escape(code)} (.+(?:\n .+)*)", PRODUCT_LINES, re.M)
    if found is None:
        return None
    version, style, _package_version, pattern, *groups = found.group(1).split()
    hosts = {}
    for group in groups:
        host, regions = group.split("=", 1)
        hosts.update(dict.fromkeys(regions.split(","), host))
    return version, None if style == "-" else style, None if pattern == "-" else pattern, hosts


def api_style(product: str):
    """``"ROA"``, ``"RPC"``, or None when the product is unknown or has both (either style may be right)."""
    known = catalogued(normalize_product(product))
    return known[1] if known else None


def _own_signature(code: str):
    """Why the client layer cannot sign requests to ``code`` (OSS, SLS, ...: the SDK signs them through a gateway of
    the product's own, e.g. OSS against a bucket host), None when it can."""
    if code not in OWN_SIGNATURE:
        return None
    return (f"{code.upper()} signs requests with its own scheme (the SDK's {OWN_SIGNATURE[code]} gateway), which "
            "alicloud.oos does not implement")


def oos_only_service(service):
    """Why a call to ``service`` can only be made by OOS itself (converted templates delegate such a task to OOS);
    None when the client can make it or the name is computed at run time."""
    if not isinstance(service, str) or "{{" in service:
        return None
    try:
        code = normalize_product(service)
    except AlicloudInputError:
        return None
    return _own_signature(code)


def unresolvable_service(service):
    """Why an OOS template's static ``Service`` cannot be called, naming the overrides; None when it can
    (or when the name is computed at run time and cannot be known yet)."""
    if not isinstance(service, str) or "{{" in service:
        return None
    try:
        code = normalize_product(service)
    except AlicloudInputError as error:
        return f"Service {service!r}: {error.message}"
    if code in INTERNAL:
        return f"Service {service!r} is internal to OOS and cannot be called outside it: {INTERNAL[code]}"
    if catalogued(code) is None:
        return (f"Service {service!r} is not a product alicloud.oos knows{_did_you_mean(code)}, so its API version "
                "and endpoint are unknown: call it with alicloud.oos.oos_execute_api and set version (YYYY-MM-DD) "
                f"and endpoint (e.g. https://{code}.cn-hangzhou.aliyuncs.com)")
    return None


def is_read_only(action: str) -> bool:
    """True for actions that never change state (Describe*, List*, Get*, Query*, Check*)."""
    return action.startswith(READ_ONLY_PREFIXES)


def accepts_client_token(product: str, action: str) -> bool:
    return action in CLIENT_TOKEN_ACTIONS.get(normalize_product(product), ())


def page_size_limit(product: str, action: str):
    """``(parameter, maximum)`` such as ``("PageSize", 100)`` when the docs give one, else None."""
    return PAGE_SIZE_LIMITS.get(normalize_product(product), {}).get(action)


def json_parameters(product: str, action: str) -> tuple:
    """Parameters of ``action`` that the API takes as one JSON string rather than ``Key.N`` flattening."""
    return JSON_PARAMETERS.get(normalize_product(product), {}).get(action, ())


def plural_repeat_list(product: str, action: str, name: str):
    """``InstanceId`` for RunCommand's ``InstanceIds``: the repeatList parameter (sent ``X.N``) that ``name`` is the
    plural of, as OOS templates and the classic SDK setters name it, else None."""
    if not name.endswith("s"):
        return None
    singular = name[:-1]
    return singular if singular in REPEAT_LIST_PLURALS.get(normalize_product(product), {}).get(action, ()) else None


def parse_endpoint_url(endpoint: str, field: str = "endpoint"):
    """``(host[:port], protocol)`` from ``http(s)://host[:port]`` or a bare ``host[:port]`` (HTTPS)."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise AlicloudInputError(field, "must be a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")
    text = endpoint.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise AlicloudInputError(field, f"{endpoint!r} is not a valid endpoint; use scheme://host[:port] with scheme http or https and no path")
    try:
        parts.port
    except ValueError:
        raise AlicloudInputError(field, f"{endpoint!r} has an invalid port")
    host = parts.hostname
    if not (_HOST_NAME.match(host) or (":" in host and _IPV6.match(host))):
        raise AlicloudInputError(field, f"{endpoint!r} is not a valid endpoint: {host!r} is not a host name; use "
                                 "scheme://host[:port], e.g. https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")
    return parts.netloc, parts.scheme


def resolve_endpoint(product: str, region=None, version=None, endpoint=None) -> Endpoint:
    """Where and with which API version to call ``product``.

    ``endpoint`` (option or ``ALICLOUD_ENDPOINT``) wins over the table; ``version`` wins over the
    table's version. Unknown products need both ``version`` and ``endpoint``.
    """
    code = normalize_product(product)
    if code in OWN_SIGNATURE:
        raise AlicloudInputError("service", f"{product!r} cannot be called here: {_own_signature(code)}. Run the call "
                                 "in OOS (alicloud.oos.oos_execution with a one-task template) or use the product's own modules")
    known = catalogued(code)
    if version is not None and not (isinstance(version, str) and _VERSION.match(version)):
        raise AlicloudInputError("version", f"{version!r} is not an API version; use the YYYY-MM-DD form, e.g. 2014-05-26")
    if known is None and not version:
        what = f"is internal to OOS ({INTERNAL[code]})" if code in INTERNAL else "is not in the product catalogue"
        raise AlicloudInputError(
            "version", f"product {product!r} {what}; set version (e.g. 2014-05-26) and endpoint for it"
            f"{_did_you_mean(code)}")
    api_version = version or known[0]
    if endpoint:
        host, protocol = parse_endpoint_url(endpoint)
        return Endpoint(host, protocol, api_version)
    if known is None:
        raise AlicloudInputError(
            "endpoint", f"product {product!r} is not in the product catalogue; set endpoint "
            f"(e.g. https://{code}.cn-hangzhou.aliyuncs.com)")
    return Endpoint(_default_host(code, known, region), "https", api_version)


def _did_you_mean(code: str) -> str:
    import difflib  # only an error needs it

    close = difflib.get_close_matches(code, known_products() + sorted(ALIASES), n=3, cutoff=0.75)
    return f" (did you mean {' or '.join(repr(name) for name in close)}?)" if close else ""


def _default_host(code: str, known: tuple, region) -> str:
    """The SDK's rule: the region's entry of the endpoint map, else the product's pattern."""
    _version, _style, pattern, hosts = known
    if region is not None and not (isinstance(region, str) and _REGION.match(region)):
        raise AlicloudInputError("region", f"{region!r} is not a region id; use one like cn-hangzhou")
    host = hosts.get(region) if region else None
    if host is None and not region and len(set(hosts.values())) == 1 and "{" not in next(iter(hosts.values())):
        host = next(iter(hosts.values()))  # every listed region uses one central host (RAM): no region needed
    if host is None:
        if pattern is None:
            raise AlicloudInputError("endpoint", f"{code.upper()} has no endpoint rule in its SDK; set endpoint "
                                     f"(e.g. https://{code}.cn-hangzhou.aliyuncs.com)")
        if "{region}" in pattern and not region:
            raise AlicloudInputError("region", f"product {code!r} is regional; set region (or ALICLOUD_REGION), e.g. cn-hangzhou")
        host = pattern.format(region=region)
    if "{account_id}" in host:
        raise AlicloudInputError("endpoint", f"{code.upper()} endpoints name your account id; set endpoint "
                                 f"(e.g. https://{host.replace('{account_id}', '<account-id>')})")
    return host
