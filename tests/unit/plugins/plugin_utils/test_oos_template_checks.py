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
