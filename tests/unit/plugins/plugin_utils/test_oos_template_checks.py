"""What OOS refuses in a task is refused at conversion, naming it: nothing dropped, nothing found out mid-run."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert


def template(task: dict, outputs: dict | None = None) -> dict:
    document = {"FormatVersion": "OOS-2019-06-01", "Tasks": [dict({"Name": "t"}, **task)]}
    if outputs:
        document["Outputs"] = outputs
    return document


API = {"Action": "ACS::ExecuteAPI", "Properties": {"Service": "ECS", "API": "DescribeInstances"}}


@pytest.mark.parametrize("task, outputs, named", [
    (dict(API, Retry=3), None, "unknown key Retry"),
    ({"Action": "ACS::ExecuteAPI", "Properties": {"API": "DescribeInstances"}}, None, "Properties.Service"),
    ({"Action": "ACS::ExecuteAPI", "Properties": {"Service": ["ECS"], "API": "X"}}, None, "Properties.Service"),
    ({"Action": "ACS::WaitFor", "Properties": {"Service": "ECS", "DesiredValues": ["x"]}}, None, "Properties.API"),
    ({"Action": "ACS::ExecuteAPI", "Properties": {"Service": "ECS", "API": "X", "Paramters": {}}}, None,
     "has no property Paramters"),
    ({"Action": "ACS::Sleep", "Properties": {"Duraton": "PT1S"}}, None, "has no property Duraton"),
    ({"Action": "ACS::Sleep", "Properties": {}}, None, "needs Duration"),
    (dict(API, Outputs={"ids": {"Type": "List", "ValueSelector": ".a | $ENV"}}), None, "Outputs.ids.ValueSelector"),
    (dict(API, Outputs={"ids": {"Type": "List", "ValueSelector": ".a[["}}), None, "Outputs.ids.ValueSelector"),
    ({"Action": "ACS::WaitFor", "Properties": {"Service": "ECS", "API": "X", "PropertySelector": "input",
                                               "DesiredValues": ["x"]}}, None, "PropertySelector"),
    (API, {"o": {"Type": "String", "Value": {"Fn::Jq": ["First", "env.HOME", "{}"]}}}, "Outputs.o.Value.Fn::Jq"),
])
def test_what_oos_refuses_is_refused_at_conversion_naming_it(task, outputs, named):
    with pytest.raises(ConversionError) as info:
        convert(content=template(task, outputs))
    assert any(named in problem and "Tasks[0] (t)" in problem or named.startswith("Outputs.") and named in problem
               for problem in info.value.problems), info.value.problems


@pytest.mark.parametrize("task", [
    dict(API, Outputs={"ids": {"Type": "List", "ValueSelector": "{{ selector }}"}}),   # computed: checked at run time
    {"Action": "ACS::ExecuteAPI", "Properties": {"Service": "{{ svc }}", "API": "{{ api }}"}},
    {"Action": "ACS::Sleep", "Properties": {"EndDate": "2025-01-01T00:00:00Z"}},
    {"Action": "ACS::Sleep", "Properties": {"Duration": "1H2M"}},
    dict(API, Outputs={"ids": {"Type": "List", "ValueSelector": 'contains(["disk"])'}}),
])
def test_what_oos_accepts_still_converts(task):
    parameters = {"selector": {"Type": "String", "Default": "."}, "svc": {"Type": "String", "Default": "ECS"},
                  "api": {"Type": "String", "Default": "DescribeRegions"}}
    convert(content=dict(template(task), Parameters=parameters))


def test_a_folder_option_that_is_no_folder_is_refused_naming_it(tmp_path):
    """A mistyped folder would silently turn inlining into delegation to OOS."""
    with pytest.raises(ConversionError) as info:
        convert(content=template(API), template_paths=[str(tmp_path / "missing")],
                action_templates_path=str(tmp_path / "missing.yml"))
    assert [p.split(" ", 1)[0] for p in info.value.problems] == ["action_templates_path", "template_paths"]


BAD_PARAMETERS = """
FormatVersion: OOS-2019-06-01
Parameters:
  mode: {Type: String, Default: x, AllowedValues: [a, b]}
  name: {Type: String, AllowedPattern: '([', Default: z}
  count: {Type: Number, Default: many}
  size: {Type: Number, Default: 50, MaxValue: 10}
  code: {Type: String, Default: toolong, MaxLength: 3}
  word: {Type: String, Default: abc, AllowedPattern: '^[0-9]+$'}
  kind: {Type: Strin}
  text: {Type: String, Default: [1]}
  ids: {Type: List, Default: [web-1, db-1], AllowedPattern: '^web-[0-9]+$'}
  region: {Type: String, Default: '{{ ACS::RegionId }}', AllowedValues: [cn-beijing]}
  fine: {Type: List, Default: [web-1], MinLength: 5}
Tasks:
- {Name: t, Action: ACS::Sleep, Properties: {Duration: PT1S}}
"""


def test_a_default_oos_would_refuse_is_refused_at_conversion_with_every_problem():
    """StartExecution refuses a Default outside its constraints, of the wrong Type, or an AllowedPattern that is not
    a regular expression: so does the conversion, naming each parameter and field in one error."""
    with pytest.raises(ConversionError) as info:
        convert(content=BAD_PARAMETERS)
    problems = info.value.problems
    expected = ["Parameters.mode.Default: 'x' is not one of a, b", "Parameters.name.AllowedPattern '(['",
                "Parameters.count.Default 'many' is not a Number value", "Parameters.size.Default: 50 is above MaxValue 10",
                "Parameters.code.Default: length 7 is above MaxLength 3", "Parameters.word.Default: 'abc' does not match",
                "Parameters.kind.Type 'Strin'", "Parameters.text.Default [1] is not a String value",
                "Parameters.ids.Default: 'db-1' does not match"]
    for needle in expected:
        assert any(needle in problem for problem in problems), (needle, problems)
    # A computed Default is checked once a run evaluates it; a List's MinLength holds for each element.
    assert len(problems) == len(expected), problems
    assert not any("region" in problem or "fine" in problem for problem in problems), problems
