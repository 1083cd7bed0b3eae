"""The AWX / AAP path: the credential type, the execution environment definition, and a job run the way
AWX runs it (ansible-runner with a private data dir: env/envvars from the credential injector,
env/extravars from a survey, an inventory source file), asserting on the job events and artifacts."""
from __future__ import annotations

import json
import re
import subprocess

from jinja2.sandbox import SandboxedEnvironment
import yaml

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS
from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook

CREDENTIAL_TYPE = REPO_ROOT / "extensions" / "awx" / "credential_type_oos.yml"
COLLECTIONS = REPO_ROOT / ".collections"


class _Loader(yaml.SafeLoader):
    """safe_load plus Ansible's `!unsafe` tag (kept in the file so Ansible does not render the injectors)."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def credential_type() -> dict:
    return yaml.load(CREDENTIAL_TYPE.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass


def inject(inputs: dict) -> dict:
    """Render the env injectors as AWX does: Jinja over the inputs, missing fields render empty."""
    env = SandboxedEnvironment()
    return {name: env.from_string(template).render(**inputs)
            for name, template in credential_type()["injectors"]["env"].items()}


# -- credential type and execution environment ------------------------------------------------------
def test_credential_type_injects_exactly_what_the_collection_reads():
    ctype = credential_type()
    assert ctype["kind"] == "cloud"
    fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
    assert set(ctype["inputs"]["required"]) == {"access_key_id", "access_key_secret"}
    assert fields["access_key_secret"].get("secret") and fields["security_token"].get("secret")
    injected = ctype["injectors"]["env"]
    # Each injected variable is the first environment variable of one auth option (the ALICLOUD_* name).
    read_by_collection = {spec["env"][0]: name for name, spec in AUTH_OPTIONS.items() if spec.get("env")}
    assert set(injected) <= set(read_by_collection), set(injected) - set(read_by_collection)
    assert {read_by_collection[v] for v in injected} == {"access_key", "secret_key", "security_token", "region", "endpoint"}
    assert not any(name.startswith("ANSIBLE_") for name in injected)
    for template in injected.values():
        field = re.fullmatch(r"\{\{ (\w+) \}\}", template).group(1)
        assert field in fields


def test_credential_type_registration_playbook_passes_templates_unrendered(tmp_path):
    """Runs playbooks/awx_credential_type.yml against a stand-in awx.awx.credential_type that records its args."""
    module_dir = tmp_path / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    module_dir.mkdir(parents=True)
    (tmp_path / "ansible_collections" / "awx" / "awx" / "galaxy.yml").write_text(
        "namespace: awx\nname: awx\nversion: 99.0.0\nreadme: README.md\nauthors: [test]\n")
    record = tmp_path / "registered.json"
    (module_dir / "credential_type.py").write_text(f'''#!/usr/bin/python
import json
from ansible.module_utils.basic import AnsibleModule
def main():
    module = AnsibleModule(argument_spec=dict(name=dict(), description=dict(), kind=dict(),
                                              inputs=dict(type="dict"), injectors=dict(type="dict"), state=dict()))
    with open({str(record)!r}, "w") as handle:
        json.dump(module.params, handle)
    module.exit_json(changed=True)
main()
''')
    env = clean_environment()
    env["ANSIBLE_COLLECTIONS_PATH"] = f"{COLLECTIONS}:{tmp_path}"
    run = run_playbook(REPO_ROOT / "playbooks" / "awx_credential_type.yml", env)
    assert run.rc == 0, run.output
    registered = json.loads(record.read_text())
    ctype = credential_type()
    assert registered["injectors"] == ctype["injectors"]          # "{{ access_key_id }}" left for AWX to render
    assert registered["inputs"] == ctype["inputs"]
    assert (registered["name"], registered["kind"], registered["state"]) == (ctype["name"], "cloud", "present")


def test_execution_environment_dependencies():
    ee = yaml.safe_load((REPO_ROOT / "meta" / "execution-environment.yml").read_text())
    python = REPO_ROOT / ee["dependencies"]["python"]
    system = REPO_ROOT / ee["dependencies"]["system"]
    assert python.is_file() and system.is_file()
    requirements = [line.split("#")[0].strip() for line in python.read_text().splitlines()]
    requirements = [line for line in requirements if line]
    assert any(r.startswith("alibabacloud-tea-openapi") for r in requirements)
    for requirement in requirements:
        # AAP certification: lower bounds only, never ansible itself.
        assert "==" not in requirement and "<" not in requirement, requirement
        assert not requirement.lower().startswith(("ansible", "ansible-core")), requirement
    for line in system.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[\w.+-]+( \[[^\]]+\])?", line.strip()), f"not bindep syntax: {line}"
    user_ee = yaml.safe_load((REPO_ROOT / "extensions" / "awx" / "execution-environment.yml").read_text())
    assert user_ee["version"] == 3
    assert {"name": "alicloud.oos"} in [c if isinstance(c, dict) else {"name": c}
                                        for c in user_ee["dependencies"]["galaxy"]["collections"]]


def test_ansible_builder_reads_the_collection_and_creates_a_build_context(tmp_path):
    """What AWX's EE build does: introspect the collection's dependencies, then write a build context."""
    builder = str(BIN / "ansible-builder")
    introspect = subprocess.run([builder, "introspect", "--sanitize", str(REPO_ROOT / ".collections")],
                                capture_output=True, text=True, timeout=120, check=False)
    assert introspect.returncode == 0, introspect.stderr
    deps = yaml.safe_load(introspect.stdout)
    assert any(line.startswith("alibabacloud-tea-openapi>=") and "alicloud.oos" in line for line in deps["python"])
    assert any(line.startswith("jq>=") for line in deps["python"])
    assert deps["system"], "bindep.txt entries must reach the EE"

    context = tmp_path / "context"
    create = subprocess.run([builder, "create", "-f", str(REPO_ROOT / "extensions" / "awx" / "execution-environment.yml"),
                             "--context", str(context)], capture_output=True, text=True, timeout=120, check=False)
    assert create.returncode == 0, create.stdout + create.stderr
    containerfile = (context / "Dockerfile").read_text()  # ansible-builder names it after the default runtime
    assert "quay.io/fedora/fedora:41" in containerfile
    galaxy_requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert {"name": "alicloud.oos"} in galaxy_requirements["collections"]


# -- a job run the way AWX runs it ----------------------------------------------------------------------
SURVEY = {
    # what a survey generated for the run_command + stop_start job template would pass
    "ecs_fleet_command_group": "tag_Env_dev",
    "ecs_fleet_command_content": "echo checked $(hostname)",
    "ecs_fleet_command_rate_control": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0},
    "ecs_power_schedule_tags": {"Env": "dev"},
    "ecs_power_schedule_confirm": True,
    # AWX adds these to every job
    "awx_job_id": 4242,
    "awx_user_name": "alice",
}


def test_awx_job_with_injected_credentials_and_survey(emulator_factory, tmp_path):
    emulator = emulator_factory("--instances", "6", "--seed", "11", "--transition-seconds", "0.2")
    pdd = tmp_path / "job"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    (pdd / "project").mkdir()

    envvars = inject({"access_key_id": emulator.access_key_id, "access_key_secret": emulator.access_key_secret,
                      "region": emulator.region, "endpoint": emulator.url})
    assert envvars["ALICLOUD_SECURITY_TOKEN"] == ""            # optional field left empty, as AWX injects it
    envvars.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit",
        "ALICLOUD_OOS_AUDIT_DIR": str(pdd / "artifacts" / "oos_executions"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    })
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(SURVEY))
    # The inventory source of the AWX inventory: credentials come from the injected environment only.
    (pdd / "inventory" / "fleet.ecs.yml").write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
    (pdd / "project" / "site.yml").write_text(
        "- import_playbook: alicloud.oos.run_command\n- import_playbook: alicloud.oos.stop_start\n")

    env = clean_environment()
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    proc = subprocess.run([str(BIN / "ansible-runner"), "run", str(pdd), "-p", "site.yml", "--ident", "job"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    artifacts = pdd / "artifacts" / "job"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else proc.stdout
    assert proc.returncode == 0, stdout[-5000:] + proc.stderr[-2000:]
    assert (artifacts / "status").read_text() == "successful"

    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    ok = [e["event_data"] for e in events if e["event"] == "runner_on_ok"]
    by_action = {}
    for data in ok:
        by_action.setdefault(data.get("resolved_action") or data["task_action"], []).append(data)

    dev = sorted(i["InstanceId"] for i in emulator.instances() if i["Tags"].get("Env") == "dev")
    (command,) = by_action["alicloud.oos.oos_run_command"]
    command_results = command["res"]["results"][0]["results"]
    assert sorted(r["instance_id"] for r in command_results) == dev
    assert {r["status"] for r in command_results} == {"Success"}
    assert all(r["output"].startswith("checked ") for r in command_results)

    (power,) = by_action["alicloud.oos.oos_instance"]
    assert sorted(i["instance_id"] for r in power["res"]["results"] for i in r["instances"]) == dev
    assert {i["Status"] for i in emulator.instances() if i["Tags"].get("Env") == "dev"} == {"Stopped"}
    assert {i["Status"] for i in emulator.instances() if i["Tags"].get("Env") == "prod"} == {"Running"}

    (describe,) = by_action["alicloud.oos.oos_execute_api"]
    request_ids = describe["res"]["request_ids"]
    assert request_ids

    # The audit callback's record of the job, in the artifacts AWX keeps.
    (record_file,) = (pdd / "artifacts" / "oos_executions").glob("exec-*.json")
    record = json.loads(record_file.read_text())
    assert record["status"] == "Success"
    assert record["executed_by"]["awx_user_name"] == "alice" and record["executed_by"]["awx_job_id"] == 4242
    assert record["parameters"]["ecs_power_schedule_tags"] == {"Env": "dev"}
    assert set(request_ids) <= set(record["request_ids"])

    # The secret never reaches the artifacts (events, stdout, audit record). ansible-runner's own
    # `command` file records the environment it was given, i.e. the injected credential itself, like
    # env/envvars (AWX keeps neither: it stores the job environment with secrets replaced).
    checked = 0
    for path in (pdd / "artifacts").rglob("*"):
        if path.is_file() and path != artifacts / "command":
            checked += 1
            assert emulator.access_key_secret not in path.read_text(errors="replace"), path
    assert checked > len(events)
