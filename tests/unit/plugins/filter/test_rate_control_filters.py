"""Unit tests for the rate control filters (the mapping itself is tested in module_utils)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.filter.rate_control import (
    FilterModule, max_errors_to_fail_percentage, rate_control_to_play, rate_control_to_serial, rate_control_to_throttle)

RC = {"Mode": "Concurrency", "Concurrency": "25%", "MaxErrors": 1}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"rate_control_to_serial", "rate_control_to_throttle",
                                             "max_errors_to_fail_percentage", "rate_control_to_play", "max_errors_allowed"}


def test_total_as_count_or_host_list():
    assert rate_control_to_serial(RC, 20) == 5
    assert rate_control_to_serial(RC, [f"h{n}" for n in range(20)]) == 5
    assert rate_control_to_serial(RC, "20") == 5
    assert rate_control_to_throttle(RC, 8) == 2


def test_fail_percentage_with_and_without_serial():
    # Batches of 5: more than 1 failure over a batch of 5 -> > 20%; placed at 30%.
    assert max_errors_to_fail_percentage(RC, 20) == 30.0
    # One batch of 20: 1.5 / 20.
    assert max_errors_to_fail_percentage(RC, 20, batch_size=20) == 7.5


def test_play_keywords():
    assert rate_control_to_play({"Mode": "Batch", "Batch": [1, "50%"], "BatchPauseOption": "EveryBatchPause"}, 10) == {
        "serial": [1, 5], "throttle": 1, "max_fail_percentage": 0, "pause_after_batches": "every"}
    assert "serial" not in rate_control_to_play(RC, 10, use_serial=False)


def test_errors_name_the_field():
    with pytest.raises(AnsibleFilterError, match=r"rate_control_to_serial: rate_control.Concurrency: .*'abc'"):
        rate_control_to_serial({"Concurrency": "abc"}, 3)
    with pytest.raises(AnsibleFilterError, match="number of hosts"):
        rate_control_to_serial(RC, None)
