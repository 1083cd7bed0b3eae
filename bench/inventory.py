"""Benchmark of the alicloud.oos.ecs inventory: load time and API calls for 1,000 and 10,000 instances.

Each size gets its own emulator (instances spread over two regions). Two figures per size:

* ``load_seconds``: building the inventory (``InventoryManager`` on the ``.ecs.yml`` file, in a fresh
  Python process, as ansible-playbook does before the first play) - the plugin's own cost;
* ``list_seconds``: ``ansible-inventory --list`` wall time, which adds ansible-core's own rendering
  of every host's variables.

Expected calls per load: ceil(N/100) DescribeInstances per region plus one DescribeRegions (the
check of the ``regions`` option). Figures are reported, never asserted.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, start_emulator

SIZES = (1000, 10000)
REGIONS = ("cn-hangzhou", "cn-shanghai")
CONFIG = "plugin: alicloud.oos.ecs\nregions: [{regions}]\n"
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


def measure(size: int) -> dict:
    emu = start_emulator("--instances", str(size), "--regions", ",".join(REGIONS), "--seed", "1")
    try:
        source = Path(tempfile.mkdtemp(prefix="bench-inventory-")) / "bench.ecs.yml"
        source.write_text(CONFIG.format(regions=", ".join(REGIONS)))
        per_region = Counter(i["RegionId"] for i in emu.instances())

        emu.control("stats/reset", {}, method="POST")
        load = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(source)], cwd=REPO_ROOT, env=emu.env,
                              capture_output=True, text=True, timeout=600, check=False)
        loaded = json.loads(load.stdout.strip().splitlines()[-1]) if load.returncode == 0 else {"seconds": None, "hosts": 0}
        calls = emu.stats()["calls"]

        started = time.monotonic()
        listing = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], cwd=REPO_ROOT,
                                 env=emu.env, capture_output=True, text=True, timeout=600, check=False)
        list_seconds = time.monotonic() - started
        listed = len(json.loads(listing.stdout)["_meta"]["hostvars"]) if listing.returncode == 0 else 0
        return {
            "instances": size,
            "hosts_loaded": loaded["hosts"],
            "hosts_listed": listed,
            "load_seconds": round(loaded["seconds"], 2) if loaded["seconds"] is not None else None,
            "list_seconds": round(list_seconds, 2),
            "describe_instances_calls": calls.get("DescribeInstances", 0),
            "describe_regions_calls": calls.get("DescribeRegions", 0),
            "expected_describe_instances_calls": sum(math.ceil(n / 100) for n in per_region.values()),
            "ok": load.returncode == 0 and loaded["hosts"] == size and listed == size,
            "error": None if load.returncode == 0 else load.stderr[-2000:],
        }
    finally:
        emu.stop()


def run() -> dict:
    rows = [measure(size) for size in SIZES]
    print(f"{'instances':>10} {'hosts':>7} {'load s':>7} {'--list s':>9} {'DescribeInstances':>18} {'expected':>9} "
          f"{'DescribeRegions':>16}")
    for r in rows:
        print(f"{r['instances']:>10} {r['hosts_loaded']:>7} {r['load_seconds']!s:>7} {r['list_seconds']:>9} "
              f"{r['describe_instances_calls']:>18} {r['expected_describe_instances_calls']:>9} "
              f"{r['describe_regions_calls']:>16}")
    return {"runs": {str(r["instances"]): r for r in rows}}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
