"""A converted template's NoEcho parameter is masked wherever the run prints it, and only there.

Found by the independent review of issue #13: the playbook dropped NoEcho from the parameter definitions it
carries, so the value was printed at -vvv by the API calls that read it (directly or inside other text), handed
to OOS unmasked by delegated tasks, and printed and published with the template's Outputs.
"""
from __future__ import annotations

from tests.conftest import REPO_ROOT, run_playbook

SECRET = "TopSecretValue99-for-the-converter"
TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  password: {Type: String, NoEcho: true, Default: '%s'}
  label: {Type: String, Default: web}
Tasks:
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {InstanceName: '{{ password }}', RegionId: cn-hangzhou, PageSize: 10}
    Outputs:
      count: {Type: Number, ValueSelector: .TotalCount}
  - Name: embedded
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {InstanceName: 'name-{{ password }}-{{ label }}', RegionId: cn-hangzhou}
  - Name: delegated
    Action: ACS::ECS::DescribeInstancesByName
    OnError: ACS::NEXT
    Properties: {instanceName: '{{ password }}'}
Outputs:
  seen: {Type: String, Value: 'label={{ label }} password={{ password }}'}
""" % SECRET


def test_a_noecho_parameter_is_masked_in_every_task_and_in_the_outputs(tmp_path, emulator_factory):
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    playbook = tmp_path / "converted.yml"
    playbook.write_text(convert(content=TEMPLATE).playbook_yaml("converted"))
    result = run_playbook(playbook, cloud.env, args=("-vvv",), cwd=REPO_ROOT)
    assert result.rc == 0, result.output[-4000:]
    assert SECRET not in result.output
    # Masked, and nothing else: the other value of the same output stays readable.
    assert '"seen": "label=web password=********"' in result.stdout
    # The API received the value itself, whole and inside other text; OOS received it for the delegated task.
    sent = [request["params"].get("InstanceName") for request in cloud.control("requests")
            if request["action"] == "DescribeInstances"]
    assert sent == [SECRET, f"name-{SECRET}-web"]
    started = [request for request in cloud.control("requests") if request["action"] == "StartExecution"]
    assert started and SECRET in started[0]["params"]["Parameters"]
