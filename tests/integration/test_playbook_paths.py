"""Relative paths given to the collection's playbooks are relative to the directory ansible-playbook runs in.

Ansible runs local modules in the playbook's folder, which for `ansible-playbook alicloud.oos.<name>` is the
collection's own playbooks/ folder: `-e dest=out.yml` used to write there (in an installed collection too).
Each test runs from a fresh directory, with $PWD pointing somewhere else (as when a program starts
ansible-playbook with another working directory), and checks that nothing appears in the collection.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT

PLAYBOOKS = REPO_ROOT / "playbooks"
TEMPLATE = """\
FormatVersion: OOS-2019-06-01
Description: Stop one instance
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: stop
    Action: ACS::ECS::StopInstance
    Properties: {instanceId: '{{ instanceId }}'}
"""


def _collection_files() -> set:
    return {str(p.relative_to(REPO_ROOT)) for p in PLAYBOOKS.rglob("*")} | {
        str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "roles").rglob("*")}


def run_from(cwd: Path, env: dict, name: str, extra_vars: dict, inventory: Path | None = None):
    """``ansible-playbook alicloud.oos.<name>`` started in ``cwd`` by a program whose $PWD is the repository."""
    cmd = [str(BIN / "ansible-playbook"), f"alicloud.oos.{name}", "-e", json.dumps(extra_vars)]
    if inventory:
        cmd += ["-i", str(inventory)]
    return subprocess.run(cmd, cwd=cwd, env=dict(env, PWD=str(REPO_ROOT)), capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    before = _collection_files()
    yield path
    assert _collection_files() == before, "a playbook wrote into the collection"


def test_convert_template_reads_and_writes_relative_to_the_working_directory(workdir, emulator):
    (workdir / "stop.yml").write_text(TEMPLATE)
    (workdir / "out").mkdir()
    run = run_from(workdir, emulator.env, "convert_template", {"src": "stop.yml", "dest": "out/stop-playbook.yml"})
    assert run.returncode == 0, run.stdout + run.stderr
    written = sorted(p.name for p in (workdir / "out").iterdir())
    assert written == ["stop-playbook.mmd", "stop-playbook.survey.json", "stop-playbook.yml"]
    playbook = (workdir / "out" / "stop-playbook.yml").read_text()
    assert "- name:" in playbook and "hosts:" in playbook


def test_convert_template_never_overwrites_the_template(workdir, emulator):
    (workdir / "stop.yml").write_text(TEMPLATE)
    run = run_from(workdir, emulator.env, "convert_template", {"src": "stop.yml", "dest": "./stop.yml"})
    assert run.returncode == 2 and "would overwrite the template src" in run.stdout + run.stderr
    assert (workdir / "stop.yml").read_text() == TEMPLATE


def test_executions_reads_and_exports_relative_to_the_working_directory(workdir, emulator):
    records = workdir / "records"
    records.mkdir()
    (records / "exec-0123abcd.json").write_text(json.dumps({
        "execution_id": "exec-0123abcd", "status": "Success", "start_time": "2024-06-01T00:00:00Z", "tasks": [],
        "playbook": "site.yml", "template_name": "T"}))
    run = run_from(workdir, emulator.env, "executions", {"audit_dir": "records", "export_file": "history.json"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert [r["execution_id"] for r in json.loads((workdir / "history.json").read_text())] == ["exec-0123abcd"]


def test_run_command_writes_a_relative_report_directory_in_the_working_directory(workdir, emulator):
    inventory = workdir / "fleet.ecs.yml"
    inventory.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
    run = run_from(workdir, emulator.env, "run_command", {
        "ecs_fleet_command_group": "tag_App_web", "ecs_fleet_command_content": "echo hi",
        "ecs_fleet_command_report_dir": "reports"}, inventory=inventory)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((workdir / "reports" / "fleet-command.json").read_text())
    assert report and {r["status"] for r in report} == {"Success"}
