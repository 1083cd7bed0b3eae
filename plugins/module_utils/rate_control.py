# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OOS RateControl: parse it once, and map it onto Ansible play keywords.

OOS templates limit how a ``Loop`` runs over its items with::

    RateControl: {Mode: Concurrency, Concurrency: 10 | '20%', MaxErrors: 0 | '10%'}
    RateControl: {Mode: Batch, Batch: [1, '50%'], ConcurrencyInBatches: [1, 5],
                  BatchPauseOption: Automatic | FirstBatchPause | EveryBatchPause, MaxErrors: 0}

and older templates put ``Concurrency``/``MaxErrors``/``Mode``/``BatchPauseOption`` flat in the
``Loop`` itself. Every count may be a number or a percentage of the item count.

Percentages are turned into counts the way Ansible turns ``serial: '20%'`` into a batch size
(``ansible.utils.helpers.pct_to_int``): rounded down, but never below one host. For ``MaxErrors``
the result is rounded down with no minimum: ``'10%'`` of 5 items allows 0 errors, like OOS, which
stops a loop as soon as the error count is greater than ``MaxErrors``.

This module is the single implementation used by the instance modules, the filter plugins, the
template converter and the roles.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError

MODE_CONCURRENCY = "Concurrency"
MODE_BATCH = "Batch"
MODES = (MODE_CONCURRENCY, MODE_BATCH)
PAUSE_OPTIONS = ("Automatic", "FirstBatchPause", "EveryBatchPause")

RATE_CONTROL_KEYS = ("Mode", "Concurrency", "MaxErrors", "Batch", "ConcurrencyInBatches", "BatchPauseOption")
# Keys of a Loop that are not rate control (the legacy flat form mixes both).
LOOP_ONLY_KEYS = ("Items", "Outputs", "RateControl")

DEFAULT_CONCURRENCY = 1          # OOS documentation: Concurrency defaults to 1
DEFAULT_MAX_ERRORS = 0           # OOS documentation: MaxErrors defaults to 0
DEFAULT_CONCURRENCY_IN_BATCH = 20  # OOS documentation: ConcurrencyInBatches defaults to 20

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_COUNT = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True)
class CountOrPercent:
    """A count (``10``) or a percentage of the item count (``'10%'``)."""

    value: float
    percent: bool = False

    def resolve(self, total: int, minimum: int = 0) -> int:
        """The count this value means for ``total`` items (percentages round down, then ``minimum``)."""
        if self.percent:
            count = int(math.floor(total * self.value / 100.0 + 1e-9))
        else:
            count = int(self.value)
        return max(count, minimum)

    def __str__(self) -> str:
        if self.percent:
            number = int(self.value) if float(self.value).is_integer() else self.value
            return f"{number}%"
        return str(int(self.value))


@dataclass(frozen=True)
class RateControl:
    """A validated OOS RateControl value."""

    mode: str = MODE_CONCURRENCY
    concurrency: CountOrPercent = field(default_factory=lambda: CountOrPercent(DEFAULT_CONCURRENCY))
    max_errors: CountOrPercent = field(default_factory=lambda: CountOrPercent(DEFAULT_MAX_ERRORS))
    batch: tuple = ()
    concurrency_in_batches: tuple = ()
    batch_pause_option: str = "Automatic"

    def to_dict(self) -> dict:
        """The OOS form of this value, with counts as numbers and percentages as strings."""

        def plain(item: CountOrPercent):
            return str(item) if item.percent else int(item.value)

        data = {"Mode": self.mode, "MaxErrors": plain(self.max_errors)}
        if self.mode == MODE_CONCURRENCY:
            data["Concurrency"] = plain(self.concurrency)
        else:
            data["Batch"] = [plain(b) for b in self.batch]
            if self.concurrency_in_batches:
                data["ConcurrencyInBatches"] = [plain(c) for c in self.concurrency_in_batches]
            data["BatchPauseOption"] = self.batch_pause_option
        return data


def parse_count_or_percent(value, field_name: str, minimum: int = 0) -> CountOrPercent:
    """``10``, ``'10'`` or ``'10%'`` -> CountOrPercent; anything else is one clear input error."""
    hint = f"use a whole number >= {minimum} or a percentage such as '10%'"
    if isinstance(value, bool):
        raise AlicloudInputError(field_name, f"{field_name} must be a count or a percentage, got {value!r}: {hint}")
    if isinstance(value, int):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str):
        percent = _PERCENT.match(value)
        if percent:
            number = float(percent.group(1))
            if number > 100 or (number == 0 and minimum > 0):
                raise AlicloudInputError(field_name, f"{field_name} is {value!r}: a percentage must be "
                                         f"{'above 0' if minimum else 'between 0'} and 100%")
            return CountOrPercent(number, percent=True)
        count_match = _COUNT.match(value)
        if not count_match:
            raise AlicloudInputError(field_name, f"{field_name} is {value!r}, which is neither a count nor a percentage: {hint}")
        count = int(count_match.group(1))
    elif isinstance(value, dict):
        raise AlicloudInputError(field_name, f"{field_name} is an expression ({', '.join(map(str, value))}): "
                                 "evaluate it to a number or a percentage before mapping the rate control")
    else:
        raise AlicloudInputError(field_name, f"{field_name} must be a count or a percentage, got {type(value).__name__}: {hint}")
    if count < minimum:
        raise AlicloudInputError(field_name, f"{field_name} is {count}: {hint}")
    return CountOrPercent(count)


def _as_mapping(value, field_name: str) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AlicloudInputError(field_name, f"{field_name} is a string that is not JSON: give a mapping "
                                     "such as {Mode: Concurrency, Concurrency: 10, MaxErrors: 0}") from None
    if not isinstance(value, dict):
        raise AlicloudInputError(field_name, f"{field_name} must be a mapping such as "
                                 f"{{Mode: Concurrency, Concurrency: 10, MaxErrors: 0}}, got {type(value).__name__}")
    return value


def _parse_list(value, field_name: str, minimum: int) -> tuple:
    if not isinstance(value, (list, tuple)) or not value:
        raise AlicloudInputError(field_name, f"{field_name} must be a non-empty list of counts or percentages, such as [1, '50%']")
    return tuple(parse_count_or_percent(item, f"{field_name}[{index}]", minimum) for index, item in enumerate(value))


def parse_rate_control(value, field_name: str = "rate_control") -> RateControl:
    """Validate an OOS RateControl mapping (or its JSON text) into a RateControl.

    ``None`` or ``{}`` gives the OOS defaults (Concurrency 1, MaxErrors 0).
    """
    if isinstance(value, RateControl):
        return value
    if value is None or value == "":
        return RateControl()
    data = _as_mapping(value, field_name)
    unknown = sorted(set(data) - set(RATE_CONTROL_KEYS))
    if unknown:
        raise AlicloudInputError(field_name, f"{field_name} has unknown key(s) {', '.join(map(str, unknown))}; "
                                 f"valid keys are {', '.join(RATE_CONTROL_KEYS)}")
    mode = data.get("Mode") or (MODE_BATCH if "Batch" in data else MODE_CONCURRENCY)
    canonical = {m.lower(): m for m in MODES}
    if not isinstance(mode, str) or mode.lower() not in canonical:
        raise AlicloudInputError(f"{field_name}.Mode", f"{field_name}.Mode is {mode!r}; use one of {', '.join(MODES)}")
    mode = canonical[mode.lower()]
    max_errors = parse_count_or_percent(data.get("MaxErrors", DEFAULT_MAX_ERRORS), f"{field_name}.MaxErrors")

    if mode == MODE_CONCURRENCY:
        misplaced = sorted(k for k in ("Batch", "ConcurrencyInBatches") if k in data)
        if misplaced:
            raise AlicloudInputError(field_name, f"{field_name} sets {', '.join(misplaced)} with Mode Concurrency: "
                                     "set Mode: Batch, or use Concurrency")
        concurrency = parse_count_or_percent(data.get("Concurrency", DEFAULT_CONCURRENCY),
                                             f"{field_name}.Concurrency", minimum=1)
        return RateControl(mode=mode, concurrency=concurrency, max_errors=max_errors)

    if "Batch" not in data:
        raise AlicloudInputError(f"{field_name}.Batch", f"{field_name} has Mode Batch but no Batch: "
                                 "give the batch sizes, such as Batch: [1, '50%']")
    batch = _parse_list(data["Batch"], f"{field_name}.Batch", minimum=1)
    in_batches = ()
    if data.get("ConcurrencyInBatches") is not None:
        in_batches = _parse_list(data["ConcurrencyInBatches"], f"{field_name}.ConcurrencyInBatches", minimum=1)
        if len(in_batches) != len(batch):
            raise AlicloudInputError(f"{field_name}.ConcurrencyInBatches",
                                     f"{field_name}.ConcurrencyInBatches has {len(in_batches)} entries but Batch has "
                                     f"{len(batch)}: give one concurrency per batch")
    pause = data.get("BatchPauseOption", "Automatic") or "Automatic"
    if pause not in PAUSE_OPTIONS:
        raise AlicloudInputError(f"{field_name}.BatchPauseOption", f"{field_name}.BatchPauseOption is {pause!r}; "
                                 f"use one of {', '.join(PAUSE_OPTIONS)}")
    return RateControl(mode=mode, max_errors=max_errors, batch=batch,
                       concurrency_in_batches=in_batches, batch_pause_option=pause)


def rate_control_from_loop(loop, field_name: str = "Loop") -> RateControl:
    """The RateControl of an OOS ``Loop``: its ``RateControl`` key, or the legacy flat keys."""
    data = _as_mapping(loop, field_name)
    if data.get("RateControl") is not None:
        flat = sorted(k for k in RATE_CONTROL_KEYS if k in data)
        if flat:
            raise AlicloudInputError(field_name, f"{field_name} sets both RateControl and the flat key(s) "
                                     f"{', '.join(flat)}: keep only RateControl")
        return parse_rate_control(data["RateControl"], f"{field_name}.RateControl")
    flat = {k: v for k, v in data.items() if k not in LOOP_ONLY_KEYS}
    return parse_rate_control(flat, field_name)


def _check_total(total) -> int:
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise AlicloudInputError("total", f"total must be the number of items or hosts (a whole number >= 0), got {total!r}")
    return total


def batch_sizes(rc: RateControl, total: int) -> list:
    """Batch mode: the size of each batch for ``total`` items (percentages of the total)."""
    total = _check_total(total)
    return [b.resolve(total, minimum=1) for b in rc.batch]


def concurrency_for(rc, total: int) -> int:
    """How many items OOS runs at the same time for ``total`` items.

    In Batch mode this is the smallest per-batch concurrency (a percentage there is of the batch).
    Never more than ``total`` and never below 1.
    """
    rc = parse_rate_control(rc)
    total = _check_total(total)
    if rc.mode == MODE_CONCURRENCY:
        count = rc.concurrency.resolve(total, minimum=1)
    else:
        sizes = batch_sizes(rc, total)
        limits = rc.concurrency_in_batches or (CountOrPercent(DEFAULT_CONCURRENCY_IN_BATCH),) * len(sizes)
        count = min(min(limit.resolve(size, minimum=1), size) for limit, size in zip(limits, sizes))
    return max(1, min(count, total)) if total else 1


def parse_unpaused_rate_control(value, field_name: str) -> RateControl:
    """:func:`parse_rate_control`, refusing a pause between batches (:func:`refuse_batch_pause`)."""
    rc = parse_rate_control(value, field_name)
    refuse_batch_pause(value, field_name)
    return rc


def refuse_batch_pause(value, field_name: str) -> None:
    """A pause between batches waits for a person to resume, which a module call or a converted loop cannot do:
    refused, never run without the pause it asks for. ``value``: the RateControl as given, in any Mode (the public
    templates ask for pauses with a Concurrency too)."""
    data = _as_mapping(value, field_name) if value not in (None, "") else {}
    pause = data.get("BatchPauseOption") or "Automatic"
    if pause not in PAUSE_OPTIONS:
        raise AlicloudInputError(f"{field_name}.BatchPauseOption", f"{pause!r} is not one of {', '.join(PAUSE_OPTIONS)}")
    if pause != "Automatic":
        raise AlicloudInputError(f"{field_name}.BatchPauseOption",
                                 f"{pause} pauses between batches until a person resumes, which this task cannot do; "
                                 "use Automatic, or let OOS run the loop (alicloud.oos.oos_execution)")


def max_errors_allowed(rc, total: int) -> int:
    """How many failed items OOS tolerates for ``total`` items; one more stops the loop."""
    rc = parse_rate_control(rc)
    total = _check_total(total)
    return min(rc.max_errors.resolve(total), total)


def to_serial(rc, total: int):
    """Ansible ``serial`` for the play: an int in Concurrency mode, a list of ints in Batch mode.

    Ansible repeats the last entry of a ``serial`` list for the remaining hosts, as OOS keeps the
    last batch size.
    """
    rc = parse_rate_control(rc)
    total = _check_total(total)
    if rc.mode == MODE_BATCH:
        return batch_sizes(rc, total)
    return concurrency_for(rc, total)


def to_throttle(rc, total: int) -> int:
    """Ansible ``throttle`` for a task: at most this many hosts run it at the same time."""
    return concurrency_for(rc, total)


def to_max_fail_percentage(rc, total: int, batch_size: int | None = None) -> float:
    """Ansible ``max_fail_percentage`` that stops the play once more than MaxErrors hosts failed.

    Ansible aborts when ``failed hosts so far / current batch size > max_fail_percentage / 100``
    (failures accumulate over batches). ``batch_size`` is the play's batch size: by default the
    first entry of :func:`to_serial`; pass ``total`` when the play has no ``serial``. The value is
    placed half-way between ``allowed`` and ``allowed + 1`` failures so float rounding cannot move
    the threshold. 0 means the first failure stops the play.
    """
    rc = parse_rate_control(rc)
    total = _check_total(total)
    allowed = max_errors_allowed(rc, total)
    if allowed == 0:
        return 0
    if batch_size is None:
        serial = to_serial(rc, total)
        batch_size = serial[0] if isinstance(serial, list) else serial
    batch_size = max(1, batch_size)
    return round((allowed + 0.5) * 100.0 / batch_size, 6)


def pause_after_batches(rc) -> str | None:
    """Batch mode pauses: ``'first'`` (after the first batch), ``'every'`` or None."""
    rc = parse_rate_control(rc)
    if rc.mode != MODE_BATCH:
        return None
    return {"FirstBatchPause": "first", "EveryBatchPause": "every"}.get(rc.batch_pause_option)


def to_play_keywords(rc, total: int, use_serial: bool = True) -> dict:
    """Everything a play needs: ``serial`` (if ``use_serial``), ``throttle``, ``max_fail_percentage``,
    and ``pause_after_batches``; the one mapping the converter and roles share."""
    rc = parse_rate_control(rc)
    total = _check_total(total)
    keywords = {"throttle": to_throttle(rc, total), "pause_after_batches": pause_after_batches(rc)}
    if use_serial:
        keywords["serial"] = to_serial(rc, total)
        keywords["max_fail_percentage"] = to_max_fail_percentage(rc, total)
    else:
        keywords["max_fail_percentage"] = to_max_fail_percentage(rc, total, batch_size=total)
    return keywords
