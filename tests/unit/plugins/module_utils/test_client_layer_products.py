"""Endpoint resolution and the tables generated from the API docs."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import api_facts, products
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError


def test_known_products_resolve_to_regional_endpoints():
    assert products.resolve_endpoint("ECS", "cn-shanghai") == ("ecs.cn-shanghai.aliyuncs.com", "https", "2014-05-26")
    assert products.resolve_endpoint("ecs", "cn-hangzhou").host == "ecs-cn-hangzhou.aliyuncs.com"
    assert products.resolve_endpoint("Oos", "cn-beijing") == ("oos.cn-beijing.aliyuncs.com", "https", "2019-06-01")
    assert products.resolve_endpoint("ram", None).host == "ram.aliyuncs.com"


def test_endpoint_override_applies_to_every_product():
    for code in products.known_products():
        assert products.resolve_endpoint(code, "cn-hangzhou", endpoint="http://127.0.0.1:8080")[:2] == ("127.0.0.1:8080", "http")
    assert products.resolve_endpoint("unlisted", None, version="2019-09-10", endpoint="unlisted.aliyuncs.com") == \
        ("unlisted.aliyuncs.com", "https", "2019-09-10")


@pytest.mark.parametrize("kwargs, field", [
    ({"product": "unlisted", "region": "cn-hangzhou"}, "version"),
    ({"product": "unlisted", "region": "cn-hangzhou", "version": "2019-09-10"}, "endpoint"),
    ({"product": "rdc-inner", "region": "cn-hangzhou"}, "version"),
    ({"product": "fc", "region": "cn-hangzhou"}, "endpoint"),
    ({"product": "ecs", "region": "cn hangzhou"}, "region"),
    ({"product": "ecs", "region": None}, "region"),
    ({"product": "ecs", "region": "cn-hangzhou", "version": "v1"}, "version"),
    ({"product": "e c s", "region": "cn-hangzhou"}, "service"),
])
def test_unresolvable_products_name_the_missing_option(kwargs, field):
    with pytest.raises(AlicloudInputError) as info:
        products.resolve_endpoint(**kwargs)
    assert info.value.field == field


def test_read_only_classification():
    assert all(products.is_read_only(a) for a in ("DescribeInstances", "ListExecutions", "GetTemplate",
                                                   "QueryFoo", "CheckBar"))
    assert not any(products.is_read_only(a) for a in ("StopInstance", "StartExecution", "RunCommand", "TagResources"))


def test_api_facts():
    assert products.accepts_client_token("ecs", "RunCommand")
    assert products.accepts_client_token("OOS", "StartExecution")
    assert not products.accepts_client_token("ecs", "StopInstance")
    assert products.page_size_limit("ecs", "DescribeInstances") == ("PageSize", 100)
    assert products.page_size_limit("ecs", "DescribeInstanceStatus") == ("PageSize", 50)


def test_generated_tables_match_the_api_docs():
    import api_tables  # tests/unit/plugins/module_utils/api_tables.py (the generator)

    if not api_tables.API_DOCS.is_dir():
        print(f"NOTICE: {api_tables.API_DOCS} absent; generated-table check skipped")
        pytest.skip("API docs not available")
    tables = api_tables.build_tables()
    for name, value in tables.items():
        assert getattr(api_facts, name) == value, f"{name} is stale: regenerate with api_tables.py"
