"""The changelog: fragments say all they were written to say, and CHANGELOG.rst is what antsibull-changelog
generates from changelogs/changelog.yaml (``make changelog`` writes both). ansible-test's changelog sanity test
checks the fragments' sections and markup."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import BIN, REPO_ROOT, clean_environment

FRAGMENTS = sorted((REPO_ROOT / "changelogs" / "fragments").glob("*.y*ml"))


def _entries(data: dict) -> list[str]:
    return [entry for value in data.values() for entry in (value if isinstance(value, list) else [value])]


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=lambda p: p.name)
def test_no_fragment_entry_is_cut_by_a_comment(fragment):
    """In a plain YAML scalar `` #`` starts a comment: ``(issue #4)`` silently ends the entry at ``(issue``."""
    text = fragment.read_text()
    entries = _entries(yaml.safe_load(text))
    for line in text.splitlines():
        if line.lstrip().startswith("#") or " #" not in line:
            continue
        after = line.split(" #", 1)[1].strip()
        assert any(after[:20] in entry for entry in entries), (
            f"{fragment.name}: the text after ' #' in {line.strip()!r} is a YAML comment; quote the entry or use '>-'")


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    for name in ("galaxy.yml", "changelogs/config.yaml", "changelogs/changelog.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    proc = subprocess.run([str(BIN / "antsibull-changelog"), "generate"], cwd=tmp_path, env=clean_environment(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (REPO_ROOT / "CHANGELOG.rst").read_text() == (tmp_path / "CHANGELOG.rst").read_text(), \
        "CHANGELOG.rst is stale: run `make changelog`"


def test_the_release_of_galaxy_yml_version_is_in_the_changelog():
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    releases = yaml.safe_load((REPO_ROOT / "changelogs" / "changelog.yaml").read_text())["releases"]
    assert version in releases, f"no {version} release in changelogs/changelog.yaml: run `make changelog`"
    assert re.search(rf"^v{re.escape(version)}\n=+$", (REPO_ROOT / "CHANGELOG.rst").read_text(), re.M)
