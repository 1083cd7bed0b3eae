"""A Loop over a nested template runs as a play of one in-memory host per item (docs/converter.md): an
ansible-playbook ``--limit`` that leaves those hosts out must fail the run, never end it Success with no item run."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import REPO_ROOT, run_playbook

TEMPLATE = REPO_ROOT / "tests" / "integration" / "core_templates" / "loop-nested-products.yml"


@pytest.mark.heavy(15)
def test_items_left_out_by_limit_fail_the_run(tmp_path, emulator):
    instances = [i["InstanceId"] for i in emulator.instances()[:2]]
    playbook = tmp_path / "snapshots.yml"
    playbook.write_text(convert(str(TEMPLATE)).playbook_yaml("snapshots"))
    result = run_playbook(playbook, emulator.env, extra_vars={"instanceIds": instances}, args=("--limit", "localhost"))
    assert result.rc != 0, result.output[-3000:]
    assert "2 of 2 items did not run" in result.output and "--limit" in result.output, result.output[-3000:]
    assert "CreateSnapshot" not in [r["action"] for r in emulator.control("requests")]
    # Without the limit the same run snapshots both disks.
    result = run_playbook(playbook, emulator.env, extra_vars={"instanceIds": instances})
    assert result.rc == 0, result.output[-3000:]
    assert [r["action"] for r in emulator.control("requests")].count("CreateSnapshot") == 2
