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


PAUSED_CHILD = {
    "FormatVersion": "OOS-2019-06-01", "Parameters": {"ids": {"Type": "List"}},
    "Tasks": [
        {"Name": "eachOne", "Action": "ACS::Template", "OnError": "cleanup",
         "Properties": {"TemplateContent": {
             "FormatVersion": "OOS-2019-06-01", "Parameters": {"x": {"Type": "String"}},
             "Tasks": [{"Name": "tagBefore", "Action": "ACS::ExecuteAPI", "Properties": {
                 "Service": "ECS", "API": "TagResources", "Parameters": {
                     "ResourceType": "instance", "ResourceId": ["{{ x }}"], "Tag": [{"Key": "c", "Value": "before"}]}}},
                 {"Name": "gate", "Action": "ACS::Pause"},
                 {"Name": "stopIt", "Action": "ACS::ExecuteAPI", "Properties": {
                     "Service": "ECS", "API": "StopInstance", "Parameters": {"InstanceId": "{{ x }}"}}}]},
             "Parameters": {"x": "{{ ACS::TaskLoopItem }}"}},
         "Loop": {"Items": "{{ ids }}", "RateControl": {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 1}}},
        {"Name": "cleanup", "Action": "ACS::ExecuteAPI", "Properties": {
            "Service": "ECS", "API": "StartInstance", "Parameters": {"InstanceId": "{{ ids }}"}}}]}


@pytest.mark.heavy(20)
def test_a_cancelled_item_starts_no_further_item_and_no_on_error(tmp_path, emulator):
    """Found by the attack on the one-writer converter (H2): a Pause cancelled in the first item ended the run
    Cancelled, but the second item still started (the cancellation counted as one failure under MaxErrors 1)."""
    instances = [i["InstanceId"] for i in emulator.instances()[:2]]
    result = convert(content=PAUSED_CHILD)
    assert not result.handed_over and len(result.plays) == 3
    playbook = tmp_path / "paused.yml"
    playbook.write_text(result.playbook_yaml("paused"))
    run = run_playbook(playbook, emulator.env, extra_vars={"ids": instances, "oos_pause_decision": "cancel"})
    assert run.rc != 0 and "OOS execution Cancelled: ACS::Pause gate was not resumed" in run.output, run.output[-3000:]
    sent = [(r["action"], repr(r["params"])) for r in emulator.control("requests")]
    assert [action for action, _params in sent] == ["TagResources"], sent   # the first item's, then nothing
    assert instances[0] in sent[0][1]
