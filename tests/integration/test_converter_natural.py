"""Converted playbooks run as a user runs them, against the emulator: values reach the API exactly as
OOS sends them, on every ansible-core the collection supports.

The tests run ``ansible-playbook`` next to the Python that runs pytest (``tests.conftest.BIN``): run this file with
``.venv/bin/python`` (ansible-core 2.19) and with the 2.16 virtualenv's Python
(``tests/integration/test_installed_collection.py`` builds one) to check both; each must pass unchanged.
"""
from __future__ import annotations

import base64
import json


from tests.conftest import run_playbook

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import functions
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert


def natural_playbook(tmp_path, template: str, name: str = "natural"):
    result = convert(content=template)
    assert not result.handed_over, "the natural writer declined the template"
    path = tmp_path / f"{name}.yml"
    path.write_text(result.playbook_yaml(name))
    return path


def requests(emulator, action: str) -> list:
    return [r["params"] for r in emulator.control("requests") if r["action"] == action]


def outputs(run) -> dict:
    marker = '"outputs": '
    assert run.rc == 0, run.output[-3000:]
    text = run.stdout[run.stdout.index("TASK [Show the template outputs]"):]
    body = text[text.index("=> ") + 3:text.index("\n}\n") + 2]
    assert marker in body
    return json.loads(body)["msg"]["outputs"]


STRINGS = """
FormatVersion: OOS-2019-06-01
Parameters:
  document: {Type: String, Default: '{"k": "v"}'}
  listed: {Type: String}
  flag: {Type: String}
  describe_result: {Type: String, Default: P-dr}
Tasks:
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeRegions
      Parameters: {AcceptLanguage: '{{ describe_result }}'}
    Outputs:
      count: {Type: Number, ValueSelector: .Regions.Region | length}
  - Name: send
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters:
        InstanceName: '{{ document }}'
        Description: '{{ listed }}'
        HostName: '{{ flag }}'
        KeyPairName: '[{{ flag }}]'
        ResourceGroupId: '{{ describe_result }}'
        ImageId: 'True'
        InstanceType: '0123'
Outputs:
  document: {Type: String, Value: '{{ document }}'}
  listed: {Type: String, Value: '{{ listed }}'}
  again: {Type: String, Value: '{{ describe_result }}'}
"""


def test_string_values_reach_the_api_as_written_and_no_register_overwrites_a_parameter(emulator, tmp_path):
    """F2: a String that looks like JSON, a list or True stays that text (ansible-core 2.16 re-typed it); F4: a
    parameter named <task>_result keeps its value after the task runs (the task's register took the name)."""
    playbook = natural_playbook(tmp_path, STRINGS)
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"listed": "[1, 2]", "flag": "True"}))
    run = run_playbook(playbook, emulator.env, extra_vars={"oos_parameters_file": str(values)})
    (sent,) = requests(emulator, "DescribeInstances")
    assert {k: sent[k] for k in ("InstanceName", "Description", "HostName", "KeyPairName", "ResourceGroupId", "ImageId",
                                 "InstanceType")} == {
        "InstanceName": '{"k": "v"}', "Description": "[1, 2]", "HostName": "True", "KeyPairName": "[True]",
        "ResourceGroupId": "P-dr", "ImageId": "True", "InstanceType": "0123"}
    assert [r["AcceptLanguage"] for r in requests(emulator, "DescribeRegions")] == ["P-dr"]
    assert outputs(run) == {"document": '{"k": "v"}', "listed": "[1, 2]", "again": "P-dr"}


FUNCTIONS = """
FormatVersion: OOS-2019-06-01
Parameters:
  text: {Type: String, Default: 'a,b,c'}
  encoded: {Type: String, Default: 'aGVsbG8gd29ybGQ'}
  index: {Type: String, Default: '1'}
  key: {Type: String, Default: 'second'}
  program: {Type: String, Default: '.[1]'}
  mode: {Type: String, Default: 'First'}
Tasks:
  - Name: pause
    Action: ACS::Sleep
    Properties: {Duration: PT0S}
Outputs:
  encode: {Type: String, Value: {Fn::Base64Encode: '{{ text }}'}}
  encodeNumber: {Type: String, Value: {Fn::Base64Encode: 7}}
  decode: {Type: String, Value: {Fn::Base64Decode: '{{ encoded }}'}}
  split: {Type: List, Value: {Fn::Split: [',', '{{ text }}']}}
  letters: {Type: List, Value: {Fn::Split: ['', 'abc']}}
  replace: {Type: String, Value: {Fn::Replace: [{',': ';', 'a': '{{ key }}'}, '{{ text }}']}}
  merged: {Type: Json, Value: {Fn::MergeMap: [{first: 1, second: 2}, {second: '{{ key }}'}]}}
  rows: {Type: List, Value: {Fn::MergeMapToList: [{Key: [k1, k2]}, {Value: ['{{ key }}']}]}}
  quoted: {Type: String, Value: {Fn::Select: ['0', ['{{ text }}', b]]}}
  computed: {Type: String, Value: {Fn::Select: ['{{ index }}', [x, y, z]]}}
  keyed: {Type: Number, Value: {Fn::Select: ['{{ key }}', {first: 1, second: 2}]}}
  jq: {Type: String, Value: {Fn::Jq: ['{{ mode }}', '{{ program }}', [p, q]]}}
"""


def test_functions_give_what_the_oos_implementation_gives(emulator, tmp_path):
    """F3 (Fn::Select with a quoted index failed) and the functions natural now writes: each output equals what the
    collection's implementation of the OOS function (the interpreter's, functions.py) returns for the same values."""
    run = run_playbook(natural_playbook(tmp_path, FUNCTIONS), emulator.env)
    fn = functions.FUNCTIONS
    assert outputs(run) == {
        "encode": fn["base64encode"]("a,b,c"), "encodeNumber": fn["base64encode"](7),
        "decode": fn["base64decode"]("aGVsbG8gd29ybGQ"), "split": fn["split"]([",", "a,b,c"]),
        "letters": fn["split"](["", "abc"]), "replace": fn["replace"]([{",": ";", "a": "second"}, "a,b,c"]),
        "merged": fn["mergemap"]([{"first": 1, "second": 2}, {"second": "second"}]),
        "rows": fn["mergemaptolist"]([{"Key": ["k1", "k2"]}, {"Value": ["second"]}]),
        "quoted": "a,b,c", "computed": "y", "keyed": 2, "jq": "q"}
    assert base64.b64decode(outputs(run)["encode"]) == b"a,b,c"


RUN_COMMAND = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
  script: {Type: String}
Tasks:
  - Name: run
    Action: ACS::ECS::RunCommand
    Properties: {instanceId: '{{ instanceId }}', commandType: RunShellScript, commandContent: '{{ script }}'}
    Outputs:
      said: {Type: String, ValueSelector: invocationOutput}
Outputs:
  said: {Type: String, Value: '{{ run.said }}'}
"""


def test_run_command_leaves_enable_parameter_off_as_the_action_does(emulator, tmp_path):
    """F1: ACS::ECS::RunCommand defaults enableParameter to false: a script holding {{ACS::InstanceId}} runs as
    written (the module alone turns the flag on for such a script)."""
    running = next(i["InstanceId"] for i in emulator.instances() if i["Status"] == "Running")
    result = convert(content=RUN_COMMAND)
    playbook = tmp_path / "run.yml"
    playbook.write_text(result.playbook_yaml("run"))
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"instanceId": running, "script": "echo {{ACS::InstanceId}}"}))
    run = run_playbook(playbook, emulator.env, extra_vars={"oos_parameters_file": str(values)})
    assert outputs(run)["said"] == "{{ACS::InstanceId}}\n"
    sent = requests(emulator, "RunCommand")
    assert sent and all(str(r.get("EnableParameter", "false")).lower() == "false" for r in sent)


HOSTILE = """
FormatVersion: OOS-2019-06-01
Parameters:
  document: {Type: String, Default: "{{ lookup('pipe', 'touch MARKERS/default') }}"}
  listed: {Type: String}
  describeResult: {Type: String}
Tasks:
  - Name: send
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters:
        InstanceName: '{{ document }}'
        Description: '{{ listed }}'
        HostName: '{{ describeResult }}'
        KeyPairName: '[{{ listed }}]'
Outputs:
  document: {Type: String, Value: '{{ document }}'}
  listed: {Type: String, Value: '{{ listed }}'}
  given: {Type: String, Value: '{{ describeResult }}'}
"""


def test_values_kept_strings_stay_data(emulator, tmp_path):
    """What keeps a String a string on ansible-core 2.16 (``| string``) keeps it data too: Jinja in a Default, in a
    parameters file and in an !unsafe extra variable reaches the API as written, and nothing runs on the controller."""
    markers = tmp_path / "markers"
    markers.mkdir()
    playbook = natural_playbook(tmp_path, HOSTILE.replace("MARKERS", str(markers)))
    from_file = "{{ lookup('pipe', 'touch %s/file') }}" % markers
    extra = "{{ lookup('pipe', 'touch %s/extra') }}" % markers
    values, extra_vars = tmp_path / "values.json", tmp_path / "extra.yml"
    values.write_text(json.dumps({"listed": from_file}))
    extra_vars.write_text("describeResult: !unsafe %s\n" % json.dumps(extra))
    run = run_playbook(playbook, emulator.env, extra_vars={"oos_parameters_file": str(values)},
                       args=("-e", f"@{extra_vars}"))
    default = "{{ lookup('pipe', 'touch %s/default') }}" % markers
    assert outputs(run) == {"document": default, "listed": from_file, "given": extra}
    (sent,) = requests(emulator, "DescribeInstances")
    assert [sent[k] for k in ("InstanceName", "Description", "HostName", "KeyPairName")] == [
        default, from_file, extra, f"[{from_file}]"]
    assert list(markers.iterdir()) == []


SECRET = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
  imgName: {Type: String, NoEcho: true, AllowedPattern: '[A-Za-z][A-Za-z0-9-]{1,60}'}
Tasks:
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties: {Service: ECS, API: DescribeInstances, Parameters: {InstanceName: '{{ imgName }}'}}
    Outputs:
      count: {Type: Number, ValueSelector: .TotalCount}
  - Name: image
    Action: ACS::ECS::CreateImage
    Properties: {instanceId: '{{ instanceId }}', imageName: '{{ imgName }}', resourceGroupId: rg-abc}
    Outputs:
      imageId: {Type: String, ValueSelector: imageId}
  - Name: regions
    Action: ACS::ExecuteAPI
    Properties: {Service: ECS, API: DescribeRegions}
Outputs:
  count: {Type: Number, Value: '{{ describe.count }}'}
  image: {Type: String, Value: '{{ image.imageId }}'}
"""


def test_secret_values_are_hidden_where_a_task_reads_them_and_only_there(emulator, tmp_path):
    """A NoEcho parameter in a natural playbook, read by a native task and by a task OOS runs (delegated): no task
    prints it, even at -vvv; tasks that read no secret still print their results. The parameter check names the
    parameter, not its value."""
    result = convert(content=SECRET)
    assert not result.handed_over and result.delegated == [("Tasks[1]", "ACS::ECS::CreateImage")]
    playbook = tmp_path / "secret.yml"
    playbook.write_text(result.playbook_yaml("secret"))
    instance = emulator.instances()[0]["InstanceId"]
    secret = "S3cr3tV4lue-" + tmp_path.name[-8:].replace("_", "x")
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"instanceId": instance, "imgName": secret}))
    run = run_playbook(playbook, emulator.env, extra_vars={"oos_parameters_file": str(values)}, args=("-vvv",))
    assert run.rc == 0, run.output[-3000:]
    assert secret not in run.output
    assert "DescribeRegions" in run.output and "RequestId" in run.output       # only what reads a secret is hidden
    assert [r["InstanceName"] for r in requests(emulator, "DescribeInstances")] == [secret]
    assert any(e.get("Parameters", {}).get("imageName") == secret for e in emulator.control("executions"))
    assert {i["ImageName"] for i in emulator.control("images")} >= {secret}

    values.write_text(json.dumps({"instanceId": instance, "imgName": "9-" + secret}))
    refused = run_playbook(playbook, emulator.env, extra_vars={"oos_parameters_file": str(values)}, args=("-vvv",))
    assert refused.rc != 0 and "parameter imgName: the value (NoEcho, not shown) does not match" in refused.output
    assert secret not in refused.output


DELETE = """
FormatVersion: OOS-2019-06-01
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: delete
    Action: ACS::ECS::DeleteInstance
    Properties: {instanceId: '{{ instanceId }}'}
"""


def test_delete_instance_refuses_an_instance_that_is_not_stopped_as_the_action_does(emulator, tmp_path):
    """ACS::ECS::DeleteInstance checks the instance is Stopped, then deletes it without Force: a Running instance
    fails the run and is kept (the converted task sent Force=true and deleted it)."""
    result = convert(content=DELETE)
    playbook = tmp_path / "delete.yml"
    playbook.write_text(result.playbook_yaml("delete"))
    running, stopped = [i["InstanceId"] for i in emulator.instances() if i["Status"] == "Running"][:2]
    emulator.control(f"instances/{stopped}/status", {"Status": "Stopped"}, method="POST")
    refused = run_playbook(playbook, emulator.env, extra_vars={"instanceId": running})
    assert refused.rc != 0 and "IncorrectInstanceStatus" in refused.output, refused.output[-3000:]
    deleted = run_playbook(playbook, emulator.env, extra_vars={"instanceId": stopped})
    assert deleted.rc == 0, deleted.output[-3000:]
    assert {i["InstanceId"] for i in emulator.instances()} & {running, stopped} == {running}
    assert all("Force" not in r for r in requests(emulator, "DeleteInstance"))


LIST_AS_TEXT = """
FormatVersion: OOS-2019-06-01
Parameters:
  ids: {Type: List, Default: []}
Tasks:
  - Name: describeEach
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {InstanceIds: ['{{ ACS::TaskLoopItem }}']}
    Loop:
      Items: '{{ ids }}'
  - Name: describeAll
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {InstanceIds: '{{ ids }}'}
    Outputs:
      n: {Type: Number, ValueSelector: .TotalCount}
Outputs:
  n: {Type: Number, Value: '{{ describeAll.n }}'}
"""


def test_a_list_given_as_text_is_read_as_the_parameter_check_reads_it(tmp_path, emulator_factory):
    """Found by the attack on the natural writer (F8): `-e ids=a,b` passed the check (comma-separated words are a
    List) and then reached the loop as one string. The playbook reads it as the check does."""
    cloud = emulator_factory("--instances", "2", "--transition-seconds", "0.1")
    first, second = (i["InstanceId"] for i in cloud.instances())
    run = run_playbook(natural_playbook(tmp_path, LIST_AS_TEXT), cloud.env, extra_vars={"ids": f"{first},{second}"})
    assert outputs(run) == {"n": 2}
    assert [json.loads(r["InstanceIds"]) for r in requests(cloud, "DescribeInstances")] == [
        [first], [second], [first, second]]
