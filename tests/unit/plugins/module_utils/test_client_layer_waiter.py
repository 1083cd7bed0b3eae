"""ACS::WaitFor / ACS::CheckFor semantics with a fake fetch and a fake clock."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import (
    WaitFailed,
    check_for,
    next_delay,
    validate_wait_spec,
    wait_for,
)


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def statuses(*polls):
    """fetch() returning a DescribeInstances-shaped body per poll."""
    answers = iter(polls)

    def fetch():
        return {"Instances": {"Instance": [{"Status": s} for s in next(answers)]}}
    return fetch


def test_waits_until_every_value_is_desired():
    t = FakeTime()
    fetch = statuses(["Running", "Stopping"], ["Stopping", "Stopped"], ["Stopped", "Stopped"])
    result = wait_for(fetch, "Instances.Instance[].Status", ["Stopped"], retries=5, delay=1, delay_type="Constant",
                      sleep=t.sleep, clock=t.clock)
    assert result.attempts == 3
    assert result.values == ["Stopped", "Stopped"]
    assert t.sleeps == [1, 1]


def test_not_desired_value_fails_fast():
    t = FakeTime()
    fetch = statuses(["Pending"], ["Failed"], ["Success"])
    with pytest.raises(WaitFailed) as info:
        wait_for(fetch, "Instances.Instance[].Status", ["Success"], ["Failed"], retries=10, delay=1,
                 sleep=t.sleep, clock=t.clock)
    assert info.value.attempts == 2
    assert info.value.code == "NotDesiredValue"
    assert "Failed" in str(info.value)


def test_retries_exhausted():
    t = FakeTime()
    fetch = statuses(*[["Running"]] * 4)
    with pytest.raises(WaitFailed) as info:
        wait_for(fetch, "Instances.Instance[].Status", ["Stopped"], retries=3, delay=1, delay_type="Constant",
                 sleep=t.sleep, clock=t.clock)
    assert info.value.attempts == 4
    assert info.value.code == "WaitRetriesExhausted"
    assert info.value.to_dict()["wait"]["values"] == ["Running"]


def test_overall_timeout():
    t = FakeTime()
    fetch = statuses(*[["Running"]] * 100)
    with pytest.raises(WaitFailed) as info:
        wait_for(fetch, "Instances.Instance[].Status", ["Stopped"], retries=100, delay=2, delay_type="Constant",
                 timeout=5, sleep=t.sleep, clock=t.clock)
    assert info.value.code == "WaitTimeout"
    assert t.now <= 5


def test_empty_selection_is_not_success():
    t = FakeTime()
    fetch = statuses([], ["Stopped"])
    assert wait_for(fetch, "Instances.Instance[].Status", ["Stopped"], retries=2, delay=0, sleep=t.sleep,
                    clock=t.clock).attempts == 2


def test_booleans_compare_as_oos_strings():
    result = wait_for(lambda: {"Ready": True}, "Ready", ["true"], retries=0)
    assert result.values == [True]


def test_callable_selector_for_batched_fleet_waits():
    fleet = iter([{"a": "Starting", "b": "Running"}, {"a": "Running", "b": "Running"}])
    t = FakeTime()
    result = wait_for(lambda: next(fleet), lambda data: list(data.values()), ["Running"], retries=3, delay=0.5,
                      sleep=t.sleep, clock=t.clock)
    assert result.attempts == 2


@pytest.mark.parametrize("delay_type, expected", [
    ("Constant", [3, 3, 3, 3]),
    ("Exponential", [3, 6, 12, 20]),
    ("Linear", [3, 5, 7, 9]),
])
def test_delay_types(delay_type, expected):
    assert [next_delay(n, 3, delay_type, 2, 20) for n in range(4)] == expected


def test_check_for_passes_and_fails_with_a_clear_message():
    data = {"Instances": {"Instance": [{"Status": "Running"}, {"Status": "Stopped"}]}}
    assert check_for(data, "Instances.Instance[].Status", ["Running", "Stopped"]).values == ["Running", "Stopped"]
    with pytest.raises(WaitFailed) as info:
        check_for(data, "Instances.Instance[].Status", ["Running"])
    assert info.value.code == "CheckFailed"
    assert "Stopped" in str(info.value) and "Running" in str(info.value)
    with pytest.raises(WaitFailed):
        check_for(data, "Instances.Instance[].Status", not_desired_values=["Stopped"])


def test_validate_wait_spec_rejects_bad_input_by_name():
    with pytest.raises(AlicloudInputError) as info:
        validate_wait_spec({"property_selector": "Status", "desired_values": ["x"], "delay_type": "Random"}, "wait_for")
    assert info.value.field == "wait_for.delay_type"
    assert "Constant, Exponential, Linear" in str(info.value)
    with pytest.raises(AlicloudInputError) as info:
        validate_wait_spec({"property_selector": "Status[", "desired_values": ["x"]}, "wait_for")
    assert info.value.field == "wait_for.property_selector"
    with pytest.raises(AlicloudInputError) as info:
        validate_wait_spec({"property_selector": "Status"}, "wait_for")
    assert info.value.field == "wait_for.desired_values"
    with pytest.raises(AlicloudInputError) as info:
        validate_wait_spec({"property_selector": "Status", "desired_values": ["x"], "retries": -1}, "wait_for")
    assert info.value.field == "wait_for.retries"
    spec = validate_wait_spec({"property_selector": "Status", "desired_values": ["x"], "delay_type": "linear"}, "wait_for")
    assert spec["delay_type"] == "Linear" and spec["retries"] == 10
