"""no_log hides secrets, and only secrets: named secret parameters are masked everywhere at -vvvv (stdout,
registered results, the oos_audit record), while instance ids, execution ids and messages stay intact.

Before: oos_run_command's whole ``parameters`` dict was no_log, so a value ``"1"`` was masked inside every
instance id (``i-bp1...`` -> ``i-bp********...``) and message, and oos_execution printed a DbPassword in clear.
"""
from __future__ import annotations

import json
import re
import subprocess

from tests.conftest import BIN, REPO_ROOT

DB_PASSWORD = "Db-Passw0rd-ForTheMaskingTest"
NOECHO_TOKEN = "NoEchoToken-7c1f93ab55"
API_SECRET = "NamedApiSecret-41c2e"

PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Module path - a secret and a short non-secret parameter, echoed by the command
      alicloud.oos.oos_run_command:
        instance_ids: "{{ instance_ids }}"
        command_content: !unsafe 'echo "password={{DbPassword}} count={{count}}"'
        parameters: {DbPassword: "{{ db_password }}", count: "{{ short_value }}"}
        secret_parameters: [DbPassword]
      register: module_run
    - name: The next task uses the ids the first one returned
      alicloud.oos.oos_instance:
        instance_ids: "{{ module_run.results | map(attribute='instance_id') | list }}"
      register: described
    - name: A failing command - the error message names each instance, never the secret
      alicloud.oos.oos_run_command:
        instance_ids: "{{ instance_ids }}"
        command_content: !unsafe 'echo "{{DbPassword}}"; exit 3'
        parameters: {DbPassword: "{{ db_password }}"}
        secret_parameters: [DbPassword]
      register: failing
      ignore_errors: true
    - name: A secret shorter than 6 characters is masked as a value, with a warning, and ids stay intact
      alicloud.oos.oos_run_command:
        instance_ids: "{{ instance_ids }}"
        command_content: !unsafe 'echo "pin={{Pin}}"'
        parameters: {Pin: "{{ short_value }}"}
        secret_parameters: [Pin]
      register: short_secret
    - name: A managed OOS execution - a named secret and a NoEcho parameter of the template
      alicloud.oos.oos_execution:
        template_content:
          FormatVersion: OOS-2019-06-01
          Parameters:
            DbPassword: {Type: String}
            ApiToken: {Type: String, NoEcho: true}
            count: {Type: String}
          Tasks:
            - Name: echoBack
              Action: ACS::ExecuteAPI
              Properties: {Service: ECS, API: DescribeRegions}
              Outputs: {}
          Outputs:
            seen: {Type: String, Value: !unsafe '{{ DbPassword }}/{{ ApiToken }}/{{ count }}'}
        parameters: {DbPassword: "{{ db_password }}", ApiToken: "{{ noecho_token }}", count: "{{ short_value }}"}
        secret_parameters: [DbPassword]
      register: execution
    - name: Any API call - a named secret and keys named like secrets
      alicloud.oos.oos_execute_api:
        service: ecs
        api: DescribeInstances
        parameters: {RegionId: cn-hangzhou, Password: "{{ db_password }}", InstanceName: "{{ api_secret }}",
                     PageSize: 1}
        secret_parameters: [InstanceName]
        auto_paging: false
      register: api_call
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        mode: "0600"
        content: "{{ {'module_run': module_run, 'described': described, 'failing': failing,
                      'short_secret': short_secret, 'execution': execution, 'api_call': api_call} | to_json }}"

- hosts: fleet
  gather_facts: false
  tasks:
    - name: Action path - every host of the play batch in shared calls
      alicloud.oos.oos_run_command:
        command_content: !unsafe 'echo "password={{DbPassword}} count={{count}}"'
        parameters: {DbPassword: "{{ db_password }}", count: "{{ short_value }}"}
        secret_parameters: [DbPassword]
      register: per_host
    - name: Action path - a secret too short to mask inside text is named in a warning
      alicloud.oos.oos_run_command:
        command_content: !unsafe 'test -n "{{Pin}}" && echo fine'
        parameters: {Pin: "{{ short_value }}"}
        secret_parameters: [Pin]
      register: per_host_short
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}.{{ inventory_hostname }}"
        mode: "0600"
        content: "{{ per_host | combine({'short_warnings': per_host_short.warnings | default([]) | map('string') | list})
                     | to_json }}"
      delegate_to: localhost
"""


def test_secret_parameters_are_masked_and_nothing_else(emulator_factory, tmp_path):
    emulator = emulator_factory("--instances", "4", "--seed", "5", "--transition-seconds", "0.2")
    running = sorted(i["InstanceId"] for i in emulator.instances() if i["Status"] == "Running")[:2]
    # A value that occurs inside every id (Ansible's no_log would mask it there): a non-secret parameter, and a
    # too-short secret in one task.
    short = next(c for c in "bp0123456789abcdefghijklmnoqrstuvwxyz" if all(c in i[2:] for i in running))
    assert len(running) == 2
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"fleet": {"hosts": {
        f"web{n}": {"instance_id": iid, "ansible_connection": "local"} for n, iid in enumerate(running)}}}))
    results_file = tmp_path / "results.json"
    audit_dir = tmp_path / "audit"
    env = emulator.env | {"ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit", "ALICLOUD_OOS_AUDIT_DIR": str(audit_dir)}
    extra = {"results_file": str(results_file), "instance_ids": running, "db_password": DB_PASSWORD,
             "noecho_token": NOECHO_TOKEN, "short_value": short, "api_secret": API_SECRET}
    # Secrets come from a vars file, as from a vault: -vvvv prints the command line itself.
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    proc = subprocess.run([str(BIN / "ansible-playbook"), str(tmp_path / "site.yml"), "-i", str(inventory), "-vvvv",
                           "-e", f"@{tmp_path / 'vars.json'}"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    r = json.loads(results_file.read_text())
    per_host = [json.loads((tmp_path / f"results.json.web{n}").read_text()) for n in range(len(running))]
    records = [p.read_text() for p in audit_dir.glob("*.json")]
    assert len(records) == 1

    # Secrets appear nowhere: -vvvv output, registered results, the audit record.
    for name, text in {"output": output, "results": results_file.read_text(), "audit": records[0],
                       "per host": json.dumps(per_host)}.items():
        assert DB_PASSWORD not in text, name
        assert NOECHO_TOKEN not in text, name
        assert API_SECRET not in text, name

    # ... yet they were really used: masked where the command printed them, and the OOS output held them.
    module_run = r["module_run"]
    assert [e["instance_id"] for e in module_run["results"]] == running
    assert all(e["output"].strip() == f"password=******** count={short}" for e in module_run["results"]), module_run["results"]
    # The invocation -vvvv shows: the secret masked, the other parameter as given.
    assert re.search(r'"parameters": \{\s*"DbPassword": "\*{8}",\s*"count": "%s"\s*\}' % short, output), output[-3000:]
    assert module_run["invoke_ids"] and all("*" not in i for i in module_run["invoke_ids"])
    assert sorted(i["instance_id"] for i in r["described"]["instances"]) == running  # the next task works

    failing = r["failing"]
    assert failing["failed"] is True
    for iid in running:
        assert iid in failing["msg"], failing["msg"]
    assert "exit code 3" in failing["msg"]

    short_secret = r["short_secret"]
    assert [e["instance_id"] for e in short_secret["results"]] == running
    assert re.search(r'"parameters": \{\s*"Pin": "\*{8}"\s*\}', output)
    assert any("Pin" in w and "shorter than 6" in w for w in short_secret.get("warnings", [])), short_secret
    assert all("********" not in i for i in json.dumps(r["module_run"]).split('"') if i.startswith("i-"))

    execution = r["execution"]
    assert execution["status"] == "Success", execution
    assert re.fullmatch(r"exec-[0-9a-z]+", execution["execution_id"]), execution["execution_id"]
    assert execution["execution"]["parameters"]["DbPassword"] == "********"
    assert execution["execution"]["parameters"]["ApiToken"] == "********"
    assert execution["execution"]["parameters"]["count"] == short
    assert execution["outputs"]["seen"] == f"********/********/{short}"
    assert failing["msg"] in records[0]  # the audit record keeps the message, ids intact

    api_call = r["api_call"]
    # The secret name filtered nothing in; the request id (a token-like value) is intact.
    assert api_call["response"]["TotalCount"] == 0 and "*" not in api_call["response"]["RequestId"]
    assert re.search(r'"InstanceName": "\*{8}",\s*"PageSize": 1,\s*"Password": "\*{8}"', output)

    for n, host_result in enumerate(per_host):
        assert [e["instance_id"] for e in host_result["results"]] == [running[n]]
        assert host_result["results"][0]["output"].strip() == f"password=******** count={short}"
        assert any("Pin" in w and "shorter than" in w for w in host_result["short_warnings"]), host_result
