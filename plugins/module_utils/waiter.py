# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACS::WaitFor / ACS::CheckFor semantics for every module.

``wait_for(fetch, selector, desired_values, not_desired_values=None, retries=10, delay=2,
delay_type="Exponential", backoff=2, max_retry_interval=1800, timeout=None)`` calls ``fetch()`` (any
callable returning data, e.g. one batched Describe for a whole fleet), applies ``selector`` (a jq
string, OOS syntax, or a callable ``data -> value(s)``) and:

* fails at once (``WaitFailed``) when any value is in ``stop_retry_values`` (OOS ``StopRetryValues``);
* with ``desired_values``: succeeds when the selector yields at least one value and **every** value is
  desired, and fails at once when any value is in ``not_desired_values``;
* with only ``not_desired_values`` (OOS allows either list): succeeds when the selector yields at least
  one value and **none** is not-desired, as in ACS::ECS::RemoveEipFromCommonBandwidthPackage, which
  waits with ``NotDesiredValues: [[]]`` until a list is no longer empty;
* otherwise sleeps and polls again, at most ``retries`` more times and within ``timeout`` seconds.

Values are compared as OOS does, as strings (``true``/``false`` for booleans). Delays follow OOS
``DelayType``: ``Constant`` = delay; ``Exponential`` = delay * backoff^n; ``Linear`` = delay + backoff * n,
each capped by ``max_retry_interval``. ``check_for(data, selector, desired_values, not_desired_values)``
is the single-shot ACS::CheckFor. Both return a :class:`WaitResult`; ``validate_wait_spec(spec, field)``
checks a user-supplied dict (module option) before anything is sent.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock
from ansible_collections.alicloud.oos.plugins.module_utils.errors import FAILURE_WAIT, AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.selectors import compile_jq, jq_select

DELAY_TYPES = ("Constant", "Exponential", "Linear")
# OOS defaults for ACS::WaitFor.
DEFAULT_RETRIES = 10
DEFAULT_DELAY = 2.0
DEFAULT_DELAY_TYPE = "Exponential"
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_RETRY_INTERVAL = 1800.0


@dataclass
class WaitResult:
    values: list        # what the selector yielded on the last poll
    data: object        # the last fetched data
    attempts: int       # polls made
    elapsed: float      # seconds spent


class WaitFailed(AlicloudError):
    """A not-desired value was seen, retries ran out, or the timeout passed. ``details`` has the last values."""

    def __init__(self, message, values, attempts, elapsed, reason):
        super().__init__(message, code=reason, failure=FAILURE_WAIT,
                         details={"wait": {"values": values, "attempts": attempts, "elapsed": round(elapsed, 3),
                                           "reason": reason}})
        self.values = values
        self.attempts = attempts
        self.elapsed = elapsed


def as_comparable(value) -> str:
    """OOS compares selected values as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def normalize_delay_type(delay_type, field: str = "delay_type") -> str:
    if delay_type is None:
        return DEFAULT_DELAY_TYPE
    for known in DELAY_TYPES:
        if isinstance(delay_type, str) and delay_type.lower() == known.lower():
            return known
    raise AlicloudInputError(field, f"{delay_type!r} is not a delay type; use one of {', '.join(DELAY_TYPES)}")


def next_delay(retry_number, delay, delay_type, backoff, max_retry_interval) -> float:
    """Pause before poll ``retry_number + 1`` (``retry_number`` starts at 0)."""
    if delay_type == "Constant":
        pause = delay
    elif delay_type == "Linear":
        pause = delay + backoff * retry_number
    else:
        pause = delay * (backoff ** retry_number)
    return max(0.0, min(float(pause), float(max_retry_interval)))


def _selected_values(selector, data, field):
    if callable(selector):
        values = selector(data)
    else:
        values = jq_select(selector, data, field)
        # A selector that yields one list (e.g. '[.Instances.Instance[].Status]') means its items.
        if len(values) == 1 and isinstance(values[0], list):
            values = values[0]
    if not isinstance(values, (list, tuple)):
        values = [values]
    return list(values)


def _as_set(values, field):
    if values is None:
        return set()
    if isinstance(values, (str, int, float, bool)):
        values = [values]
    if not isinstance(values, (list, tuple, set)):
        raise AlicloudInputError(field, f"must be a list of values, got {type(values).__name__}")
    return {as_comparable(v) for v in values}


def _describe(selector) -> str:
    return selector if isinstance(selector, str) else getattr(selector, "__name__", "selector")


def check_for(data, selector, desired_values=None, not_desired_values=None, field="check_for") -> WaitResult:
    """ACS::CheckFor: one check, ``WaitFailed`` unless the values are all desired and none is not-desired."""
    desired = _as_set(desired_values, f"{field}.desired_values")
    not_desired = _as_set(not_desired_values, f"{field}.not_desired_values")
    if not desired and not not_desired:
        raise AlicloudInputError(field, "set desired_values or not_desired_values")
    values = _selected_values(selector, data, f"{field}.property_selector")
    shown = [as_comparable(v) for v in values]
    bad = [v for v in shown if v in not_desired]
    if bad or (desired and (not shown or any(v not in desired for v in shown))):
        expectation = f"one of {sorted(desired)}" if desired else f"none of {sorted(not_desired)}"
        raise WaitFailed(f"check failed: {_describe(selector)} yielded {shown}, expected {expectation}",
                         values, 1, 0.0, "CheckFailed")
    return WaitResult(values, data, 1, 0.0)


def wait_for(fetch, selector, desired_values=None, not_desired_values=None, retries=DEFAULT_RETRIES,
             delay=DEFAULT_DELAY, delay_type=DEFAULT_DELAY_TYPE, backoff=DEFAULT_BACKOFF,
             max_retry_interval=DEFAULT_MAX_RETRY_INTERVAL, timeout=None, field="wait_for", sleep=time.sleep,
             clock=time.monotonic, stop_retry_values=None) -> WaitResult:
    """ACS::WaitFor (see the module docstring). Raises ``WaitFailed`` or the fetch's own errors."""
    desired = _as_set(desired_values, f"{field}.desired_values")
    not_desired = _as_set(not_desired_values, f"{field}.not_desired_values")
    stop = _as_set(stop_retry_values, f"{field}.stop_retry_values")
    if not desired and not not_desired:
        raise AlicloudInputError(f"{field}.desired_values", "set the values to wait for (e.g. [Stopped]) or "
                                 "not_desired_values to wait until none of them is seen")
    expectation = f"waiting for {sorted(desired)}" if desired else f"waiting until none is in {sorted(not_desired)}"
    delay_type = normalize_delay_type(delay_type, f"{field}.delay_type")
    if not callable(selector):
        compile_jq(selector, f"{field}.property_selector")
    poll = PollClock(float("inf") if timeout is None else timeout, sleep=sleep, monotonic=clock, whole_pauses=True,
                     schedule=lambda n: next_delay(n, delay, delay_type, backoff, max_retry_interval))
    attempt = 0
    while True:
        data = fetch()
        attempt += 1
        values = _selected_values(selector, data, f"{field}.property_selector")
        shown = [as_comparable(v) for v in values]
        elapsed = poll.elapsed()
        stopped = sorted({v for v in shown if v in stop})
        if stopped:
            raise WaitFailed(f"stopped waiting: {_describe(selector)} yielded {shown}, a value of "
                             f"stop_retry_values {sorted(stop)}", values, attempt, elapsed, "StopRetryValue")
        if desired:
            bad = sorted({v for v in shown if v in not_desired})
            if bad:
                raise WaitFailed(f"stopped waiting: {_describe(selector)} yielded not-desired value(s) {bad}",
                                 values, attempt, elapsed, "NotDesiredValue")
            reached = bool(shown) and all(v in desired for v in shown)
        else:
            reached = bool(shown) and not any(v in not_desired for v in shown)
        if reached:
            return WaitResult(values, data, attempt, elapsed)
        if attempt > retries:
            raise WaitFailed(f"gave up after {attempt} polls: {_describe(selector)} yielded {shown}, {expectation}",
                             values, attempt, elapsed, "WaitRetriesExhausted")
        if not poll.wait():
            raise WaitFailed(f"timed out after {elapsed:.1f}s ({attempt} polls): {_describe(selector)} yielded {shown}, "
                             f"{expectation}", values, attempt, elapsed, "WaitTimeout")


def poll_option_docs(single_check: bool) -> dict:
    """Suboptions of ``wait_for`` (``single_check=False``) / ``check_for``: the one table for docs and argspec."""
    options = {
        "property_selector": {
            "description": ["jq selector (OOS C(PropertySelector) syntax, leading dot optional) applied to the response, "
                            "for example V(Instances.Instance[].Status). Every value it yields is compared."],
            "type": "str", "required": True,
        },
        "desired_values": {
            "description": ["Values to reach: success when every selected value is one of them (compared as strings, "
                            "booleans as V(true)/V(false))."],
            "type": "list", "elements": "raw",
        },
        "not_desired_values": {
            "description": ["With O(wait_for.desired_values)/O(check_for.desired_values): values that fail at once "
                            "when any selected value is one of them. Alone (OOS allows either list): a wait succeeds "
                            "once no selected value is one of them, and a check fails if any is."],
            "type": "list", "elements": "raw",
        },
    }
    if not single_check:
        options.update({
            "stop_retry_values": {
                "description": ["OOS C(StopRetryValues): when any selected value is one of these, stop polling at "
                                "once and fail (for example V([fail]) for a task whose state is C(fail)). Compared "
                                "as strings, like O(wait_for.desired_values)."],
                "type": "list", "elements": "raw",
            },
            "retries": {"description": ["Polls after the first one."], "type": "int", "default": DEFAULT_RETRIES},
            "delay": {"description": ["Base delay in seconds between polls."], "type": "float", "default": DEFAULT_DELAY},
            "delay_type": {
                "description": ["OOS C(DelayType): V(Constant) waits O(wait_for.delay); V(Exponential) waits "
                                "delay * backoff^n; V(Linear) waits delay + backoff * n."],
                "type": "str", "choices": list(DELAY_TYPES), "default": DEFAULT_DELAY_TYPE,
            },
            "backoff": {"description": ["Factor (Exponential) or increment (Linear) of the delay."], "type": "float",
                        "default": DEFAULT_BACKOFF},
            "max_retry_interval": {"description": ["Upper bound in seconds of one delay."], "type": "float",
                                   "default": DEFAULT_MAX_RETRY_INTERVAL},
            "timeout": {"description": ["Overall time limit in seconds (no limit when unset)."], "type": "float"},
        })
    return options


def poll_argument_spec(single_check: bool) -> dict:
    """AnsibleModule ``options`` for ``wait_for``/``check_for`` built from :func:`poll_option_docs`."""
    spec = {}
    for name, doc in poll_option_docs(single_check).items():
        spec[name] = {k: v for k, v in doc.items() if k != "description"}
    return spec


WAIT_SPEC_KEYS = ("property_selector", "desired_values", "not_desired_values", "stop_retry_values", "retries", "delay",
                  "delay_type", "backoff", "max_retry_interval", "timeout")


def validate_wait_spec(spec, field: str, single_check: bool = False) -> dict:
    """Check a ``wait_for``/``check_for`` option dict; returns it with defaults filled in."""
    if not isinstance(spec, dict):
        raise AlicloudInputError(field, "must be a dict with property_selector and desired_values")
    unknown = sorted(set(spec) - set(WAIT_SPEC_KEYS))
    if unknown:
        raise AlicloudInputError(field, f"unknown key(s) {unknown}; allowed: {', '.join(WAIT_SPEC_KEYS)}")
    if not spec.get("property_selector"):
        raise AlicloudInputError(f"{field}.property_selector", "is required: a jq selector such as Instances.Instance[].Status")
    compile_jq(spec["property_selector"], f"{field}.property_selector")
    desired = _as_set(spec.get("desired_values"), f"{field}.desired_values")
    not_desired = _as_set(spec.get("not_desired_values"), f"{field}.not_desired_values")
    if not desired and not not_desired:
        raise AlicloudInputError(f"{field}.desired_values", "set the values to reach (e.g. [Stopped]) or not_desired_values")
    if single_check and spec.get("stop_retry_values") is not None:
        raise AlicloudInputError(f"{field}.stop_retry_values", "only applies to wait_for; use not_desired_values")
    _as_set(spec.get("stop_retry_values"), f"{field}.stop_retry_values")
    result = dict(spec)
    result["delay_type"] = normalize_delay_type(spec.get("delay_type"), f"{field}.delay_type")
    for key, default, minimum in (("retries", DEFAULT_RETRIES, 0), ("delay", DEFAULT_DELAY, 0),
                                  ("backoff", DEFAULT_BACKOFF, 0), ("max_retry_interval", DEFAULT_MAX_RETRY_INTERVAL, 0),
                                  ("timeout", None, 0)):
        value = spec.get(key)
        if value is None:
            result[key] = default
            continue
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < minimum or (key == "retries" and number != int(number)):
            raise AlicloudInputError(f"{field}.{key}", f"{value!r} is not valid; use a number >= {minimum}")
        result[key] = int(number) if key == "retries" else number
    return result
