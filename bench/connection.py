"""Connection benchmark: ``ansible.builtin.ping`` and ``ansible.builtin.copy`` of a 100 KiB file over 20 hosts
through ``alicloud.oos.cloud_assistant``, beside the same plays over ``ansible_connection=local`` on the same
machine (the floor: no transport at all, the same modules run by the same Python).

Hosts come from the ``alicloud.oos.ecs`` inventory with ``use_cloud_assistant: true`` (20 emulated instances, all
Running, forks = 20). Every row is its own ``ansible-playbook`` run, as a user would start it:

* ``ping cold``: the first run ever on the instances (their module cache is empty; interpreter discovery);
* ``ping``: a later run (module code cached on the instances; discovery again, as in every run);
* ``ping, interpreter set``: a later run with ``ansible_python_interpreter`` set (no discovery): the module task
  alone; ``5 x ping``: five such tasks in one play, figures per task (later tasks pace their first poll on
  the earlier ones);
* ``copy 100 KiB cold``: the first copy (the copy and stat modules are new to the instances);
* ``copy 100 KiB``: a later run copying another 100 KiB file (incompressible, so it really travels).

Per row: wall seconds, controller CPU seconds (the modules run in the emulator's processes for Cloud Assistant,
in ansible's for local, so CPU is not comparable across connections), and the API calls the emulator counted per host, split into
commands (RunCommand), file parts (SendFile) and polls (DescribeInvocationResults); "per task" is the row's
calls per host minus the inventory's own calls. Polls back off (0.25 s, then x1.5 up to 5 s), so their number
depends on how long the commands run: the emulator runs them as real processes on this machine.
Environment: BENCH_CONNECTION_HOSTS (default 20). Figures are reported, never asserted.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.fleet import measure
from tests.conftest import BIN, start_emulator

HOSTS = int(os.environ.get("BENCH_CONNECTION_HOSTS", "20"))
INVENTORY = "plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\nhostnames: [instance_name]\nuse_cloud_assistant: true\n"
PLAY = """\
- hosts: all
  gather_facts: false
  tasks:
    - {task}
"""
TASKS = {
    "ping": "ansible.builtin.ping:",
    "ping5": "\n    - ".join(["ansible.builtin.ping:"] * 5),
    "copy": "ansible.builtin.copy: {src: '{{ src }}', dest: '{{ dest }}'}",
}
INVENTORY_ACTIONS = ("DescribeRegions", "DescribeInstances")
COMMON = ["-f", str(HOSTS)]


def per_host(figures: dict, hosts: int, tasks: int = 1) -> dict:
    """Calls per host and task (the inventory's own calls left out)."""
    calls = figures["calls_by_action"]
    task_calls = {k: v for k, v in calls.items() if k not in INVENTORY_ACTIONS}
    return {
        "calls_per_host": round(sum(task_calls.values()) / hosts / tasks, 2),
        "runcommand_per_host": round(calls.get("RunCommand", 0) / hosts / tasks, 2),
        "sendfile_per_host": round(calls.get("SendFile", 0) / hosts / tasks, 2),
        "polls_per_host": round(calls.get("DescribeInvocationResults", 0) / hosts / tasks, 2),
    }


def run() -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-connection-"))
    files = []
    for n in range(2):
        path = workdir / f"file-{n}.bin"
        path.write_bytes(os.urandom(100 * 1024))
        files.append(path)
    books = {}
    for name, task in TASKS.items():
        books[name] = workdir / f"{name}.yml"
        books[name].write_text(PLAY.format(task=task))
    rows = []
    emu = start_emulator("--instances", str(HOSTS), "--seed", "1", "--transition-seconds", "0.2", "--workers",
                         str(max(16, HOSTS)))
    try:
        for instance in emu.instances():
            if instance["Status"] != "Running":
                emu.control(f"instances/{instance['InstanceId']}/status", {"Status": "Running"})
        inventory = workdir / "fleet.ecs.yml"
        inventory.write_text(INVENTORY)
        playbook = [str(BIN / "ansible-playbook"), "-i", str(inventory), *COMMON]

        def row(name, book, *extra, connection="alicloud.oos.cloud_assistant", tasks=1):
            figures = measure(emu, workdir, playbook + [str(book), *extra])
            rows.append({"scenario": name, "connection": connection, "hosts": HOSTS, "tasks": tasks, **figures,
                         **per_host(figures, HOSTS, tasks)})

        row("ping cold", books["ping"])
        row("ping", books["ping"])
        discovered = _discovered(emu, workdir, inventory)
        row("ping, interpreter set", books["ping"], "-e", f"ansible_python_interpreter={discovered}")
        row("5 x ping, per task", books["ping5"], "-e", f"ansible_python_interpreter={discovered}", tasks=5)
        row("copy 100 KiB cold", books["copy"], "-e", f"src={files[0]}", "-e", "dest=~/copy.bin")
        row("copy 100 KiB", books["copy"], "-e", f"src={files[1]}", "-e", "dest=~/copy.bin")

        local = workdir / "local.ini"
        local.write_text("[fleet]\n" + "".join(f"h{n:02d}\n" for n in range(HOSTS))
                         + f"\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter={sys.executable}\n")
        out = workdir / "local-out"
        out.mkdir()
        playbook = [str(BIN / "ansible-playbook"), "-i", str(local), *COMMON]
        row("ping", books["ping"], connection="local")
        row("5 x ping, per task", books["ping5"], connection="local", tasks=5)
        row("copy 100 KiB", books["copy"], "-e", f"src={files[1]}", "-e", f"dest={out}/{{{{ inventory_hostname }}}}.bin",
            connection="local")
    finally:
        emu.stop()
    print_table(rows)
    return {"hosts": HOSTS, "rows": rows}


def _discovered(emu, workdir: Path, inventory: Path) -> str:
    """The interpreter the instances' discovery finds (what a user would then set)."""
    probe = subprocess.run([str(BIN / "ansible"), "-i", str(inventory), "all[0]", "-m", "ansible.builtin.setup", "-a",
                            "filter=ansible_python"], env=emu.env, capture_output=True, text=True, cwd=workdir,
                           timeout=300, check=False)
    try:
        return json.loads(probe.stdout.split("=>", 1)[1])["ansible_facts"]["discovered_interpreter_python"]
    except (IndexError, KeyError, ValueError):
        return "/usr/bin/python3"


def print_table(rows: list) -> None:
    header = (f"{'connection':<30}{'scenario':<24}{'wall s':>8}{'cpu s':>8}{'calls/host':>11}{'RunCommand':>11}"
              f"{'SendFile':>9}{'polls':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        note = f"  FAILED rc={r['rc']}" if r["rc"] else ""
        if r["connection"] == "local":
            print(f"{r['connection']:<30}{r['scenario']:<24}{r['wall_seconds']:>8}{r['cpu_seconds']:>8}"
                  f"{'-':>11}{'-':>11}{'-':>9}{'-':>7}{note}")
            continue
        print(f"{r['connection']:<30}{r['scenario']:<24}{r['wall_seconds']:>8}{r['cpu_seconds']:>8}"
              f"{r['calls_per_host']:>11}{r['runcommand_per_host']:>11}{r['sendfile_per_host']:>9}"
              f"{r['polls_per_host']:>7}{note}")
    print(f"{HOSTS} hosts, forks {HOSTS}; calls per host for the play's one task, the inventory's own calls left out "
          "(discovery, when it runs, is one more RunCommand per host)")


if __name__ == "__main__":
    run()
