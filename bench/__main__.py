"""`make bench`: run every benchmark suite in this folder and write bench/results.json.

Each suite is a module ``bench/<name>.py`` with ``run() -> dict``: it starts and stops its own
emulator, prints its own table and returns its figures. Figures are reported, never asserted.
"""
from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

SUITES = ("fleet", "converter", "inventory", "instance_workflows", "connection")
# `make bench` (< 20 minutes on 2 cores): the fleet suite measures inventory, stop/start, command and update-image
# for N = 100, 1,000 and 5,000, batched and naive side by side; the inventory suite loads 1,000 and 10,000
# instances and lists them against static files of the same hosts, plain and with constructed options, three
# times each (about 3 minutes). The instance workflows with three patterns at N = 1,000 (about 4 minutes) run on
# request: python -m bench instance_workflows. The connection suite (ping and copy over 20 hosts through Cloud
# Assistant and locally) takes about two minutes. The converter suite converts the public templates a few times
# (seconds) and lints the converted corpus once as the corpus gate does (2.5 to 5 minutes of CPU on 2 cores).
DEFAULT_SUITES = ("fleet", "converter", "inventory", "connection")
RESULTS = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str]) -> int:
    selected = argv or list(DEFAULT_SUITES)
    unknown = sorted(set(selected) - set(SUITES))
    if unknown:
        print(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    results = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
               "suites": {}}
    started = time.monotonic()
    for name in selected:
        print(f"\n=== bench: {name} ===", flush=True)
        suite = importlib.import_module(f"bench.{name}")
        t0 = time.monotonic()
        results["suites"][name] = suite.run()
        results["suites"][name]["suite_wall_seconds"] = round(time.monotonic() - t0, 2)
    results["total_wall_seconds"] = round(time.monotonic() - started, 2)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
          f" in {results['total_wall_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
