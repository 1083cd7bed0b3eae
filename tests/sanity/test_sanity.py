"""Static checks of the collection: the whole ``ansible-test sanity`` suite, ansible-lint with the production
profile on roles/ and playbooks/, and ansible-doc on every plugin and role.

Each sanity test runs as ``ansible-test sanity --local --requirements --test NAME`` on a copy of the collection,
in the pinned virtualenv ansible-test builds for it; tests/sanity/sanity_runner.py explains how that works
offline. The findings of a failing test are listed per file and written to tests/output/sanity/NAME.txt.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment
from tests.sanity.sanity_runner import (
    collection_copy, install_pip_bootstrap, list_tests, prime_virtualenvs, run_sanity_test)

# Every sanity test of ansible-core 2.19 that applies to a collection (test_the_suite_is_complete keeps it honest).
SANITY_TESTS = (
    "action-plugin-docs", "ansible-doc", "changelog", "compile", "empty-init", "ignores", "import", "line-endings",
    "no-assert", "no-get-exception", "no-illegal-filenames", "no-smart-quotes", "pep8", "pslint", "pylint",
    "replace-urlopen", "runtime-metadata", "shebang", "shellcheck", "symlinks", "use-argspec-type-path",
    "use-compat-six", "validate-modules", "yamllint",
)
SLOW = {"pylint": 60, "validate-modules": 15, "import": 15, "ansible-doc": 15, "yamllint": 10, "changelog": 10}
# Sanity tests whose code-style findings wait for a wave of code changes: such a test xfails when it reports
# findings (listed per file in tests/output/sanity/), rather than hiding them with ignore entries; it still
# fails for real when it cannot run. Empty: pep8 and pylint are clean, so any new finding fails.
CODE_WAVE: set[str] = set()
CODE_WAVE_REASON = "code-style findings wait for the pep8/pylint code wave (issue Galaxy-grade)"
REPORTS = REPO_ROOT / "tests" / "output" / "sanity"
PLUGIN_TYPES = {"modules": "module", "inventory": "inventory", "lookup": "lookup", "filter": "filter",
                "callback": "callback", "test": "test", "connection": "connection"}


@pytest.fixture(scope="session")
def sanity_collection(tmp_path_factory) -> Path:
    """A copy of the collection for ansible-test, with every sanity virtualenv ready."""
    install_pip_bootstrap()
    collection = collection_copy(tmp_path_factory.mktemp("sanity"))
    proc = prime_virtualenvs(collection)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return collection


SANITY_PARAMS = [pytest.param(test, marks=[pytest.mark.heavy(SLOW[test])] if test in SLOW else [], id=test)
                 for test in SANITY_TESTS]


def test_the_suite_is_complete(sanity_collection):
    """A new ansible-core that adds a sanity test must not have it skipped silently."""
    assert sorted(list_tests(sanity_collection)) == sorted(SANITY_TESTS)


@pytest.mark.parametrize("test", SANITY_PARAMS)
def test_ansible_test_sanity(sanity_collection, test):
    run = run_sanity_test(sanity_collection, test)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{test}.txt").write_text(run.summary() + "\n")
    assert run.ran, run.output[-6000:]
    if test in CODE_WAVE and run.findings:
        pytest.xfail(f"{CODE_WAVE_REASON}: {run.headline()}")
    assert run.returncode == 0 and not run.findings, run.summary() + "\n\n" + run.output[-3000:]


@pytest.mark.heavy(30)
def test_ansible_lint_production_profile():
    targets = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "roles").iterdir() if p.is_dir())
    targets += sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "playbooks").glob("*.yml"))
    proc = subprocess.run([str(BIN / "ansible-lint"), "--nocolor", *targets],
                          cwd=REPO_ROOT, env=clean_environment(), capture_output=True, text=True, timeout=900, check=False)
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
                          cwd=REPO_ROOT, env=clean_environment(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "ERROR" not in proc.stderr and "[WARNING]" not in proc.stderr, proc.stderr[-4000:]
    for name in names:
        assert f"alicloud.oos.{name}" in proc.stdout, f"{plugin_type} {name} did not render"
