"""Unit tests for plugins/plugin_utils/inventory.py (the logic behind the alicloud.oos.ecs inventory)."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import (
    choose_hostname, default_group_names, host_variables, hostvar_names, is_bad_region_error, list_regions,
    load_fleet, preferred_value, sanitize_group_name, validate_filter_sets, validate_preferences, validate_regions)


def instance(n, **overrides):
    base = {"instance_id": f"i-{n:04d}", "instance_name": f"web-{n}", "private_ip": f"10.0.0.{n}",
            "public_ip": None, "eip": None, "region_id": "cn-hangzhou", "zone_id": "cn-hangzhou-g",
            "status": "Running", "resource_group_id": None, "tags": {"Env": "dev"}}
    base.update(overrides)
    return base


def test_hostname_preference_falls_through_missing_values():
    prefs = validate_preferences(["tag:Name", "public_ip", "instance_name"], "hostnames")
    taken = {}
    assert choose_hostname(instance(1, tags={"Name": "alpha"}), prefs, taken) == "alpha"
    assert choose_hostname(instance(2, public_ip="47.1.1.2"), prefs, taken) == "47.1.1.2"
    assert choose_hostname(instance(3, instance_name=""), validate_preferences(["tag:Name", "instance_name"], "h"),
                           taken) == "i-0003"


def test_host_variables_expose_tags_as_ecs_tags():
    """``tags`` is reserved by ansible-core (a host variable of that name warns on every playbook run)."""
    from ansible.vars.reserved import is_reserved_name

    record = instance(1, tags={"Env": "dev", "Name": "web"})
    hostvars = host_variables(record)
    assert hostvars["ecs_tags"] == {"Env": "dev", "Name": "web"}
    assert "tags" not in hostvars
    assert hostvars["instance_id"] == "i-0001" and hostvars["region_id"] == "cn-hangzhou"
    assert set(hostvars) == (set(record) - {"tags"}) | {"ecs_tags"}
    assert not any(is_reserved_name(name) for name in hostvars)
    assert record["tags"] == {"Env": "dev", "Name": "web"}        # the record (and the cache) keep "tags"
    # With a prefix or a suffix the name is no longer reserved: ecs_ gives ecs_tags, not ecs_ecs_tags.
    prefixed = host_variables(record, hostvar_names("ecs_"))
    assert prefixed["ecs_tags"] == {"Env": "dev", "Name": "web"} and prefixed["ecs_instance_id"] == "i-0001"
    assert set(prefixed) == {f"ecs_{name}" for name in record}
    suffixed = host_variables(record, hostvar_names("", "_ecs"))
    assert suffixed["tags_ecs"] == {"Env": "dev", "Name": "web"} and suffixed["instance_id_ecs"] == "i-0001"
    both = host_variables(record, hostvar_names("ali_", "_x"))
    assert set(both) == {f"ali_{name}_x" for name in record}
    assert not any(is_reserved_name(name) for d in (prefixed, suffixed, both) for name in d)


def test_tag_preferences_and_groups_still_read_the_record_tags():
    record = instance(1, tags={"Name": "alpha", "Env": "dev"})
    assert preferred_value(record, validate_preferences(["tag:Name"], "hostnames")) == "alpha"
    assert "tag_Env_dev" in default_group_names(record)


def test_duplicate_hostnames_fall_through_to_the_next_preference():
    taken = {}
    prefs = validate_preferences(("instance_name", "private_ip"), "hostnames")
    assert choose_hostname(instance(1, instance_name="web"), prefs, taken) == "web"
    assert choose_hostname(instance(2, instance_name="web"), prefs, taken) == "10.0.0.2"
    # The same instance keeps its name when seen again (cache reload).
    assert choose_hostname(instance(1, instance_name="web"), prefs, taken) == "web"


def test_ansible_host_preference():
    prefs = validate_preferences(("public_ip", "eip", "private_ip"), "ansible_host")
    assert preferred_value(instance(1, eip="8.8.8.8"), prefs) == "8.8.8.8"
    assert preferred_value(instance(1), prefs) == "10.0.0.1"
    assert preferred_value(instance(1), ()) is None


def test_hostnames_mapping_entries_like_aws_ec2():
    prefs = validate_preferences([{"name": "instance_name", "prefix": "tag:Env", "separator": "-"},
                                  {"name": "private_ip", "prefix": "prod"}, "instance_id"], "hostnames",
                                 allow_mappings=True)
    taken = {}
    assert choose_hostname(instance(1), prefs, taken) == "dev-web-1"
    assert choose_hostname(instance(2, tags={}), prefs, taken) == "web-2"          # no prefix value: the name alone
    assert choose_hostname(instance(3, instance_name=None), prefs, taken) == "prod_10.0.0.3"   # literal prefix
    assert choose_hostname(instance(4, instance_name="web-2", tags={}), prefs, taken) == "prod_10.0.0.4"  # taken


@pytest.mark.parametrize("value,words", [
    ([{"prefix": "tag:Env"}], ["hostnames[0] needs a name"]),
    ([{"name": "nickname"}], ["hostnames[0].name 'nickname' is unknown"]),
    ([{"name": "instance_name", "sep": "-"}], ["unknown key(s) sep", "name, prefix, separator"]),
    ([{"name": "instance_name", "prefix": "tag:"}], ["needs a tag key"]),
    ([{"name": "instance_name", "separator": 1}], ["separator must be a string"]),
])
def test_bad_hostnames_mappings(value, words):
    with pytest.raises(AlicloudInputError) as info:
        validate_preferences(value, "hostnames", allow_mappings=True)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(AlicloudInputError) as info:
        validate_preferences([{"name": "private_ip"}], "ansible_host")
    assert "entries must be strings" in str(info.value)


@pytest.mark.parametrize("value,words", [
    (["nickname"], ["'nickname' is unknown", "instance_id"]),
    (["tag:"], ["needs a tag key"]),
    ([], ["is empty"]),
    ([3], ["strings"]),
    ({"a": 1}, ["must be a list"]),
])
def test_bad_preferences(value, words):
    with pytest.raises(AlicloudInputError) as info:
        validate_preferences(value, "hostnames")
    assert info.value.field == "hostnames"
    for word in words:
        assert word in str(info.value)


def test_default_groups_are_sanitized():
    groups = default_group_names(instance(1, tags={"Env": "dev", "team-name": "a.b", "empty": ""},
                                          resource_group_id="rg-abc"))
    assert groups == ["region_cn_hangzhou", "zone_cn_hangzhou_g", "status_Running", "resource_group_rg_abc",
                      "tag_Env_dev", "tag_empty", "tag_team_name_a_b"]
    assert sanitize_group_name("tag_a b-c") == "tag_a_b_c"


def test_region_and_filter_set_validation():
    assert validate_regions(["cn-hangzhou", "cn-hangzhou", "us-west-1"]) == ["cn-hangzhou", "us-west-1"]
    for bad in (["Hangzhou"], ["cn_hangzhou"], [""], "cn hangzhou", {"r": 1}):
        with pytest.raises(AlicloudInputError) as info:
            validate_regions(bad)
        assert info.value.field == "regions"
    with pytest.raises(AlicloudInputError) as info:
        validate_filter_sets([{"tags": {"Env": "dev"}}, {"Colour": "red"}], "exclude_filters")
    assert info.value.field == "exclude_filters[1].Colour"


class RegionApi:
    """DescribeRegions/DescribeInstances of one region of a fake cloud (no paging needed here)."""

    def __init__(self, region, fleet, failing=(), calls=None):
        self.region, self.fleet, self.failing = region, fleet, failing
        self.calls = calls if calls is not None else []

    def call(self, action, params=None, method="POST", **_):
        self.calls.append((self.region, action))
        if self.region in self.failing:
            raise AlicloudError("The request has failed due to a temporary failure of the server.",
                                code="ServiceUnavailable", http_status=503)
        if action == "DescribeRegions":
            return {"Regions": {"Region": [{"RegionId": r} for r in sorted(self.fleet)]}}
        rows = [r for r in self.fleet.get(self.region, [])
                if all(t in r["Tags"] and r["Tags"][t] == params[f"Tag.{n}.Value"]
                       for n, t in ((int(k.split(".")[1]), v) for k, v in params.items() if k.endswith(".Key")))]
        return {"TotalCount": len(rows), "Instances": {"Instance": [
            {"InstanceId": r["InstanceId"], "RegionId": self.region, "ZoneId": f"{self.region}-a",
             "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in r["Tags"].items()]}} for r in rows]}}


FLEET = {
    "cn-hangzhou": [{"InstanceId": f"i-h{n}", "Tags": {"Env": "dev" if n % 2 else "prod"}} for n in range(6)],
    "cn-shanghai": [{"InstanceId": f"i-s{n}", "Tags": {"Env": "dev"}} for n in range(4)],
}


def test_load_fleet_concurrently_with_a_failing_region():
    calls = []
    instances, failures = load_fleet(["cn-hangzhou", "cn-shanghai"],
                                     lambda r: RegionApi(r, FLEET, failing=("cn-shanghai",), calls=calls), {})
    assert [i["instance_id"] for i in instances] == [f"i-h{n}" for n in range(6)]
    assert list(failures) == ["cn-shanghai"] and failures["cn-shanghai"].code == "ServiceUnavailable"
    assert all(i["region_id"] == "cn-hangzhou" for i in instances)


def test_include_and_exclude_filters():
    instances, failures = load_fleet(["cn-hangzhou"], lambda r: RegionApi(r, FLEET), {"tags": {"Env": "prod"}},
                                     include_filters=[{"tags": {"Env": "dev"}}], exclude_filters=[{"tags": {"Env": "prod"}}])
    assert failures == {}
    assert sorted(i["instance_id"] for i in instances) == ["i-h1", "i-h3", "i-h5"]


def test_list_regions_and_bad_region_codes():
    assert list_regions(RegionApi("cn-hangzhou", FLEET)) == ["cn-hangzhou", "cn-shanghai"]
    assert is_bad_region_error(AlicloudError("x", code="InvalidRegionId.NotFound"))
    assert not is_bad_region_error(AlicloudError("x", code="ServiceUnavailable"))


def test_load_failure_decides_between_failing_and_warning():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import load_failure

    regions = ["cn-hangzhou", "cn-shanghai"]
    busy = AlicloudError("busy", code="ServiceUnavailable")
    refused = AlicloudError("refused", code="InvalidAccessKeyId.NotFound")
    assert load_failure({}, regions, True) is None
    assert "1 of 2 region(s) failed" in str(load_failure({"cn-shanghai": busy}, regions, True))
    assert load_failure({"cn-shanghai": busy}, regions, False) is None
    for strict in (True, False):
        assert "could not read any region" in str(load_failure({r: busy for r in regions}, regions, strict))
        assert "credentials were refused" in str(load_failure({"cn-shanghai": refused}, regions, strict))


def test_cache_problem_accepts_only_a_list_of_instance_records():
    from ansible_collections.alicloud.oos.plugins.module_utils.ecs_instances import HOSTVAR_NAMES
    from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import cache_problem

    record = dict.fromkeys(HOSTVAR_NAMES)
    record.update(instance_id="i-1", tags={"Env": "dev"}, security_group_ids=["sg-1"])
    assert cache_problem([record]) is None and cache_problem([]) is None
    for wrong in ({}, "x", None, [1], [{"instance_id": "i-1"}], [dict(record, tags=[])],
                  [dict(record, instance_id=1)], [dict(record, security_group_ids="sg-1")],
                  [dict(record, status={"a": 1})], [dict(record, extra=1)]):
        assert cache_problem(wrong), wrong


def test_compiled_once_reuses_compiled_expressions_with_the_same_results():
    """compose/groups/keyed_groups expressions are compiled once per parse, not once per host."""
    from ansible.template import Templar, trust_as_template

    from ansible_collections.alicloud.oos.plugins.plugin_utils.inventory import compiled_once

    templar = Templar()
    engine = templar._engine
    compiled = []
    original = engine._compile_expression

    def counting(expression, options):
        compiled.append(str(expression))
        return original(expression, options)

    engine._compile_expression = counting       # stands for the engine's own method, to count compilations
    double, upper = trust_as_template("n * 2"), trust_as_template("name | upper")
    results = []
    with compiled_once(templar):
        for n in range(5):
            templar.available_variables = {"n": n, "name": f"web-{n}"}
            results.append((templar.evaluate_expression(double), templar.evaluate_expression(upper)))
    assert results == [(n * 2, f"WEB-{n}") for n in range(5)]
    assert compiled == ["n * 2", "name | upper"]
    assert engine._compile_expression is counting     # restored after the block
    templar.available_variables = {"n": 7, "name": "x"}
    assert templar.evaluate_expression(double) == 14 and compiled[-1] == "n * 2"
