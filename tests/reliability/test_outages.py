"""The API going away mid-run, and two runs racing on the same instances."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from tests.reliability.support import power_changes, statuses

FLEET_STOP = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Stop the fleet in waves of 10
      alicloud.oos.oos_instance:
        instance_ids: "{{ fleet }}"
        state: stopped
        rate_control: {Mode: Concurrency, Concurrency: 10, MaxErrors: 0}
      register: stopped
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        mode: "0600"
        content: "{{ stopped.instances | to_json }}"
"""


def in_background(function, *args, **kwargs):
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("result", function(*args, **kwargs)))
    thread.start()
    return thread, outcome


def test_emulator_killed_and_restarted_mid_stop(emulator_factory, playbook, tmp_path):
    state_file = tmp_path / "cloud-state.json"
    flags = ("--instances", "30", "--seed", "7", "--transition-seconds", "0.5", "--state-file", str(state_file))
    emulator = emulator_factory(*flags)
    fleet = sorted(i["InstanceId"] for i in emulator.instances())
    scratch = Path(emulator.control(f"instances/{fleet[0]}")["FileRoot"]).parents[1]
    env = emulator.env | {"ALICLOUD_API_RETRY_MAX_TIME": "60"}

    thread, outcome = in_background(playbook, FLEET_STOP, env, extra_vars={"fleet": fleet})
    deadline = time.monotonic() + 60
    while not (applied := [m for m in emulator.control("mutations") if m["action"] == "StopInstances"]):
        assert time.monotonic() < deadline, "the first wave never started"
        time.sleep(0.05)
    assert len(applied) < len(fleet)  # the kill lands in the middle of the stop
    emulator.process.kill()  # SIGKILL: no clean shutdown; the state file holds what was applied
    emulator.process.wait()
    shutil.rmtree(scratch, ignore_errors=True)  # what a clean shutdown would have removed
    time.sleep(3)
    restarted = emulator_factory(*flags, "--port", str(emulator.port))
    assert restarted.url == emulator.url
    thread.join(timeout=300)
    first = outcome["result"]

    if first.rc != 0:
        # Failing is acceptable only with a clear message and no traceback.
        assert "Traceback" not in first.output, first.output[-3000:]
        assert "fatal:" in first.output and "Stop the fleet in waves of 10" in first.output, first.output[-3000:]
    assert "Traceback" not in first.output
    print(f"run interrupted by the outage: rc={first.rc}", "(resumed)" if first.rc == 0 else "(failed clearly)")

    again = playbook(FLEET_STOP, restarted.env, extra_vars={"fleet": fleet})
    assert again.rc == 0, again.output[-3000:]
    assert {r["instance_id"]: r["after"] for r in again.results} == dict.fromkeys(fleet, "Stopped")
    assert statuses(restarted, fleet) == dict.fromkeys(fleet, "Stopped")
    # Across the kill, the restart and the re-run, each instance was stopped exactly once.
    assert power_changes(restarted) == {i: ["stop"] for i in fleet}


RACE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Bring the instances to {{ wanted }}
      alicloud.oos.oos_instance:
        instance_ids: "{{ fleet }}"
        state: "{{ wanted }}"
      register: moved
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        mode: "0600"
        content: "{{ moved.instances | to_json }}"
"""


def test_two_playbooks_on_the_same_instances(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "20", "--seed", "8", "--transition-seconds", "1.0")
    fleet = sorted(i["InstanceId"] for i in emulator.instances() if i["Tags"]["Env"] == "dev")
    others = sorted(set(i["InstanceId"] for i in emulator.instances()) - set(fleet))
    for wanted, status, expected_changes in (("stopped", "Stopped", ["stop"]), ("running", "Running", ["stop", "start"])):
        runs = [in_background(playbook, RACE, emulator.env, extra_vars={"fleet": fleet, "wanted": wanted})
                for _unused in range(2)]
        results = []
        for thread, outcome in runs:
            thread.join(timeout=300)
            results.append(outcome["result"])
        for run in results:
            assert run.rc == 0, run.output[-3000:]
            assert "Traceback" not in run.output
            assert {r["instance_id"]: r["after"] for r in run.results} == dict.fromkeys(fleet, status)
            assert not [r for r in run.results if r["error_code"]], run.results
        # Between them the two runs changed each instance exactly once.
        assert sorted(r["instance_id"] for run in results for r in run.results if r["changed"]) == fleet
        assert power_changes(emulator) == {i: expected_changes for i in fleet}
        assert statuses(emulator, fleet + others) == dict.fromkeys(fleet, status) | dict.fromkeys(others, "Running")
