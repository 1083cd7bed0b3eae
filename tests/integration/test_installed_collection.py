"""The collection as a user gets it: the tarball `make build` makes, installed with ansible-galaxy into an empty
path and used from an empty directory (no ansible.cfg, no checkout on any collections path) against the
emulator, with the oldest ansible-core meta/runtime.yml accepts (2.16, in a virtualenv this test builds once
under tests/output/venvs) and the ansible-core of .venv (2.19)."""
from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO_ROOT, clean_environment, committed_files, start_emulator

# The oldest ansible-core the collection supports (meta/runtime.yml), at its last release.
OLDEST_ANSIBLE_CORE = "ansible-core==2.16.19"
VENVS = REPO_ROOT / "tests" / "output" / "venvs"
# pytest, to run the converter's suites with that ansible-core (pinned by constraints.txt).
TEST_RUNNER = ("pytest",)
GALAXY = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
# Top-level entries of the tarball: what a user needs (galaxy.yml build_ignore keeps the rest out).
TOP_LEVEL = {"CHANGELOG.rst", "FILES.json", "LICENSE", "MANIFEST.json", "README.md", "bindep.txt", "changelogs",
             "docs", "extensions", "meta", "playbooks", "plugins", "requirements.txt", "roles"}
SHIPPED = ("plugins/", "roles/", "playbooks/", "docs/", "meta/", "extensions/awx/")
NOT_SHIPPED = ("extensions/molecule", "changelogs/fragments", "changelogs/.plugin-cache.yaml")


def run(cmd: list, env: dict, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out], clean_environment(), REPO_ROOT)
    [path] = out.glob("alicloud-oos-*.tar.gz")
    return path


def test_the_tarball_holds_what_a_user_needs_and_nothing_else(tarball):
    with tarfile.open(tarball) as archive:
        members = {m.name.rstrip("/"): m for m in archive.getmembers()}
        manifest = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
    files = {name for name, member in members.items() if member.isfile()}
    assert {name.split("/")[0] for name in members} <= TOP_LEVEL, sorted({n.split("/")[0] for n in members} - TOP_LEVEL)
    assert {"LICENSE", "README.md", "CHANGELOG.rst", "changelogs/changelog.yaml", "requirements.txt", "bindep.txt",
            "meta/runtime.yml", "meta/execution-environment.yml"} <= files
    committed = committed_files()
    if committed is not None:
        expected = {path for path in committed if path.startswith(SHIPPED)}
        assert expected <= files, f"committed but not shipped: {sorted(expected - files)}"
    assert not [name for name in members if name.startswith(NOT_SHIPPED)]
    assert not [name for name in members if "__pycache__" in name or name.endswith(".pyc")]
    assert manifest["version"] == GALAXY["version"] and manifest["license"] == ["GPL-3.0-or-later"]


def _venv_key() -> str:
    """What the oldest-ansible virtualenv is built from: rebuilt when any of it changes."""
    digest = hashlib.sha256(" ".join((OLDEST_ANSIBLE_CORE,) + TEST_RUNNER).encode())
    for name in ("requirements.txt", "constraints.txt"):
        digest.update((REPO_ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


def oldest_ansible_bin() -> Path:
    """bin/ of a virtualenv with the oldest supported ansible-core and the collection's requirements."""
    venv = VENVS / OLDEST_ANSIBLE_CORE.replace("==", "-")
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = venv / ".key"
        if not stamp.exists() or stamp.read_text() != _venv_key():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
            # The pins of constraints.txt but its ansible-core, which is the one of .venv.
            constraints = venv / "constraints.txt"
            constraints.write_text("".join(line for line in (REPO_ROOT / "constraints.txt").read_text().splitlines(True)
                                           if not line.startswith("ansible-core")))
            env = clean_environment()
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            OLDEST_ANSIBLE_CORE, *TEST_RUNNER, "-r", str(REPO_ROOT / "requirements.txt"), "-c",
                            str(constraints)],
                           check=True, env=env, timeout=900)
            stamp.write_text(_venv_key())
    return venv / "bin"


def user_environment(bin_dir: Path, collections: Path, base: dict) -> dict:
    """A user's shell: that ansible first on PATH, only the installed collections, no ansible.cfg."""
    env = dict(base)
    env.pop("ANSIBLE_CONFIG", None)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


PLAYBOOK = """\
- name: Stop the dev fleet, host by host (inventory plugin, action plugin batching)
  hosts: tag_Env_dev
  gather_facts: false
  tasks:
    - name: Stop
      alicloud.oos.oos_instance:
        state: stopped

- name: Read it back (lookup, filter, module)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Describe with the module
      alicloud.oos.oos_execute_api:
        service: ECS
        api: DescribeInstances
        query: "Instances.Instance[].[InstanceName, Status]"
      register: described
    - name: Save
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        content: "{{ {'described': described.query_result,
                      'looked_up': lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ECS',
                                          query='Instances.Instance[?Status==`Stopped`].InstanceName'),
                      'filters': {'Type': 'Tags', 'Tags': [{'Key': 'Env', 'Value': 'dev'}]}
                                 | alicloud.oos.targets_to_filters} | to_json }}"
"""


@pytest.mark.heavy(60)
@pytest.mark.parametrize("ansible_core", ["2.16", "2.19"])
def test_the_installed_tarball_works_outside_the_repository(tarball, tmp_path, ansible_core):
    bin_dir = oldest_ansible_bin() if ansible_core == "2.16" else BIN
    collections, work = tmp_path / "collections", tmp_path / "work"
    work.mkdir()
    env = user_environment(bin_dir, collections, clean_environment())
    version = run([bin_dir / "ansible", "--version"], env, work).stdout
    assert f"[core {ansible_core}." in version, version

    run([bin_dir / "ansible-galaxy", "collection", "install", tarball, "-p", collections], env, work)
    listed = json.loads(run([bin_dir / "ansible-galaxy", "collection", "list", "alicloud.oos", "--format", "json"],
                            env, work).stdout)
    assert listed == {str(collections / "ansible_collections"): {"alicloud.oos": {"version": GALAXY["version"]}}}
    docs = run([bin_dir / "ansible-doc", "alicloud.oos.oos_instance", "alicloud.oos.oos_execute_api"], env, work)
    assert "[WARNING]" not in docs.stderr and "RETURN VALUES" in docs.stdout, docs.stderr

    emulator = start_emulator("--instances", "6", "--seed", "7", "--transition-seconds", "0.2")
    try:
        env = user_environment(bin_dir, collections, emulator.env)
        dev = sorted(i["InstanceName"] for i in emulator.instances() if i["Tags"].get("Env") == "dev")
        (work / "fleet.ecs.yml").write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\nhostnames: [instance_name]\n")
        (work / "playbook.yml").write_text(PLAYBOOK)
        results = work / "results.json"
        run([bin_dir / "ansible-playbook", "-i", "fleet.ecs.yml", "playbook.yml", "-e", f"results_file={results}"],
            env, work)
        saved = json.loads(results.read_text())
        assert sorted(saved["looked_up"]) == dev
        assert sorted(name for name, status in saved["described"] if status == "Stopped") == dev
        assert saved["filters"] == {"tags": {"Env": "dev"}}

        # A playbook and a role of the collection, by FQCN, with an inventory group.
        run([bin_dir / "ansible-playbook", "alicloud.oos.stop_start", "-i", "fleet.ecs.yml", "-e",
             json.dumps({"ecs_power_schedule_action": "start", "ecs_power_schedule_group": "tag_Env_dev",
                         "ecs_power_schedule_confirm": True})], env, work)
        assert {i["Status"] for i in emulator.instances()} == {"Running"}
    finally:
        emulator.stop()


# The converter's end-to-end suites, run again with the oldest ansible-core (its playbooks, modules and filters;
# pytest itself only drives them). Left out: the AWX survey case (ansible-core before 2.19 reads an extra-vars
# file's `!unsafe` *mapping* empty: its own defect, documented in docs/converter.md) and the hostile-documents
# case (a lookup error fails a whole loop there, so the test's playbook cannot collect one message per item).
CONVERTER_SUITES = ["tests/integration/test_converter_golden.py", "tests/integration/test_converter_fail_closed.py",
                    "tests/integration/test_converter_hostile.py", "tests/integration/test_converter_data_files.py"]
NOT_ON_OLDEST = "(core or not golden) and not awx and not hostile_documents"


@pytest.mark.heavy(150)
def test_converted_playbooks_pass_the_converter_suites_on_the_oldest_ansible_core():
    """Seed workflows (core), fail-closed paths, hostile text in every position, parameter and event files."""
    bin_dir = oldest_ansible_bin()
    proc = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-k", NOT_ON_OLDEST, *CONVERTER_SUITES], cwd=REPO_ROOT, env=clean_environment(),
                          capture_output=True, text=True, timeout=1200, check=False)
    version = subprocess.run([str(bin_dir / "ansible"), "--version"], capture_output=True, text=True, check=True)
    assert "[core 2.16." in version.stdout.splitlines()[0]
    assert proc.returncode == 0 and " passed" in proc.stdout, (proc.stdout + proc.stderr)[-5000:]
    print(proc.stdout.splitlines()[-1])


def test_installing_from_a_checkout_gives_the_tarball(tarball, tmp_path):
    """``ansible-galaxy collection install`` of a git checkout (or of git+https://...) builds what `make build` does."""
    env = user_environment(BIN, tmp_path, clean_environment())
    run([BIN / "ansible-galaxy", "collection", "install", REPO_ROOT, "-p", tmp_path / "from-checkout"], env, tmp_path)
    run([BIN / "ansible-galaxy", "collection", "install", tarball, "-p", tmp_path / "from-tarball"], env, tmp_path)

    def installed(root: Path) -> set:
        tree = root / "ansible_collections" / "alicloud" / "oos"
        return {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file() and p.name != "MANIFEST.json"
                and p.name != "FILES.json"}

    assert installed(tmp_path / "from-checkout") == installed(tmp_path / "from-tarball")
