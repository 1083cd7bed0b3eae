"""oos_run_command has the properties of ACS::ECS::RunCommand: every command type, enable_parameter with
parameters, username, windows_password_name, working_dir and timeout; bad combinations name the option."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import run_playbook, start_emulator


@pytest.fixture(scope="module")
def emu():
    emu = start_emulator("--instances", "3", "--seed", "3", "--transition-seconds", "0.2")
    for instance in emu.instances():
        if instance["Status"] != "Running":
            emu.control(f"instances/{instance['InstanceId']}/status", {"Status": "Running"}, method="POST")
    try:
        yield emu
    finally:
        emu.stop()


class Unsafe(str):
    """Written as !unsafe: Cloud Assistant's {{name}} placeholders are not Ansible's."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def unsafe(value):
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: unsafe(v) for k, v in value.items()}
    return value


def run(emu, **options):
    options = dict(unsafe(options), instance_id=emu.instances()[0]["InstanceId"])
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"alicloud.oos.oos_run_command": options, "register": "out", "ignore_errors": True},
        {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": "{{ results_file }}"}}]}]
    result = run_playbook(yaml.safe_dump(play, sort_keys=False), emu.env)
    assert result.rc == 0 and "Traceback" not in result.output, result.output[-3000:]
    return result.results


@pytest.mark.parametrize("command_type, script", [
    ("RunPythonScript", "import sys\nprint('py', sys.version_info[0], '{{greeting}}')\nsys.exit(4)\n"),
    ("RunPerlScript", "print \"pl {{greeting}}\\n\";\nexit 4;\n"),
])
def test_python_and_perl_scripts_run_with_parameters_and_exit_codes(emu, command_type, script):
    if command_type == "RunPerlScript":
        import shutil
        if not shutil.which("perl"):
            pytest.skip("no perl on this machine (the emulator runs scripts locally)")
    out = run(emu, command_type=command_type, command_content=script, parameters={"greeting": "hello"},
              fail_on_nonzero=False)
    assert out["rc"] == 4 and not out.get("failed"), out
    expected = "py 3 hello" if command_type == "RunPythonScript" else "pl hello"
    assert out["stdout_lines"] == [expected]
    sent = [i for i in emu.control("invocations") if "OOS_SCRIPT_END" in i["CommandContent"]][-1]
    # Sent as a shell script (the API's own type) with the parameter for Cloud Assistant to fill.
    assert sent["CommandType"] == "RunShellScript" and "hello" in json.dumps(sent["Parameters"])


def test_working_dir_username_and_enable_parameter(emu):
    out = run(emu, command_content="pwd", working_dir="/tmp")
    assert out["stdout"].strip().endswith("/tmp") and out["rc"] == 0
    out = run(emu, command_content="echo {{ACS::InstanceId}}", enable_parameter=False)
    assert out["stdout"].strip() == "{{ACS::InstanceId}}"
    out = run(emu, command_content="echo {{ACS::InstanceId}}")
    assert out["stdout"].strip().startswith("i-")


@pytest.mark.parametrize("options, field", [
    ({"command_content": "echo {{x}}", "parameters": {"x": "1"}, "enable_parameter": False}, "enable_parameter"),
    ({"command_content": "echo", "windows_password_name": "pw"}, "windows_password_name"),
    ({"command_content": "echo", "command_type": "RunPowerShellScript", "windows_password_name": "pw"},
     "windows_password_name"),
    ({"command_content": "echo", "command_type": "RunRubyScript"}, "command_type"),
])
def test_bad_combinations_name_the_option_and_send_nothing(emu, options, field):
    emu.control("stats/reset", {}, method="POST")
    out = run(emu, **options)
    assert out["failed"] and field in out["msg"], out
    assert emu.stats()["calls"].get("RunCommand", 0) == 0


CONVERTED = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: greet
    Action: ACS::ECS::RunCommand
    Properties:
      instanceId: '{{ instanceId }}'
      commandType: RunShellScript
      commandContent: 'echo {{ greeting }} from {{ instanceId }}'
      enableParameter: true
      parameters: {greeting: hello}
    Outputs:
      said: {Type: String, ValueSelector: invocationOutput}
Outputs:
  said: {Type: String, Value: '{{ greet.said }}'}
"""


def test_a_converted_run_command_leaves_cloud_assistant_parameters_to_the_agent(emu, tmp_path):
    """{{ greeting }} is no template name: OOS passes it to Cloud Assistant, which fills it in (enableParameter)."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
    playbook = tmp_path / "greet.yml"
    playbook.write_text(convert(content=CONVERTED).playbook_yaml("greet"))
    instance = emu.instances()[0]["InstanceId"]
    result = run_playbook(playbook, emu.env, extra_vars={"instanceId": instance})
    assert result.rc == 0, result.output[-3000:]
    assert f"hello from {instance}" in result.stdout, result.stdout[-3000:]
