"""The fleet workflow (stop, start, command) under injected faults: nothing lost, nothing applied twice."""
from __future__ import annotations

import pytest

from tests.reliability.cases import FLEET_FAULTS
from tests.reliability.support import command_runs, ids_tagged, power_changes, statuses

MARKER = "reliability-fleet-run"
WORKFLOW = f"""
- hosts: localhost
  gather_facts: false
  vars:
    dev: {{Type: Tags, Tags: [{{Key: Env, Value: dev}}]}}
  tasks:
    - name: Stop the dev fleet
      alicloud.oos.oos_instance: {{targets: "{{{{ dev }}}}", state: stopped}}
      register: stopped
    - name: Start it again
      alicloud.oos.oos_instance: {{targets: "{{{{ dev }}}}", state: running}}
      register: started
    - name: Run a command on it
      alicloud.oos.oos_run_command: {{targets: "{{{{ dev }}}}", command_content: "echo {MARKER}"}}
      register: ran
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{{{ results_file }}}}"
        mode: "0600"
        content: "{{{{ {{'stopped': stopped.instances, 'started': started.instances, 'ran': ran.results}} | to_json }}}}"
"""


@pytest.mark.heavy(12)
@pytest.mark.parametrize("case", FLEET_FAULTS, ids=[c.id for c in FLEET_FAULTS])
def test_fleet_workflow_under_faults(case, emulator_factory, playbook):
    emulator = emulator_factory("--instances", "20", "--seed", "5", "--transition-seconds", "0.3")
    dev, prod = ids_tagged(emulator, "Env", "dev"), ids_tagged(emulator, "Env", "prod")
    emulator.faults(**case.settings)
    env = emulator.env | dict(case.env)

    run = playbook(WORKFLOW, env)
    stats = emulator.stats()
    assert run.rc == 0, run.output[-4000:]
    # The fault really happened (a run that never met it would prove nothing).
    injected = stats["throttled"] + stats["failed"] + stats["reset"]
    assert injected > 0 or case.settings.get("latency_ms"), stats

    # Every targeted instance went through exactly one stop and one start; the others were not touched.
    assert {r["instance_id"]: r["after"] for r in run.results["stopped"]} == dict.fromkeys(dev, "Stopped")
    assert {r["instance_id"]: r["after"] for r in run.results["started"]} == dict.fromkeys(dev, "Running")
    assert power_changes(emulator) == {i: ["stop", "start"] for i in dev}
    assert statuses(emulator, dev + prod) == dict.fromkeys(dev + prod, "Running")

    # The command ran once on each targeted instance, successfully, and nowhere else.
    runs = command_runs(emulator, MARKER)
    assert sorted(runs) == dev
    assert all(len(records) == 1 and records[0]["InvocationStatus"] == "Success" for records in runs.values()), runs
    assert sorted(r["instance_id"] for r in run.results["ran"]) == dev
    assert {r["status"] for r in run.results["ran"]} == {"Success"}
