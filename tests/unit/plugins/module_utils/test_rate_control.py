"""Unit tests for plugins/module_utils/rate_control.py (OOS RateControl -> Ansible play keywords)."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import (
    concurrency_for, max_errors_allowed, parse_rate_control, rate_control_from_loop, to_max_fail_percentage,
    to_play_keywords, to_serial, to_throttle)


def test_defaults_follow_oos_documentation():
    rc = parse_rate_control(None)
    assert rc.mode == "Concurrency"
    assert concurrency_for(rc, 50) == 1
    assert max_errors_allowed(rc, 50) == 0


@pytest.mark.parametrize("concurrency,total,expected", [
    (10, 50, 10),
    ("10", 50, 10),
    (10, 3, 3),            # never more than the hosts there are
    ("20%", 50, 10),
    ("20%", 7, 1),         # 1.4 rounds down like Ansible's serial '20%'
    ("10%", 5, 1),         # 0.5 rounds down to 0, but at least one host runs
    ("100%", 37, 37),
    ("33%", 100, 33),
    ("50%", 9, 4),
])
def test_concurrency_count_or_percent(concurrency, total, expected):
    rc = {"Mode": "Concurrency", "Concurrency": concurrency, "MaxErrors": 0}
    assert concurrency_for(rc, total) == expected
    assert to_serial(rc, total) == expected
    assert to_throttle(rc, total) == expected


@pytest.mark.parametrize("max_errors,total,expected", [
    (0, 10, 0), (3, 10, 3), ("3", 10, 3), (30, 10, 10),
    ("10%", 5, 0),         # 0.5 rounds down: the first error stops the loop
    ("10%", 50, 5), ("25%", 10, 2), ("100%", 8, 8), ("30%", 10, 3),
])
def test_max_errors_count_or_percent(max_errors, total, expected):
    assert max_errors_allowed({"MaxErrors": max_errors, "Concurrency": 1}, total) == expected


def _ansible_aborts(max_fail_percentage, failed, batch_size):
    """The test ansible-core's linear strategy applies (plugins/strategy/linear.py)."""
    return failed / batch_size > max_fail_percentage / 100.0


@pytest.mark.parametrize("total", [1, 3, 7, 10, 50, 99, 1000, 10000])
@pytest.mark.parametrize("max_errors", [0, 1, 2, "10%", "33%", "50%"])
@pytest.mark.parametrize("concurrency", [1, 3, "20%", "100%"])
def test_max_fail_percentage_stops_exactly_after_max_errors(total, max_errors, concurrency):
    """OOS stops once errors > MaxErrors; Ansible must abort at exactly the same failure count."""
    rc = {"Mode": "Concurrency", "Concurrency": concurrency, "MaxErrors": max_errors}
    allowed = max_errors_allowed(rc, total)
    batch = to_serial(rc, total)
    pct = to_max_fail_percentage(rc, total)
    for failed in range(0, min(total, allowed + 3) + 1):
        assert _ansible_aborts(pct, failed, batch) == (failed > allowed), (failed, allowed, batch, pct)
    # Without serial the whole play is one batch.
    pct_all = to_max_fail_percentage(rc, total, batch_size=total)
    for failed in range(0, min(total, allowed + 3) + 1):
        assert _ansible_aborts(pct_all, failed, total) == (failed > allowed)


def test_batch_mode_gives_a_serial_list():
    rc = {"Mode": "Batch", "Batch": [1, "10%", "50%"], "ConcurrencyInBatches": [1, 2, "50%"],
          "BatchPauseOption": "FirstBatchPause", "MaxErrors": 1}
    assert to_serial(rc, 40) == [1, 4, 20]
    # Smallest concurrency across batches: 1.
    assert concurrency_for(rc, 40) == 1
    keywords = to_play_keywords(rc, 40)
    assert keywords["serial"] == [1, 4, 20]
    assert keywords["pause_after_batches"] == "first"
    assert _ansible_aborts(keywords["max_fail_percentage"], 1, 1) is False
    assert _ansible_aborts(keywords["max_fail_percentage"], 2, 1) is True


def test_batch_mode_default_concurrency_in_batches_is_20():
    rc = {"Mode": "Batch", "Batch": [50, 50]}
    assert concurrency_for(rc, 100) == 20
    assert to_serial(rc, 100) == [50, 50]


def test_mode_inferred_from_batch_and_case_insensitive():
    assert parse_rate_control({"Batch": [2]}).mode == "Batch"
    assert parse_rate_control({"Mode": "concurrency", "Concurrency": 2}).mode == "Concurrency"


def test_json_text_accepted():
    rc = parse_rate_control('{"Mode": "Concurrency", "Concurrency": "50%", "MaxErrors": 1}')
    assert concurrency_for(rc, 10) == 5 and max_errors_allowed(rc, 10) == 1


def test_to_dict_round_trip():
    value = {"Mode": "Concurrency", "MaxErrors": "10%", "Concurrency": 10}
    assert parse_rate_control(value).to_dict() == value
    batch = {"Mode": "Batch", "MaxErrors": 0, "Batch": [1, "50%"], "BatchPauseOption": "EveryBatchPause"}
    assert parse_rate_control(batch).to_dict() == batch


def test_legacy_flat_loop_form():
    loop = {"Items": "{{ ids }}", "Concurrency": 5, "MaxErrors": "20%", "Outputs": {}}
    rc = rate_control_from_loop(loop)
    assert concurrency_for(rc, 100) == 5 and max_errors_allowed(rc, 100) == 20
    nested = {"Items": [1, 2], "RateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 1}}
    assert concurrency_for(rate_control_from_loop(nested), 10) == 2


@pytest.mark.parametrize("value,field,words", [
    ({"Mode": "Parallel"}, "rate_control.Mode", ["Concurrency, Batch"]),
    ({"Concurrency": 0}, "rate_control.Concurrency", [">= 1"]),
    ({"Concurrency": "0%"}, "rate_control.Concurrency", ["above 0"]),
    ({"Concurrency": "150%"}, "rate_control.Concurrency", ["100%"]),
    ({"Concurrency": "ten"}, "rate_control.Concurrency", ["neither a count nor a percentage"]),
    ({"Concurrency": True}, "rate_control.Concurrency", ["count or a percentage"]),
    ({"Concurrency": {"Fn::CalculateBatch": [2, "{{ list }}"]}}, "rate_control.Concurrency", ["expression"]),
    ({"MaxErrors": -1}, "rate_control.MaxErrors", [">= 0"]),
    ({"Concurency": 2}, "rate_control", ["Concurency", "valid keys"]),
    ({"Mode": "Batch"}, "rate_control.Batch", ["no Batch"]),
    ({"Mode": "Batch", "Batch": []}, "rate_control.Batch", ["non-empty list"]),
    ({"Mode": "Batch", "Batch": [1, 2], "ConcurrencyInBatches": [1]}, "rate_control.ConcurrencyInBatches", ["one concurrency per batch"]),
    ({"Mode": "Batch", "Batch": [1], "BatchPauseOption": "Sometimes"}, "rate_control.BatchPauseOption", ["EveryBatchPause"]),
    ({"Mode": "Concurrency", "Batch": [1]}, "rate_control", ["Mode: Batch"]),
    ("not json", "rate_control", ["not JSON"]),
    ([1, 2], "rate_control", ["mapping"]),
])
def test_bad_rate_control_is_one_clear_error(value, field, words):
    with pytest.raises(AlicloudInputError) as info:
        parse_rate_control(value)
    assert info.value.field == field
    for word in words:
        assert word in str(info.value)


def test_loop_with_both_forms_is_rejected():
    with pytest.raises(AlicloudInputError, match="keep only RateControl"):
        rate_control_from_loop({"Items": [], "Concurrency": 1, "RateControl": {"Concurrency": 2}})


def test_bad_total_is_rejected():
    with pytest.raises(AlicloudInputError, match="total"):
        to_serial({"Concurrency": 1}, -1)
    with pytest.raises(AlicloudInputError, match="total"):
        to_serial({"Concurrency": 1}, "10")


def test_zero_hosts_still_gives_valid_keywords():
    keywords = to_play_keywords({"Concurrency": "10%", "MaxErrors": "10%"}, 0)
    assert keywords["serial"] == 1 and keywords["max_fail_percentage"] == 0


@pytest.mark.parametrize("pause, mode", [("FirstBatchPause", {"Mode": "Batch", "Batch": [1, "50%"]}),
                                         ("EveryBatchPause", {"Mode": "Concurrency", "Concurrency": 2}),
                                         ("FirstBatchPause", {"Concurrency": 1})])   # (the public templates' form)
def test_a_pause_between_batches_is_refused_where_nothing_can_wait_for_a_person(pause, mode):
    from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import validate_rate_control
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters
    rate = dict(mode, MaxErrors=0, BatchPauseOption=pause)
    with pytest.raises(AlicloudInputError) as info:
        validate_rate_control(rate)   # the instance modules
    assert info.value.field == "rate_control.BatchPauseOption" and pause in str(info.value) and "Automatic" in str(info.value)
    with pytest.raises(AlicloudInputError, match=f"Loop.RateControl.BatchPauseOption: {pause} pauses"):
        filters.oos_unpaused_rate_control(rate)   # a converted loop whose RateControl the run gives
    automatic = dict(rate, BatchPauseOption="Automatic")
    assert validate_rate_control(automatic).batch_pause_option == "Automatic"
    assert filters.oos_unpaused_rate_control(automatic) == automatic

    for bad in ("Automatic ", "everybatchpause", ["EveryBatchPause"]):
        with pytest.raises(AlicloudInputError, match="Automatic, FirstBatchPause, EveryBatchPause"):
            validate_rate_control(dict(rate, BatchPauseOption=bad))
