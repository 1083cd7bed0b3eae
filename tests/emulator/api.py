"""Action registry and request helpers shared by the product modules.

Each handler is registered for one (API version, action) with its required parameters, so
``MissingParameter`` is answered generically before the handler runs. Handlers receive a
``Request`` and return the response body (without ``RequestId``) or raise ``ApiError``.

ROA-style APIs (CS) are registered with :meth:`Registry.route` for an HTTP method and a path
template (``/clusters/{ClusterId}``); the server dispatches them on the path, as the ROA gateway
does. Their handlers see path and query parameters in ``request.params`` and the decoded JSON body
in ``request.body``.
"""
from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import unquote
from dataclasses import dataclass, field
from typing import Callable

from .errors import ApiError, api_error, invalid_parameter, missing_parameter

READ_PREFIXES = ("Describe", "List", "Get", "Query", "Check", "Validate")


def is_mutating(action: str) -> bool:
    """Every action that is not Describe*/List*/Get*/Query*/Check* (ValidateTemplateContent is a read too)."""
    return not action.startswith(READ_PREFIXES)


@dataclass
class Action:
    product: str
    version: str
    name: str
    handler: Callable
    required: tuple = ()
    missing: Callable[[str], ApiError] = missing_parameter
    client_token: bool = False
    token_mismatch: str = "IdempotentParameterMismatch"
    mutating: bool = field(default=False)


@dataclass
class Route:
    """One ROA API: ``method`` + a path pattern, for one API version."""
    product: str
    version: str
    method: str
    path: str
    name: str
    handler: Callable
    pattern: re.Pattern
    mutating: bool


class Registry:
    def __init__(self):
        self.actions: dict[tuple[str, str], Action] = {}
        self.products: dict[str, str] = {}
        self.routes: list[Route] = []

    def route(self, product: str, version: str, method: str, path: str, name: str | None = None):
        """Register a ROA handler for ``method path`` (``{Name}`` segments become path parameters)."""
        def decorate(handler):
            action_name = name or handler.__name__
            pattern = re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")
            self.products[version] = product
            self.routes.append(Route(product=product, version=version, method=method.upper(), path=path,
                                     name=action_name, handler=handler, pattern=pattern,
                                     mutating=method.upper() != "GET"))
            return handler
        return decorate

    def match_route(self, version: str, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The route for a request and its (percent-decoded) path parameters; (None, {}) if none matches."""
        for route in self.routes:
            if route.version == version and route.method == method.upper():
                found = route.pattern.match(path)
                if found:
                    return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None, {}

    def action(self, product: str, version: str, name: str | None = None, *, required=(), missing=None,
               client_token: bool = False, token_mismatch: str = "IdempotentParameterMismatch"):
        def decorate(handler):
            action_name = name or handler.__name__
            self.products[version] = product
            self.actions[(version, action_name)] = Action(
                product=product, version=version, name=action_name, handler=handler, required=tuple(required),
                missing=missing or missing_parameter, client_token=client_token, token_mismatch=token_mismatch,
                mutating=is_mutating(action_name))
            return handler
        return decorate

    def lookup(self, version: str, action: str) -> Action | None:
        return self.actions.get((version, action))


REGISTRY = Registry()


class Request:
    """One API call as a handler sees it: merged parameters plus the world and the call's context."""

    def __init__(self, world, params: dict[str, str], *, action: str, version: str, request_id: str, now: float,
                 emulator=None, body=None):
        self.world = world
        self.params = params
        self.body = body  # ROA: the decoded JSON body (None for RPC calls and empty bodies)
        self.action = action
        self.version = version
        self.request_id = request_id
        self.now = now
        self.emulator = emulator

    # ----- scalar parameters -----------------------------------------------------------------
    def has(self, name: str) -> bool:
        return self.params.get(name, "") != ""

    def str(self, name: str, default: str = "") -> str:
        value = self.params.get(name)
        return default if value is None or value == "" else value

    def required(self, name: str) -> str:
        value = self.params.get(name, "")
        if value == "":
            raise missing_parameter(name)
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise invalid_parameter(name)

    def int(self, name: str, default: int | None = None, minimum: int | None = None, maximum: int | None = None,
            error: str | None = None) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise api_error(error) if error else invalid_parameter(name) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise api_error(error) if error else invalid_parameter(name)
        return number

    def enum(self, name: str, allowed, default: str = "", error: ApiError | None = None) -> str:
        value = self.str(name, default)
        if value and value not in allowed:
            raise error or invalid_parameter(name)
        return value

    def json(self, name: str, default=None, expect: type | None = None):
        """A parameter the SDK sends as a JSON string (``InstanceIds``, ``Parameters``, OOS ``Tags``...)."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            parsed = json.loads(value)
        except ValueError:
            raise invalid_parameter(name) from None
        if expect is not None and not isinstance(parsed, expect):
            raise invalid_parameter(name)
        return parsed

    # ----- repeated parameters ---------------------------------------------------------------
    def list(self, name: str) -> list[str]:
        """``Name.1=a&Name.2=b`` -> ``["a", "b"]`` in N order (empty values dropped)."""
        prefix = name + "."
        items = []
        for key, value in self.params.items():
            if key.startswith(prefix):
                index = key[len(prefix):]
                if index.isdigit() and value != "":
                    items.append((int(index), value))
        return [value for _unused, value in sorted(items)]

    def objects(self, name: str) -> list[dict[str, str]]:
        """``Tag.1.Key=a&Tag.1.Value=b`` -> ``[{"Key": "a", "Value": "b"}]`` in N order."""
        prefix = name + "."
        grouped: dict[int, dict[str, str]] = {}
        for key, value in self.params.items():
            if key.startswith(prefix):
                index, _unused, sub = key[len(prefix):].partition(".")
                if index.isdigit() and sub:
                    grouped.setdefault(int(index), {})[sub] = value
        return [grouped[i] for i in sorted(grouped)]

    def tag_filter(self, name: str = "Tag", limit: int = 20) -> list[tuple[str, str | None]]:
        """Filter tags: ``(key, value)`` where a missing value matches any value of the key."""
        filters = []
        for item in self.objects(name):
            key, value = item.get("Key", ""), item.get("Value")
            if key == "":
                raise api_error("InvalidTag.Mismatch")
            filters.append((key, value if value not in (None, "") else None))
        if len(filters) > limit:
            raise api_error("InvalidTagCount")
        return filters

    def tags_to_set(self, name: str = "Tag", limit: int = 20) -> dict[str, str]:
        """Tags given to a create or TagResources call: unique keys, no reserved prefixes."""
        tags: dict[str, str] = {}
        for item in self.objects(name):
            key = item.get("Key", "")
            if key == "" or key.lower().startswith(("aliyun", "acs:")) or "http://" in key or "https://" in key:
                raise api_error("InvalidTagKey.Malformed")
            if key in tags:
                raise api_error("Duplicate.TagKey")
            tags[key] = item.get("Value", "")
        if len(tags) > limit:
            raise api_error("NumberExceed.Tags")
        return tags

    def fingerprint(self) -> str:
        """Identity of a request for ClientToken idempotency: every parameter except the token."""
        items = sorted((k, v) for k, v in self.params.items() if k != "ClientToken")
        return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def tags_match(tags: dict[str, str], filters) -> bool:
    for key, value in filters:
        if key not in tags or (value is not None and tags[key] != value):
            return False
    return True


def ecs_tags(tags: dict[str, str]) -> dict:
    return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}


# ----- paging -----------------------------------------------------------------------------------
def make_token(offset: int, salt: str) -> str:
    """An opaque 32-hex NextToken that encodes an offset and cannot be forged across actions."""
    check = hashlib.sha1(f"{salt}:{offset}".encode()).hexdigest()[:24]
    return f"{offset:08x}{check}"


def parse_token(token: str, salt: str, error: str) -> int:
    try:
        offset = int(token[:8], 16)
    except ValueError:
        raise api_error(error) from None
    if len(token) != 32 or make_token(offset, salt) != token:
        raise api_error(error)
    return offset


@dataclass
class Page:
    start: int
    size: int
    token_mode: bool
    page_number: int = 1
    salt: str = ""

    def slice(self, items: list) -> list:
        return items[self.start:self.start + self.size]

    def next_token(self, total: int) -> str:
        return make_token(self.start + self.size, self.salt) if self.start + self.size < total else ""

    def fields(self, total: int, *, with_page_fields: bool = True) -> dict:
        """``TotalCount``, ``NextToken`` and (page mode) ``PageNumber``/``PageSize``."""
        out = {"TotalCount": total}
        if self.token_mode:
            out["NextToken"] = self.next_token(total)
            out["MaxResults"] = self.size
        else:
            out["NextToken"] = ""
            if with_page_fields:
                out["PageNumber"] = self.page_number
                out["PageSize"] = self.size
        return out


def paging(request: Request, *, default_size: int = 10, max_size: int = 100, salt: str | None = None,
           size_error: str | None = None, number_error: str | None = None, max_results_error: str | None = None,
           token_error: str = "InvalidParameter.NextToken", min_size: int = 1, always_token: bool = False) -> Page:
    """Either ``PageNumber``/``PageSize`` or ``MaxResults``/``NextToken`` (the latter wins, as documented)."""
    salt = salt or f"{request.action}:{request.str('RegionId')}"
    if always_token or request.has("MaxResults") or request.has("NextToken"):
        size = request.int("MaxResults", default_size, min_size, max_size, error=max_results_error)
        start = parse_token(request.str("NextToken"), salt, token_error) if request.has("NextToken") else 0
        return Page(start=start, size=size, token_mode=True, salt=salt)
    size = request.int("PageSize", default_size, 1, max_size, error=size_error)
    number = request.int("PageNumber", 1, 1, None, error=number_error)
    return Page(start=(number - 1) * size, size=size, token_mode=False, page_number=number, salt=salt)
