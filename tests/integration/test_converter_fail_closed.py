"""Converted templates behave as OOS would, or refuse: gates that need a decision, values only OOS knows.

Each test converts a small template with the ``alicloud.oos.convert_template`` playbook and runs the
result with ansible-playbook against the emulator, without a terminal (as AWX, cron or CI run it) unless it
drives one through a pseudo-terminal; the emulator's request log shows what was (not) sent.
"""
from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook, start_emulator
from tests.integration.converter.terminal import controlling_terminal, read_until


@pytest.fixture(scope="module")
def module_cloud():
    emulator = start_emulator("--instances", "2", "--seed", "4", "--transition-seconds", "0.1")
    yield emulator
    emulator.stop()


@pytest.fixture
def cloud(module_cloud):
    module_cloud.reset(instances=2, seed=4)
    return module_cloud


def convert(tmp_path: Path, text: str, name: str = "template") -> Path:
    src, dest = tmp_path / f"{name}.yml", tmp_path / f"{name}-playbook.yml"
    src.write_text(text)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={src}",
                           "-e", f"dest={dest}"], cwd=REPO_ROOT, env=clean_environment(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return dest


def actions(cloud) -> list:
    return [r["action"] for r in cloud.control("requests")]


def status(cloud, instance_id: str) -> str:
    return cloud.control(f"instances/{instance_id}")["Status"]


def run_in_terminal(playbook: Path, env: dict, extra_vars: dict, answers: list) -> tuple[int, str]:
    """Run ansible-playbook on a pseudo-terminal; type each (prompt fragment, answer) when the prompt shows."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), str(playbook), "-e", json.dumps(extra_vars)], cwd=REPO_ROOT,
                            env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            preexec_fn=controlling_terminal)
    os.close(slave)
    seen = bytearray()
    try:
        for prompt, answer in answers:
            assert read_until(master, prompt, time.monotonic() + 120, seen), seen.decode(errors="replace")[-3000:]
            time.sleep(0.3)
            os.write(master, answer + b"\r")
            del seen[:]   # the next prompt must be a new one
        read_until(master, b"PLAY RECAP", time.monotonic() + 240, seen)
        read_until(master, b"\x00never", time.monotonic() + 3, seen)
        return proc.wait(timeout=60), seen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


# ------------------------------------------------------------------------------------------------
# ACS::Pause: without a decision the execution never goes on by itself

PAUSE = """
FormatVersion: OOS-2019-06-01
Description: Restore from a snapshot with a manual window, then release the temporary instance
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: manualWindow
    Action: ACS::Pause
  - Name: releaseTemporary
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: StopInstance
      Parameters: {InstanceId: '{{ instanceId }}'}
"""


def test_pause_without_a_terminal_cancels_the_execution(tmp_path, cloud):
    pb = convert(tmp_path, PAUSE)
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": instance})
    assert result.rc != 0
    assert "OOS execution Cancelled: ACS::Pause manualWindow was not resumed: no decision" in result.output
    assert "pass -e oos_pause_decision=resume" in result.output
    assert "StopInstance" not in actions(cloud) and status(cloud, instance) == "Running"
    # A decision for another task is no decision for this one.
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": instance, "oos_pause_decision": {"other": "resume"}})
    assert result.rc != 0 and "StopInstance" not in actions(cloud)
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": instance, "oos_pause_decision": "cancel"})
    assert result.rc != 0 and "the operator cancelled it" in result.output and "StopInstance" not in actions(cloud)


PAUSE_WITH_ON_ERROR = PAUSE.replace("    Action: ACS::Pause\n", "    Action: ACS::Pause\n    OnError: cleanup\n").replace(
    "      Parameters: {InstanceId: '{{ instanceId }}'}\n", "      Parameters: {InstanceId: '{{ instanceId }}'}\n    OnSuccess: ACS::END\n"
) + """  - Name: cleanup
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: StartInstance
      Parameters: {InstanceId: '{{ instanceId }}'}
"""


def test_a_decision_that_is_not_resume_cancels_and_no_on_error_runs(tmp_path, cloud):
    """Found by the attack on the one-writer converter (H1): a mistyped decision failed the Pause, so its OnError task
    ran (and changed the instance) and the run ended Failed. Anything but resume cancels the execution."""
    assert "OnError: cleanup" in PAUSE_WITH_ON_ERROR and "OnSuccess: ACS::END" in PAUSE_WITH_ON_ERROR
    pb = convert(tmp_path, PAUSE_WITH_ON_ERROR)
    instance = cloud.instances()[0]["InstanceId"]
    for decision in ("maybe", True, ["resume"], {"manualWindow": "go"}):
        result = run_playbook(pb, cloud.env, extra_vars={"instanceId": instance, "oos_pause_decision": decision})
        assert result.rc != 0 and "OOS execution Cancelled: ACS::Pause manualWindow was not resumed" in result.output
        assert "not resume or cancel" in result.output, result.output[-3000:]
        assert actions(cloud) == [], actions(cloud)   # neither the next task nor the OnError task


def test_pause_goes_on_with_an_explicit_resume(tmp_path, cloud):
    pb = convert(tmp_path, PAUSE)
    first, second = (i["InstanceId"] for i in cloud.instances())
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": first, "oos_pause_decision": "resume"})
    assert result.rc == 0, result.output[-3000:]
    assert actions(cloud) == ["StopInstance"]
    code, output = run_in_terminal(pb, cloud.env, {"instanceId": second}, [(b"type resume to go on", b"resume")])
    assert code == 0, output[-3000:]
    assert actions(cloud) == ["StopInstance", "StopInstance"]


# ------------------------------------------------------------------------------------------------
# ACS::Approve: Approvers and MinRequiredApprovals

APPROVE = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
  approvers: {Type: List, Default: [alice, bob, carol]}
  minRequiredApprovals: {Type: Number, Default: 2}
Tasks:
  - Name: approveStop
    Action: ACS::Approve
    Properties:
      Approvers: '{{ approvers }}'
      MinRequiredApprovals: '{{ minRequiredApprovals }}'
      NotifyType: WebHook
      WebHook: {URI: '', Headers: {}, Content: {}}
  - Name: stopIt
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: StopInstance
      Parameters: {InstanceId: '{{ instanceId }}'}
"""


@pytest.mark.parametrize("approved_by,reason", [
    ([], "2 approval(s) from alice, bob, carol are required, got 0; name the approver"),
    (["alice", "mallory"], "got 1 (alice); 'mallory' may not approve"),
    (["alice", "alice"], "got 1 (alice)"),
])
def test_approval_needs_min_required_approvals_from_the_approvers(tmp_path, cloud, approved_by, reason):
    pb = convert(tmp_path, APPROVE)
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": instance, "oos_approval_decision": "approve",
                                                     "oos_approval_approved_by": approved_by})
    assert result.rc != 0
    assert "OOS execution Cancelled: approval approveStop was rejected (" in result.output
    assert reason in result.output
    assert actions(cloud) == [] and status(cloud, instance) == "Running"


def test_approval_by_enough_approvers_goes_on(tmp_path, cloud):
    pb = convert(tmp_path, APPROVE)
    first, second = (i["InstanceId"] for i in cloud.instances())
    result = run_playbook(pb, cloud.env, extra_vars={"instanceId": first, "oos_approval_decision": "approve",
                                                     "oos_approval_approved_by": ["bob", "alice"]})
    assert result.rc == 0, result.output[-3000:]
    assert actions(cloud) == ["StopInstance"]
    # At the prompt: one approval per prompt, each naming its approver.
    code, output = run_in_terminal(pb, cloud.env, {"instanceId": second}, [
        (b"approval 1 of 2: type approve <user>", b"approve carol"),
        (b"approval 2 of 2: type approve <user>", b"approve alice")])
    assert code == 0, output[-3000:]
    assert actions(cloud) == ["StopInstance", "StopInstance"]


# ------------------------------------------------------------------------------------------------
# Pseudo-parameters only OOS knows, renamed parameters, trigger notes

IDENTITY = """
FormatVersion: OOS-2019-06-01
Parameters:
  tags: {Type: String}
  triggerCron: {Type: String, Default: '0 0 3 ? * MON'}
Tasks:
  - Name: timer
    Action: ACS::TimerTrigger
    Properties: {Type: cron, Expression: '{{ triggerCron }}', TimeZone: Asia/Shanghai}
  - Name: grant
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeRegions
      Parameters: {UserName: '{{ ACS::ExecuteUser }}', Account: '{{ acs::accountid }}', Tags: '{{ tags }}',
                   Region: '{{ ACS::RegionId }}'}
"""


def test_values_only_oos_knows_must_be_given_and_nothing_runs_without_them(tmp_path, cloud):
    pb = convert(tmp_path, IDENTITY)
    env = {k: v for k, v in cloud.env.items() if k != "ALICLOUD_REGION"}
    result = run_playbook(pb, env)
    assert result.rc != 0
    for given in ("{{ ACS::ExecuteUser }} has no value: pass -e oos_execute_user=",
                  "{{ ACS::AccountId }} has no value: pass -e oos_account_id=",
                  "{{ ACS::RegionId }} has no value: pass -e oos_region_id=",
                  # A parameter renamed because Ansible reserves its name is asked for under the new name.
                  "parameter tags is required: pass -e oos_param_tags=<String>"):
        assert given in result.output, given
    assert "-e tags=" not in result.output and "Traceback" not in result.output
    assert actions(cloud) == []
    result = run_playbook(pb, cloud.env, extra_vars={
        "oos_execute_user": "alice", "oos_param_tags": "team:ops", "oos_pseudo_parameters": {"AccountId": "1234"}})
    assert result.rc == 0, result.output[-3000:]
    (request,) = cloud.control("requests")
    assert request["params"] == {"UserName": "alice", "Account": "1234", "Tags": "team:ops",
                                 "Region": cloud.region, "RegionId": cloud.region}
    assert "OOS TimerTrigger: schedule cron 0 0 3 ? * MON (Asia/Shanghai)" in result.stdout


# ------------------------------------------------------------------------------------------------
# Loops

LOOP = """
FormatVersion: OOS-2019-06-01
Parameters:
  ids: {Type: List, Default: [i-missing1, i-missing2, i-missing3]}
  stop: {Type: Boolean, Default: true}
Tasks:
  - Name: stopAll
    Action: ACS::ExecuteAPI
    When: '{{ stop }}'
    Properties:
      Service: ECS
      API: StopInstance
      Parameters: {InstanceId: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: '{{ ids }}'
      RateControl: {Mode: Concurrency, Concurrency: 1, MaxErrors: 0}
  - Name: after
    Action: ACS::ExecuteAPI
    Properties: {Service: ECS, API: DescribeRegions}
"""


def test_loop_stopped_by_max_errors_reports_the_api_error(tmp_path, cloud):
    pb = convert(tmp_path, LOOP)
    result = run_playbook(pb, cloud.env)
    assert result.rc != 0
    assert ("OOS execution Failed: task stopAll failed: 1 of 3 items failed (MaxErrors allows 0; 2 not started): "
            "ECS StopInstance failed [InvalidInstanceId.NotFound]") in result.output
    assert "HostVarsVars" not in result.output
    assert actions(cloud) == ["StopInstance"]


def test_loop_task_that_does_not_run_leaves_the_loop_play_alone(tmp_path, cloud):
    pb = convert(tmp_path, LOOP)
    result = run_playbook(pb, cloud.env, extra_vars={"stop": False})
    assert result.rc == 0, result.output[-3000:]
    assert actions(cloud) == ["DescribeRegions"]
