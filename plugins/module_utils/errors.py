# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exception types of the collection.

* :class:`AlicloudError`: a call failed (API error, network, credentials, wait failure). Carries
  ``code``, ``message``, ``request_id``, ``http_status``, ``product``, ``action``; ``to_dict()``
  gives the keyword arguments for ``fail_json`` (``msg`` plus ``error: {...}``).
* :class:`OutcomeUnknown`: the answer to a mutating call was lost after the request was sent, and
  the call was not repeated because repeating it could apply it twice (see ``mutating_apis``).
* :class:`AlicloudInputError`: bad input found before any request was sent. Names the option
  (``field``) and says how to fix it.

``from_sdk_exception()`` maps any exception raised by ``alibabacloud-tea-openapi`` (duck typed, so
this file imports no SDK) to an :class:`AlicloudError` whose ``failure`` tells the retry layer
whether the request may have been applied and whether trying again can help, and whose message
names the cause in words: a wrong AccessKey secret, an endpoint that does not speak TLS, a host
that does not resolve, a refused connection, missing credentials.
"""
from __future__ import annotations

import errno
import re
import socket
import ssl

# How a failure relates to the request reaching the service (see retries.is_retryable).
FAILURE_API = "api"                  # the service answered with an error code
FAILURE_NOT_SENT = "not_sent"        # timeout while connecting, unreachable network: nothing reached the service
FAILURE_REFUSED = "refused"          # connection refused: nothing listens at that address (retried briefly)
FAILURE_CONNECTION = "connection"    # cannot connect and trying again cannot help (TLS, certificate, unknown host)
FAILURE_UNKNOWN = "unknown"          # timeout or reset after sending: the call may have been applied
FAILURE_CREDENTIALS = "credentials"  # no usable credentials, or the service rejected them: nothing was applied
FAILURE_WAIT = "wait"                # a waiter or check ended without the desired value

# Gateway errors about the credentials, in words (``{key}`` is the AccessKey ID, never a secret).
CREDENTIAL_ERRORS = {
    "SignatureDoesNotMatch": "The AccessKeySecret is incorrect: the request signature does not match the one the "
                             "service computed for AccessKey ID {key}. Check secret_key (ALICLOUD_SECRET_KEY)",
    "InvalidAccessKeyId.NotFound": "The AccessKey ID {key} does not exist. Check access_key (ALICLOUD_ACCESS_KEY)",
    "InvalidAccessKeyId.Inactive": "The AccessKey ID {key} is disabled. Enable it in the RAM console or use another "
                                   "AccessKey",
    "InvalidSecurityToken.Expired": "The STS security token has expired. Get new temporary credentials (access_key, "
                                    "secret_key and security_token, or ALICLOUD_SECURITY_TOKEN)",
    "InvalidSecurityToken.Malformed": "The STS security token is missing or malformed for AccessKey ID {key}. "
                                      "Temporary AccessKeys need the security_token issued with them "
                                      "(ALICLOUD_SECURITY_TOKEN); permanent ones must not send one",
    "InvalidSecurityToken.MismatchWithAccessKey": "The STS security token was not issued with AccessKey ID {key}. "
                                                  "Set the access_key, secret_key and security_token of one "
                                                  "AssumeRole answer",
    "InvalidTimeStamp.Expired": "The clock of this machine is more than 15 minutes off the service's time. Synchronise "
                                "it (NTP)",
}
# ssl reasons meaning the peer does not speak TLS at all (a plain-HTTP port behind an https:// URL).
NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "UNKNOWN_PROTOCOL",
                   "PACKET_LENGTH_TOO_LONG", "record layer failure", "wrong version number")
# getaddrinfo errors that will not change by asking again (EAI_AGAIN, "temporary failure", is retried).
PERMANENT_DNS_ERRORS = tuple(getattr(socket, name) for name in ("EAI_NONAME", "EAI_FAIL", "EAI_NODATA")
                             if hasattr(socket, name))


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


class OutcomeUnknown(AlicloudError):
    """The answer to a mutating call was lost after the request was sent (reset, read timeout, 5xx), and
    the call was not repeated because a repeat could apply it twice. ``cause`` is the lost-answer error.

    Callers that can read the state back catch it; anywhere else it fails the task with a message that
    says how to check what happened.
    """

    def __init__(self, message: str, cause: AlicloudError, product=None, action=None):
        super().__init__(message, code="OutcomeUnknown", request_id=cause.request_id, http_status=cause.http_status,
                         product=product, action=action, failure=FAILURE_UNKNOWN)
        self.cause = cause


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


def _chain(exc: BaseException) -> list:
    """``exc`` and every exception it wraps (SDK ``inner_exception``, causes, urllib3 ``reason``, args)."""
    seen, found, pending = set(), [], [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        for attr in ("inner_exception", "__cause__", "__context__", "reason"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                pending.append(nested)
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return found


def _ssl_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) else str(error)


def _host_of(url):
    return url.split("://", 1)[-1] if url else "the endpoint"


def classify_network_error(exc: BaseException, url=None) -> tuple:
    """``(failure, code, message)`` of a transport failure, the cause named in words.

    Only causes that trying again cannot change are final (FAILURE_CONNECTION): a TLS handshake with
    something that is not TLS, a certificate that does not verify, a host name that does not exist, a
    malformed URL. A refused connection is FAILURE_REFUSED; a connect timeout FAILURE_NOT_SENT; a
    reset or read timeout after the request went out FAILURE_UNKNOWN.
    """
    chain = _chain(exc)
    host = _host_of(url)
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(error):
            detail = getattr(error, "verify_message", None) or _ssl_reason(error)
            return (FAILURE_CONNECTION, "CertificateVerifyFailed",
                    f"the TLS certificate of {host} could not be verified ({detail}). Install the CA that signed it "
                    "on this machine or, only for a private gateway you trust, set validate_certs: false")
    for error in chain:
        if isinstance(error, ssl.SSLError) and any(r in _ssl_reason(error) or r in str(error) for r in NOT_TLS_REASONS):
            plain = f"http://{host}" if url else "http://HOST:PORT"
            return (FAILURE_CONNECTION, "NotTLS",
                    f"{url or 'the endpoint'} does not answer TLS ({_ssl_reason(error)}): it looks like a plain-HTTP "
                    f"port. Use {plain} as endpoint (ALICLOUD_ENDPOINT), or the port that serves HTTPS")
    for error in chain:
        if type(error).__name__ in ("LocationParseError", "InvalidURL", "InvalidSchema", "MissingSchema",
                                    "URLSchemeUnknown"):
            return (FAILURE_CONNECTION, "InvalidEndpoint",
                    f"{url or 'the endpoint'} is not a usable URL ({error}). Set endpoint (ALICLOUD_ENDPOINT) to "
                    "scheme://host[:port], e.g. https://ecs.cn-hangzhou.aliyuncs.com")
    for error in chain:
        if isinstance(error, socket.gaierror):
            if error.errno in PERMANENT_DNS_ERRORS:
                return (FAILURE_CONNECTION, "UnknownHost",
                        f"the host of {url or 'the endpoint'} does not resolve ({error.strerror or error}). Check the "
                        "region and the endpoint (ALICLOUD_REGION, ALICLOUD_ENDPOINT)")
            return FAILURE_NOT_SENT, "NetworkError", f"DNS lookup of {host} failed ({error.strerror or error})"
    for error in chain:
        if isinstance(error, ConnectionRefusedError) or getattr(error, "errno", None) == errno.ECONNREFUSED:
            return (FAILURE_REFUSED, "ConnectionRefused",
                    f"{url or 'the endpoint'} refused the connection: nothing listens there. Check the endpoint "
                    "(ALICLOUD_ENDPOINT) and that the service or gateway is running")
    for error in chain:
        name = type(error).__name__
        if name in ("NewConnectionError", "ConnectTimeoutError", "ConnectTimeout") or \
                getattr(error, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return FAILURE_NOT_SENT, "NetworkError", f"cannot connect to {host}: {_detail(exc)}"
    return FAILURE_UNKNOWN, "NetworkError", f"network error: {_detail(exc)}"


def _detail(exc: BaseException) -> str:
    inner = getattr(exc, "inner_exception", None)
    detail = inner if inner is not None else exc
    return getattr(detail, "message", None) or str(detail) or type(detail).__name__


def _credentials_problem(exc: BaseException):
    """The ``alibabacloud-credentials`` error in ``exc``'s chain, if any: no credentials could be loaded."""
    for error in _chain(exc):
        if type(error).__name__ == "CredentialException" or getattr(error, "code", None) == "InvalidCredentials":
            return error
    return None


def from_sdk_exception(exc: BaseException, product=None, action=None, redact=(), url=None,
                       access_key_id=None) -> AlicloudError:
    """Map an SDK/credentials/network exception to :class:`AlicloudError`.

    ``redact``: strings (secrets) that must never appear in the message. ``url``: the endpoint, named
    in connection errors. ``access_key_id``: named in credential errors (it is not a secret).
    """
    def scrub(text):
        text = str(text) if text is not None else ""
        for secret in redact:
            if secret:
                text = text.replace(secret, "********")
        return text

    data = getattr(exc, "data", None)
    data = data if isinstance(data, dict) else {}
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None) or data.get("statusCode")
    code = getattr(exc, "code", None)
    if status is not None and code is not None:
        request_id = getattr(exc, "request_id", None) or data.get("RequestId") or data.get("requestId")
        message = data.get("Message") or data.get("message") or _clean_sdk_message(getattr(exc, "message", ""), status, request_id)
        retry_after = getattr(exc, "retry_after", None)
        failure = FAILURE_API
        if code in CREDENTIAL_ERRORS:
            # In words, without the server's string-to-sign: the cause, and which setting to fix.
            message = CREDENTIAL_ERRORS[code].format(key=access_key_id or "(none)")
            failure = FAILURE_CREDENTIALS
        return AlicloudError(scrub(message), code=scrub(code), request_id=request_id, http_status=int(status),
                             product=product, action=action, failure=failure,
                             retry_after=(retry_after / 1000.0) if retry_after else None)
    problem = _credentials_problem(exc)
    if problem is not None:
        detail = str(getattr(problem, "message", None) or problem)
        if "any of the providers" in detail:
            return AlicloudError(
                scrub("no Alibaba Cloud credentials found. Set access_key and secret_key (ALICLOUD_ACCESS_KEY and "
                      "ALICLOUD_SECRET_KEY), a profile (ALICLOUD_PROFILE) or ram_role_arn. The default credential "
                      f"chain found none: {detail}"),
                code="MissingCredentials", product=product, action=action, failure=FAILURE_CREDENTIALS)
        status = re.search(r"http_code: (\d{3})", detail)
        # STS answering 5xx is a passing outage; anything else about the credentials will not change by itself.
        failure = FAILURE_NOT_SENT if status and status.group(1).startswith("5") else FAILURE_CREDENTIALS
        return AlicloudError(scrub(f"could not get credentials: {detail}. Check ram_role_arn, the profile or the "
                                   "credentials file"), code="InvalidCredentials", product=product, action=action,
                             failure=failure)
    type_name = type(exc).__name__
    if code is None and status is None and type_name not in ("UnretryableException", "RetryError") \
            and getattr(exc, "inner_exception", None) is None \
            and not isinstance(exc, (OSError, ConnectionError)) and "Connection" not in type_name:
        # Not a network problem we recognise (e.g. a non-JSON answer): report it, do not retry it.
        return AlicloudError(scrub(f"{type_name}: {_detail(exc)}"), code=type_name, product=product, action=action,
                             failure=FAILURE_API)
    failure, error_code, message = classify_network_error(exc, url)
    return AlicloudError(scrub(message), code=error_code, product=product, action=action, failure=failure)
