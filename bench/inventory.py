"""Benchmark of the alicloud.oos.ecs inventory: load time and API calls for 1,000 and 10,000 instances.

Each size gets its own emulator (instances spread over two regions); ``ansible-inventory --list``
runs as a user would run it. Expected calls: ceil(N/100) DescribeInstances per region plus one
DescribeRegions (the check of the ``regions`` option). Figures are reported, never asserted.
"""
from __future__ import annotations

import json
import math
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, start_emulator

SIZES = (1000, 10000)
REGIONS = ("cn-hangzhou", "cn-shanghai")
CONFIG = """plugin: alicloud.oos.ecs
regions: [{regions}]
"""


def measure(size: int) -> dict:
    emu = start_emulator("--instances", str(size), "--regions", ",".join(REGIONS), "--seed", "1")
    try:
        workdir = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
        source = workdir / "bench.ecs.yml"
        source.write_text(CONFIG.format(regions=", ".join(REGIONS)))
        per_region = Counter(i["RegionId"] for i in emu.instances())
        emu.control("stats/reset", {}, method="POST")
        started = time.monotonic()
        proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], cwd=REPO_ROOT,
                              env=emu.env, capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - started
        hosts = len(json.loads(proc.stdout)["_meta"]["hostvars"]) if proc.returncode == 0 else 0
        calls = emu.stats()["calls"]
        return {
            "instances": size,
            "hosts_loaded": hosts,
            "seconds": round(seconds, 2),
            "describe_instances_calls": calls.get("DescribeInstances", 0),
            "describe_regions_calls": calls.get("DescribeRegions", 0),
            "expected_describe_instances_calls": sum(math.ceil(n / 100) for n in per_region.values()),
            "under_10_seconds": seconds < 10,
            "ok": proc.returncode == 0 and hosts == size,
        }
    finally:
        emu.stop()


def run() -> dict:
    rows = [measure(size) for size in SIZES]
    header = f"{'instances':>10} {'hosts':>7} {'seconds':>8} {'DescribeInstances':>18} {'expected':>9} {'DescribeRegions':>16}"
    print(header)
    for r in rows:
        print(f"{r['instances']:>10} {r['hosts_loaded']:>7} {r['seconds']:>8} {r['describe_instances_calls']:>18} "
              f"{r['expected_describe_instances_calls']:>9} {r['describe_regions_calls']:>16}")
    return {"runs": {str(r["instances"]): r for r in rows}}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
