"""OOS ValueSelector (jq) semantics, JMESPath, and OOS output type coercion."""
from __future__ import annotations

import time

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import selectors

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.selectors import (
    coerce_output,
    jmespath_select,
    jq_select,
    normalize_jq,
    select_output,
)

RESPONSE = {
    "TotalCount": 2,
    "Instances": {"Instance": [
        {"InstanceId": "i-1", "Status": "Running", "Cpu": 2, "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}},
        {"InstanceId": "i-2", "Status": "Stopped", "Cpu": 4, "Tags": {"Tag": []}},
    ]},
    "Outputs": '{"imageId": "m-1"}',
    "Flag": "TRUE",
}


@pytest.mark.parametrize("expression, expected", [
    ("Instances.Instance[].InstanceId", ".Instances.Instance[].InstanceId"),
    ("InvokeId", ".InvokeId"),
    (".Instances", ".Instances"),
    ("length", "length"),
    ("map(.a)", "map(.a)"),
    ("if . then 1 else 2 end", "if . then 1 else 2 end"),
    ("[.a]", "[.a]"),
])
def test_leading_dot_is_optional(expression, expected):
    assert normalize_jq(expression) == expected


def test_jq_select_returns_every_emitted_value():
    assert jq_select("Instances.Instance[].InstanceId", RESPONSE) == ["i-1", "i-2"]
    assert jq_select('.Instances.Instance[] | select(.Status == "Stopped") | .InstanceId', RESPONSE) == ["i-2"]


@pytest.mark.parametrize("selector, output_type, expected", [
    ("Instances.Instance[].InstanceId", "List", ["i-1", "i-2"]),
    ("[.Instances.Instance[].InstanceId]", "List", ["i-1", "i-2"]),
    (".Instances.Instance[] | select(.Status == \"Nope\") | .InstanceId", "List", []),
    ("Instances.Instance[].InstanceId", "String", "i-1"),
    ("TotalCount", "String", "2"),
    ("Instances.Instance[0].Tags", "String", '{"Tag":[{"TagKey":"env","TagValue":"prod"}]}'),
    ("TotalCount", "Number", 2),
    ("Instances.Instance | map(.Cpu) | add", "Number", 6),
    ("Flag", "Boolean", True),
    ("TotalCount > 1", "Boolean", True),
    ("Outputs", "Json", {"imageId": "m-1"}),
    ("Instances.Instance[1]", "Json", RESPONSE["Instances"]["Instance"][1]),
    ("Missing", "String", None),
    ("Missing", "list", [None]),
])
def test_select_output_applies_oos_types(selector, output_type, expected):
    assert select_output(selector, RESPONSE, output_type) == expected


def test_numbers_parse_from_strings_and_reject_garbage():
    assert coerce_output("42", "Number") == 42
    assert coerce_output("4.5", "Number") == 4.5
    with pytest.raises(AlicloudError) as info:
        coerce_output("many", "Number", field="outputs.count")
    assert "outputs.count" in str(info.value) and info.value.code == "OutputTypeMismatch"
    with pytest.raises(AlicloudError):
        coerce_output(True, "Number")


def test_booleans_coerce_from_strings_only_when_unambiguous():
    assert coerce_output("false", "Boolean") is False
    assert coerce_output(1, "Boolean") is True
    with pytest.raises(AlicloudError):
        coerce_output("maybe", "Boolean")


def test_unknown_output_type_names_the_field():
    with pytest.raises(AlicloudInputError) as info:
        coerce_output("x", "Text", field="outputs.name.type")
    assert info.value.field == "outputs.name.type"
    assert "String, List, Json, Number, Boolean" in str(info.value)


@pytest.mark.parametrize("bad", ["Instances.Instance[", ".a | | .b", "", None])
def test_invalid_jq_is_an_input_error_naming_the_field(bad):
    with pytest.raises(AlicloudInputError) as info:
        jq_select(bad, RESPONSE, field="outputs.ids.value_selector")
    assert info.value.field == "outputs.ids.value_selector"


def test_jq_runtime_failure_is_a_selector_error():
    with pytest.raises(AlicloudError) as info:
        jq_select("Instances.Instance[].Nope[]", RESPONSE)
    assert info.value.code == "SelectorError"


def test_jmespath_select_and_invalid_expression():
    assert jmespath_select("Instances.Instance[?Status=='Running'].InstanceId", RESPONSE) == ["i-1"]
    with pytest.raises(AlicloudInputError) as info:
        jmespath_select("Instances.Instance[?", RESPONSE)
    assert info.value.field == "query"


# ---- selectors see only the document ------------------------------------------------------------------------
@pytest.mark.parametrize("program, name", [
    ("$ENV.HOME", "$ENV"), ("env.HOME", "env"), ('"\\(env)"', "env"), ('"a\\("b\\(env)")"', "env"),
    ("{$ENV}", "$ENV"), ("$__loc__", "$__loc__"), ("input", "input"), ("first(inputs)", "inputs"),
    ("input_filename", "input_filename"), ('import "x" as $x; $x', "import"), ('include "x"; .', "include"),
    ("modulemeta", "modulemeta"), ("get_search_list", "get_search_list"), ("debug", "debug"),
    ('debug("m")', "debug"), ("stderr", "stderr"), ("halt", "halt"), ("halt_error(1)", "halt_error"),
    ("localtime", "localtime"), ('strflocaltime("%H")', "strflocaltime"),
])
def test_programs_that_read_the_controller_are_refused_naming_the_builtin(program, name):
    with pytest.raises(AlicloudInputError) as error:
        jq_select(program, RESPONSE, "outputs.x.value_selector")
    assert error.value.field == "outputs.x.value_selector"
    assert f"uses {name}," in error.value.message


@pytest.mark.parametrize("program, expected", [
    ("{env: .TotalCount}", [{"env": 2}]),            # a key named like a builtin
    ('"$ENV, env and import are text"', ["$ENV, env and import are text"]),
    (".TotalCount # env and $ENV in a comment", [2]),
    ("def env: 7; env", [7]),                        # the program's own env
    ("0 | todate", ["1970-01-01T00:00:00Z"]),        # UTC time stays
])
def test_document_keys_strings_comments_and_utc_time_stay_allowed(program, expected):
    assert jq_select(program, RESPONSE) == expected


def test_the_controllers_jq_home_file_is_not_loaded(tmp_path, monkeypatch):
    (tmp_path / ".jq").write_text('def from_home: "controller";\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(AlicloudInputError, match="from_home/0 is not defined"):
        jq_select("[from_home]", {})
    assert __import__("os").environ["HOME"] == str(tmp_path)  # restored after compiling


def test_syntax_errors_point_into_the_users_program():
    with pytest.raises(AlicloudInputError, match="line 2, column 5"):
        jq_select(".a |\n map(", {})


@pytest.mark.parametrize("program", ["[range(1e9)]", "def f: f; f", "[repeat(1)] | length", "last(range(1e12))"])
def test_a_selector_that_makes_unbounded_work_is_stopped_at_its_deadline(program, monkeypatch):
    """jq has no time limit of its own; a template's selector must not hold the controller."""
    monkeypatch.setattr(selectors, "SELECTOR_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(AlicloudError) as info:
        selectors.jq_select(program, {"a": 1})
    assert time.monotonic() - started < 5
    assert info.value.code == "SelectorError" and "ran for more than 1 s" in str(info.value)


def test_a_selector_that_needs_too_much_memory_fails_with_a_message(monkeypatch):
    monkeypatch.setattr(selectors, "SELECTOR_MEMORY", 256 << 20)
    with pytest.raises(AlicloudError) as info:
        selectors.jq_select('[range(1e8) | tostring] | length', {})
    assert info.value.code == "SelectorError"


def test_bounded_selectors_give_the_same_values_as_plain_ones():
    document = {"Instances": {"Instance": [{"InstanceId": f"i-{n}", "Cpu": n} for n in range(50)]}}
    assert selectors.jq_select("[range(3)] | map(. * 2)", document) == [[0, 2, 4]]
    assert selectors.jq_select(".Instances.Instance | map(.Cpu * 2) | add", document) == [2450]
    assert selectors.jq_select("Instances.Instance[].InstanceId", document)[:2] == ["i-0", "i-1"]
