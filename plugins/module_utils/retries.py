# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retry policy for API calls (the SDK 0.4.x does not retry on its own).

* :class:`RetryPolicy`: ``attempts`` (total tries), ``max_time`` (seconds budget for one logical call,
  sleeps included), ``base_delay``/``max_delay`` (exponential backoff bounds) and ``jitter``.
  ``delay(n, retry_after=None)`` is the pause before retry ``n`` (1-based).
* :func:`is_retryable(error, idempotent)`: throttling and never-sent requests are always retried;
  5xx, timeouts and resets (:func:`is_lost_answer`) only when repeating the call is harmless (see
  ``mutating_apis.lost_answer_policy``); causes that cannot change by trying again (a wrong key, an
  endpoint that does not speak TLS, a host that does not resolve, no credentials) never.
* :func:`is_permanent(error)`: the credentials or the connection are wrong: every call will fail alike.
* :func:`time_budget(error, host, policy)`: seconds one call may spend retrying this error; a refused
  connection gets a few seconds only (none on loopback, where nothing will start listening by itself).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_API,
    FAILURE_CONNECTION,
    FAILURE_CREDENTIALS,
    FAILURE_NOT_SENT,
    FAILURE_REFUSED,
    FAILURE_UNKNOWN,
    AlicloudError,
)

# Codes meaning "rejected before processing": safe to repeat even for mutating calls.
THROTTLING_CODES = frozenset({
    "Throttling", "Throttling.User", "Throttling.Api", "Throttling.Resource", "Throttling.Concurrent",
    "ServiceUnavailable.Throttling", "RequestLimitExceeded", "TooManyRequests", "Throttling.Capacity",
})
# Transient server-side codes: the call may or may not have been applied.
TRANSIENT_CODES = frozenset({
    "ServiceUnavailable", "InternalError", "UnknownError", "InternalServerError", "ServiceTimeout",
    "OperationTimeout", "Unavailable", "LastTokenProcessing", "IdempotenceProcessing",
})

DEFAULT_ATTEMPTS = 10
DEFAULT_MAX_TIME = 180.0
DEFAULT_BASE_DELAY = 0.5
DEFAULT_MAX_DELAY = 20.0
# A refused connection means nothing listens: worth a few seconds for a restarting gateway, not minutes.
REFUSED_MAX_TIME = 10.0
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS
    max_time: float = DEFAULT_MAX_TIME
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    jitter: bool = True

    @classmethod
    def from_options(cls, attempts=None, max_time=None, base_delay=None, max_delay=None) -> "RetryPolicy":
        """Build from (possibly None) option values, keeping defaults for the missing ones."""
        values = {"attempts": attempts, "max_time": max_time, "base_delay": base_delay, "max_delay": max_delay}
        return cls(**{k: v for k, v in values.items() if v is not None})

    def delay(self, retry_number: int, retry_after=None, rng=random) -> float:
        """Seconds to sleep before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        # Equal jitter: never less than half the backoff, so a throttled burst still spreads out.
        pause = ceiling / 2 + rng.uniform(0, ceiling / 2) if self.jitter else ceiling
        if retry_after:
            pause = max(pause, float(retry_after))
        return pause


def is_throttling(error: AlicloudError) -> bool:
    code = error.code or ""
    return code in THROTTLING_CODES or code.startswith("Throttling")


def is_lost_answer(error: AlicloudError) -> bool:
    """Was the request sent with no usable answer, so it may or may not have been applied?"""
    if not isinstance(error, AlicloudError):
        return False
    if error.failure == FAILURE_UNKNOWN:
        return True
    if error.failure != FAILURE_API or is_throttling(error):
        return False
    return (error.code or "") in TRANSIENT_CODES or (error.http_status or 0) >= 500


def is_retryable(error: AlicloudError, idempotent: bool) -> bool:
    """Should this failed call be sent again? ``idempotent``: repeating it cannot apply it twice."""
    if not isinstance(error, AlicloudError):
        return False
    if error.failure in (FAILURE_NOT_SENT, FAILURE_REFUSED):
        return True
    if error.failure == FAILURE_API and is_throttling(error):
        return True
    return is_lost_answer(error) and idempotent


def is_permanent(error: AlicloudError) -> bool:
    """A failure of the connection or the credentials: every call to that endpoint fails the same way
    (callers that tolerate one failing region must not tolerate this)."""
    return isinstance(error, AlicloudError) and error.failure in (FAILURE_CREDENTIALS, FAILURE_CONNECTION,
                                                                  FAILURE_REFUSED)


def _is_loopback(host: str) -> bool:
    name = (host or "").rsplit(":", 1)[0] if not (host or "").startswith("[") else host.split("]")[0] + "]"
    return name in LOOPBACK_HOSTS or name.startswith("127.")


def time_budget(error: AlicloudError, host: str, policy: RetryPolicy) -> float:
    """Seconds one call may spend retrying after ``error`` (``host``: the endpoint's host[:port])."""
    if error.failure == FAILURE_REFUSED:
        return 0.0 if _is_loopback(host) else min(policy.max_time, REFUSED_MAX_TIME)
    return policy.max_time
