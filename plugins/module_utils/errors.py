# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two exception types of the collection.

* :class:`AlicloudError`: a call failed (API error, network, credentials, wait failure). Carries
  ``code``, ``message``, ``request_id``, ``http_status``, ``product``, ``action``; ``to_dict()``
  gives the keyword arguments for ``fail_json`` (``msg`` plus ``error: {...}``).
* :class:`AlicloudInputError`: bad input found before any request was sent. Names the option
  (``field``) and says how to fix it.

``from_sdk_exception()`` maps any exception raised by ``alibabacloud-tea-openapi`` (duck typed, so
this file imports no SDK) to an :class:`AlicloudError` whose ``failure`` tells the retry layer
whether the request may have been applied.
"""
from __future__ import annotations

import errno
import socket

# How a failure relates to the request reaching the service (see retries.is_retryable).
FAILURE_API = "api"                  # the service answered with an error code
FAILURE_NOT_SENT = "not_sent"        # connection refused / DNS: nothing reached the service
FAILURE_UNKNOWN = "unknown"          # timeout or reset after sending: the call may have been applied
FAILURE_CREDENTIALS = "credentials"  # no usable credentials: nothing was sent
FAILURE_WAIT = "wait"                # a waiter or check ended without the desired value


class AlicloudInputError(Exception):
    """Bad input detected before any request is sent. ``field`` is the option name."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def to_dict(self) -> dict:
        return {"msg": f"Invalid option {self.field}: {self.message}", "invalid_option": self.field}


class AlicloudError(Exception):
    """A failed call. ``str(error)`` is the one-line message shown to users."""

    def __init__(self, message: str, code=None, request_id=None, http_status=None, product=None, action=None,
                 failure=FAILURE_API, retry_after=None, details=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.product = product
        self.action = action
        self.failure = failure
        self.retry_after = retry_after      # seconds the service asked us to wait, if any
        self.details = details or {}        # extra keys for fail_json (e.g. last waited value)

    def __str__(self) -> str:
        where = f"{self.product.upper()} {self.action}" if self.product and self.action else (self.action or "")
        parts = [f"{where} failed" if where else "Alibaba Cloud call failed"]
        if self.code:
            parts.append(f"[{self.code}]")
        parts.append(self.message)
        text = " ".join(p for p in parts if p)
        if self.request_id:
            text += f" (RequestId: {self.request_id})"
        return text

    def to_dict(self) -> dict:
        result = {
            "msg": str(self),
            "error": {
                "code": self.code,
                "message": self.message,
                "request_id": self.request_id,
                "http_status": self.http_status,
                "product": self.product,
                "action": self.action,
            },
        }
        result.update(self.details)
        return result


def _clean_sdk_message(message: str, status, request_id) -> str:
    """Strip the SDK's ``code: 400, ... request id: X`` framing; the fields are reported separately."""
    text = str(message or "").strip()
    prefix = f"code: {status}, "
    if status is not None and text.startswith(prefix):
        text = text[len(prefix):]
    if request_id:
        suffix = f" request id: {request_id}"
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip()


def _network_failure(exc: BaseException) -> str:
    """Was the request possibly sent? Walks the exception chain for connect-phase errors."""
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ConnectionRefusedError) or name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError"):
            return FAILURE_NOT_SENT
        if isinstance(current, socket.gaierror) or getattr(current, "errno", None) in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
            return FAILURE_NOT_SENT
        text = str(current)
        if "NewConnectionError" in text or "Connection refused" in text or "Failed to resolve" in text or "ConnectTimeout" in text:
            return FAILURE_NOT_SENT
        for attr in ("inner_exception", "__cause__", "__context__", "reason"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                pending.append(nested)
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                pending.append(arg)
    return FAILURE_UNKNOWN


def from_sdk_exception(exc: BaseException, product=None, action=None, redact=()) -> AlicloudError:
    """Map an SDK/credentials/network exception to :class:`AlicloudError`.

    ``redact``: strings (secrets) that must never appear in the message.
    """
    def scrub(text):
        text = str(text) if text is not None else ""
        for secret in redact:
            if secret:
                text = text.replace(secret, "********")
        return text

    type_name = type(exc).__name__
    data = getattr(exc, "data", None)
    data = data if isinstance(data, dict) else {}
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None) or data.get("statusCode")
    code = getattr(exc, "code", None)
    if status is not None and code is not None:
        request_id = getattr(exc, "request_id", None) or data.get("RequestId") or data.get("requestId")
        message = data.get("Message") or data.get("message") or _clean_sdk_message(getattr(exc, "message", ""), status, request_id)
        retry_after = getattr(exc, "retry_after", None)
        return AlicloudError(scrub(message), code=scrub(code), request_id=request_id, http_status=int(status),
                             product=product, action=action, failure=FAILURE_API,
                             retry_after=(retry_after / 1000.0) if retry_after else None)
    if type_name == "CredentialException" or code == "InvalidCredentials":
        return AlicloudError(
            scrub(f"no usable credentials: {getattr(exc, 'message', None) or exc}. Set access_key/secret_key "
                  "(or ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY), a profile, or a RAM role"),
            code="InvalidCredentials", product=product, action=action, failure=FAILURE_CREDENTIALS)
    inner = getattr(exc, "inner_exception", None)
    failure = _network_failure(exc)
    detail = inner if inner is not None else exc
    text = getattr(detail, "message", None) or str(detail) or type(detail).__name__
    if code is None and status is None and type_name not in ("UnretryableException", "RetryError") and inner is None \
            and not isinstance(exc, (OSError, ConnectionError)) and "Connection" not in type_name:
        # Not a network problem we recognise (e.g. a non-JSON answer): report it, do not retry it.
        return AlicloudError(scrub(f"{type_name}: {text}"), code=type_name, product=product, action=action,
                             failure=FAILURE_API)
    return AlicloudError(scrub(f"network error: {text}"), code="NetworkError", product=product, action=action,
                         failure=failure)
