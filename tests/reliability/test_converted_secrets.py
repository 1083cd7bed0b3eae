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


def convert_and_run(tmp_path, cloud, template: str):
    """``template`` converted and run at -vvv against ``cloud``."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
    converted = convert(content=template)
    playbook = tmp_path / "converted.yml"
    playbook.write_text(converted.playbook_yaml("converted"))
    return run_playbook(playbook, cloud.env, args=("-vvv",), cwd=REPO_ROOT)


def test_a_noecho_parameter_is_masked_in_every_task_and_in_the_outputs(tmp_path, emulator_factory):
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    result = convert_and_run(tmp_path, cloud, TEMPLATE)
    assert result.rc == 0, result.output[-4000:]
    assert SECRET not in result.output
    # An Output computed from the secret is masked whole.
    assert '"seen": "********"' in result.stdout
    # The API received the value itself, whole and inside other text; OOS received it for the delegated task.
    sent = [request["params"].get("InstanceName") for request in cloud.control("requests")
            if request["action"] == "DescribeInstances"]
    assert sent == [SECRET, f"name-{SECRET}-web"]
    started = [request for request in cloud.control("requests") if request["action"] == "StartExecution"]
    assert started and SECRET in started[0]["params"]["Parameters"]


TRANSFORMED = """
FormatVersion: OOS-2019-06-01
Parameters:
  password: {Type: String, NoEcho: true, Default: '%s'}
Tasks:
  - Name: command
    Action: ACS::ECS::RunCommand
    Properties:
      instanceId: '{{ instance }}'
      commandType: RunShellScript
      commandContent: 'echo {{ password }}; exit 3'
Parameters2: {}
Outputs:
  encoded: {Type: String, Value: {'Fn::Base64Encode': '{{ password }}'}}
""" % SECRET


def test_a_noecho_parameter_is_hidden_in_command_output_failures_and_transformed_outputs(tmp_path, emulator_factory):
    """Found by the third review: a RunCommand's content and output, its failure at default verbosity, and an
    Output computed from the secret (Base64) printed it. Tasks of such a run are no_log; the final error is shown
    with the secret masked."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    instance = cloud.instances()[0]["InstanceId"]
    template = TRANSFORMED.replace("Parameters2: {}\n", "").replace(
        "Parameters:\n", f"Parameters:\n  instance: {{Type: String, Default: {instance}}}\n", 1)
    result = convert_and_run(tmp_path, cloud, template)
    assert result.rc != 0 and "OOS execution Failed: task command failed" in result.output, result.output[-3000:]
    assert SECRET not in result.output
    import base64
    assert base64.b64encode(SECRET.encode()).decode() not in result.output
    assert [i["CommandContent"] for i in cloud.control("invocations")] == [f"echo {SECRET}; exit 3"]


WAIT_FOR = """
FormatVersion: OOS-2019-06-01
Parameters:
  pw: {Type: String, NoEcho: true, Default: '%s'}
Tasks:
  - Name: waitForIt
    Action: ACS::WaitFor
    Properties:
      Service: ECS
      API: DescribeRegions
      PropertySelector: '"v-{{ pw }}"'
      DesiredValues: [never]
      StopRetryValues: ['v-{{ pw }}']
""" % SECRET


def test_a_failure_message_that_carries_the_secret_is_masked_by_the_module(tmp_path, emulator_factory):
    """Found by the third review (F2): a WaitFor whose selector and values read a NoEcho parameter failed with the
    value in its message, which ansible-core 2.19 prints even for a no_log task ('[ERROR]: Task failed: ...'). The
    converted playbook gives the module the secret values to mask."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    result = convert_and_run(tmp_path, cloud, WAIT_FOR)
    assert result.rc != 0 and "OOS execution Failed: task waitForIt failed" in result.output, result.output[-3000:]
    assert "stop_retry_values" in result.output and "v-********" in result.output, result.output[-3000:]
    assert SECRET not in result.output


LOOPED = """
FormatVersion: OOS-2019-06-01
Parameters:
  password: {Type: String, NoEcho: true, Default: '%s'}
Tasks:
  - Name: each
    Action: ACS::Template
    Properties:
      TemplateContent:
        FormatVersion: OOS-2019-06-01
        Parameters:
          name: {Type: String}
          suffix: {Type: String}
        Tasks:
          - Name: describe
            Action: ACS::ExecuteAPI
            Properties:
              Service: ECS
              API: DescribeInstances
              Parameters: {InstanceName: '{{ name }}-{{ suffix }}', RegionId: cn-hangzhou}
            Outputs:
              count: {Type: Number, ValueSelector: .TotalCount}
        Outputs:
          echoed: {Type: String, Value: '{{ name }}-{{ suffix }}'}
      Parameters: {name: '{{ password }}', suffix: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: [a, b]
      RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}
      Outputs:
        echoed: {AggregateType: Fn::ListJoin, AggregateField: echoed}
    Outputs:
      echoed: {Type: String, ValueSelector: echoed}
Outputs:
  echoed: {Type: List, Value: '{{ each.echoed }}'}
""" % SECRET


def test_a_noecho_value_given_to_a_looped_nested_template_is_masked_on_every_item_host(tmp_path, emulator_factory):
    """The natural writer gives it to one in-memory host per item (add_host), whose tasks read it."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    result = convert_and_run(tmp_path, cloud, LOOPED)
    assert result.rc == 0, result.output[-4000:]
    assert SECRET not in result.output
    sent = sorted(request["params"].get("InstanceName") for request in cloud.control("requests")
                  if request["action"] == "DescribeInstances")
    assert sent == [f"{SECRET}-a", f"{SECRET}-b"]


SECRET_ITEMS = """
FormatVersion: OOS-2019-06-01
Parameters:
  names: {Type: List, NoEcho: true, Default: ['%s-a', '%s-b']}
  maxErrors: {Type: Number, Default: 1}
Tasks:
  - Name: each
    Action: ACS::Template
    Properties:
      TemplateContent:
        FormatVersion: OOS-2019-06-01
        Parameters:
          name: {Type: String}
        Tasks:
          - Name: describe
            Action: ACS::ExecuteAPI
            Properties:
              Service: ECS
              API: DescribeInstances
              Parameters: {InstanceName: '{{ name }}', RegionId: cn-hangzhou}
      Parameters: {name: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: '{{ names }}'
      RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}
  - Name: plain
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {InstanceName: '{{ ACS::TaskLoopItem }}', RegionId: cn-hangzhou}
    Loop:
      Items: '{{ names }}'
      RateControl: {Mode: Concurrency, Concurrency: 1, MaxErrors: '{{ maxErrors }}'}
""" % (SECRET, SECRET)


def test_items_of_a_noecho_list_are_masked_in_a_looped_nested_template_and_a_looped_call(tmp_path, emulator_factory):
    """Found by the fourth attack (F6): the play of the items of a looped nested template, and the role that runs a
    looped call whose MaxErrors a parameter gives, printed each secret item at -vvv."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    result = convert_and_run(tmp_path, cloud, SECRET_ITEMS)
    assert result.rc == 0, result.output[-4000:]
    assert SECRET not in result.output
    sent = sorted(request["params"].get("InstanceName") for request in cloud.control("requests")
                  if request["action"] == "DescribeInstances")
    assert sent == [f"{SECRET}-a", f"{SECRET}-a", f"{SECRET}-b", f"{SECRET}-b"]


CHILD_DEFAULT = "ChildOwnDefault77-not-the-other-secret"
CHILD_SECRET = """
FormatVersion: OOS-2019-06-01
Parameters:
  tok: {Type: String, Default: '%s'}
Tasks:
  - Name: call
    Action: ACS::Template
    Properties:
      TemplateContent:
        FormatVersion: OOS-2019-06-01
        Parameters:
          token: {Type: String, NoEcho: true}
          own: {Type: String, NoEcho: true, Default: '%s'}
        Tasks:
          - Name: roa
            Action: ACS::ExecuteAPI
            Properties: {Service: CS, API: DescribeClusterDetail, Method: GET, URI: '/clusters/{{ token }}'}
            OnError: ACS::NEXT
        Outputs:
          t: {Type: String, Value: 'tok={{ token }}'}
          o: {Type: String, Value: 'own={{ own }}'}
      Parameters: {token: '{{ tok }}'}
    Outputs:
      t: {Type: String, ValueSelector: t}
      o: {Type: String, ValueSelector: o}
Outputs:
  t: {Type: String, Value: '{{ call.t }}'}
  o: {Type: String, Value: '{{ call.o }}'}
""" % (SECRET, CHILD_DEFAULT)


def test_a_nested_templates_own_noecho_parameter_is_masked(tmp_path, emulator_factory):
    """Found by the fourth attack (F5): a child's NoEcho parameter, given a plain value by its parent, was printed by
    the failed call's error line, the OnError ACS::NEXT note and the run's outputs; its own NoEcho Default too
    (fifth attack, G6)."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    result = convert_and_run(tmp_path, cloud, CHILD_SECRET)
    assert result.rc == 0, result.output[-4000:]
    assert SECRET not in result.output and CHILD_DEFAULT not in result.output, result.output[-4000:]
    assert any(SECRET in str(request["params"]) or SECRET in str(request.get("path", "")) for request in cloud.control("requests"))


SECRET_LIST = """
FormatVersion: OOS-2019-06-01
Parameters:
  toks: {Type: List, NoEcho: true, Default: ['%s-a', '%s-b']}
  instance: {Type: String}
Tasks:
  - Name: runEach
    Action: ACS::ECS::RunCommand
    Properties:
      instanceId: '{{ instance }}'
      commandType: RunShellScript
      commandContent: 'echo tok-{{ ACS::TaskLoopItem }}-end'
    Loop:
      Items: '{{ toks }}'
      RateControl: {Mode: Concurrency, Concurrency: 1, MaxErrors: 0}
      Outputs:
        outs: {AggregateType: Fn::ListJoin, AggregateField: commandOutput}
    Outputs:
      commandOutput: {Type: String, ValueSelector: invocationOutput}
  - Name: rebootEach
    Action: ACS::ECS::RebootInstance
    Properties:
      instanceId: '{{ ACS::TaskLoopItem }}'
    Loop:
      Items: '{{ toks }}'
      RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}
Outputs:
  outs: {Type: List, Value: '{{ runEach.outs }}'}
""" % (SECRET, SECRET)


def test_each_item_of_a_noecho_list_is_a_secret_value(tmp_path, emulator_factory):
    """Found by the fifth attack (G1, G2): a NoEcho List was masked as one text, never its items: a command's output
    echoing an item, and the error naming a missing instance (an item), printed them."""
    cloud = emulator_factory("--instances", "1", "--transition-seconds", "0.1")
    instance = cloud.instances()[0]["InstanceId"]
    template = SECRET_LIST.replace("instance: {Type: String}", f"instance: {{Type: String, Default: {instance}}}")
    result = convert_and_run(tmp_path, cloud, template)
    assert result.rc != 0 and "OOS execution Failed: task rebootEach failed" in result.output, result.output[-3000:]
    assert SECRET not in result.output, result.output[-3000:]
    assert [i["CommandContent"] for i in cloud.control("invocations")] == [f"echo tok-{SECRET}-a-end", f"echo tok-{SECRET}-b-end"]
