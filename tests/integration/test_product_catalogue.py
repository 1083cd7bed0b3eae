"""Every Alibaba Cloud product resolves, as a user meets it: a converted template naming products beyond the
shared corpus runs its calls, and oos_execute_api calls such a product with no version or endpoint option.

The emulator does not emulate these products: it answers their actions as the product's gateway answers an
action it does not serve (404 InvalidAction.NotFound) and names the product from the request's API version, so
a call that reaches it shows the catalogue gave the product's SDK version; an unknown product never reaches it.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook

ONE_CALL = Path(__file__).resolve().parent / "execute_api" / "one_call.yml"

TEMPLATE = """
FormatVersion: OOS-2019-06-01
Description: Calls products the shared templates never name
Tasks:
  - Name: domains
    Action: ACS::ExecuteAPI
    Properties: {Service: Alidns, API: DescribeDomains, Parameters: {PageSize: 10}}
  - Name: fileSystems
    Action: ACS::ExecuteAPI
    Properties: {Service: NAS, API: DescribeFileSystems, Parameters: {}}
  - Name: loadBalancers
    Action: ACS::ExecuteAPI
    Properties: {Service: nlb, API: ListLoadBalancers, Parameters: {}}
  - Name: projects
    Action: ACS::ExecuteAPI
    Properties: {Service: log, API: ListProject, Method: GET, URI: /, Parameters: {}}
"""


class PlaybookLoader(yaml.SafeLoader):
    """Reads a playbook's ``!unsafe`` values as the plain values they mark."""


PlaybookLoader.add_constructor("!unsafe", lambda loader, node: {
    yaml.ScalarNode: loader.construct_scalar, yaml.SequenceNode: loader.construct_sequence,
    yaml.MappingNode: loader.construct_mapping}[type(node)](node))


@pytest.fixture
def cloud(emulator_factory):
    return emulator_factory("--instances", "1", "--seed", "4")


def convert(src: Path, dest: Path) -> subprocess.CompletedProcess:
    """As a user converts: the collection's convert_template playbook."""
    return subprocess.run([str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={src}",
                           "-e", f"dest={dest}"], cwd=REPO_ROOT, env=clean_environment(), capture_output=True,
                          text=True, timeout=300, check=False)


def module_calls(node, module="alicloud.oos.oos_execute_api"):
    if isinstance(node, dict):
        if isinstance(node.get(module), dict):
            yield node[module]
        for value in node.values():
            yield from module_calls(value, module)
    elif isinstance(node, list):
        for value in node:
            yield from module_calls(value, module)


@pytest.mark.heavy(30)
def test_a_template_naming_products_beyond_the_corpus_converts_and_calls_them(tmp_path, cloud):
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(TEMPLATE)
    proc = convert(src, dest)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    text = dest.read_text()
    assert "not a product alicloud.oos knows" not in text
    calls = list(module_calls(yaml.load(text, Loader=PlaybookLoader)))
    # No version or endpoint in the playbook: the catalogue knows them, as OOS does.
    assert [(c["service"], c["api"]) for c in calls] == [
        ("Alidns", "DescribeDomains"), ("NAS", "DescribeFileSystems"), ("nlb", "ListLoadBalancers")]
    assert not any("version" in c or "endpoint" in c for c in calls)
    # SLS signs its own way: OOS makes that call (delegated), as it does for OSS.
    assert "# Tasks[3] (ACS::ExecuteAPI) is delegated" in text
    result = run_playbook(dest, cloud.env)
    assert "Traceback" not in result.output, result.output[-3000:]
    # The first call reached the product's gateway with the SDK's API version, which answered it has no such
    # action (the emulator does not emulate Alidns): the failure is the cloud's answer, not an unknown product.
    assert result.rc != 0 and "InvalidAction.NotFound" in result.output, result.output[-3000:]
    assert cloud.stats()["calls_by_product"] == {"alidns": {"DescribeDomains": 1}}


@pytest.mark.parametrize("service, api, product", [("alidns", "DescribeDomains", "alidns"),
                                                   ("NAS", "DescribeFileSystems", "nas"),
                                                   ("cloudfw", "DescribeVpcFirewallList", "cloudfw")])
def test_oos_execute_api_calls_any_product_with_its_sdk_version(cloud, service, api, product):
    call = {"service": service, "api": api, "parameters": {"RegionId": "cn-hangzhou"}}
    result = run_playbook(ONE_CALL, cloud.env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert (result["error"]["code"], result["error"]["http_status"]) == ("InvalidAction.NotFound", 404)
    assert result["attempts"] == 1
    assert cloud.stats()["calls_by_product"] == {product: {api: 1}}


def test_a_product_that_signs_its_own_way_is_refused_before_sending(cloud):
    call = {"service": "log", "api": "ListProject", "method": "GET", "uri": "/"}
    result = run_playbook(ONE_CALL, cloud.env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert "SLS signs requests with its own scheme" in result["msg"] and "alicloud.oos.oos_execution" in result["msg"]
    assert cloud.stats()["total_calls"] == 0
