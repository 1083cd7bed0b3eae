# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OOS RateControl -> Ansible play keywords: rate_control_to_serial, rate_control_to_throttle,
max_errors_to_fail_percentage, rate_control_to_play, max_errors_allowed.

All of them call plugins/module_utils/rate_control.py, the one mapping the modules, the converter
and the roles use. Documentation: the sidecar .yml files of the same names.
"""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.module_utils import rate_control as mapping
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.plain_data import plain


def _total(name, total):
    if isinstance(total, (list, tuple, set, Mapping)):
        return len(total)  # a host list works as well as its length
    if isinstance(total, str) and total.strip().isdigit():
        return int(total)
    if isinstance(total, bool) or not isinstance(total, int):
        raise AnsibleFilterError(f"{name}: the argument must be the number of hosts (or the host list), got {total!r}")
    return total


def _run(name, function, rate_control, total, **kwargs):
    try:
        return function(mapping.parse_rate_control(plain(rate_control), "rate_control"), _total(name, total), **kwargs)
    except AlicloudInputError as error:
        raise AnsibleFilterError(f"{name}: {error.field}: {error.message}") from None


def rate_control_to_serial(rate_control, total):
    """``serial`` for a play over ``total`` hosts: an int (Concurrency mode) or a list (Batch mode)."""
    return _run("rate_control_to_serial", mapping.to_serial, rate_control, total)


def rate_control_to_throttle(rate_control, total):
    """``throttle`` for a task over ``total`` hosts."""
    return _run("rate_control_to_throttle", mapping.to_throttle, rate_control, total)


def max_errors_to_fail_percentage(rate_control, total, batch_size=None):
    """``max_fail_percentage`` that stops the play once more than MaxErrors hosts failed.

    ``batch_size`` defaults to the play's batch from rate_control_to_serial; pass ``total`` for a
    play without ``serial``.
    """
    if batch_size is not None:
        batch_size = _total("max_errors_to_fail_percentage", batch_size)
    return _run("max_errors_to_fail_percentage", mapping.to_max_fail_percentage, rate_control, total,
                batch_size=batch_size)


def rate_control_to_play(rate_control, total, use_serial=True):
    """All keywords at once: ``serial``, ``throttle``, ``max_fail_percentage``, ``pause_after_batches``."""
    return _run("rate_control_to_play", mapping.to_play_keywords, rate_control, total, use_serial=bool(use_serial))


def max_errors_allowed(rate_control, total):
    """How many of ``total`` items may fail before OOS fails the loop (MaxErrors, a count or a percentage)."""
    try:
        return mapping.max_errors_allowed(plain(rate_control), _total("max_errors_allowed", total))
    except AlicloudInputError as error:
        raise AnsibleFilterError(f"max_errors_allowed: {error.field}: {error.message}") from None


class FilterModule:
    def filters(self):
        return {
            "rate_control_to_serial": rate_control_to_serial,
            "rate_control_to_throttle": rate_control_to_throttle,
            "max_errors_to_fail_percentage": max_errors_to_fail_percentage,
            "rate_control_to_play": rate_control_to_play,
            "max_errors_allowed": max_errors_allowed,
        }
