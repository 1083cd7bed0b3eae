"""``hosts=`` binds a template's ECS SelectTargets to inventory hosts (docs/converter.md): the converted playbook acts on
the instances of those hosts, whatever the template's Targets would list through the API."""
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import REPO_ROOT, run_playbook

TEMPLATE = REPO_ROOT / "tests" / "integration" / "core_templates" / "command-fleet.yml"


@pytest.mark.heavy(20)
def test_select_targets_are_the_instances_of_the_inventory_hosts(tmp_path, emulator):
    instances = [i["InstanceId"] for i in emulator.instances()]
    converted = convert(str(TEMPLATE), hosts="web")
    playbook = tmp_path / "fleet.yml"
    playbook.write_text(converted.playbook_yaml("fleet"))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {
        "web": {"hosts": {"web1": {"instance_id": instances[0]}, "web2": {"instance_id": instances[1]}}},
        "db": {"hosts": {"db1": {"instance_id": instances[2]}}}}}}))
    # The Targets name another instance: bound to the inventory, the template acts on the web hosts only.
    targets = {"Type": "ResourceIds", "ResourceIds": [instances[5]]}
    result = run_playbook(playbook, emulator.env, inventory=inventory, extra_vars={"targets": targets})
    assert result.rc == 0, result.output[-3000:]
    reports = re.findall(r'"reports": \[(.*?)\]', result.stdout, re.S)
    assert reports and reports[-1].count("healthy") == 2, result.stdout[-3000:]
    commanded = {value for r in emulator.control("requests") if r["action"] in ("RunCommand", "InvokeCommand")
                 for key, value in (r.get("params") or {}).items() if key.startswith("InstanceId")}
    assert commanded == set(instances[:2]), commanded
