"""The product catalogue is what the generator makes of its committed input, and the extractor reads SDK clients."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO_ROOT
from tools.products import catalog, extract

CLIENT = '''
class Client(OpenApiClient):
    def __init__(self, config):
        super().__init__(config)
        self._endpoint_rule = 'regional'
        self._endpoint_map = {
            'cn-hangzhou-finance': 'demo.aliyuncs.com',
            'ap-southeast-1': 'demo.ap-southeast-1.aliyuncs.com',
        }
        self.check_config(config)
        self._endpoint = self.get_endpoint('demo', self._region_id, self._endpoint_rule, self._network, self._suffix, self._endpoint_map, self._endpoint)

    def describe_things_with_options(self, request, runtime):
        params = open_api_util_models.Params(
            action = 'DescribeThings',
            version = '2021-02-03',
            protocol = 'HTTPS',
            pathname = f'/things/{DaraURL.percent_encode(request.id)}',
            method = 'GET',
            auth_type = 'AK',
            style = 'ROA',
            req_body_type = 'json',
            body_type = 'json'
        )
'''


def test_generated_module_is_current():
    """Offline: the committed module is exactly what the committed snapshot renders to."""
    proc = subprocess.run([sys.executable, "-m", "tools.products", "--check"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_every_product_names_its_sdk_package_and_a_version_the_package_has():
    snapshot = catalog.load_snapshot()
    tables = catalog.build(snapshot)
    for code, (version, style, _pattern, _hosts) in tables["PRODUCTS"].items():
        package = snapshot["packages"][code]
        assert package["package"] == f"alibabacloud-{code}{version.replace('-', '')}"
        assert tables["SOURCES"][code] == f"{package['package']}=={package['package_version']}"
        assert style in ("RPC", "ROA")
    # Versions kept from the hand-written table, and the choices the templates need.
    expected = {"ecs": "2014-05-26", "oos": "2019-06-01", "vpc": "2016-04-28", "slb": "2014-05-15", "alb": "2020-06-16",
                "rds": "2014-08-15", "ram": "2015-05-01", "sts": "2015-04-01", "ess": "2014-08-28", "cms": "2019-01-01",
                "tag": "2018-08-28", "resourcemanager": "2020-03-31", "actiontrail": "2020-07-06", "cs": "2015-12-15",
                "ecd": "2020-09-30", "adb": "2019-03-15", "ehpc": "2018-04-12", "waf-openapi": "2019-09-10"}
    assert {code: tables["PRODUCTS"][code][0] for code in expected} == expected
    assert set(snapshot["choices"]) <= set(snapshot["packages"])


def test_extractor_reads_endpoint_rules_version_and_style(tmp_path):
    facts = extract.client_facts(CLIENT)
    assert facts == {"api_version": "2021-02-03", "product_id": None, "endpoint_product": "demo",
                     "endpoint_rule": "regional", "styles": {"ROA": 1}, "actions": 1, "gateway": None,
                     "endpoint_map": {"ap-southeast-1": "demo.ap-southeast-1.aliyuncs.com",
                                      "cn-hangzhou-finance": "demo.aliyuncs.com"}}
    wheel = tmp_path / "alibabacloud_demo20210203-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("alibabacloud_demo20210203/client.py", CLIENT)
        archive.writestr("alibabacloud_demo20210203-1.2.3.dist-info/METADATA",
                         "Metadata-Version: 2.1\nName: alibabacloud_demo20210203\nVersion: 1.2.3\n")
    package, _source = extract.read_package(wheel)
    assert (package["package"], package["package_version"], package["product"]) == \
        ("alibabacloud-demo20210203", "1.2.3", "demo")
    # Only the regions whose host differs from the regional pattern are kept.
    assert catalog.product_entry(package, None) == (
        "2021-02-03", "ROA", "demo.{region}.aliyuncs.com", {"cn-hangzhou-finance": "demo.aliyuncs.com"})


def test_extractor_refuses_a_client_whose_date_and_version_disagree(tmp_path):
    wheel = tmp_path / "alibabacloud_demo20200101-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("alibabacloud_demo20200101/client.py", CLIENT)
        archive.writestr("x.dist-info/METADATA", "Name: alibabacloud_demo20200101\nVersion: 1.0.0\n")
    with pytest.raises(extract.ExtractError, match="package date 20200101 but API version 2021-02-03"):
        extract.read_package(wheel)


def test_aliases_must_name_a_product():
    snapshot = catalog.load_snapshot()
    snapshot["aliases"] = dict(snapshot["aliases"], typo={"product": "no-such", "why": "test"})
    with pytest.raises(ValueError, match="'typo' names 'no-such'"):
        catalog.build(snapshot)
