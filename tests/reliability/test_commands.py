"""Cloud Assistant commands that misbehave: hang past the timeout, print 1 MiB, fail on some hosts."""
from __future__ import annotations

import pytest

from tests.reliability.support import command_runs

ONE_MIB = 1024 * 1024
COMMANDS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      alicloud.oos.oos_run_command:
        instance_ids: "{{{{ fleet }}}}"
        command_content: !unsafe '{script}'
        timeout: {timeout}
      register: outcome
      ignore_errors: true
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{{{ results_file }}}}"
        mode: "0600"
        content: "{{{{ outcome | to_json }}}}"
"""


@pytest.fixture
def fleet_emulator(emulator_factory):
    return emulator_factory("--instances", "4", "--seed", "9", "--transition-seconds", "0.2")


def run_command(playbook, emulator, name: str, script: str, timeout: int = 60):
    fleet = sorted(i["InstanceId"] for i in emulator.instances())
    run = playbook(COMMANDS.format(name=name, script=script, timeout=timeout), emulator.env, extra_vars={"fleet": fleet})
    assert "Traceback" not in run.output, run.output[-3000:]
    return fleet, run.results


def test_command_that_hangs_past_its_timeout(fleet_emulator, playbook):
    fleet, outcome = run_command(playbook, fleet_emulator, "Hang", "echo hanging-past-timeout; sleep 60", timeout=10)
    assert outcome["failed"]
    assert {r["instance_id"]: r["status"] for r in outcome["results"]} == dict.fromkeys(fleet, "Timeout")
    assert sorted(r["instance_id"] for r in outcome["failed_instances"]) == fleet
    assert all(i in outcome["msg"] for i in fleet), outcome["msg"]
    # Nothing is left running on the instances.
    runs = command_runs(fleet_emulator, "hanging-past-timeout")
    assert sorted(runs) == fleet
    assert all(len(records) == 1 for records in runs.values())
    assert {records[0]["InvocationStatus"] for records in runs.values()} == {"Timeout"}
    assert {records[0]["OverallStatus"] for records in runs.values()} == {"Failed"}


def test_command_that_prints_one_megabyte(fleet_emulator, playbook):
    fleet, outcome = run_command(playbook, fleet_emulator, "Print 1 MiB",
                                 f"head -c {ONE_MIB} /dev/zero | tr \"\\\\0\" x")
    assert not outcome.get("failed"), outcome.get("msg")
    for result in outcome["results"]:
        assert result["status"] == "Success"
        kept = len(result["output"].encode())
        assert 0 < kept < ONE_MIB and set(result["output"]) == {"x"}
        assert result["dropped"] == ONE_MIB - kept, (result["dropped"], kept)
    assert sorted(r["instance_id"] for r in outcome["results"]) == fleet


def test_command_that_fails_on_some_hosts(fleet_emulator, playbook):
    script = 'case "{{ACS::InstanceName}}" in db-*) echo broken-here; exit 3;; esac; echo fine-here'
    fleet, outcome = run_command(playbook, fleet_emulator, "Fail on db", script)
    names = {i["InstanceId"]: i["InstanceName"] for i in fleet_emulator.instances()}
    db = sorted(i for i in fleet if names[i].startswith("db-"))
    assert db and len(db) < len(fleet)
    assert outcome["failed"]
    assert sorted(r["instance_id"] for r in outcome["failed_instances"]) == db
    by_id = {r["instance_id"]: r for r in outcome["results"]}
    for instance_id in fleet:
        expected = ("Failed", 3, "broken-here\n") if instance_id in db else ("Success", 0, "fine-here\n")
        got = by_id[instance_id]
        assert (got["status"], got["exit_code"], got["output"]) == expected, got
    assert all(i in outcome["msg"] for i in db) and not any(i in outcome["msg"] for i in set(fleet) - set(db))
