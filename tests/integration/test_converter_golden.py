"""Golden end-to-end tests: the seed workflows converted and run with ansible-playbook against the emulator.

Each seed workflow runs twice: from the project's own core template (tests/integration/core_templates/, written for
this project: it runs in any clone, with no action templates) and from the seed itself (read from ../shared/seeds,
skipped when absent): 000 lab describe/stop/start (JSON), 003 bulk reboot with approval, 004 ACS-ECS-UpdateImage.
Plus our own fleet template for loops.
"""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import BIN, REPO_ROOT, SHARED, run_playbook, start_emulator
from tests.integration.converter import seeds
from tests.integration.converter.terminal import controlling_terminal, read_until

TEMPLATES = Path(__file__).parent / "converter" / "templates"
CORE = Path(__file__).parent / "core_templates"
ACTIONS = SHARED / "oos-templates" / "CloudProductActions"
WEB_TARGETS = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "web"}]}

needs_seeds = pytest.mark.skipif(seeds.seed_path("003") is None or not ACTIONS.is_dir(),
                                 reason="../shared/seeds or ../shared/oos-templates absent: golden seed tests skipped")
SOURCES = [pytest.param("core", id="core"), pytest.param("seed", id="seed", marks=needs_seeds)]


@pytest.fixture(scope="module")
def cloud():
    """One emulator for the module (6 instances, fast transitions), reset before each test."""
    emulator = start_emulator("--instances", "6", "--seed", "3", "--transition-seconds", "0.2")
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator6(cloud):
    cloud.reset(instances=6, seed=3)
    return cloud


def write_playbook(tmp_path: Path, content, name: str, source: str = "seed", **options) -> Path:
    """Convert as a user would: core templates with no action templates at all, seeds with ../shared's."""
    # Without ../shared there is no folder to give (a missing folder is refused): the tests that need it are skipped.
    actions = str(ACTIONS) if source != "core" and ACTIONS.is_dir() else None
    result = convert(content=content, action_templates_path=actions, **options)
    path = tmp_path / f"{name}.yml"
    path.write_text(result.playbook_yaml(name))
    return path


def shown_outputs(stdout: str) -> dict:
    """The {'status', 'outputs'} mapping printed by the converted playbook's summary task."""
    match = re.search(r'TASK \[Show the template outputs\].*?"msg": (\{.*?\n    \})', stdout, re.S)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))


def web_instances(emulator) -> list:
    return [i for i in emulator.instances() if i["Tags"].get("App") == "web"]


def security_group(emulator) -> str:
    from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth
    from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
    client = AlicloudClient(resolve_auth({}, emulator.env), "ecs", region=emulator.region, endpoint=emulator.url)
    body = client.call("DescribeInstances", {"RegionId": emulator.region})
    return body["Instances"]["Instance"][0]["SecurityGroupIds"]["SecurityGroupId"][0]


# ------------------------------------------------------------------------------------------------
# seed 000: describe, stop, start (core: describe-stop-start.json)

def lab(source: str):
    """(template, name, extra vars for an instance, output names)."""
    if source == "core":
        return (json.loads((CORE / "describe-stop-start.json").read_text()), "Core-DescribeStopStart",
                lambda instance: {"instanceId": instance, "cycle": True}, {"before", "after"})
    return (seeds.lab_template(), "Lab-DescribeStopStart",
            lambda instance: {"RegionId": "cn-hangzhou", "InstanceId": instance, "DoStopStart": True}, {"Before", "After"})


@pytest.mark.parametrize("source", SOURCES)
def test_lab_describe_stop_start(tmp_path, emulator6, source):
    template, name, extra_vars, output_names = lab(source)
    pb = write_playbook(tmp_path, template, "lab", source, template_name=name)
    instance = emulator6.instances()[0]["InstanceId"]
    emulator6.control("stats/reset", {}, method="POST")
    audit_dir = tmp_path / "audit"
    env = emulator6.env | {"ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit", "ALICLOUD_OOS_AUDIT_DIR": str(audit_dir)}
    result = run_playbook(pb, env, extra_vars=extra_vars(instance))
    assert result.rc == 0, result.output[-3000:]
    # The audit record names the template the playbook was converted from, as an OOS execution would.
    (record,) = [json.loads(p.read_text()) for p in audit_dir.glob("exec-*.json")]
    assert record["template_name"] == name and record["status"] == "Success"
    calls = emulator6.stats()["calls"]
    assert calls.get("StopInstance", 0) + calls.get("StopInstances", 0) == 1
    assert calls.get("StartInstance", 0) + calls.get("StartInstances", 0) == 1
    assert calls.get("DescribeInstances", 0) >= 2
    summary = shown_outputs(result.stdout)
    assert summary["status"] == "Success" and set(summary["outputs"]) == output_names
    assert all(isinstance(v, str) for v in summary["outputs"].values())   # declared Type String
    if source == "core":
        assert summary["outputs"] == {"before": "Running", "after": "Running"}


# ------------------------------------------------------------------------------------------------
# seed 003: bulk reboot with approval (core: approve-then-reboot.yml)

def approval_template(source: str) -> str:
    return (CORE / "approve-then-reboot.yml").read_text() if source == "core" else seeds.approval_template()


def approval_vars(webhook, source: str = "seed", **extra) -> dict:
    values = {"targets": WEB_TARGETS, "rateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0}}
    values["approvalWebhook" if source == "core" else "webHookUrl"] = webhook.url
    values.update(extra)
    return values


def reboot_calls(emulator) -> int:
    calls = emulator.stats()["calls"]
    return calls.get("RebootInstances", 0) + calls.get("RebootInstance", 0)


@pytest.mark.parametrize("source", SOURCES)
def test_approval_given_ahead_of_time_notifies_then_reboots_in_waves(tmp_path, emulator6, webhook, source):
    pb = write_playbook(tmp_path, approval_template(source), "approval", source)
    web = web_instances(emulator6)
    result = run_playbook(pb, emulator6.env, extra_vars=approval_vars(webhook, source, oos_approval_decision="approve"))
    assert result.rc == 0, result.output[-3000:]
    assert len(webhook.posts) == 1
    body = webhook.posts[0]["body"]
    content = body["text"]["content"]
    # The targets' names, the region and the execution id are interpolated into the request.
    for instance in web:
        assert instance["InstanceName"] in content
    if source == "core":
        assert body["msgtype"] == "text" and content.startswith("Reboot [")
        assert "in cn-hangzhou? (execution exec-" in content
        expected_outputs = {"rebooted": [i["InstanceId"] for i in web]}
    else:
        # {{webhookUrl}} resolved case-insensitively to webHookUrl.
        assert body["msgtype"] == "text" and content.startswith("Notify: please approve")
        assert "sent by cn-hangzhou oos exec-" in content
        assert body["at"] == {"atMobiles": ["12345678901"], "isAtAll": "false"}   # whole references keep their type
        expected_outputs = {"instanceIds": [i["InstanceId"] for i in web]}
    # 4 web instances, Concurrency 2: two waves of RebootInstances.
    assert reboot_calls(emulator6) == 2
    summary = shown_outputs(result.stdout)
    assert summary == {"status": "Success", "outputs": expected_outputs}
    assert all(i["Status"] == "Running" for i in emulator6.instances())


@pytest.mark.parametrize("source", SOURCES)
def test_approval_rejected_cancels_and_reboots_nothing(tmp_path, emulator6, webhook, source):
    pb = write_playbook(tmp_path, approval_template(source), "approval", source)
    result = run_playbook(pb, emulator6.env, extra_vars=approval_vars(webhook, source, oos_approval_decision="reject"))
    assert result.rc != 0
    task = "askBeforeReboot" if source == "core" else "approveRestart"
    assert f"OOS execution Cancelled: approval {task} was rejected" in result.output
    assert len(webhook.posts) == 1
    assert reboot_calls(emulator6) == 0
    assert "Traceback" not in result.output


@pytest.mark.parametrize("source", SOURCES)
def test_approval_timeout_rejects(tmp_path, emulator6, webhook, source):
    pb = write_playbook(tmp_path, approval_template(source), "approval", source)
    result = run_playbook(pb, emulator6.env, extra_vars=approval_vars(webhook, source, oos_approval_timeout=1))
    assert result.rc != 0
    assert "Cancelled" in result.output and "rejected" in result.output
    assert reboot_calls(emulator6) == 0


@pytest.mark.parametrize("source", SOURCES)
def test_approval_at_the_interactive_prompt(tmp_path, emulator6, webhook, source):
    """Drive ansible-playbook through a pseudo-terminal: nothing is rebooted until the operator types approve."""
    pb = write_playbook(tmp_path, approval_template(source), "approval", source)
    evars = approval_vars(webhook, source)
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), str(pb), "-e", json.dumps(evars)], cwd=REPO_ROOT,
                            env=emulator6.env, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            preexec_fn=controlling_terminal)
    os.close(slave)
    seen = bytearray()
    try:
        assert read_until(master, b"type approve or reject", time.monotonic() + 240, seen), seen.decode(errors="replace")[-3000:]
        time.sleep(0.5)
        # At the prompt: the notification went out, nothing was rebooted yet.
        assert len(webhook.posts) == 1
        assert reboot_calls(emulator6) == 0
        os.write(master, b"approve\r")
        read_until(master, b"PLAY RECAP", time.monotonic() + 240, seen)
        read_until(master, b"\x00never", time.monotonic() + 5, seen)   # drain the recap
        assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert reboot_calls(emulator6) == 2


# ------------------------------------------------------------------------------------------------
# seed 004: ACS-ECS-UpdateImage (core: update-image.yml)

def update_image(source: str):
    """(template, the failing task's name, extra vars builder)."""
    def extra_vars(emulator, command: str, image_name: str) -> dict:
        instance = emulator.instances()[0]
        network = {"securityGroupId": security_group(emulator),
                   "vSwitchId": emulator.control(f"instances/{instance['InstanceId']}").get("VSwitchId")}
        if source == "core":
            return {"baseImageId": "aliyun_3_x64_20G_alibase_20240101.vhd", "instanceType": "ecs.g6.large",
                    "patchScript": command, "newImageName": image_name, **network}
        return {"sourceImageId": "aliyun_3_x64_20G_alibase_20240101.vhd", "instanceType": "ecs.g6.large",
                "commandContent": command, "commandType": "RunShellScript", "targetImageName": image_name, **network}

    if source == "core":
        return (CORE / "update-image.yml").read_text(), "applyPatch", extra_vars
    return seeds.update_image_template(), "runCommand", extra_vars


UPDATE_IMAGE_SOURCES = [pytest.param("core", id="core"),
                        pytest.param("seed", id="seed", marks=needs_seeds)]


@pytest.mark.parametrize("source", UPDATE_IMAGE_SOURCES)
def test_update_image_builds_an_image_and_deletes_the_temporary_instance(tmp_path, emulator6, source):
    template, _unused, extra_vars = update_image(source)
    pb = write_playbook(tmp_path, template, "update_image", source)
    before = {i["InstanceId"] for i in emulator6.instances()}
    result = run_playbook(pb, emulator6.env, extra_vars=extra_vars(
        emulator6, "echo patched > patched.txt; echo update-ok", "golden-image-1"))
    assert result.rc == 0, result.output[-3000:]
    summary = shown_outputs(result.stdout)
    images = [i for i in emulator6.control("images") if i.get("ImageName") == "golden-image-1"]
    assert len(images) == 1
    assert summary["status"] == "Success" and summary["outputs"]["imageId"] == images[0]["ImageId"]
    assert {i["InstanceId"] for i in emulator6.instances()} == before          # temporary instance deleted
    invocations = emulator6.control("invocations")
    assert [r["Output"] for inv in invocations for r in inv["Instances"]] == ["update-ok\n"]
    calls = emulator6.stats()["calls"]
    assert calls.get("RunInstances") == 1 and calls.get("CreateImage") == 1 and calls.get("DeleteInstance") == 1


@pytest.mark.parametrize("source", UPDATE_IMAGE_SOURCES)
def test_update_image_command_failure_takes_the_on_error_cleanup_path(tmp_path, emulator6, source):
    template, failing_task, extra_vars = update_image(source)
    pb = write_playbook(tmp_path, template, "update_image", source)
    before = {i["InstanceId"] for i in emulator6.instances()}
    result = run_playbook(pb, emulator6.env, extra_vars=extra_vars(emulator6, "echo broken; exit 3", "golden-image-2"))
    assert result.rc != 0
    assert f"OOS execution Failed: task {failing_task} failed" in result.output
    calls = emulator6.stats()["calls"]
    assert calls.get("DeleteInstance") == 1 and "CreateImage" not in calls and "StopInstances" not in calls
    assert {i["InstanceId"] for i in emulator6.instances()} == before          # cleanup still ran
    assert not [i for i in emulator6.control("images") if i.get("ImageName") == "golden-image-2"]
    assert "Traceback" not in result.output


# ------------------------------------------------------------------------------------------------
# loops: Concurrency and MaxErrors, observed in the emulator

def _timeline_script(log: Path) -> str:
    return (f'echo "start $(date +%s.%N)" >> {log}; sleep 1; echo "end $(date +%s.%N)" >> {log}; '
            "test ! -e fail-here")


def max_overlap(log: Path) -> int:
    events = sorted((float(t), 1 if kind == "start" else -1)
                    for kind, t in (line.split() for line in log.read_text().splitlines()))
    running = peak = 0
    for _unused, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def test_loop_honours_concurrency(tmp_path, emulator6):
    pb = write_playbook(tmp_path, (TEMPLATES / "fleet_command.yml").read_text(), "fleet")
    log = tmp_path / "timeline.log"
    result = run_playbook(pb, emulator6.env, extra_vars={"appTag": "web", "script": _timeline_script(log),
                                                         "concurrency": 2})
    assert result.rc == 0, result.output[-3000:]
    assert len(log.read_text().splitlines()) == 8          # 4 instances, start and end each
    assert max_overlap(log) == 2
    summary = shown_outputs(result.stdout)
    assert summary["status"] == "Success"
    assert summary["outputs"]["ran"] == 4 and summary["outputs"]["outputs"] == ["", "", "", ""]
    assert summary["outputs"]["instanceIds"] == [i["InstanceId"] for i in web_instances(emulator6)]


def test_loop_stops_once_max_errors_is_exceeded(tmp_path, emulator6):
    pb = write_playbook(tmp_path, (TEMPLATES / "fleet_command.yml").read_text(), "fleet")
    web = web_instances(emulator6)
    for instance in web[:2]:
        root = Path(emulator6.control(f"instances/{instance['InstanceId']}")["FileRoot"]) / "root"
        root.mkdir(parents=True, exist_ok=True)
        (root / "fail-here").write_text("x")
    log = tmp_path / "timeline.log"
    result = run_playbook(pb, emulator6.env, extra_vars={"appTag": "web", "script": _timeline_script(log),
                                                         "concurrency": 1, "maxErrors": "1"})
    assert result.rc != 0
    assert "OOS execution Failed: task runScript failed" in result.output
    # One at a time: the second failure exceeds MaxErrors 1, so the last two instances never run.
    assert len(log.read_text().splitlines()) == 4 and max_overlap(log) == 1
    assert "the command failed on 2 instance(s) (2 not started), more than MaxErrors (1) allows" in result.output
    # The execution failed at the loop: the next task (countInstances: DescribeInstances) never ran.
    requests = [r["action"] for r in emulator6.control("requests")]
    last_command = max(i for i, action in enumerate(requests) if action in ("RunCommand", "InvokeCommand"))
    assert "DescribeInstances" not in requests[last_command:], requests


def test_loop_tolerates_errors_within_max_errors(tmp_path, emulator6):
    pb = write_playbook(tmp_path, (TEMPLATES / "fleet_command.yml").read_text(), "fleet")
    failing = web_instances(emulator6)[0]
    root = Path(emulator6.control(f"instances/{failing['InstanceId']}")["FileRoot"]) / "root"
    root.mkdir(parents=True, exist_ok=True)
    (root / "fail-here").write_text("x")
    result = run_playbook(pb, emulator6.env, extra_vars={"appTag": "web", "script": "echo done; test ! -e fail-here",
                                                         "concurrency": 4, "maxErrors": "25%"})
    assert result.rc == 0, result.output[-3000:]
    summary = shown_outputs(result.stdout)
    # The failed item has no outputs: Fn::ListJoin aggregates the three that succeeded.
    assert summary["outputs"]["outputs"] == ["done\n"] * 3
