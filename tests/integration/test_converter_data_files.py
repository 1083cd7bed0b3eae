"""Parameter values and trigger events given to a converted playbook are data: they reach the API as written.

``-e oos_parameters_file=PATH`` (the parameters JSON the OOS console and StartExecution take) and
``-e oos_trigger_event_file=PATH`` are read by the playbook as data; AWX survey answers (extra variables
tagged ``!unsafe``, as AWX writes them) stay data too. Cloud Assistant records the command it was given.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook

TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId:
    Type: String
  script:
    Type: String
Tasks:
  - Name: trigger
    Action: ACS::EventTrigger
    Properties:
      Product: ECS
      Name: [ 'Instance:StateChange' ]
      Level: [ INFO ]
      Content:
        state: [ Stopped ]
    Outputs:
      note:
        Type: String
        ValueSelector: .content.note
  - Name: runScript
    Action: ACS::ECS::RunCommand
    Properties:
      regionId: cn-hangzhou
      instanceId: '{{ instanceId }}'
      commandType: RunShellScript
      commandContent: '{{ script }}'
      enableParameter: true
      parameters:
        dir: /srv
  - Name: runEventNote
    Action: ACS::ECS::RunCommand
    Properties:
      regionId: cn-hangzhou
      instanceId: '{{ instanceId }}'
      commandType: RunShellScript
      commandContent: '{{ trigger.note }}'
      enableParameter: true
      parameters:
        dir: /srv
"""

# Cloud Assistant refuses a placeholder that is no parameter name, so Ansible's own syntax stays outside braces.
SCRIPT = "echo {{ACS::InstanceId}} in {{ dir }} {% if x %}id{% endif %}"
NOTE = "echo stopped {{ ACS::InstanceId }} {{dir}}"


@pytest.fixture
def cloud(emulator_factory):
    return emulator_factory("--instances", "1", "--seed", "7", "--transition-seconds", "0.1")


def convert(tmp_path: Path) -> Path:
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(TEMPLATE)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={src}",
                           "-e", f"dest={dest}"], cwd=REPO_ROOT, env=clean_environment(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return dest


def commands(cloud) -> list:
    return [invocation["CommandContent"] for invocation in cloud.control("invocations")]


@pytest.mark.heavy(40)
def test_parameters_file_and_event_file_are_data(tmp_path, cloud):
    playbook = convert(tmp_path)
    instance = cloud.instances()[0]["InstanceId"]
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({"instanceId": instance, "script": SCRIPT}))
    event = tmp_path / "event.yml"
    event.write_text("content:\n  note: '" + NOTE + "'\n")
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": str(parameters),
                                                           "oos_trigger_event_file": str(event), "dir": "/tmp"})
    assert result.rc == 0, result.output[-5000:]
    assert commands(cloud) == [SCRIPT, NOTE]


@pytest.mark.heavy(40)
def test_awx_survey_answers_stay_data(tmp_path, cloud):
    # AWX writes launch-time answers to an extra-variables file with every value tagged !unsafe.
    playbook = convert(tmp_path)
    instance = cloud.instances()[0]["InstanceId"]
    answers = tmp_path / "extra_vars.yml"
    answers.write_text(f"instanceId: !unsafe '{instance}'\nscript: !unsafe \"{SCRIPT}\"\n"
                       "oos_trigger_event: !unsafe {content: {note: '" + NOTE + "'}}\n")
    result = run_playbook(playbook, cloud.env, args=("-e", f"@{answers}"))
    assert result.rc == 0, result.output[-5000:]
    assert commands(cloud) == [SCRIPT, NOTE]


def test_a_parameters_file_that_is_no_mapping_is_refused(tmp_path, cloud):
    playbook = convert(tmp_path)
    parameters = tmp_path / "parameters.json"
    parameters.write_text('["i-1", "echo"]')
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": str(parameters)})
    assert result.rc != 0
    assert "oos_parameters_file must name a JSON or YAML file holding a mapping" in result.output
    assert cloud.control("invocations") == []


def test_a_parameters_file_naming_a_parameter_the_template_lacks_is_refused(tmp_path, cloud):
    """As StartExecution refuses it: a misspelt name must not leave the real parameter at its default."""
    playbook = convert(tmp_path)
    parameters = tmp_path / "parameters.json"
    parameters.write_text('{"instanceId": "i-1", "scirpt": "echo"}')
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": str(parameters)})
    assert result.rc != 0
    assert "oos_parameters_file: parameter scirpt is not defined in the template (it defines: " in result.output
    assert "Traceback" not in result.output
    assert cloud.control("invocations") == []


@pytest.mark.heavy(30)
def test_a_relative_parameters_file_is_read_from_the_working_directory(tmp_path, cloud):
    """As `-e @FILE` is: never the file of that name next to the playbook."""
    playbook = convert(tmp_path)
    instance = cloud.instances()[0]["InstanceId"]
    work = tmp_path / "work"
    work.mkdir()
    (work / "params.json").write_text(json.dumps({"instanceId": instance, "script": SCRIPT}))
    (playbook.parent / "params.json").write_text(json.dumps({"instanceId": instance, "script": "echo decoy"}))
    (work / "event.yml").write_text("content:\n  note: '" + NOTE + "'\n")
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": "params.json", "dir": "/tmp",
                                                           "oos_trigger_event_file": "event.yml"}, cwd=work)
    assert result.rc == 0, result.output[-5000:]
    assert SCRIPT in commands(cloud) and "echo decoy" not in commands(cloud)


SECRET_TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  dbPassword: {Type: String, NoEcho: true}
  instanceId: {Type: String}
Tasks:
  - Name: setPassword
    Action: ACS::ECS::RunCommand
    Properties:
      instanceId: '{{ instanceId }}'
      commandType: RunShellScript
      commandContent: 'echo configured {{ dbPassword }} > /dev/null; echo done'
    Outputs:
      said: {Type: String, ValueSelector: invocationOutput}
"""


def test_a_no_echo_parameter_never_shows_at_verbose(tmp_path, cloud):
    """The run's context (set_fact at -v) holds every parameter: with a NoEcho one it is not printed."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert as convert_template
    playbook = tmp_path / "secret.yml"
    playbook.write_text(convert_template(content=SECRET_TEMPLATE).playbook_yaml("secret"))
    secret = "Pa55-w0rd-no-echo-7731"
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"dbPassword": secret, "instanceId": cloud.instances()[0]["InstanceId"]}))
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": str(values)}, args=("-v",))
    assert result.rc == 0, result.output[-3000:]
    assert secret not in result.output
    # The command ran with the value (its tasks are no_log: a command's output may echo a secret).
    assert commands(cloud) == [f"echo configured {secret} > /dev/null; echo done"]


def test_parameters_named_like_methods_of_a_mapping_keep_their_values(tmp_path, cloud):
    """Jinja's subscript falls back to attributes: a parameter 'items' read dict.items before."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert as convert_template
    names = ["items", "keys", "values", "get", "update", "pop"]
    template = {"FormatVersion": "OOS-2019-06-01",
                "Parameters": {n: {"Type": "String", "Default": f"v-{n}"} for n in names},
                "Tasks": [{"Name": "s", "Action": "ACS::Sleep", "Properties": {"Duration": "PT0S"}}],
                "Outputs": {f"o_{n}": {"Type": "String", "Value": "{{ %s }}" % n} for n in names}}
    playbook = tmp_path / "names.yml"
    playbook.write_text(convert_template(content=template).playbook_yaml("names"))
    values = tmp_path / "values.json"
    values.write_text('{"items": "from-file"}')
    result = run_playbook(playbook, cloud.env, extra_vars={"oos_parameters_file": str(values)})
    assert result.rc == 0, result.output[-3000:]
    for name in names:
        expected = "from-file" if name == "items" else f"v-{name}"
        assert f'"o_{name}": "{expected}"' in result.stdout, result.stdout[-3000:]
