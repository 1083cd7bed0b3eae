"""Fleet benchmark (issue #8): batched versus naive per-host, for N = 100, 1,000 and 5,000 emulated instances.

Steps, each run as its own ``ansible-playbook`` (or ``ansible-inventory``) process, as a user would:

(a) inventory load - batched: the ``alicloud.oos.ecs`` inventory (``ansible-inventory --list``);
    naive: a play over a static inventory that looks each host up with its own DescribeInstances;
(b) stop + start of the whole fleet - batched: one ``run_once`` ``oos_instance`` task with every instance id;
    naive: ``oos_execute_api`` StopInstance/StartInstance per host, each followed by its own WaitFor;
(c) a Cloud Assistant command on the whole fleet - batched: one ``oos_run_command`` task; naive: RunCommand per
    host followed by its own WaitFor on DescribeInvocations;
(d) the ``ecs_update_image`` role (one temporary instance: the fleet size does not change its calls; it has no
    per-host variant).

Per run: wall seconds, controller CPU seconds (user + system of ansible and every process it started), the
largest resident set of any controller process, and the API calls the emulator counted (``/_emulator/stats``,
by action). The naive pattern starts a module process per host and step, so it is measured on a sample of
``BENCH_NAIVE_SAMPLE`` hosts (default 20) and scaled to N - those rows say ``extrapolated``; their call counts
scale exactly (one call per host), their times and CPU linearly. Minimum calls: ceil(N/100) per batched
mutation and per status-poll round (one round per wait interval); the table shows how many poll rounds ran.

Environment: BENCH_SIZES (default 100,1000,5000), BENCH_NAIVE_SAMPLE, BENCH_TRANSITION (default 1.0 s).
Figures are reported, never asserted.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench.instance_workflows import wait_settled, write_inventory
from tests.conftest import BIN, REPO_ROOT, start_emulator

# Runs a command and reports its wall time, CPU and peak RSS (of any process it waited for) as JSON.
MEASURE = r"""
import json, resource, subprocess, sys, time
started = time.monotonic()
proc = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as handle:
    json.dump({"rc": proc.returncode, "wall_seconds": time.monotonic() - started,
               "cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_mib": usage.ru_maxrss / 1024,
               "tail": proc.stdout[-1500:].decode(errors="replace")}, handle)
"""

BATCHED = {
    "stop": "alicloud.oos.oos_instance: {instance_ids: '{{ ids }}', state: stopped}",
    "start": "alicloud.oos.oos_instance: {instance_ids: '{{ ids }}', state: running}",
    "command": "alicloud.oos.oos_run_command: {instance_ids: '{{ ids }}', command_content: 'echo ok'}",
}
WAIT = "wait_for: {{property_selector: '{selector}', desired_values: [{value}], delay: 1, timeout: 300}}"
DESCRIBE_ME = "parameters: {InstanceIds: '{{ [instance_id] | to_json }}'}"
NAIVE = {
    "inventory": [f"alicloud.oos.oos_execute_api: {{service: ecs, api: DescribeInstances, {DESCRIBE_ME}}}"],
    "stop": ["alicloud.oos.oos_execute_api: {service: ecs, api: StopInstance, parameters: {InstanceId: '{{ instance_id }}'}}",
             f"alicloud.oos.oos_execute_api: {{service: ecs, api: DescribeInstances, {DESCRIBE_ME}, "
             + WAIT.format(selector="Instances.Instance[].Status", value="Stopped") + "}"],
    "start": ["alicloud.oos.oos_execute_api: {service: ecs, api: StartInstance, parameters: {InstanceId: '{{ instance_id }}'}}",
              f"alicloud.oos.oos_execute_api: {{service: ecs, api: DescribeInstances, {DESCRIBE_ME}, "
              + WAIT.format(selector="Instances.Instance[].Status", value="Running") + "}"],
    "command": ["alicloud.oos.oos_execute_api: {service: ecs, api: RunCommand, parameters: {Type: RunShellScript, "
                "CommandContent: 'echo ok', InstanceId: ['{{ instance_id }}']}, "
                "outputs: {invoke_id: {value_selector: .InvokeId, type: String}}}",
                "alicloud.oos.oos_execute_api: {service: ecs, api: DescribeInvocations, parameters: "
                "{InvokeId: '{{ previous.outputs.invoke_id }}'}, "
                + WAIT.format(selector="Invocations.Invocation[].InvocationStatus", value="Success") + "}"],
}
UPDATE_IMAGE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Network of one seeded instance
      alicloud.oos.oos_execute_api:
        service: ecs
        api: DescribeInstances
        auto_paging: false
        parameters: {PageSize: 1}
        outputs:
          sg: {value_selector: ".Instances.Instance[0].SecurityGroupIds.SecurityGroupId[0]"}
          vsw: {value_selector: ".Instances.Instance[0].VpcAttributes.VSwitchId"}
      register: network
    - ansible.builtin.include_role:
        name: alicloud.oos.ecs_update_image
      vars:
        ecs_update_image_source_image_id: aliyun_3_x64_20G_alibase_20240101.vhd
        ecs_update_image_security_group_id: "{{ network.outputs.sg }}"
        ecs_update_image_vswitch_id: "{{ network.outputs.vsw }}"
        ecs_update_image_target_image_name: "bench-{{ 999999 | random }}"
        ecs_update_image_command_content: echo updated
"""


def batched_playbook(step: str) -> str:
    return textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: step
        """) + f"      {BATCHED[step]}\n"


def naive_playbook(step: str) -> str:
    lines = ["- hosts: fleet", "  gather_facts: false", "  tasks:"]
    for n, task in enumerate(NAIVE[step]):
        lines += [f"    - name: step {n}", f"      {task}", "      register: previous"]
    return "\n".join(lines) + "\n"


def measure(emu, workdir: Path, command: list[str]) -> dict:
    report = workdir / "measure.json"
    emu.control("stats/reset", {}, method="POST")
    subprocess.run([sys.executable, "-c", MEASURE, str(report), *command], cwd=REPO_ROOT, env=emu.env, timeout=3600, check=True)
    figures = json.loads(report.read_text())
    stats = emu.stats()
    figures.update(calls=stats["total_calls"], mutating_calls=stats["mutating_calls"], calls_by_action=stats["calls"],
                   errors=stats["errors"])
    for key in ("wall_seconds", "cpu_seconds", "max_rss_mib"):
        figures[key] = round(figures[key], 2)
    if figures["rc"] == 0:
        figures.pop("tail")
    return figures


def key_calls(step: str, figures: dict) -> int:
    """The calls the minimum is about: DescribeInstances for the inventory, mutating calls for the other steps."""
    return figures["calls_by_action"].get("DescribeInstances", 0) if step == "a_inventory" else figures["mutating_calls"]


def scaled(row: dict, factor: float) -> dict:
    """A sample's figures scaled to the whole fleet (calls exactly, times and CPU linearly; RSS does not scale)."""
    out = dict(row)
    for key in ("wall_seconds", "cpu_seconds"):
        out[key] = round(row[key] * factor, 2)
    for key in ("calls", "mutating_calls"):
        out[key] = round(row[key] * factor)
    out["calls_by_action"] = {k: round(v * factor) for k, v in row["calls_by_action"].items()}
    out["measured"] = {k: row[k] for k in ("wall_seconds", "cpu_seconds", "calls", "mutating_calls")}
    return out


def run_size(size: int, sample: int, transition: float) -> list[dict]:
    emu = start_emulator("--instances", str(size), "--seed", "1", "--transition-seconds", str(transition),
                         timeout=300)
    rows = []
    try:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-fleet-{size}-"))
        instances = emu.instances()
        ids = [i["InstanceId"] for i in instances]
        (workdir / "ids.json").write_text(json.dumps({"ids": ids}))
        sample = min(sample, size)
        sample_inventory = write_inventory(workdir, instances[:sample])
        per_call = math.ceil(size / 100)
        playbook = [str(BIN / "ansible-playbook")]

        def add(step, pattern, figures, hosts=size, minimum=None):
            figures = scaled(figures, size / hosts) if hosts != size else figures
            rows.append({"n": size, "step": step, "pattern": pattern, "hosts_measured": hosts,
                         "extrapolated": hosts != size, "key_calls": key_calls(step, figures),
                         "minimum_key_calls": minimum, **figures})

        source = workdir / "bench.ecs.yml"
        source.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
        add("a_inventory", "batched", measure(emu, workdir, [str(BIN / "ansible-inventory"), "-i", str(source), "--list"]),
            minimum=per_call)
        book = workdir / "naive-inventory.yml"
        book.write_text(naive_playbook("inventory"))
        add("a_inventory", "naive", measure(emu, workdir, playbook + ["-i", str(sample_inventory), str(book)]),
            hosts=sample, minimum=size)

        for step in ("stop", "start"):
            book = workdir / f"batched-{step}.yml"
            book.write_text(batched_playbook(step))
            add(f"b_{step}", "batched", measure(emu, workdir, playbook + [str(book), "-e", f"@{workdir / 'ids.json'}"]),
                minimum=per_call)
            wait_settled(emu, "Stopped" if step == "stop" else "Running")
        for step in ("stop", "start"):
            book = workdir / f"naive-{step}.yml"
            book.write_text(naive_playbook(step))
            add(f"b_{step}", "naive", measure(emu, workdir, playbook + ["-i", str(sample_inventory), str(book)]),
                hosts=sample, minimum=size)

        book = workdir / "batched-command.yml"
        book.write_text(batched_playbook("command"))
        add("c_command", "batched", measure(emu, workdir, playbook + [str(book), "-e", f"@{workdir / 'ids.json'}"]),
            minimum=per_call)
        book = workdir / "naive-command.yml"
        book.write_text(naive_playbook("command"))
        add("c_command", "naive", measure(emu, workdir, playbook + ["-i", str(sample_inventory), str(book)]),
            hosts=sample, minimum=size)

        book = workdir / "update-image.yml"
        book.write_text(UPDATE_IMAGE)
        # RunInstances, RunCommand, StopInstances, CreateImage, DeleteInstance.
        add("d_update_image", "role", measure(emu, workdir, playbook + [str(book)]), minimum=5)
    finally:
        emu.stop()
    return rows


def poll_rounds(row: dict) -> str:
    """Status reads per ceil(N/100): how many poll rounds a batched step needed."""
    reads = row["calls_by_action"].get("DescribeInstances", 0) + row["calls_by_action"].get("DescribeInvocationResults", 0)
    return f"{reads / math.ceil(row['n'] / 100):.0f}" if row["pattern"] == "batched" else "-"


def print_table(rows: list[dict]) -> None:
    header = (f"{'N':>5} {'step':<15}{'pattern':<8}{'hosts':>6}{'wall s':>9}{'cpu s':>9}{'rss MiB':>8}{'calls':>7}"
              f"{'key':>7}{'minimum':>8}{'polls':>6}  note")
    print(header)
    print("-" * len(header))
    for r in rows:
        note = f"extrapolated from {r['hosts_measured']} hosts" if r["extrapolated"] else ""
        if r["rc"]:
            note += f" FAILED rc={r['rc']}"
        print(f"{r['n']:>5} {r['step']:<15}{r['pattern']:<8}{r['hosts_measured']:>6}{r['wall_seconds']:>9}"
              f"{r['cpu_seconds']:>9}{r['max_rss_mib']:>8.0f}{r['calls']:>7}{r['key_calls']:>7}{r['minimum_key_calls']:>8}"
              f"{poll_rounds(r):>6}  {note}")
    print("key: DescribeInstances calls for (a), mutating calls for (b)-(d); minimum: ceil(N/100) for the batched "
          "pattern,\none per host for the naive one; polls: status reads / ceil(N/100) = poll rounds of a batched step")


def ratios(rows: list[dict]) -> dict:
    by = {(r["n"], r["step"], r["pattern"]): r for r in rows}
    out = {}
    for (n, step, pattern), naive in by.items():
        batched = by.get((n, step, "batched"))
        if pattern != "naive" or batched is None:
            continue
        out[f"{n}/{step}"] = {
            key: round(naive[key] / batched[key], 1) if batched[key] else None
            for key in ("wall_seconds", "cpu_seconds", "calls")}
    return out


def run() -> dict:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100,1000,5000").split(",")]
    sample = int(os.environ.get("BENCH_NAIVE_SAMPLE", "20"))
    transition = float(os.environ.get("BENCH_TRANSITION", "1.0"))
    rows = []
    for size in sizes:
        print(f"-- N = {size}", flush=True)
        rows.extend(run_size(size, sample, transition))
    print_table(rows)
    ratio = ratios(rows)
    print("naive / batched (wall, cpu, calls):")
    for key, value in ratio.items():
        print(f"  {key:<22} {value['wall_seconds']!s:>7} {value['cpu_seconds']!s:>7} {value['calls']!s:>7}")
    return {"sizes": sizes, "naive_sample_hosts": sample, "transition_seconds": transition, "rows": rows,
            "naive_over_batched": ratio}


if __name__ == "__main__":
    run()
