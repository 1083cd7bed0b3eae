"""Benchmark of the instance workflows: stop, start and run a command on N emulated instances (N=1000).

Three ways a user can write it, each a separate ansible-playbook run per step (same startup cost):

(a) per-host: ``hosts: fleet`` with the action plugin taking each host's instance from hostvars,
    default forks (5): the hosts of the play batch share batched calls;
(b) batched: one ``run_once`` task with ``instance_ids`` built from ``ansible_play_hosts``;
(c) naive: ``hosts: fleet`` with ``oos_execute_api`` StartInstance/StopInstance/RunCommand per host
    (a module process per host, no waiting).

Reported per step: wall seconds and API calls (mutating and total) from the emulator's stats.
(a2) is (a) with a `when:` that the batch leader evaluates for every other host with that host's own
variables, as ansible-core would.

Targets: (b) uses at most ceil(N/100) mutating calls per step and finishes within two transition times
plus 5 s of controller overhead; (a) and (a2) use the same mutating calls as (b) and finish within
Ansible's own per-host floor plus (b) plus 2 s. Figures are reported, never asserted.

Also measured once: Ansible's own per-host floor, an ``ansible.builtin.debug`` task over the same
hosts (no API call). What (a) takes beyond that floor is the part of its cost that is ours.

Environment: BENCH_INSTANCE_N (default 1000), BENCH_NAIVE_N (default N; (c) is slow: about
0.15 s of module process per host and step), BENCH_TRANSITION (seconds, default 1.0).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, start_emulator

STEPS = ("stop", "start", "run")

PER_HOST = {
    "stop": "alicloud.oos.oos_instance: {state: stopped}",
    "start": "alicloud.oos.oos_instance: {state: running}",
    "run": "alicloud.oos.oos_run_command: {command_content: 'echo ok'}",
}
IDS = "\"{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}\""
BATCHED = {
    "stop": f"alicloud.oos.oos_instance: {{state: stopped, instance_ids: {IDS}}}",
    "start": f"alicloud.oos.oos_instance: {{state: running, instance_ids: {IDS}}}",
    "run": f"alicloud.oos.oos_run_command: {{command_content: 'echo ok', instance_ids: {IDS}}}",
}
NAIVE = {
    "stop": "alicloud.oos.oos_execute_api: {service: ecs, api: StopInstance, parameters: {InstanceId: '{{ instance_id }}'}}",
    "start": "alicloud.oos.oos_execute_api: {service: ecs, api: StartInstance, parameters: {InstanceId: '{{ instance_id }}'}}",
    "run": "alicloud.oos.oos_execute_api: {service: ecs, api: RunCommand, parameters: "
           "{Type: RunShellScript, CommandContent: 'echo ok', InstanceId: ['{{ instance_id }}']}}",
}
PATTERNS = {
    "a_per_host_action": (PER_HOST, ""),
    # The leader evaluates every other host's `when:` with that host's own variables (batch_membership).
    "a2_per_host_when": (PER_HOST, "      when: inventory_hostname != 'none'\n"),
    "b_batched_run_once": (BATCHED, "      run_once: true\n      delegate_to: localhost\n"),
    "c_naive_execute_api": (NAIVE, ""),
}


def playbook(task: str, extra: str) -> str:
    return textwrap.dedent("""\
        - hosts: fleet
          gather_facts: false
          tasks:
            - name: step
        """) + f"      {task}\n" + extra


def write_inventory(workdir: Path, instances: list) -> Path:
    path = workdir / "hosts.ini"
    lines = ["[fleet]"] + [f"h{n:04d} instance_id={i['InstanceId']}" for n, i in enumerate(instances)]
    # Module processes (patterns b and c) run on the controller with the benchmark's own Python.
    lines += ["", "[fleet:vars]", "ansible_connection=local", f"ansible_python_interpreter={sys.executable}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_step(emu, workdir: Path, inventory: Path, name: str, pattern: str, step: str) -> dict:
    tasks, extra = PATTERNS[pattern]
    book = workdir / f"{pattern}-{step}.yml"
    book.write_text(playbook(tasks[step], extra))
    emu.control("stats/reset", {}, method="POST")
    started = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)], cwd=REPO_ROOT,
                          env=emu.env, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.monotonic() - started
    stats = emu.stats()
    return {"pattern": pattern, "step": step, "hosts": name, "rc": proc.returncode, "wall_seconds": round(seconds, 2),
            "mutating_calls": stats["mutating_calls"], "total_calls": stats["total_calls"],
            "error_tail": proc.stdout[-400:] if proc.returncode else ""}


def wait_settled(emu, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i["Status"] == status for i in emu.instances()):
            return
        time.sleep(0.5)


def measure(pattern: str, size: int, transition: float) -> list:
    emu = start_emulator("--instances", str(size), "--seed", "1", "--transition-seconds", str(transition))
    try:
        for instance in emu.instances():
            if instance["Status"] != "Running":
                emu.control(f"instances/{instance['InstanceId']}/status", {"Status": "Running"}, method="POST")
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{pattern}-"))
        inventory = write_inventory(workdir, emu.instances())
        rows = []
        for step in STEPS:
            rows.append(run_step(emu, workdir, inventory, str(size), pattern, step))
            # The naive pattern does not wait: let the fleet settle before the next step.
            wait_settled(emu, "Stopped" if step == "stop" else "Running")
        return rows
    finally:
        emu.stop()


def measure_floor(size: int) -> float:
    """Wall seconds of a per-host task that does nothing but exist (Ansible's per-host overhead)."""
    emu = start_emulator("--instances", str(size), "--seed", "1")
    try:
        workdir = Path(tempfile.mkdtemp(prefix="bench-floor-"))
        inventory = write_inventory(workdir, emu.instances())
        book = workdir / "floor.yml"
        book.write_text(playbook("ansible.builtin.debug: {msg: ok}", ""))
        started = time.monotonic()
        subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)], cwd=REPO_ROOT, env=emu.env,
                       capture_output=True, text=True, timeout=3600, check=True)
        return round(time.monotonic() - started, 2)
    finally:
        emu.stop()


def run() -> dict:
    size = int(os.environ.get("BENCH_INSTANCE_N", "1000"))
    naive_size = int(os.environ.get("BENCH_NAIVE_N", str(size)))
    transition = float(os.environ.get("BENCH_TRANSITION", "1.0"))
    rows = []
    for pattern in PATTERNS:
        rows.extend(measure(pattern, naive_size if pattern.startswith("c_") else size, transition))
    floor = measure_floor(size)
    print(f"{'pattern':<22}{'step':<7}{'hosts':>6}{'rc':>4}{'wall s':>9}{'mutating':>10}{'total':>8}")
    for row in rows:
        print(f"{row['pattern']:<22}{row['step']:<7}{row['hosts']:>6}{row['rc']:>4}{row['wall_seconds']:>9}"
              f"{row['mutating_calls']:>10}{row['total_calls']:>8}")
        if row["rc"]:
            print("   failed:", row["error_tail"].replace("\n", " ")[-300:])
    by = {(r["pattern"], r["step"]): r for r in rows}
    summary = {"n": size, "naive_n": naive_size, "transition_seconds": transition,
               "batched_mutating_target_per_step": math.ceil(size / 100), "ansible_per_host_floor_seconds": floor,
               "steps": {}}
    for step in STEPS:
        a, a2, b = (by[(p, step)] for p in ("a_per_host_action", "a2_per_host_when", "b_batched_run_once"))
        budget = floor + b["wall_seconds"] + 2
        summary["steps"][step] = {
            "per_host_over_batched_wall": round(a["wall_seconds"] / b["wall_seconds"], 2) if b["wall_seconds"] else None,
            "per_host_beyond_floor_seconds": round(a["wall_seconds"] - floor, 2),
            "per_host_budget_seconds": round(budget, 2),
            "per_host_within_budget": a["wall_seconds"] <= budget,
            "per_host_when_within_budget": a2["wall_seconds"] <= budget,
            "per_host_mutating": a["mutating_calls"], "per_host_when_mutating": a2["mutating_calls"],
            "batched_mutating": b["mutating_calls"],
            "batched_within_target_seconds": b["wall_seconds"] <= 2 * transition + 5,
        }
    print(json.dumps(summary, indent=2))
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    run()
