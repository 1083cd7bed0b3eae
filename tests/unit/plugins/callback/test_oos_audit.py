"""The oos_audit callback: pure record helpers, then real ansible-playbook runs with the callback enabled."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils import audit
from tests.conftest import clean_environment, run_playbook

SECRET = "Sup3rSecretValueForAudit"
STS = "StsTokenValue-abcdef-0123456789"


# -- pure helpers --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "secret_key", "security_token", "access_key_secret", "ALICLOUD_SECRET_KEY", "AccessKeySecret",
    "SecurityToken", "password", "db_passwd", "private_key", "credentials", "Signature",
])
def test_secret_key_names_are_recognised(name):
    assert audit.is_secret_key(name)


@pytest.mark.parametrize("name", ["access_key", "instance_id", "ClientToken", "NextToken", "next_token", "region", "image_id"])
def test_ordinary_key_names_are_kept(name):
    assert not audit.is_secret_key(name)


def test_mask_masks_secret_keys_env_values_and_url_tokens():
    data = {
        "secret_key": SECRET,
        "nested": [{"SecurityToken": STS, "note": f"signed with {SECRET} today"}],
        "webhook": "https://oapi.dingtalk.com/robot/send?access_token=1234zxcvaksdq31414&x=1",
        "count": 3, "flag": True, "nothing": None, "empty_password": "",
    }
    masked = audit.mask(data, audit.secret_values_from_env({"ALICLOUD_SECRET_KEY": SECRET}))
    assert masked["secret_key"] == audit.MASK
    assert masked["nested"][0]["SecurityToken"] == audit.MASK
    assert masked["nested"][0]["note"] == f"signed with {audit.MASK} today"
    assert masked["webhook"] == f"https://oapi.dingtalk.com/robot/send?access_token={audit.MASK}&x=1"
    assert (masked["count"], masked["flag"], masked["nothing"], masked["empty_password"]) == (3, True, None, "")
    assert SECRET not in json.dumps(masked)


def test_secret_values_come_from_every_credential_variable_and_skip_short_ones():
    env = {"ALICLOUD_SECRET_KEY": "a" * 10, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b" * 12,
           "ALIBABA_CLOUD_SECURITY_TOKEN": "c" * 20, "ALICLOUD_SECURITY_TOKEN": "d" * 8,
           "ALICLOUD_SECRET_ACCESS_KEY": "e" * 9, "ALICLOUD_ACCESS_KEY": "LTAIvisibleid",
           "ALICLOUD_REGION": "cn-hangzhou", "OTHER_SECRET": "x" * 30, "ALICLOUD_PASSWORD": "abc"}
    values = audit.secret_values_from_env(env)
    assert values == ["c" * 20, "b" * 12, "a" * 10, "e" * 9, "d" * 8]


def test_secret_env_vars_follow_the_auth_table():
    for name in ("ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                 "ALIBABA_CLOUD_SECURITY_TOKEN"):
        assert name in audit.SECRET_ENV_VARS
    assert "ALICLOUD_ACCESS_KEY" not in audit.SECRET_ENV_VARS
    assert {"secret_key", "security_token", "access_key_secret"} <= audit.SECRET_OPTION_NAMES


def test_mask_truncates_long_strings_and_stringifies_unknown_types():
    class Thing:
        def __str__(self):
            return "thing"

    masked = audit.mask({"out": "x" * 50, "obj": Thing(), "tuple": (1, 2)}, max_chars=10)
    assert masked["out"] == "x" * 10 + "... [40 more characters]"
    assert masked["obj"] == "thing"
    assert masked["tuple"] == [1, 2]


def test_mask_never_decrypts_vaulted_values():
    class EncryptedString(str):
        pass

    assert audit.mask({"password_hint": EncryptedString("plain")})["password_hint"] == audit.MASK
    assert audit.mask({"db": EncryptedString("plain")})["db"] == audit.MASK


def test_collect_request_ids_from_module_results_loops_and_errors():
    result = {
        "request_ids": ["R-1", "R-2"],
        "results": [{"request_ids": ["R-3"]}, {"error": {"request_id": "R-4"}}, {"request_ids": ["R-1"]}],
        "response": {"RequestId": "R-5"},
        "msg": "R-6 is not collected from text",
    }
    assert audit.collect_request_ids(result) == ["R-1", "R-2", "R-3", "R-4", "R-5"]
    assert audit.collect_request_ids({"changed": False}) == []


def test_final_status_and_task_status():
    assert audit.final_status({"a": {"ok": 3, "failures": 0, "unreachable": 0}}) == audit.SUCCESS
    assert audit.final_status({"a": {"ok": 3}, "b": {"failures": 1}}) == audit.FAILED
    assert audit.final_status({"a": {"unreachable": 1}}) == audit.FAILED
    assert audit.task_status("ok", {"changed": True}) == "changed"
    assert audit.task_status("ok", {}) == "ok"
    assert audit.task_status("failed", {"changed": True}) == "failed"


def test_execution_ids_look_like_oos_ids_and_are_unique():
    ids = {audit.new_execution_id() for _unused in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("exec-") and len(i) == 25 for i in ids)


def test_write_record_is_atomic_and_private(tmp_path):
    directory = tmp_path / "records"
    path = audit.write_record(str(directory), {"execution_id": "exec-1", "status": "Running"})
    audit.write_record(str(directory), {"execution_id": "exec-1", "status": "Success"})
    assert json.loads(Path(path).read_text())["status"] == "Success"
    assert sorted(os.listdir(directory)) == ["exec-1.json"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


# -- the callback in real playbook runs ----------------------------------------------------------
AUDITED_PLAYBOOK = """
- name: Converted from an OOS template
  hosts: localhost
  gather_facts: false
  vars:
    oos_template_name: ACS-ECS-BulkyRebootInstances
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
    - name: A result shaped like our modules' results
      ansible.builtin.set_fact:
        request_ids: [REQ-A, REQ-B]
        outputs: {instanceIds: [i-1, i-2], token_note: "{{ secret_key }}"}
    - name: Failing but ignored
      ansible.builtin.command: /bin/false
      changed_when: false
      ignore_errors: true
    - name: Secret result
      ansible.builtin.debug:
        msg: "{{ secret_key }}"
      no_log: true
    - name: Run outputs
      ansible.builtin.set_stats:
        data:
          image_id: m-abc
    - name: Maybe fail
      ansible.builtin.fail:
        msg: "failed on purpose with {{ secret_key }}"
      when: fail_run | default(false) | bool
"""


def audited_env(tmp_path: Path) -> dict:
    env = clean_environment()
    env.update({
        "ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit",
        "ALICLOUD_OOS_AUDIT_DIR": str(tmp_path / "executions"),
        "ALICLOUD_SECRET_KEY": SECRET,
        "ALICLOUD_SECURITY_TOKEN": STS,
    })
    return env


def read_records(tmp_path: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / "executions").glob("exec-*.json"))]


def test_callback_writes_one_masked_record_per_run(tmp_path):
    env = audited_env(tmp_path)
    run = run_playbook(AUDITED_PLAYBOOK, env, extra_vars={
        "secret_key": SECRET, "sts": STS, "webhook": "https://h/robot?access_token=tok123456", "count": 2})
    assert run.rc == 0, run.output
    records = read_records(tmp_path)
    assert len(records) == 1
    record = records[0]
    text = json.dumps(record)
    assert SECRET not in text and STS not in text and "tok123456" not in text

    assert record["execution_id"].startswith("exec-")
    assert record["status"] == "Success"
    assert record["template_name"] == "ACS-ECS-BulkyRebootInstances"
    assert record["start_time"] <= record["end_time"]
    assert record["executed_by"]["user"]
    assert record["parameters"]["secret_key"] == audit.MASK
    assert record["parameters"]["sts"] == audit.MASK          # masked by value: its key looks harmless
    assert record["parameters"]["count"] == 2
    assert record["request_ids"] == ["REQ-A", "REQ-B"]
    assert record["outputs"] == {"image_id": "m-abc"}

    tasks = {t["name"]: t for t in record["tasks"]}
    assert tasks["Say hello"]["status"] == "ok"
    assert tasks["A result shaped like our modules' results"]["request_ids"] == ["REQ-A", "REQ-B"]
    assert tasks["Failing but ignored"]["status"] == "ignored"
    assert tasks["Secret result"]["no_log"] is True
    assert tasks["Maybe fail"]["status"] == "skipped"
    assert all(t["host"] == "localhost" and t["action"].startswith("ansible.builtin.") for t in record["tasks"])
    assert record["hosts"]["localhost"]["ignored"] == 1


def test_failed_run_is_recorded_as_failed_with_the_masked_error(tmp_path):
    env = audited_env(tmp_path)
    run = run_playbook(AUDITED_PLAYBOOK, env, extra_vars={"secret_key": SECRET, "fail_run": True})
    assert run.rc != 0
    (record,) = read_records(tmp_path)
    assert record["status"] == "Failed"
    failed = [t for t in record["tasks"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["Maybe fail"]
    assert failed[0]["message"] == f"failed on purpose with {audit.MASK}"
    assert SECRET not in json.dumps(record)


def test_executions_playbook_lists_and_shows_records_without_recording_itself(tmp_path):
    env = audited_env(tmp_path)
    assert run_playbook(AUDITED_PLAYBOOK, env, extra_vars={"secret_key": SECRET}).rc == 0
    assert run_playbook(AUDITED_PLAYBOOK, env, extra_vars={"secret_key": SECRET, "fail_run": True}).rc != 0
    records = read_records(tmp_path)
    assert len(records) == 2

    listing = tmp_path / "list.json"
    run = run_playbook("playbooks/executions.yml", env, extra_vars={"export_file": str(listing)})
    assert run.rc == 0, run.output
    assert len(read_records(tmp_path)) == 2  # listing history is not an execution
    listed = json.loads(listing.read_text())
    assert [r["start_time"] for r in listed] == sorted((r["start_time"] for r in records), reverse=True)
    for record in records:
        assert record["execution_id"] in run.stdout

    failed_only = tmp_path / "failed.json"
    run = run_playbook("playbooks/executions.yml", env, extra_vars={"status": "Failed", "export_file": str(failed_only)})
    assert [r["status"] for r in json.loads(failed_only.read_text())] == ["Failed"]

    shown = tmp_path / "one.json"
    wanted = records[0]["execution_id"]
    run = run_playbook("playbooks/executions.yml", env, extra_vars={"execution_id": wanted, "export_file": str(shown)})
    assert run.rc == 0, run.output
    assert json.loads(shown.read_text()) == records[0]

    run = run_playbook("playbooks/executions.yml", env, extra_vars={"execution_id": "exec-doesnotexist"})
    assert run.rc != 0
    assert "No execution record exec-doesnotexist" in run.output
