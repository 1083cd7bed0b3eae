"""Run ``ansible-test sanity`` here, with no network but the package index.

* ansible-test wants the collection at a path ending in ``ansible_collections/alicloud/oos`` and resolves
  symlinks, so the ``.collections`` link does not do: :func:`collection_copy` copies what git would commit.
* Each sanity test runs in a virtualenv of its own under ``~/.ansible/test/venv`` with pinned requirements
  (``--requirements``). ansible-test bootstraps pip in them with a get-pip.py it downloads from a host these
  machines cannot reach: :func:`install_pip_bootstrap` puts the offline stand-in ``get_pip_offline.py`` in its
  cache. :func:`prime_virtualenvs` creates the virtualenvs once, under a lock, so that sanity tests can then
  run in parallel without two processes building the same virtualenv.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import BIN, REPO_ROOT, clean_environment, committed_files
from tests.sanity.get_pip_offline import MARKER

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
ANSIBLE_TEST_HOME = Path.home() / ".ansible" / "test"
STAND_IN = Path(__file__).with_name("get_pip_offline.py")
# Local state that is not part of the collection, when there is no git to ask.
NOT_COMMITTED = shutil.ignore_patterns(".venv", ".collections", ".git", "__pycache__", ".pytest_cache", "*.pyc",
                                       "output", "results.json", "*.tar.gz")

# "ERROR: path:line:column: code: message" (some tests have no code).
_FINDING = re.compile(r"^ERROR: (?P<path>[^:\s]+):(?P<line>\d+):(?P<column>\d+): (?:(?P<code>[\w-]+): )?(?P<message>.*)$")


@dataclass
class SanityRun:
    """The outcome of one ``ansible-test sanity --test NAME``."""
    test: str
    returncode: int
    output: str
    seconds: float
    findings: list = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return f'Running sanity test "{self.test}"' in self.output

    def headline(self) -> str:
        """How many findings, and the files with the most."""
        by_file = self._count("path")
        top = ", ".join(f"{path} {count}" for path, count in by_file[:3])
        return f"{len(self.findings)} finding(s) in {len(by_file)} file(s) ({top}{', ...' if len(by_file) > 3 else ''})"

    def _count(self, key: str) -> list[tuple[str, int]]:
        counts = {}
        for finding in self.findings:
            value = finding[key] or "-"
            counts[value] = counts.get(value, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def summary(self) -> str:
        """Findings counted per file and per code, then the findings themselves."""
        lines = [f"{self.test}: {self.headline()} in {self.seconds:.0f} s"]
        lines += [f"  {count:4d}  {path}" for path, count in self._count("path")]
        lines += ["  by code:"] + [f"  {count:4d}  {code}" for code, count in self._count("code")]
        lines += [f"  {f['path']}:{f['line']}:{f['column']}: {f['code']}: {f['message']}" for f in self.findings]
        return "\n".join(lines)


def pip_version() -> str:
    """The pip version ansible-test bootstraps into its virtualenvs (the name of the cached get-pip script)."""
    code = ("from types import SimpleNamespace\n"
            "from ansible_test._internal.python_requirements import get_venv_packages\n"
            f"print(get_venv_packages(SimpleNamespace(version='{PYTHON_VERSION}'))['pip'])\n")
    return subprocess.run([str(BIN / "python"), "-c", code], check=True, capture_output=True, text=True,
                          env=clean_environment()).stdout.strip()


def install_pip_bootstrap() -> Path:
    """Put the offline stand-in where ansible-test looks for its cached get-pip.py (a real one is left alone)."""
    cached = ANSIBLE_TEST_HOME / "cache" / f"get_pip_{pip_version().replace('.', '_')}.py"
    stand_in = STAND_IN.read_text()
    if cached.exists() and (MARKER not in cached.read_text() or cached.read_text() == stand_in):
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}")
    partial.write_text(stand_in)
    os.replace(partial, cached)  # atomic: a concurrent ansible-test never reads half a script
    return cached


def collection_copy(root: Path) -> Path:
    """A copy of the collection at ROOT/ansible_collections/alicloud/oos (symlinks stay symlinks)."""
    collection = root / "ansible_collections" / "alicloud" / "oos"
    files = committed_files()
    if files is None:
        shutil.copytree(REPO_ROOT, collection, ignore=NOT_COMMITTED, symlinks=True)
        return collection
    for relative in files:
        source, target = REPO_ROOT / relative, collection / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return collection


def _ansible_test(collection: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible-test"), "sanity", "--local", "--requirements", "--python", PYTHON_VERSION,
           "--color", "no", *args]
    return subprocess.run(cmd, cwd=collection, env=clean_environment(), capture_output=True, text=True, timeout=timeout,
                          check=False)


def list_tests(collection: Path) -> list[str]:
    proc = _ansible_test(collection, "--list-tests", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.split()


def prime_virtualenvs(collection: Path) -> subprocess.CompletedProcess:
    """Create (or check) every sanity virtualenv, one process at a time across pytest workers."""
    ANSIBLE_TEST_HOME.mkdir(parents=True, exist_ok=True)
    with open(ANSIBLE_TEST_HOME / "alicloud-oos-prime.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _ansible_test(collection, "--prime-venvs")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_sanity_test(collection: Path, test: str) -> SanityRun:
    start = time.monotonic()
    proc = _ansible_test(collection, "--test", test)
    output = proc.stdout + proc.stderr
    findings = [m.groupdict() for m in map(_FINDING.match, output.splitlines()) if m]
    return SanityRun(test, proc.returncode, output, time.monotonic() - start, findings)
