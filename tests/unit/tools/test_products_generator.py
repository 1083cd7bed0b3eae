"""The product catalogue is what the generator makes of its committed input, and the extractor reads SDK clients."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils import products
from tests.conftest import REPO_ROOT
from tools.products import catalog, extract, sync

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
    assert all(snapshot["packages"][code]["api_version"] == choice["version"] for code, choice in snapshot["choices"].items())


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


TEAFILE = {"releases": {"python": "alibabacloud_demo-open20210203:1.4.0"},
           "libraries": {"GatewayClient": "alibabacloud:GatewaySLS:*"}}
SPEC = """
import GatewayClient;
extends OpenApi;

init(config: OpenApi.Config){
  super(config);
  @productId = 'Demo';
  var gatewayClient = new GatewayClient();
  @spi = gatewayClient;
  @endpointRule = 'regional';
  @endpointMap = {
    'cn-hangzhou-finance' = 'demo-open.aliyuncs.com',
    ap-southeast-1 = 'demo-open.ap-southeast-1.aliyuncs.com',
  };
  checkConfig(config);
  @endpoint = getEndpoint('demo-open', @regionId, @endpointRule, @network, @suffix, @endpointMap, @endpoint);
}

async function describeThingsWithOptions(request: DescribeThingsRequest, runtime: Util.RuntimeOptions): DescribeThingsResponse {
  var params = new OpenApi.Params{
    action = 'DescribeThings',
    version = '2021-02-03',
    pathname = '/',
    style = 'RPC',
  };
  return callApi(params, req, runtime);
}

async function describeThingsAdvance(request: DescribeThingsAdvanceRequest, runtime: Util.RuntimeOptions): DescribeThingsResponse {
  var authParams = new OpenApi.Params{
    action = 'AuthorizeFileUpload',
    version = '2019-12-19',
    style = 'RPC',
  };
}
"""


def write_spec(folder, teafile=None, spec=SPEC):
    folder.mkdir(parents=True)
    (folder / "Teafile").write_text(json.dumps(teafile or TEAFILE))
    (folder / "main.tea").write_text(spec)
    return folder


def test_extractor_reads_a_darabonba_spec(tmp_path):
    """The Darabonba source of an SDK package gives the same facts as its Python client, and names the gateway of a
    product that signs its own way; OpenPlatform's upload call of the *Advance methods is not the product's API."""
    package, _source = extract.read_package(write_spec(tmp_path / "demo-open-20210203"))
    assert package == {"package": "alibabacloud-demo-open20210203", "package_version": "1.4.0", "product": "demo-open",
                       "api_version": "2021-02-03", "product_id": "Demo", "endpoint_product": "demo-open",
                       "endpoint_rule": "regional", "gateway": "sls", "styles": {"RPC": 1}, "actions": 1,
                       "endpoint_map": {"ap-southeast-1": "demo-open.ap-southeast-1.aliyuncs.com",
                                        "cn-hangzhou-finance": "demo-open.aliyuncs.com"}}
    tables = catalog.build({"packages": {"demo-open": package}})
    assert tables["OWN_SIGNATURE"] == {"demo-open": "SLS"}
    assert tables["PRODUCTS"]["demo-open"] == ("2021-02-03", "RPC", "demo-open.{region}.aliyuncs.com",
                                               {"cn-hangzhou-finance": "demo-open.aliyuncs.com"})
    # A POP gateway (KMS) signs as OpenAPI does; no gateway at all is the usual case.
    pop = dict(TEAFILE, libraries={"GatewayClient": "alibabacloud:GatewayPOP:*"})
    assert extract.read_package(write_spec(tmp_path / "pop", pop))[0]["gateway"] == "pop"
    assert extract.read_package(write_spec(tmp_path / "none", spec=SPEC.replace("@spi", "@other")))[0]["gateway"] is None
    with pytest.raises(extract.ExtractError, match="no alibabacloud_<product><date> Python release"):
        extract.read_package(write_spec(tmp_path / "no-python", {"releases": {"java": "x"}}))


def test_sync_takes_every_product_of_the_index_with_the_version_oos_uses(tmp_path):
    specs = tmp_path / "specs"
    write_spec(specs / "demo-open-20210203")
    write_spec(specs / "other-20200101", {"releases": {"python": "alibabacloud_other20200101:2.0.0"}},
               SPEC.replace("2021-02-03", "2020-01-01").replace("@spi", "@other"))
    listing = ["alibabacloud-demo-open20190101\t1.0.0", "alibabacloud-demo-open20210203\t1.4.0",
               "alibabacloud-demo-open20230101 1.0.0", "alibabacloud-other20200101", "alibabacloud-other20240101",
               "alibabacloud-gone20220101", "alibabacloud-nbf20211110-21312586", "alibabacloud-tea-openapi 0.3",
               "requests 2.0", ""]
    index = sync.index_versions(listing)
    assert index == {"demo-open": ["2019-01-01", "2021-02-03", "2023-01-01"], "gone": ["2022-01-01"],
                     "other": ["2020-01-01", "2024-01-01"]}
    # The curated choice wins, then the product's default version, then the newest package.
    choices = {"other": {"version": "2020-01-01", "why": "test"}}
    assert sync.choose_version("other", index["other"], choices, {"other": "2024-01-01"}) == "2020-01-01"
    assert sync.choose_version("demo-open", index["demo-open"], {}, {"demo-open": "2021-02-03"}) == "2021-02-03"
    assert sync.choose_version("demo-open", index["demo-open"], {}, {"demo-open": "2099-01-01"}) == "2023-01-01"
    snapshot = {"packages": {"kept": {"api_version": "2018-01-01"}}, "choices": choices}
    changes = sync.sync(snapshot, index, {"demo-open": "2021-02-03"}, specs)
    assert sorted(snapshot["packages"]) == ["demo-open", "kept", "other"]
    assert snapshot["packages"]["demo-open"]["package_version"] == "1.4.0"
    assert snapshot["packages"]["other"]["api_version"] == "2020-01-01"
    assert list(snapshot["unreadable"]) == ["gone"] and "gone-20220101" in snapshot["unreadable"]["gone"]
    assert snapshot["default_versions"] == {"demo-open": "2021-02-03"}
    assert "kept: no package on the index any more, left as read" in changes


def test_snapshot_holds_every_product_of_the_index_at_the_version_oos_uses():
    """The committed snapshot is what sync makes of its index: every product with a package on the index is in
    the catalogue at the chosen version, or listed as unreadable with the reason."""
    snapshot = catalog.load_snapshot()
    index, packages = snapshot["index"], snapshot["packages"]
    assert len(index) > 500 and len(packages) > 490
    assert set(packages) <= set(index)
    assert set(snapshot["unreadable"]) == set(index) - set(packages)
    for product, versions in index.items():
        if product in packages:
            chosen = sync.choose_version(product, versions, snapshot["choices"], snapshot["default_versions"])
            assert packages[product]["api_version"].replace("-", "") == chosen.replace("-", ""), product
    assert all(len(index[product]) > 1 for product in snapshot["default_versions"])


def test_the_module_reads_back_every_product_of_the_tables():
    """The generated text entries parse back to exactly the tables the generator built."""
    tables = catalog.build(catalog.load_snapshot())
    assert products.known_products() == list(tables["PRODUCTS"])
    for code, entry in tables["PRODUCTS"].items():
        assert products.catalogued(code) == entry, code
    assert products.catalogued("no-such-product") is None


def test_an_alias_may_take_a_product_code_only_saying_why():
    snapshot = catalog.load_snapshot()
    assert "fc" in snapshot["packages"] and "fc" not in catalog.build(snapshot)["PRODUCTS"]
    del snapshot["aliases"]["fc"]["shadows"]
    with pytest.raises(ValueError, match="'fc' is also a product code"):
        catalog.build(snapshot)
