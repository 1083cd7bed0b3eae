"""Endpoint resolution and the tables generated from the API docs."""
from __future__ import annotations

import re

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
        if products.oos_only_service(code):
            continue
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


def test_sdk_endpoints_agree_with_the_api_docs():
    """Two authorities, one answer: every regional endpoint the ECS/OOS API docs list is what the catalogue
    (from the SDK packages) resolves."""
    import api_tables

    if not api_tables.API_DOCS.is_dir():
        pytest.skip("API docs not available")
    for product in sorted(api_tables.DOC_FILES):
        endpoints = api_tables.load_docs(product)["endpoints"]
        assert len(endpoints) > 20
        for entry in endpoints:
            assert products.resolve_endpoint(product, entry["regionId"]).host == entry["endpoint"], entry


@pytest.mark.parametrize("service, code, version, style, host", [
    ("KMS", "kms", "2016-01-20", "RPC", "kms.cn-hangzhou.aliyuncs.com"),
    ("R-KVSTORE", "r-kvstore", "2015-01-01", "RPC", "r-kvstore.aliyuncs.com"),
    ("BssOpenApi", "bssopenapi", "2017-12-14", "RPC", "business.aliyuncs.com"),
    ("polardb", "polardb", "2017-08-01", "RPC", "polardb.aliyuncs.com"),
    ("CLOUDAPI", "cloudapi", "2016-07-14", "RPC", "apigateway.cn-hangzhou.aliyuncs.com"),
    ("ROS", "ros", "2019-09-10", "RPC", "ros.aliyuncs.com"),
    ("DDS", "dds", "2015-12-01", "RPC", "mongodb.aliyuncs.com"),
    ("ECI", "eci", "2018-08-08", "RPC", "eci.aliyuncs.com"),
    ("SAE", "sae", "2019-05-06", "ROA", "sae.cn-hangzhou.aliyuncs.com"),
    ("Ram", "ram", "2015-05-01", "RPC", "ram.aliyuncs.com"),
])
def test_oos_service_names_resolve_like_the_sdk(service, code, version, style, host):
    assert products.normalize_product(service) == code
    assert products.api_style(service) == style
    assert products.resolve_endpoint(service, "cn-hangzhou") == (host, "https", version)
    assert products.unresolvable_service(service) is None


def test_unresolvable_services_name_the_fix():
    assert "version" in products.unresolvable_service("Unicorn") and "endpoint" in products.unresolvable_service("Unicorn")
    assert "internal to OOS" in products.unresolvable_service("devops-inner")
    assert products.unresolvable_service("{{ service }}") is None
    assert "product code" in products.unresolvable_service("e c s")
    with pytest.raises(AlicloudInputError, match="account id"):
        products.resolve_endpoint("FC", "cn-hangzhou")


@pytest.mark.parametrize("service", ["OSS", "oss", "Oss"])
def test_a_product_signed_its_own_way_is_refused_naming_the_way_out(service):
    """OSS signs requests with its own scheme: the client refuses before sending, and converted templates
    delegate such calls to OOS (products.oos_only_service)."""
    with pytest.raises(AlicloudInputError) as info:
        products.resolve_endpoint(service, "cn-hangzhou", endpoint="http://127.0.0.1:1")
    assert info.value.field == "service" and "alicloud.oos.oos_execution" in info.value.message
    assert products.oos_only_service(service)
    assert products.oos_only_service("ECS") is None and products.oos_only_service("{{ svc }}") is None


# Products an independent tester found refused by the 42-product catalogue (F10), now of the SDK catalogue.
BEYOND_THE_CORPUS = ["alidns", "NAS", "nlb", "ots", "dts", "ga", "pvtz", "cas", "cbn", "config", "elasticsearch", "smc",
                     "swas-open", "ims", "das", "alikafka", "ons", "mse", "arms", "gpdb", "hbase", "emr", "edas", "vod",
                     "live", "mts", "dysmsapi", "dm", "domain", "cloudfw", "ddoscoo", "privatelink", "quotas", "cloudsso"]


@pytest.mark.parametrize("service", BEYOND_THE_CORPUS)
def test_every_alibaba_cloud_product_resolves_with_its_default_version(service):
    assert products.unresolvable_service(service) is None
    assert products.oos_only_service(service) is None
    host, protocol, version = products.resolve_endpoint(service, "cn-hangzhou")
    assert protocol == "https" and host.endswith(".aliyuncs.com") and re.match(r"^\d{4}-\d{2}-\d{2}$", version)


@pytest.mark.parametrize("service, version, style, host", [
    ("Alidns", "2015-01-09", "RPC", "alidns.cn-hangzhou.aliyuncs.com"),
    ("NAS", "2017-06-26", "RPC", "nas.cn-hangzhou.aliyuncs.com"),
    ("dysmsapi", "2017-05-25", "RPC", "dysmsapi.aliyuncs.com"),
    # Several API versions: the default one of the product metadata (CMS 2019-01-01, not 2024-03-30), as OOS uses.
    ("cms", "2019-01-01", "RPC", "metrics.cn-hangzhou.aliyuncs.com"),
    ("DTS", "2020-01-01", "RPC", "dts.aliyuncs.com"),  # its SDK map sends cn-hangzhou to the central host
    ("elasticsearch", "2017-06-13", "ROA", "elasticsearch.cn-hangzhou.aliyuncs.com"),
])
def test_new_products_resolve_as_their_sdk_does(service, version, style, host):
    assert products.api_style(service) == style
    assert products.resolve_endpoint(service, "cn-hangzhou") == (host, "https", version)


@pytest.mark.parametrize("service", ["sls", "SLS", "log", "Log"])
def test_log_service_signs_its_own_way_so_only_oos_calls_it(service):
    """SLS's SDK signs through its own gateway, as OSS's does: the client refuses it before sending, converted
    templates delegate it to OOS."""
    assert products.normalize_product(service) == "sls"
    assert "SLS" in products.oos_only_service(service)
    with pytest.raises(AlicloudInputError) as info:
        products.resolve_endpoint(service, "cn-hangzhou", endpoint="http://127.0.0.1:1")
    assert info.value.field == "service" and "alicloud.oos.oos_execution" in info.value.message


def test_an_unknown_product_names_the_overrides_and_close_names():
    with pytest.raises(AlicloudInputError) as info:
        products.resolve_endpoint("alidsn", "cn-hangzhou")
    assert info.value.field == "version" and "did you mean 'alidns'" in info.value.message
    assert len(info.value.message) < 300, "the error names close products, not the whole catalogue"
    # The converter's problem for a template's Service says the same, with the overrides a direct call needs.
    problem = products.unresolvable_service("AliDsn")
    assert "did you mean 'alidns'" in problem and "version" in problem and "endpoint" in problem
    assert "did you mean" not in products.unresolvable_service("Unicorn")
