"""Loops in the natural writer (issue #14), run as a user runs a converted playbook.

Whether the loops behave as OOS does (items launched, MaxErrors, Loop.Outputs) is the differential test's
``natural-loops*`` cases; here: template text in a loop stays data (hostile Items, per-item parameters,
ValueSelectors, through ``loop:`` and through the role ``alicloud.oos.oos_loop_item``), ``--check`` changes
nothing, a loop over no items succeeds with empty outputs, and no item is launched after a failure.
"""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.conftest import BIN, REPO_ROOT, run_playbook
from tests.integration.converter import hostile

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert

RATE = {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0}


def looped(name: str, parameters: dict, rate, **loop) -> dict:
    return {"Name": name, "Action": "ACS::ExecuteAPI",
            "Properties": {"Service": "ECS", "API": "DescribeRegions", "Parameters": parameters},
            "Loop": {"RateControl": rate, **loop}}


def hostile_template(texts: list) -> dict:
    seen = {"AggregateType": "Fn::ListJoin", "AggregateField": "seen"}
    outputs = {"seen": {"Type": "String", "ValueSelector": json.dumps(texts[0])}}
    return {
        "FormatVersion": "OOS-2019-06-01",
        "Parameters": {"texts": {"Type": "List", "Default": texts},
                       "rateControl": {"Type": "Json", "Default": RATE}},
        "Tasks": [
            # MaxErrors 0 as written: a loop that skips the items after a failure, over a literal list of texts.
            dict(looped("literalItems", {"literal_item": "{{ ACS::TaskLoopItem }}",
                                         **{f"literal_text_{i}": t for i, t in enumerate(texts)}},
                        RATE, Items=texts, Outputs={"seen": seen}), Outputs=outputs),
            # MaxErrors from a parameter: each item through the role, over a parameter's Default.
            dict(looped("parameterItems", {"role_item": "{{ ACS::TaskLoopItem }}",
                                           **{f"role_text_{i}": t for i, t in enumerate(texts)}},
                        "{{ rateControl }}", Items="{{ texts }}", Outputs={"seen": seen}), Outputs=outputs),
        ],
        "Outputs": {"literal": {"Type": "List", "Value": "{{ literalItems.seen }}"},
                    "role": {"Type": "List", "Value": "{{ parameterItems.seen }}"}},
    }


def sent(emulator) -> dict:
    found: dict = {}
    for request in emulator.control("requests"):
        for name, value in request["params"].items():
            found.setdefault(name, []).append(value)
    return found


def written(template: dict, tmp_path, name: str = "playbook.yml"):
    result = convert(content=template)
    assert not result.handed_over, "the natural writer declined the template"
    path = tmp_path / name
    path.write_text(result.playbook_yaml(name))
    return path


def shown_outputs(stdout: str) -> dict:
    match = re.search(r"TASK \[Show the template outputs\].*?\nok: \[localhost\] => (\{.*?\n\})", stdout, re.S)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))["msg"]


@pytest.fixture
def cloud(emulator_factory):
    return emulator_factory("--instances", "1", "--seed", "5", "--transition-seconds", "0.1")


def test_loop_text_is_data_through_loop_and_through_the_role(tmp_path, cloud):
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    texts = [s.at(marker_dir) for s in hostile.STRINGS]
    playbook = written(hostile_template(texts), tmp_path)
    text = playbook.read_text()
    assert "include_role" in text and "literal_items_result is not failed" in text   # both forms are in it
    syntax = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(playbook)], cwd=REPO_ROOT,
                            env=cloud.env, capture_output=True, text=True, timeout=300, check=False)
    assert syntax.returncode == 0, (syntax.stdout + syntax.stderr)[-3000:]

    result = run_playbook(playbook, cloud.env)
    assert result.rc == 0, result.output[-5000:]
    assert sorted(p.name for p in marker_dir.iterdir()) == [], "the run evaluated template text"
    requests = sent(cloud)
    # One request per item, in item order, each item and each literal exactly as the template wrote it.
    assert requests["literal_item"] == texts
    assert requests["role_item"] == texts
    for position in ("literal_text", "role_text"):
        assert [requests[f"{position}_{i}"] for i in range(len(texts))] == [[t] * len(texts) for t in texts]
    assert shown_outputs(result.stdout)["outputs"] == {"literal": [texts[0]] * len(texts),
                                                       "role": [texts[0]] * len(texts)}


def tag_template() -> dict:
    return {
        "FormatVersion": "OOS-2019-06-01",
        "Parameters": {"instanceIds": {"Type": "List"}, "rateControl": {"Type": "Json", "Default": RATE}},
        "Tasks": [{"Name": "tagEach", "Action": "ACS::ExecuteAPI",
                   "Properties": {"Service": "ECS", "API": "TagResources",
                                  "Parameters": {"RegionId": "{{ ACS::RegionId }}", "ResourceType": "instance",
                                                 "ResourceId": ["{{ ACS::TaskLoopItem }}"],
                                                 "Tag": [{"Key": "looped", "Value": "yes"}]}},
                   "Loop": {"Items": "{{ instanceIds }}", "RateControl": "{{ rateControl }}",
                            "Outputs": {"answers": {"AggregateType": "Fn::ListJoin", "AggregateField": "answer"}}},
                   "Outputs": {"answer": {"Type": "Boolean", "ValueSelector": ". != null"}}},
                  {"Name": "markEach", "Action": "ACS::ExecuteAPI",
                   "Properties": {"Service": "ECS", "API": "TagResources",
                                  "Parameters": {"RegionId": "{{ ACS::RegionId }}", "ResourceType": "instance",
                                                 "ResourceId": ["{{ ACS::TaskLoopItem }}"],
                                                 "Tag": [{"Key": "marked", "Value": "yes"}]}},
                   "Loop": {"Items": "{{ instanceIds }}"}}],
        "Outputs": {"answers": {"Type": "List", "Value": "{{ tagEach.answers }}"}},
    }


def test_check_mode_tags_nothing_and_a_loop_over_no_items_succeeds(tmp_path, cloud):
    playbook = written(tag_template(), tmp_path)
    instance = cloud.instances()[0]["InstanceId"]
    checked = run_playbook(playbook, cloud.env, extra_vars={"instanceIds": [instance]}, args=("--check",))
    assert checked.rc == 0, checked.output[-5000:]
    assert cloud.instances()[0]["Tags"].keys() == {"App", "Env"}
    assert "TagResources" not in {r["action"] for r in cloud.control("requests")}

    empty = run_playbook(playbook, cloud.env, extra_vars={"instanceIds": []})
    assert empty.rc == 0, empty.output[-5000:]
    assert shown_outputs(empty.stdout) == {"status": "Success", "outputs": {"answers": []}}

    tagged = run_playbook(playbook, cloud.env, extra_vars={"instanceIds": [instance]})
    assert tagged.rc == 0, tagged.output[-5000:]
    assert shown_outputs(tagged.stdout)["outputs"] == {"answers": [True]}
    assert {k: v for k, v in cloud.instances()[0]["Tags"].items() if k in ("looped", "marked")} == {
        "looped": "yes", "marked": "yes"}


def test_items_run_one_after_the_other_and_none_is_launched_after_a_failure_whatever_the_concurrency(tmp_path, cloud):
    """OOS with Concurrency 3 may still run the items in flight when one fails; the playbook never launches an
    item after the failure: it runs no item OOS would not have launched (docs/converter.md)."""
    playbook = written(tag_template(), tmp_path)
    instance = cloud.instances()[0]["InstanceId"]
    run = run_playbook(playbook, cloud.env, extra_vars={
        "instanceIds": [instance, "i-doesnotexist01", instance],
        "rateControl": {"Mode": "Concurrency", "Concurrency": 3, "MaxErrors": 0}})
    assert run.rc != 0 and "OOS execution Failed: task tagEach failed: 1 of 3 items failed (MaxErrors allows 0; 1 not started): " \
        in run.output, run.output[-3000:]
    tagged = [r for r in cloud.control("requests") if r["action"] == "TagResources"]
    assert [r["params"]["ResourceId.1"] for r in tagged] == [instance, "i-doesnotexist01"]


PAUSES = REPO_ROOT / "tests" / "integration" / "core_templates" / "loop-pauses-between-batches.yml"


@pytest.mark.heavy(30)
def test_a_pause_between_batches_asked_by_the_run_is_refused_before_the_loop_starts(tmp_path, emulator):
    """A RateControl parameter asking for a pause between batches: the converted loop cannot wait for a person, so it
    refuses to start (never runs the batches without the pause asked for); the modules refuse it the same way."""
    playbook = tmp_path / "pauses.yml"
    result = convert(str(PAUSES))
    assert set(result.handed_over) == {"tagInBatches", "readInBatches"}   # written pauses: OOS runs those tasks
    playbook.write_text(result.playbook_yaml("pauses"))
    ids = [i["InstanceId"] for i in emulator.instances()[:2]]
    rate = {"Mode": "Batch", "Batch": [1], "MaxErrors": 1, "BatchPauseOption": "FirstBatchPause"}
    run = run_playbook(playbook, emulator.env,
                       extra_vars={"instanceIds": ids, "pauseOption": "Automatic", "rateControl": rate})
    assert run.rc != 0
    assert "Loop.RateControl.BatchPauseOption: FirstBatchPause pauses between batches until a person resumes" in run.output
    assert "DescribeInstanceStatus" not in [r["action"] for r in emulator.control("requests")]
    # A RateControl without a pause runs the same loop.
    run = run_playbook(playbook, emulator.env, extra_vars={
        "instanceIds": ids, "pauseOption": "Automatic", "rateControl": dict(rate, BatchPauseOption="Automatic")})
    assert run.rc == 0, run.output[-3000:]
    assert [r["action"] for r in emulator.control("requests")].count("DescribeInstanceStatus") == 2
