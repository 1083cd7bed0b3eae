"""`make demo`: run the README tour, block by block, in one bash shell, as a user pasting it would.

The tour (between ``<!-- tour:start -->`` and ``<!-- tour:end -->`` in README.md) starts the emulator,
walks inventory → describe → stop/start → run command → image → convert a template → AWX job → history,
and stops the emulator. Each block is printed before it runs; the first failing command stops the demo.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
BLOCK = re.compile(r"^\*\*(?P<title>[^*]+)\*\*.*?^```bash\n(?P<code>.*?)^```", re.S | re.M)
# Kill the background emulator however the tour ends (the last block kills it on success).
PROLOGUE = """set -euo pipefail
trap '[ -n "${EMULATOR_PID:-}" ] && kill "$EMULATOR_PID" 2>/dev/null; true' EXIT
"""


def tour_blocks(readme: str) -> list[tuple[str, str]]:
    """``[(title, bash code)]`` of the README tour, in order."""
    start, end = readme.index("<!-- tour:start -->"), readme.index("<!-- tour:end -->")
    return [(m["title"].strip(), m["code"]) for m in BLOCK.finditer(readme[start:end])]


def tour_script(blocks: list[tuple[str, str]]) -> str:
    """One bash script: each block echoed (as `$ command` lines) and then run."""
    parts = [PROLOGUE]
    for number, (title, code) in enumerate(blocks):
        shown = "".join(f"$ {line}\n" for line in code.splitlines())
        parts.append(f"printf '\\n=== %s\\n' {shlex.quote(title)}\n"
                     f"cat <<'__TOUR_BLOCK_{number}__'\n{shown}__TOUR_BLOCK_{number}__\n{code}")
    return "".join(parts)


def main() -> int:
    blocks = tour_blocks(README.read_text(encoding="utf-8"))
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")) and k.lower() not in (
               "http_proxy", "https_proxy", "all_proxy")}
    rc = subprocess.call(["bash", "-c", tour_script(blocks)], cwd=REPO_ROOT, env=env)
    print(f"\n--- tour: {len(blocks)} steps, exit code {rc}, wall time {time.monotonic() - started:.1f} s ---",
          flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
