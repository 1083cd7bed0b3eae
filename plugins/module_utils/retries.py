# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retry policy for API calls (the SDK 0.4.x does not retry on its own).

* :class:`RetryPolicy`: ``attempts`` (total tries), ``max_time`` (seconds budget for one logical call,
  sleeps included), ``base_delay``/``max_delay`` (exponential backoff bounds) and ``jitter``.
  ``delay(n, retry_after=None)`` is the pause before retry ``n`` (1-based).
* :func:`is_retryable(error, idempotent)`: throttling and never-sent requests are always retried;
  5xx, timeouts and resets only when repeating the call is safe (read-only action, ``ClientToken``
  set, or the caller says the action is idempotent).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_API,
    FAILURE_NOT_SENT,
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


def is_retryable(error: AlicloudError, idempotent: bool) -> bool:
    """Should this failed call be sent again? ``idempotent``: repeating it cannot apply it twice."""
    if not isinstance(error, AlicloudError):
        return False
    if error.failure == FAILURE_NOT_SENT:
        return True
    if error.failure == FAILURE_UNKNOWN:
        return idempotent
    if error.failure != FAILURE_API:
        return False
    if is_throttling(error):
        return True
    transient = (error.code or "") in TRANSIENT_CODES or (error.http_status or 0) >= 500
    return transient and idempotent
