"""Secrets never leak: a workflow at -vvvv, with the audit callback, through ansible-runner, scanned for the keys."""
from __future__ import annotations

import base64
import subprocess
from urllib.parse import quote

import yaml

from tests.conftest import BIN, REPO_ROOT, clean_environment, start_emulator

SECRET_KEY = "Zx9SecretKeyForTheLeakScan0000abcd"
SECURITY_TOKEN = "CAIS.TokenForTheLeakScan.7f3e9a1b2c"
WORKFLOW = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Describe through the lookup
      ansible.builtin.set_fact:
        count: "{{ lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ecs').TotalCount }}"
    - name: Describe with the module, and fail on purpose once
      alicloud.oos.oos_execute_api: {service: ecs, api: DescribeNothing}
      ignore_errors: true
    - name: Stop the dev fleet
      alicloud.oos.oos_instance: {targets: {Type: Tags, Tags: [{Key: Env, Value: dev}]}, state: stopped}
    - name: Run a command with a secret parameter
      alicloud.oos.oos_run_command:
        targets: {Type: Tags, Tags: [{Key: Env, Value: prod}]}
        command_content: !unsafe 'echo "{{greeting}}" >/dev/null; env | grep -ci secret || true'
        parameters: {greeting: hello}
"""


def variants(secret: str) -> set[str]:
    """The secret as written, and as it would look URL-encoded or Base64-encoded."""
    return {secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}


def test_no_secret_in_output_audit_records_or_runner_artifacts(tmp_path):
    emulator = start_emulator("--instances", "4", "--seed", "4", "--transition-seconds", "0.2",
                              "--access-key-secret", SECRET_KEY, "--security-token", SECURITY_TOKEN)
    try:
        pdd = tmp_path / "job"
        for folder in ("env", "project", "inventory"):
            (pdd / folder).mkdir(parents=True)
        audit_dir = tmp_path / "audit"
        (pdd / "env" / "envvars").write_text(yaml.safe_dump({
            "ALICLOUD_ENDPOINT": emulator.url, "ALICLOUD_REGION": emulator.region,
            "ALICLOUD_ACCESS_KEY": emulator.access_key_id, "ALICLOUD_SECRET_KEY": SECRET_KEY,
            "ALICLOUD_SECURITY_TOKEN": SECURITY_TOKEN,
            "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".collections"),
            "ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit", "ALICLOUD_OOS_AUDIT_DIR": str(audit_dir),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        }))
        (pdd / "project" / "site.yml").write_text(WORKFLOW)
        (pdd / "inventory" / "fleet.ecs.yml").write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
        env = clean_environment()
        env.pop("ANSIBLE_CONFIG", None)
        proc = subprocess.run([str(BIN / "ansible-runner"), "run", str(pdd), "-p", "site.yml", "--ident", "scan", "-vvvv"],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
    finally:
        emulator.stop()

    artifacts = pdd / "artifacts" / "scan"
    stdout = (artifacts / "stdout").read_text()
    # The run did what it should, at full verbosity, with the audit callback: the scan has something to scan.
    assert (artifacts / "status").read_text() == "successful", stdout[-4000:]
    assert "<127.0.0.1>" in stdout or "ESTABLISH LOCAL CONNECTION" in stdout  # -vvvv really applied
    assert "ok=4    changed=2" in stdout and "ignored=1" in stdout  # every task ran, one failed on purpose
    records = list(audit_dir.glob("*.json"))
    assert len(records) == 1
    assert sum(1 for _unused in artifacts.rglob("*.json")) > 10

    # Everything the run produced. Not scanned: env/ (the job's input) and artifacts/<id>/command, ansible-runner's
    # own copy of that input (command line and environment), which it always writes, owner-only; AWX removes the
    # private data dir after the job. Neither is written by the collection.
    runner_input_copy = artifacts / "command"
    assert runner_input_copy.stat().st_mode & 0o077 == 0
    scanned = {"process stdout": proc.stdout, "process stderr": proc.stderr}
    for path in list(artifacts.rglob("*")) + records:
        if path.is_file() and path != runner_input_copy:
            scanned[str(path.relative_to(tmp_path))] = path.read_text(errors="replace")
    hits = [(name, secret) for name, text in scanned.items()
            for secret in variants(SECRET_KEY) | variants(SECURITY_TOKEN) if secret in text]
    assert not hits, hits
    # The values the scan looks for were really in play (else it would trivially pass).
    assert SECRET_KEY in (pdd / "env" / "envvars").read_text()
