"""A template's API actions name products the client layer resolves; anything else is refused at conversion."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert

TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  svc: {Type: String, Default: ECS}
Tasks:
  - Name: describeKey
    Action: ACS::ExecuteAPI
    Properties: {Service: KMS, API: DescribeKey, Parameters: {KeyId: k-1}}
  - Name: renew
    Action: ACS::ExecuteApi
    Properties: {Service: BssOpenApi, API: RenewInstance, Parameters: {InstanceId: i-1}}
  - Name: waitRedis
    Action: ACS::WaitFor
    Properties: {Service: r-kvstore, API: DescribeInstances, PropertySelector: .Instances, DesiredValues: [x]}
    Loop: {Items: [a, b]}
  - Name: computed
    Action: ACS::ExecuteAPI
    Properties: {Service: '{{ svc }}', API: DescribeRegions}
"""


def _services(node):
    if isinstance(node, dict):
        if isinstance(node.get("alicloud.oos.oos_execute_api"), dict):
            yield str(node["alicloud.oos.oos_execute_api"]["service"])
        for value in node.values():
            yield from _services(value)
    elif isinstance(node, list):
        for value in node:
            yield from _services(value)


def test_products_outside_the_old_table_convert():
    services = list(_services(convert(content=TEMPLATE).data()))
    assert {"KMS", "BssOpenApi", "r-kvstore"} <= set(services)


def test_unknown_and_internal_services_are_refused_at_conversion_naming_the_overrides():
    template = TEMPLATE + """
  - Name: unknownProduct
    Action: ACS::ExecuteAPI
    Properties: {Service: Unicorn, API: DescribeHorns}
  - Name: internal
    Action: ACS::CheckFor
    Properties: {Service: Rdc-inner, API: StaragentDescribeCommand, PropertySelector: .Status, DesiredValues: [ok]}
"""
    with pytest.raises(ConversionError) as caught:
        convert(content=template)
    problems = caught.value.problems
    assert len(problems) == 2, problems
    unknown, internal = problems
    assert "'Unicorn'" in unknown and "version" in unknown and "endpoint" in unknown and "unknownProduct" in unknown
    assert "'Rdc-inner'" in internal and "internal to OOS" in internal and "Tasks[5]" in internal


def test_a_nested_cloud_product_action_is_checked_too(tmp_path):
    folder = tmp_path / "actions" / "FOO"
    folder.mkdir(parents=True)
    (folder / "ACS::FOO::Poke.yml").write_text("""
FormatVersion: OOS-2019-06-01
Parameters: {}
Tasks:
  - Name: poke
    Action: ACS::ExecuteAPI
    Properties: {Service: NoSuchProduct, API: Poke}
""")
    parent = """
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: callAction
    Action: ACS::FOO::Poke
    Properties: {}
"""
    with pytest.raises(ConversionError) as caught:
        convert(content=parent, action_templates_path=str(tmp_path / "actions"))
    assert "'NoSuchProduct'" in str(caught.value)
