"""`molecule test` for every role scenario under extensions/molecule/ (how `make test` runs them).

Each scenario starts its own emulator in `prepare`, runs the role in `converge`, runs it again for
`idempotence` (no change allowed), asserts on the emulator's state in `verify` and stops the
emulator in `cleanup`.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment

SCENARIOS = sorted(p.parent.name for p in (REPO_ROOT / "extensions" / "molecule").glob("*/molecule.yml"))


def test_every_role_has_a_scenario():
    roles = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    # The roles converted templates use run in their tests (differential test, converter tests) instead.
    missing = [r for r in roles if r not in SCENARIOS and r not in ("oos_approval", "oos_loop_item", "oos_execution_approval")]
    assert not missing, f"roles without a molecule scenario: {missing}"
    assert {"ecs_power_schedule", "ecs_update_image", "ecs_fleet_command"} <= set(SCENARIOS)


@pytest.mark.heavy(25)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    if not (BIN / "molecule").exists() and not shutil.which("molecule"):
        pytest.skip("molecule is not installed (make setup installs it)")
    env = clean_environment()
    # molecule writes its own ansible.cfg for the scenario (collections path included).
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([str(BIN / "molecule"), "test", "-s", scenario], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for step in ("prepare", "converge", "idempotence", "verify", "cleanup"):
        assert f"{step}: Executed: Successful" in _plain(output), f"{step} did not run:\n{output[-4000:]}"


def _plain(text: str) -> str:
    """Molecule colours its log even without a terminal."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
