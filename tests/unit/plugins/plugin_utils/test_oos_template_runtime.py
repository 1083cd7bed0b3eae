"""Run-time OOS semantics: references, parameters and flow state (pure functions)."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters, functions, parameters, runtime

CTX = {"parameters": {"regionId": "cn-beijing", "ids": ["i-1", "i-2"], "flag": True, "rc": {"Concurrency": 2}},
       "pseudo": {"acs::regionid": "cn-hangzhou", "acs::executionid": "exec-1"},
       "tasks": {"getInstance": {"instanceIds": ["i-9"], "invokeId": "t-1"}}}


def test_whole_value_reference_keeps_type():
    assert runtime.render("{{ ids }}", CTX) == ["i-1", "i-2"]
    assert runtime.render("{{flag}}", CTX) is True
    assert runtime.render("{{ rc }}", CTX) == {"Concurrency": 2}


def test_embedded_reference_interpolates():
    assert runtime.render("snap-{{ ACS::ExecutionId }}-{{ ids }}", CTX) == 'snap-exec-1-["i-1", "i-2"]'


def test_references_are_case_insensitive():
    assert runtime.render("{{ Acs::RegionID }}", CTX) == "cn-hangzhou"
    assert runtime.render("{{ getinstance.InvokeId }}", CTX) == "t-1"
    assert runtime.render("{{ REGIONID }}", CTX) == "cn-beijing"


def test_jinja_that_is_not_a_reference_stays_literal():
    text = "{{ lookup('pipe', 'id') }} {% if x %}{{ ''.__class__ }}"
    assert runtime.render(text, CTX) == text


def test_a_name_that_is_no_parameter_or_task_stays_as_written_and_a_missing_output_is_an_error():
    # As OOS: a Cloud Assistant parameter {{ greeting }} in a command run with enableParameter reaches the agent.
    assert runtime.render("echo {{ greeting }} from {{ REGIONID }}", CTX) == "echo {{ greeting }} from cn-beijing"
    assert runtime.render("{{ nope }}", CTX) == "{{ nope }}"
    with pytest.raises(runtime.OosRuntimeError, match="has no output"):
        runtime.render("{{ getInstance.missing }}", CTX)


def test_a_name_that_is_no_reference_stays_as_written_in_value_selectors_and_jq_programs_too():
    """Found by the #13 review: a jq string literal holding {{ word }} failed the task with 'word' as the error."""
    document = {"Name": "{{ nosuch }}", "Id": "cn-beijing"}
    assert runtime.select_value('"{{ nosuch }}"', document, "String", CTX) == "{{ nosuch }}"
    assert runtime.select_value('"{{ 1 }}-{{ regionId }}"', document, "String", CTX) == "{{ 1 }}-cn-beijing"
    assert runtime.select_value('{"k": "{{ 3 }}"}', document, "Json", CTX) == {"k": "{{ 3 }}"}
    assert runtime.render({"Fn::Jq": ["First", '.Name == "{{ nosuch }}"', document]}, CTX) is True


def test_loop_item_and_functions_nest():
    value = {"Fn::Join": ["/", [{"Fn::Select": [1, {"Fn::Split": [".", "a.b.c"]}]}, "{{ ACS::TaskLoopItem }}"]]}
    assert runtime.render(value, CTX, loop_item="i-7") == "b/i-7"


def test_if_evaluates_only_the_chosen_branch():
    assert runtime.render({"Fn::If": [{"Fn::Equals": ["{{ flag }}", "true"]}, "yes", "{{ nope }}"]}, CTX) == "yes"


def test_condition_accepts_boolean_strings():
    assert runtime.condition("{{ flag }}", CTX) is True
    assert runtime.condition({"Fn::Not": {"Fn::Equals": ["{{ ids }}", []]}}, CTX) is True


def test_iso8601_durations():
    assert runtime.iso8601_seconds("PT1M30S") == 90
    assert runtime.iso8601_seconds("P1DT1H") == 90000
    with pytest.raises(runtime.OosRuntimeError, match="ISO-8601"):
        runtime.iso8601_seconds("10 minutes")
    # OOS's short form (M is minutes there) and any case, as its documentation lists.
    assert [runtime.iso8601_seconds(d) for d in ("1S", "1m", "1H2M", "pt1h2m", "30s")] == [1, 60, 3720, 3720, 30]
    for bad in ("", "P", "PT", "M1", "1X"):
        with pytest.raises(runtime.OosRuntimeError):
            runtime.iso8601_seconds(bad)


def test_sleep_takes_a_duration_or_an_end_date():
    assert filters.oos_sleep_seconds({"Duration": "PT1M"}) == 60
    assert filters.oos_sleep_seconds({"EndDate": "2000-01-01T00:00:00Z"}) == 0   # past: no wait
    in_an_hour = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert 3500 < filters.oos_sleep_seconds({"EndDate": functions.format_utc(in_an_hour)}) <= 3600
    with pytest.raises(ValueError, match="Duration .* or EndDate"):
        filters.oos_sleep_seconds({})


def test_parameters_validation_lists_every_problem():
    specs = {"name": {"Type": "String", "AllowedPattern": "[a-z]+", "MaxLength": 5},
             "count": {"Type": "Number", "MinValue": 1, "MaxValue": 3},
             "mode": {"Type": "String", "AllowedValues": ["a", "b"]},
             "needed": {"Type": "String"},
             "region": {"Type": "String", "Default": "{{ ACS::RegionId }}"},
             "flag": {"Type": "Boolean", "Default": False},
             "items": {"Type": "List", "Default": []}}
    values = {"name": "ABCDEFG", "count": "7", "mode": "c", "flag": "true", "items": '["x"]'}
    resolved, problems = parameters.validate(specs, values, lambda d, r: runtime.render(d, CTX))
    text = "\n".join(problems)
    for needle in ("parameter name: 'ABCDEFG' does not match", "length 7 is above MaxLength 5", "count: 7 is above MaxValue 3",
                   "mode: 'c' is not one of a, b", "parameter needed is required"):
        assert needle in text
    assert resolved["region"] == "cn-hangzhou" and resolved["flag"] is True and resolved["items"] == ["x"]


def test_booleans_are_taken_as_start_execution_takes_them():
    specs = {"force": {"Type": "Boolean"}}
    for given, expected in ((True, True), ("true", True), ("False", False)):
        assert parameters.validate(specs, {"force": given}, lambda default, resolved: default)[0]["force"] is expected
    for given in ("yes", "1", "no", 1):
        assert parameters.validate(specs, {"force": given}, lambda default, resolved: default)[1], given


def test_a_data_file_is_parsed_with_bounds_and_named_in_errors():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12))
    with pytest.raises(ValueError, match="oos_parameters_file"):
        filters.oos_data(bomb, "oos_parameters_file")
    with pytest.raises(ValueError, match="oos_parameters_file"):
        filters.oos_data("a: [unclosed", "oos_parameters_file")
    assert filters.oos_data('{"a": "{{ x }}"}', "oos_parameters_file") == {"a": "{{ x }}"}
