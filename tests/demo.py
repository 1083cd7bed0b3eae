"""`make demo`: start the emulator, run the main workflow against it as a user would, summarise, stop."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, start_emulator

DEMO = REPO_ROOT / "tests" / "demo"


def main() -> int:
    emulator = start_emulator("--instances", "12", "--seed", "7", "--transition-seconds", "0.5")
    print(f"emulator: {emulator.url} (12 instances, Env=dev/prod tags)", flush=True)
    try:
        started = time.monotonic()
        cmd = [str(BIN / "ansible-playbook"), "-i", str(DEMO / "demo.ecs.yml"), str(DEMO / "demo.yml")]
        print("$ " + " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), flush=True)
        rc = subprocess.call(cmd, cwd=REPO_ROOT, env=emulator.env)
        stats = emulator.stats()
        print("\n--- summary ---")
        print(f"playbook exit code: {rc}, wall time {time.monotonic() - started:.1f} s")
        print(f"API calls: {stats['total_calls']} in total, {stats['mutating_calls']} mutating")
        for action, count in sorted(stats["calls"].items()):
            print(f"  {action:<32} {count}")
        return rc
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
