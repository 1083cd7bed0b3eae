"""OOS intrinsic functions as filters (alicloud.oos.fn_*, jq, oos_fn)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.filter.oos_functions import FilterModule

FILTERS = FilterModule().filters()


@pytest.mark.parametrize("name, argument, expected", [
    ("fn_equals", ["true", True], True),
    ("fn_equals", ["10", 10], True),
    ("fn_equals", [[], []], True),
    ("fn_equals", ["a", "b"], False),
    ("fn_not", True, False),
    ("fn_not", ["FALSE"], True),
    ("fn_and", [True, "true"], True),
    ("fn_or", [False, "false"], False),
    ("fn_if", [False, 1, 2], 2),
    ("fn_select", [1, ["a", "b"]], "b"),
    ("fn_select", ["type", {"type": "cron"}], "cron"),
    ("fn_join", ["-", ["a", 1, True]], "a-1-true"),
    ("fn_split", [",", "a,b"], ["a", "b"]),
    ("fn_replace", [{"a": "x", "b": "y"}, "aab"], "xxy"),
    ("fn_base64encode", "hi", "aGk="),
    ("fn_base64decode", "aGk=", "hi"),
    ("fn_base64decode", "aG\nk", "hi"),
    ("fn_rangeselect", [0, -1, ["docker", "app", "Dockerfile"]], ["docker", "app"]),
    ("fn_rangeselect", ["1", "3", ["a", "b", "c", "d"]], ["b", "c"]),
    ("fn_mergelist", [["a"], ["b", "c"]], ["a", "b", "c"]),
    ("fn_mergemap", [{"a": 1}, {"b": 2}], {"a": 1, "b": 2}),
    ("fn_mergemaptolist", [{"k": ["a", "b"]}, {"v": [1, 2]}], [{"k": "a", "v": 1}, {"k": "b", "v": 2}]),
    ("fn_convertmaptolist", [{"a": 1}], [{"Key": "a", "Value": 1}]),
    ("fn_listjoin", ["a", ["b"]], ["a", ["b"]]),
    ("fn_min", [3, "1", 2], 1),
    ("fn_max", [3, 1, 2], 3),
    ("fn_first", ["a", "b"], "a"),
    ("fn_last", ["a", "b"], "b"),
    ("fn_intersection", [["a", "b"], ["b", "c"]], ["b"]),
    ("fn_union", [["a", "b"], ["b", "c"]], ["a", "b", "c"]),
    ("fn_difference", [["a", "b"], ["b"]], ["a"]),
    ("fn_calculatebatch", [3, ["a", "b", "c", "d"]], 2),
    ("fn_formatutctime", ["2024-01-31T08:05:00Z", "%Y-%m-%dT%H:%MZ"], "2024-01-31T08:05Z"),
    ("fn_addhour", ["2024-01-31T23:00:00Z", 2], "2024-02-01T01:00:00Z"),
    ("fn_durationbetween", ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"], "PT3600S"),
    ("fn_durationbetween", ["23:00:00Z", "01:00:00Z"], "PT7200S"),
    ("fn_sub", ["a-${x}-${!y}", {"x": 1}], "a-1-${y}"),
    ("fn_eval", ["-3*24"], -72),
])
def test_functions(name, argument, expected):
    assert FILTERS[name](argument) == expected


def test_jq_filters_use_oos_selector_semantics():
    data = {"Instances": {"Instance": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}}
    assert FILTERS["jq"](data, "Instances.Instance[].InstanceId") == ["i-1", "i-2"]
    assert FILTERS["jq_first"](data, ".Instances.Instance[0].InstanceId") == "i-1"
    assert FILTERS["fn_jq"](["All", "Instances.Instance | length", data]) == [2]


def test_dispatcher_nests_functions_and_references():
    value = {"Fn::Join": ["-", [{"Fn::Select": [0, "{{ names }}"]}, "{{ ACS::RegionId }}"]]}
    context = {"parameters": {"names": ["web"]}, "pseudo": {"acs::regionid": "cn-x"}}
    assert FILTERS["oos_fn"](value, context) == "web-cn-x"


def test_bad_arguments_give_one_filter_error():
    with pytest.raises(AnsibleFilterError, match="Fn::Select: index 5 out of range"):
        FILTERS["fn_select"]([5, ["a"]])
    with pytest.raises(AnsibleFilterError, match="only accepts single-line arithmetic"):
        FILTERS["fn_eval"](["__import__('os')"])


@pytest.mark.parametrize("expression, message", [
    ("9**9**9", "more than 1000 digits"), ("1/0", "division by zero"), ("10.0**400", "cannot be computed"),
    ("(-8)**(1/3)", "not a real number"),
])
def test_fn_eval_refuses_what_it_cannot_compute_quickly(expression, message):
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import functions
    with pytest.raises(functions.OosFunctionError, match=message):
        functions.fn_eval(expression)
