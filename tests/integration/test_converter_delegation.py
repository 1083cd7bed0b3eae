"""A cloud product action the converter does not map runs as a one-task OOS execution, as OOS runs it.

Converted with no ``action_templates_path`` and run against the emulator with no flags: its OOS engine runs
the core ECS product actions itself.
"""
from __future__ import annotations

import base64
import subprocess

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook

TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
  word: {Type: String, Default: ok}
Tasks:
  - Name: createCommand
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: CreateCommand
      Parameters: {Name: delegated, Type: RunShellScript, EnableParameter: true, CommandContent: %s}
    Outputs:
      commandId: {Type: String, ValueSelector: CommandId}
  - Name: invoke
    Action: ACS::ECS::InvokeCommand
    Properties:
      commandId: '{{ createCommand.commandId }}'
      instanceId: '{{ instanceId }}'
      parameters: {word: '{{ word }}'}
    Outputs:
      said: {Type: String, ValueSelector: invocationOutput}
Outputs:
  said: {Type: String, Value: '{{ invoke.said }}'}
""" % base64.b64encode(b"echo delegated-{{word}}").decode()


def convert(src, dest) -> None:
    """As a user converts: the collection's convert_template playbook, no action_templates_path."""
    proc = subprocess.run([str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={src}",
                           "-e", f"dest={dest}"], cwd=REPO_ROOT, env=clean_environment(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


@pytest.fixture
def cloud(emulator_factory):
    return emulator_factory("--instances", "1", "--seed", "8", "--transition-seconds", "0.1")


@pytest.mark.heavy(40)
def test_an_unmapped_product_action_runs_as_an_oos_execution(tmp_path, cloud):
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(TEMPLATE)
    convert(src, dest)
    assert "# Tasks[1] (ACS::ECS::InvokeCommand) is delegated" in dest.read_text()
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(dest, cloud.env, extra_vars={"instanceId": instance})
    assert result.rc == 0, result.output[-5000:]
    assert '"said": "delegated-ok\\n"' in result.stdout or '"said": "delegated-ok"' in result.stdout, result.stdout[-3000:]
    # The controller started an execution; OOS made the Cloud Assistant call.
    actions = [r["action"] for r in cloud.control("requests")]
    assert "StartExecution" in actions and "InvokeCommand" not in actions
    invocations = cloud.control("invocations")
    assert len(invocations) == 1 and instance in repr(invocations)
    # A value that looks like a reference reaches the instance as written: OOS gets it as a parameter, not as
    # template text it would evaluate.
    words = tmp_path / "words.yml"
    words.write_text("instanceId: " + instance + "\nword: !unsafe 'at {{ ACS::ExecutionId }}'\n")
    literal = run_playbook(dest, cloud.env, args=("-e", f"@{words}"))
    assert literal.rc == 0, literal.output[-5000:]
    assert "delegated-at {{ ACS::ExecutionId }}" in literal.stdout, literal.stdout[-3000:]
    assert len(cloud.control("invocations")) == 2


HIBERNATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: stopAndKeepMemory
    Action: ACS::ECS::StopInstance
    Properties: {instanceId: '{{ instanceId }}', hibernate: true}
"""


@pytest.mark.heavy(30)
def test_a_property_the_native_mapping_does_not_pass_makes_oos_run_the_task(tmp_path, cloud):
    """hibernate is not an oos_instance option: the task is delegated whole, never run without it."""
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(HIBERNATE)
    convert(src, dest)
    assert "# Tasks[0] (ACS::ECS::StopInstance) is delegated" in dest.read_text()
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(dest, cloud.env, extra_vars={"instanceId": instance})
    assert result.rc == 0, result.output[-5000:]
    assert cloud.instances()[0]["Status"] == "Stopped"
    assert "StopInstance" not in [r["action"] for r in cloud.control("requests")]   # OOS made the call
    assert len([m for m in cloud.control("mutations") if m["action"] == "StopInstance"]) == 1
    # Run again once the instance is back: the task is carried out again (a new OOS execution), as a native
    # task would be; the same values must not return the first run's execution.
    cloud.control(f"instances/{instance}/status", {"Status": "Running"}, method="POST")
    again = run_playbook(dest, cloud.env, extra_vars={"instanceId": instance})
    assert again.rc == 0, again.output[-5000:]
    assert cloud.instances()[0]["Status"] == "Stopped"
    assert len([m for m in cloud.control("mutations") if m["action"] == "StopInstance"]) == 2
    # OOS ran its StopInstance action (a child execution) with the property the native mapping lacks.
    executions = cloud.control("executions")
    assert any(e.get("Parameters", {}).get("hibernate") is True for e in executions), executions


REBOOT = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceIds: {Type: List}
Tasks:
  - Name: rebootThem
    Action: ACS::ECS::RebootInstance
    Properties: {instanceId: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: '{{ instanceIds }}'
      RateControl: {Mode: Concurrency, Concurrency: 10, MaxErrors: 0}
"""


@pytest.mark.heavy(20)
def test_a_converted_reboot_never_starts_a_stopped_instance(tmp_path, emulator_factory):
    """ACS::ECS::RebootInstance fails for a Stopped instance (IncorrectInstanceStatus); it never powers it on."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert as convert_template
    cloud = emulator_factory("--instances", "3", "--seed", "8", "--transition-seconds", "0.1")
    ids = [i["InstanceId"] for i in cloud.instances()]
    cloud.control(f"instances/{ids[0]}/status", {"Status": "Stopped"}, method="POST")
    playbook = tmp_path / "reboot.yml"
    playbook.write_text(convert_template(content=REBOOT).playbook_yaml("reboot"))
    result = run_playbook(playbook, cloud.env, extra_vars={"instanceIds": ids})
    assert result.rc != 0 and "IncorrectInstanceStatus" in result.output, result.output[-3000:]
    assert {i["InstanceId"]: i["Status"] for i in cloud.instances()}[ids[0]] == "Stopped"
    assert "StartInstances" not in [m["action"] for m in cloud.control("mutations")]
    assert "StartInstance" not in [m["action"] for m in cloud.control("mutations")]


HIBERNATE_LOOP = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceIds: {Type: List}
Tasks:
  - Name: stopAndKeepMemory
    Action: ACS::ECS::StopInstance
    Properties: {instanceId: '{{ ACS::TaskLoopItem }}', hibernate: true}
    Loop:
      Items: '{{ instanceIds }}'
      RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}
"""


@pytest.mark.heavy(30)
def test_a_delegated_task_takes_its_loop_to_oos_in_a_natural_playbook(tmp_path, emulator_factory):
    """The converter hands the whole Loop to OOS with the task (one execution, its RateControl), the items
    read from the playbook's variables."""
    cloud = emulator_factory("--instances", "3", "--seed", "8", "--transition-seconds", "0.1")
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(HIBERNATE_LOOP)
    convert(src, dest)
    ids = [i["InstanceId"] for i in cloud.instances()][:2]
    result = run_playbook(dest, cloud.env, extra_vars={"instanceIds": ids})
    assert result.rc == 0, result.output[-5000:]
    assert {i["InstanceId"]: i["Status"] for i in cloud.instances() if i["InstanceId"] in ids} == dict.fromkeys(ids, "Stopped")
    assert [r["action"] for r in cloud.control("requests")].count("StartExecution") == 1


@pytest.mark.heavy(20)
def test_check_mode_starts_no_oos_execution_and_the_natural_playbook_goes_on(tmp_path, cloud):
    """--check: the task OOS would run reports a change and starts nothing; its outputs are none, as a mutating
    API call's are under --check, so the run goes on to the end (it failed reading outputs that were never made)."""
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    with_outputs = HIBERNATE.replace("hibernate: true}", "hibernate: true}\n    Outputs: {id: {Type: String, "
                                     "ValueSelector: instanceId}}")
    src.write_text(with_outputs + "Outputs:\n  id: {Type: String, Value: '{{ stopAndKeepMemory.id }}'}\n")
    convert(src, dest)
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(dest, cloud.env, extra_vars={"instanceId": instance}, args=("--check",))
    assert result.rc == 0, result.output[-5000:]
    assert '"id": null' in result.stdout and "changed=1" in result.stdout
    assert cloud.instances()[0]["Status"] == "Running"
    assert "StartExecution" not in [r["action"] for r in cloud.control("requests")]


HIBERNATE_EACH = """
FormatVersion: OOS-2019-06-01
Parameters:
  ids: {Type: List}
  rc: {Type: Json, Default: {Mode: Concurrency, Concurrency: 1, MaxErrors: 0}}
Tasks:
  - Name: stopEach
    Action: ACS::ECS::StopInstance
    Properties: {instanceId: '{{ ACS::TaskLoopItem }}', hibernate: true}
    Loop: {Items: '{{ ids }}', RateControl: '{{ rc }}'}
"""


@pytest.mark.heavy(30)
def test_a_pause_asked_by_the_run_of_a_loop_oos_runs_is_refused_before_oos_starts(tmp_path, cloud):
    """Found by the second attack (A): OOS was started with a pause between batches the playbook could not answer."""
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(HIBERNATE_EACH)
    convert(src, dest)
    ids = [cloud.instances()[0]["InstanceId"]]
    pausing = {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 0, "BatchPauseOption": "FirstBatchPause"}
    result = run_playbook(dest, cloud.env, extra_vars={"ids": ids, "rc": pausing})
    assert result.rc != 0 and "Loop.RateControl.BatchPauseOption: FirstBatchPause pauses between batches" in result.output
    assert "StartExecution" not in [r["action"] for r in cloud.control("requests")]
    result = run_playbook(dest, cloud.env, extra_vars={"ids": ids})
    assert result.rc == 0, result.output[-3000:]
    assert cloud.instances()[0]["Status"] == "Stopped"
