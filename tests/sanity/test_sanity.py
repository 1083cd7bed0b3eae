"""Static checks of the collection: the ansible-test sanity tests that run offline, ansible-lint with the
production profile on roles/ and playbooks/, and ansible-doc on every plugin and role.

ansible-test needs the collection under .../ansible_collections/alicloud/oos/ and resolves symlinks, so
the checkout is copied there first. The other sanity tests (validate-modules, import, pylint, pep8,
yamllint, runtime-metadata, ansible-doc, changelog) install their own pinned requirements into
virtual environments and need the network: run them in CI with `ansible-test sanity --docker`.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment

OFFLINE_SANITY_TESTS = (
    "action-plugin-docs", "compile", "empty-init", "line-endings", "no-assert", "no-get-exception",
    "no-illegal-filenames", "no-smart-quotes", "replace-urlopen", "shebang", "symlinks", "use-argspec-type-path",
    "use-compat-six",
)
# What ansible-galaxy would not ship, plus local state.
COPY_IGNORE = shutil.ignore_patterns(".venv", ".collections", ".git", "__pycache__", ".pytest_cache", "*.pyc",
                                     "bench", "tests/output")
PLUGIN_TYPES = {"modules": "module", "inventory": "inventory", "lookup": "lookup", "filter": "filter",
                "callback": "callback", "test": "test", "connection": "connection"}


def _env() -> dict:
    env = clean_environment()
    env["PATH"] = f"{BIN}:{env['PATH']}"
    return env


def test_ansible_test_sanity_offline(tmp_path):
    collection = tmp_path / "ansible_collections" / "alicloud" / "oos"
    shutil.copytree(REPO_ROOT, collection, ignore=COPY_IGNORE, symlinks=True)
    cmd = [str(BIN / "ansible-test"), "sanity", "--local", "--python", "3.11", "--color", "no"]
    for test in OFFLINE_SANITY_TESTS:
        cmd += ["--test", test]
    proc = subprocess.run(cmd, cwd=collection, env=_env(), capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for test in OFFLINE_SANITY_TESTS:
        assert f'Running sanity test "{test}"' in output


@pytest.mark.heavy(30)
def test_ansible_lint_production_profile():
    targets = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "roles").iterdir() if p.is_dir())
    targets += sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "playbooks").glob("*.yml"))
    proc = subprocess.run([str(BIN / "ansible-lint"), "--nocolor", *targets],
                          cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


def _plugin_names(directory: Path) -> list[str]:
    names = set()
    for path in directory.glob("*"):
        if path.name.startswith("_") or path.suffix not in (".py", ".yml", ".yaml"):
            continue
        if directory.name in ("filter", "test") and path.suffix == ".py":
            continue  # a filter/test .py file holds several plugins, documented by the .yml files
        names.add(path.stem)
    return sorted(names)


@pytest.mark.parametrize("directory,plugin_type", sorted(PLUGIN_TYPES.items()))
def test_ansible_doc_renders_every_plugin(directory, plugin_type):
    names = _plugin_names(REPO_ROOT / "plugins" / directory)
    if not names:
        pytest.skip(f"no {plugin_type} plugins yet")
    _ansible_doc(plugin_type, names)


def test_ansible_doc_renders_every_role():
    names = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
    assert names
    _ansible_doc("role", names)


def _ansible_doc(plugin_type: str, names: list[str]) -> None:
    proc = subprocess.run([str(BIN / "ansible-doc"), "-t", plugin_type, *[f"alicloud.oos.{n}" for n in names]],
                          cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "ERROR" not in proc.stderr and "[WARNING]" not in proc.stderr, proc.stderr[-4000:]
    for name in names:
        assert f"alicloud.oos.{name}" in proc.stdout, f"{plugin_type} {name} did not render"
