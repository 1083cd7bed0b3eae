"""Every product the shared OOS templates call resolves: converted playbooks never fail for an unknown product.

Reads ``../shared/oos-templates`` (skipped when absent). Two views of the same question:

* every ``Service`` of every ExecuteAPI/WaitFor/CheckFor in any template file (public templates, the cloud
  product actions they nest, loops included) is a product of the catalogue or a service only OOS can call;
* converting every public template as a user does, each ``oos_execute_api`` task of the playbook resolves its
  product to an API version and an endpoint, and the only refusals for a ``Service`` are OOS-internal ones.
"""
from __future__ import annotations

import collections
import json
import sys

import pytest
import yaml

from tests.conftest import REPO_ROOT, SHARED

sys.path.insert(0, str(REPO_ROOT / ".collections"))
from ansible_collections.alicloud.oos.plugins.module_utils import products  # noqa: E402
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError  # noqa: E402
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import (  # noqa: E402
    ConversionError, convert)

CORPUS = SHARED / "oos-templates"
PUBLIC = CORPUS / "PublicTemplates"
ACTIONS = CORPUS / "CloudProductActions"
API_ACTIONS = {"acs::executeapi", "acs::waitfor", "acs::checkfor"}
MODULE = "alicloud.oos.oos_execute_api"
# Services the OOS templates call that only OOS itself can reach (its own RDC actions).
INTERNAL = {"rdc-inner", "devops-inner"}


def _need_corpus():
    if not PUBLIC.is_dir():
        print(f"\nNOTICE: corpus product check skipped: {CORPUS} is absent")
        pytest.skip("../shared/oos-templates absent")


def template_services(node):
    """Every ``Service`` property of an API action anywhere in a template document."""
    if isinstance(node, dict):
        if str(node.get("Action", "")).lower() in API_ACTIONS and isinstance(node.get("Properties"), dict):
            yield node["Properties"].get("Service")
        for value in node.values():
            yield from template_services(value)
    elif isinstance(node, list):
        for value in node:
            yield from template_services(value)


def playbook_services(node):
    """The ``service`` argument of every oos_execute_api task of converted plays."""
    if isinstance(node, dict):
        if isinstance(node.get(MODULE), dict):
            yield node[MODULE].get("service")
        for value in node.values():
            yield from playbook_services(value)
    elif isinstance(node, list):
        for value in node:
            yield from playbook_services(value)


def load(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def test_every_service_named_in_any_template_is_known():
    _need_corpus()
    named = collections.Counter()
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".yml", ".yaml", ".json"):
            named.update(s for s in template_services(load(path)) if isinstance(s, str))
    assert len(named) > 30, "the corpus should name dozens of Service spellings"
    unknown = {s: products.unresolvable_service(s) for s in named
               if products.unresolvable_service(s) and products.normalize_product(s) not in INTERNAL}
    oos_only = {products.normalize_product(s) for s in named if products.oos_only_service(s)}
    assert oos_only <= {"oss"}, oos_only
    print(f"\n{len(named)} Service spellings, {sum(named.values())} API actions; "
          f"{len({products.normalize_product(s) for s in named})} products")
    assert unknown == {}
    for service in named:
        code = products.normalize_product(service)
        if code not in INTERNAL and not products.oos_only_service(service):
            assert products.resolve_endpoint(service, "cn-hangzhou", endpoint="http://127.0.0.1:1").version


def test_converted_corpus_never_fails_for_an_unknown_product():
    """Item 5 of "Converted templates run out of the box", as a fresh install converts (no
    ``action_templates_path``): the count of converted templates whose run would fail for an unknown product is
    0, no refusal asks for a local folder of action definitions, every refusal naming a Service is an
    OOS-internal one, and calls only OOS can make (OSS) are delegated to it."""
    _need_corpus()
    would_fail, refused, needs_endpoint, computed = {}, {}, collections.defaultdict(set), 0
    with_api, converted, delegated_oss, asks_for_folder, other_refusals = 0, 0, 0, [], {}
    files = sorted(PUBLIC.glob("*.yml"))
    for path in files:
        try:
            result = convert(str(path), template_paths=[str(PUBLIC)])
        except ConversionError as error:
            asks_for_folder += [p for p in error.problems if "action_templates_path" in p]
            other_refusals[path.name] = [p for p in error.problems if "FormatVersion 'OOS-2019-06-01-State'" not in p
                                         and not p.startswith("Tasks is missing")]
            about_services = [p for p in error.problems if p.startswith("Service ")]
            if about_services:
                refused[path.name] = about_services
            continue
        converted += 1
        delegated_oss += any(products.oos_only_service(s) for s in template_services(load(path)))
        services = list(playbook_services(result.data()))
        with_api += bool(services)
        for service in services:
            if not isinstance(service, str) or "{{" in service:
                computed += 1  # SelectTargets requests and computed names: resolved at run time
                continue
            try:
                products.resolve_endpoint(service, "cn-hangzhou")
            except AlicloudInputError as error:
                if error.field == "endpoint":
                    needs_endpoint[products.normalize_product(service)].add(path.name)
                else:
                    would_fail.setdefault(path.name, []).append(f"{service}: {error.message}")
    print(f"\n{converted}/{len(files)} convert with no action_templates_path; {delegated_oss} delegate OSS calls")
    assert asks_for_folder == []
    # Only State-format documents are refused: every other construct runs in the playbook or is delegated.
    assert {name: problems for name, problems in other_refusals.items() if problems} == {}
    assert delegated_oss >= 6
    print(f"\n{with_api} converted templates call APIs; would fail for an unknown product: {len(would_fail)}; "
          f"refused at conversion for a Service: {len(refused)}; computed services: {computed}")
    for code, names in sorted(needs_endpoint.items()):
        print(f"  {code}: endpoint needed (account-specific or no SDK rule) in {len(names)} templates")
    assert with_api > 100
    assert would_fail == {}
    for name, problems in refused.items():
        assert all("internal to OOS" in p for p in problems), (name, problems)
    assert set(needs_endpoint) <= {"fc-open"}, "only FC's account-specific endpoint may need an endpoint option"
