"""Benchmark of the alicloud.oos.ecs inventory: load time, API calls, and `ansible-inventory --list` against the
same hosts and variables in a static inventory file, for 1,000 and 10,000 instances.

Each size gets its own emulator (instances spread over two regions) and two configurations: ``plain`` (the
regions only) and ``constructed`` (two ``compose``, one ``groups`` and two ``keyed_groups`` entries, as in
tests/integration/inventory/demo.ecs.yml). Figures per size and configuration:

* ``load_seconds``: building the inventory (``InventoryManager`` on the ``.ecs.yml`` file, in a fresh
  Python process, as ansible-playbook does before the first play) - the plugin's own cost;
* ``list_seconds`` / ``list_cpu_seconds``: ``ansible-inventory --list`` on the ``.ecs.yml`` file (wall, and
  CPU of the process), which adds ansible-core's own rendering of every host's variables;
* ``static_list_seconds`` / ``static_list_cpu_seconds``: ``ansible-inventory --list`` on a static file holding
  exactly the hosts, variables and groups the plugin produced (checked), as JSON in the YAML inventory layout -
  the fastest static form here: INI took 1.15 times as long and YAML six times;
* ``static_ratio``: ``list_seconds`` over ``static_list_seconds``; ``static_cpu_ratio`` the same in CPU.

Each ``--list`` runs ``BENCH_INVENTORY_REPEATS`` times (default 3), interleaved, and the fastest run counts:
other load on the machine only ever adds time. Expected calls per load: ceil(N/100) DescribeInstances per
region plus one DescribeRegions (the check of the ``regions`` option). Figures are reported, never asserted.
"""
from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, start_emulator

SIZES = (1000, 10000)
REGIONS = ("cn-hangzhou", "cn-shanghai")
REPEATS = int(os.environ.get("BENCH_INVENTORY_REPEATS", "3"))
CONFIGS = {
    "plain": "plugin: alicloud.oos.ecs\nregions: [{regions}]\n",
    "constructed": """plugin: alicloud.oos.ecs
regions: [{regions}]
keyed_groups:
  - {{key: instance_type, prefix: type}}
  - {{key: ecs_tags.App, prefix: app}}
compose:
  ansible_user: "'ecs-user' if os_type == 'linux' else 'Administrator'"
  dev_web: ecs_tags.Env == 'dev' and ecs_tags.App == 'web'
groups:
  dev_running: ecs_tags.Env == 'dev' and status == 'Running'
""",
}
LOAD_SCRIPT = """
import json, sys, time
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
started = time.monotonic()
inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
print(json.dumps({"seconds": time.monotonic() - started, "hosts": len(inventory.hosts)}))
"""


def _unwrap(obj: dict):
    """ansible-inventory marks values from inventory plugins as {"__ansible_unsafe": value}."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def timed(cmd: list, env: dict) -> tuple:
    """``(wall seconds, CPU seconds of the process and its children, CompletedProcess)``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def static_file(listing: dict, path: Path) -> Path:
    """The hosts, variables and groups of an ``ansible-inventory --list`` answer as a static inventory file."""
    layout = {"all": {"hosts": listing["_meta"]["hostvars"], "children": {}}}
    for name, entry in listing.items():
        if name in ("_meta", "all", "ungrouped"):
            continue
        child = layout["all"]["children"][name] = {"hosts": dict.fromkeys(entry.get("hosts", []))}
        if entry.get("children"):
            child["children"] = dict.fromkeys(entry["children"], {})
    path.write_text(json.dumps(layout))
    return path


def listed_hosts(proc) -> dict:
    return json.loads(proc.stdout, object_hook=_unwrap)["_meta"]["hostvars"] if proc.returncode == 0 else {}


def compare(emu, source: Path, size: int) -> dict:
    """``ansible-inventory --list`` on ``source`` and on the static file of its answer, interleaved; best runs."""
    command = [str(BIN / "ansible-inventory"), "--list", "-i"]
    runs, static, expected, same = {"ecs": [], "static": []}, None, {}, False
    for _repeat in range(REPEATS):
        wall, cpu, proc = timed(command + [str(source)], emu.env)
        runs["ecs"].append((wall, cpu))
        expected = listed_hosts(proc)
        if static is None:
            static = static_file(json.loads(proc.stdout, object_hook=_unwrap), source.with_suffix(".static.json"))
        wall, cpu, listed = timed(command + [str(static)], emu.env)
        runs["static"].append((wall, cpu))
        same = listed_hosts(listed) == expected and len(expected) == size
    best = {kind: (min(w for w, _cpu in values), min(c for _wall, c in values)) for kind, values in runs.items()}
    return {
        "hosts_listed": len(expected),
        "list_seconds": round(best["ecs"][0], 2),
        "list_cpu_seconds": round(best["ecs"][1], 2),
        "static_list_seconds": round(best["static"][0], 2),
        "static_list_cpu_seconds": round(best["static"][1], 2),
        "static_ratio": round(best["ecs"][0] / best["static"][0], 2),
        "static_cpu_ratio": round(best["ecs"][1] / best["static"][1], 2),
        "static_same_hostvars": same,
    }


def measure(size: int) -> dict:
    emu = start_emulator("--instances", str(size), "--regions", ",".join(REGIONS), "--seed", "1")
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
        sources = {}
        for name, config in CONFIGS.items():
            sources[name] = folder / f"{name}.ecs.yml"
            sources[name].write_text(config.format(regions=", ".join(REGIONS)))
        per_region = Counter(i["RegionId"] for i in emu.instances())

        emu.control("stats/reset", {}, method="POST")
        load = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(sources["plain"])], cwd=REPO_ROOT, env=emu.env,
                              capture_output=True, text=True, timeout=600, check=False)
        loaded = json.loads(load.stdout.strip().splitlines()[-1]) if load.returncode == 0 else {"seconds": None, "hosts": 0}
        calls = emu.stats()["calls"]
        listings = {name: compare(emu, source, size) for name, source in sources.items()}
        return {
            "instances": size,
            "hosts_loaded": loaded["hosts"],
            "load_seconds": round(loaded["seconds"], 2) if loaded["seconds"] is not None else None,
            **listings["plain"],
            "constructed": listings["constructed"],
            "repeats": REPEATS,
            "load_average": round(os.getloadavg()[0], 1),
            "describe_instances_calls": calls.get("DescribeInstances", 0),
            "describe_regions_calls": calls.get("DescribeRegions", 0),
            "expected_describe_instances_calls": sum(math.ceil(n / 100) for n in per_region.values()),
            "ok": (load.returncode == 0 and loaded["hosts"] == size
                   and all(listing["static_same_hostvars"] for listing in listings.values())),
            "error": None if load.returncode == 0 else load.stderr[-2000:],
        }
    finally:
        emu.stop()


def run() -> dict:
    rows = [measure(size) for size in SIZES]
    print(f"{'instances':>10} {'config':>12} {'load s':>7} {'--list s':>9} {'static s':>9} {'ratio':>6} {'cpu s':>6} "
          f"{'static cpu s':>13} {'cpu ratio':>10} {'DescribeInstances':>18} {'expected':>9} {'DescribeRegions':>16}")
    for r in rows:
        for name, listing in (("plain", r), ("constructed", r["constructed"])):
            print(f"{r['instances']:>10} {name:>12} {r['load_seconds']!s:>7} {listing['list_seconds']:>9} "
                  f"{listing['static_list_seconds']:>9} {listing['static_ratio']:>6} {listing['list_cpu_seconds']:>6} "
                  f"{listing['static_list_cpu_seconds']:>13} {listing['static_cpu_ratio']:>10} "
                  f"{r['describe_instances_calls']:>18} {r['expected_describe_instances_calls']:>9} "
                  f"{r['describe_regions_calls']:>16}")
    return {"runs": {str(r["instances"]): r for r in rows}}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
