"""`--check` never changes anything: every role and collection playbook, run with ansible-playbook --check and
every confirmation flag on, sends no mutating request, changes no instance and writes no file.

The ecs_power_schedule role used to set ``check_mode:`` from its confirmation flag, which overrode the run's
--check: a confirmed stop under --check stopped the instances.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_playbook, start_emulator
from tests.integration.roles.support import SOURCE_IMAGE, leftover_builder, network

PLAYBOOKS = REPO_ROOT / "playbooks"


@pytest.fixture(scope="module")
def fleet():
    emu = start_emulator("--instances", "20", "--seed", "1", "--transition-seconds", "0.2")
    try:
        yield emu
    finally:
        emu.stop()


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server API
        self.server.posts.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.posts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()


def _inventory(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.ecs.yml"
    path.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
    return path


def _dev(emu) -> list:
    return [i["InstanceId"] for i in emu.instances() if i["Tags"].get("Env") == "dev"]


# Each case: (playbook, extra vars, inventory?) built from the emulator and a sandbox directory, after any
# set-up the case needs. Every confirmation flag is on.
def case_stop_by_tags(emu, sandbox, webhook):
    return PLAYBOOKS / "stop_start.yml", {
        "ecs_power_schedule_tags": {"Env": "dev"}, "ecs_power_schedule_confirm": True, "ecs_power_schedule_force": True,
        "ecs_power_schedule_force_stop": True, "ecs_power_schedule_max_instances": 1}, None


def case_start_by_group(emu, sandbox, webhook):
    for instance_id in _dev(emu):
        emu.control(f"instances/{instance_id}/status", {"Status": "Stopped"}, method="POST")
    return PLAYBOOKS / "stop_start.yml", {
        "ecs_power_schedule_group": "tag_Env_dev", "ecs_power_schedule_action": "start",
        "ecs_power_schedule_confirm": True, "ecs_power_schedule_force": True}, _inventory(sandbox)


def case_update_image(emu, sandbox, webhook):
    leftover_builder(emu, "check-image")
    return PLAYBOOKS / "update_image.yml", dict(network(emu), **{
        "ecs_update_image_source_image_id": SOURCE_IMAGE, "ecs_update_image_target_image_name": "check-image",
        "ecs_update_image_command_content": f"touch {sandbox}/script-ran"}), None


def case_cleanup(emu, sandbox, webhook):
    leftover_builder(emu, "check-image")
    return PLAYBOOKS / "cleanup.yml", {}, None


def case_run_command(emu, sandbox, webhook):
    return PLAYBOOKS / "run_command.yml", {
        "ecs_fleet_command_group": "tag_App_web", "ecs_fleet_command_content": f"touch {sandbox}/script-ran",
        "ecs_fleet_command_report_dir": str(sandbox / "reports")}, _inventory(sandbox)


def case_convert_template(emu, sandbox, webhook):
    template = sandbox / "template.yml"
    template.write_text("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: stop\n    Action: ACS::ECS::StopInstance\n"
                        "    Properties: {instanceId: i-1}\n")
    return PLAYBOOKS / "convert_template.yml", {"src": str(template), "dest": str(sandbox / "out" / "stop.yml")}, None


def case_executions(emu, sandbox, webhook):
    audit = sandbox / "audit"
    audit.mkdir()
    (audit / "exec-0123abcd.json").write_text(json.dumps({
        "execution_id": "exec-0123abcd", "status": "Success", "start_time": "2024-06-01T00:00:00Z", "tasks": [],
        "playbook": "site.yml", "template_name": None}))
    return PLAYBOOKS / "executions.yml", {"audit_dir": str(audit), "export_file": str(sandbox / "export.json")}, None


def case_approval(emu, sandbox, webhook):
    playbook = sandbox / "approval.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n    - alicloud.oos.oos_approval\n")
    return playbook, {"oos_approval_webhook_url": webhook.url, "oos_approval_decision": "approve"}, None


def case_execution_approval(emu, sandbox, webhook):
    # What a converted playbook does after a task it handed to OOS stopped at an approval: decide and answer.
    # Under --check nothing is answered (and a real run under --check starts no execution to answer).
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "gate", "Action": "ACS::Approve", "Properties": {"NotifyType": "WebHook", "WebHook": {
            "URI": "http://127.0.0.1:9/hook", "Headers": {"Content-Type": "application/json"}, "Content": {"text": "ok?"}}}},
        {"Name": "stop", "Action": "ACS::ExecuteAPI",
         "Properties": {"Service": "ECS", "API": "StopInstance", "Parameters": {"InstanceId": _dev(emu)[0]}}}]}
    start = sandbox.parent / "start.yml"   # outside the sandbox, whose files must not change under --check
    start.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Start", "alicloud.oos.oos_execution": {
            "template_content": template, "wait_until": "waiting", "poll_interval": 0.2, "wait_timeout": 60},
         "register": "started"},
        {"name": "Save", "ansible.builtin.copy": {"dest": "{{ results_file }}", "content": "{{ started | to_json }}"}}]}]))
    started = run_playbook(start, emu.env)
    assert started.rc == 0 and started.results["status"] == "Waiting", started.output[-3000:]
    playbook = sandbox / "execution_approval.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Answer", "ansible.builtin.include_role": {"name": "alicloud.oos.oos_execution_approval"},
        "vars": {"oos_execution_approval_execution": started.results, "oos_execution_approval_name": "gate",
                 "oos_execution_approval_register": "answered"}}]}]))
    return playbook, {"oos_approval_decision": "approve"}, None


def case_loop_item(emu, sandbox, webhook):
    # What a converted OOS Loop with a RateControl parameter writes: every item through the role.
    playbook = sandbox / "loop_item.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Stop each instance", "ansible.builtin.include_role": {"name": "alicloud.oos.oos_loop_item"},
        "vars": {"oos_loop_item_call": {"service": "ECS", "api": "StopInstance",
                                        "parameters": {"InstanceId": "{{ item }}", "ForceStop": True}},
                 "oos_loop_item_register": "stopped", "oos_loop_item_rate_control": {"MaxErrors": 0}},
        "loop": "{{ instance_ids }}", "loop_control": {"extended": True}}]}]))
    return playbook, {"instance_ids": _dev(emu)[:3]}, None


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def test_every_role_and_playbook_has_a_case():
    """A new playbook or role must say what it does under --check (awx_credential_type needs awx.awx)."""
    playbooks = {p.stem for p in PLAYBOOKS.glob("*.yml")} - {"awx_credential_type"}
    covered = {"stop_start", "update_image", "cleanup", "run_command", "convert_template", "executions"}
    assert playbooks == covered
    roles = {p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir()}
    assert roles == {"ecs_power_schedule", "ecs_update_image", "ecs_fleet_command", "oos_approval", "oos_loop_item",
                     "oos_execution_approval"}


def _settled(emu) -> list:
    """(id, status) of every instance once none is in transition (a leftover made by the set-up is starting)."""
    deadline = time.monotonic() + 30
    while True:
        instances = [(i["InstanceId"], i["Status"]) for i in emu.instances()]
        if not any(status in ("Pending", "Starting", "Stopping") for _name, status in instances) or time.monotonic() > deadline:
            return instances
        time.sleep(0.1)


def _files(root: Path) -> set:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.heavy(8)
@pytest.mark.parametrize("case", sorted(CASES))
def test_check_mode_changes_nothing(fleet, playbook, tmp_path, webhook, case):
    fleet.reset(instances=20, seed=1)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    path, extra_vars, inventory = CASES[case](fleet, sandbox, webhook)
    fleet.control("stats/reset", {}, method="POST")
    instances, mutations, files = _settled(fleet), fleet.control("mutations"), _files(sandbox)

    run = playbook(path, fleet.env, extra_vars=extra_vars, inventory=inventory, args=("--check",))

    assert run.rc == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    stats = fleet.stats()
    assert stats["mutating_calls"] == 0, stats["calls"]
    assert fleet.control("mutations") == mutations
    assert _settled(fleet) == instances
    assert _files(sandbox) == files
    assert webhook.posts == []


def test_confirmed_stop_under_check_reports_what_it_would_stop(fleet, playbook):
    fleet.reset(instances=20, seed=1)
    run = playbook(PLAYBOOKS / "stop_start.yml", fleet.env, args=("--check",), extra_vars={
        "ecs_power_schedule_tags": {"Env": "dev"}, "ecs_power_schedule_confirm": True})
    assert run.rc == 0, run.output
    assert "DRY RUN (--check): would stop 10 of 10 selected instances" in run.output
    assert "changed=1" in run.output        # what the confirmed run would change, as --check reports
    assert {i["Status"] for i in fleet.instances()} == {"Running"}


def test_update_image_under_check_reports_the_build_and_the_leftover(fleet, playbook):
    fleet.reset(instances=20, seed=1)
    leftover = leftover_builder(fleet, "check-image")
    run = playbook(PLAYBOOKS / "update_image.yml", fleet.env, args=("--check",), extra_vars=dict(network(fleet), **{
        "ecs_update_image_source_image_id": SOURCE_IMAGE, "ecs_update_image_target_image_name": "check-image",
        "ecs_update_image_command_content": "true"}))
    assert run.rc == 0, run.output
    assert f"Would delete temporary instance(s) of interrupted ecs_update_image runs: {leftover}" in run.output
    assert "Would build image check-image" in run.output
    assert leftover in {i["InstanceId"] for i in fleet.instances()}
