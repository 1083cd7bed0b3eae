"""Constructs added to reach the corpus: ROA ExecuteAPI, SelectTargets of other products, loops in loops,
OnError semantics, names and YAML that pass ansible-lint."""
from __future__ import annotations

import pytest
import yaml

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import delegation, dumper, filters, runtime
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, TemplateText


def _calls(result, module):
    found = []

    def walk(node):
        if isinstance(node, dict):
            if module in node:
                found.append(node[module])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(result.plays)
    return found


ROA = """
FormatVersion: OOS-2019-06-01
Parameters: {clusterId: {Type: String}}
Tasks:
  - Name: protect
    Action: ACS::ExecuteAPI
    Properties:
      Service: CS
      API: ModifyCluster
      Method: PUT
      URI: /api/v2/clusters/{{ clusterId }}
      Parameters: null
      Headers: {Content-Type: application/json}
      Body: '{"deletion_protection": true}'
  - Name: waitRunning
    Action: ACS::WaitFor
    Retries: 5
    Properties:
      Service: CS
      API: DescribeClusterDetail
      Method: GET
      URI: /clusters/{{ clusterId }}
      PropertySelector: .state
      DesiredValues: [running]
      NotDesiredValues: [failed]
      StopRetryValues: [deleted]
"""


def one_task(task: dict, context: dict, specs: dict | None = None, ram_role: str = "") -> dict:
    """The one-task template OOS runs for ``task`` and the values it is given, resolved from ``context`` (a run's
    parameters, pseudo-parameters and task outputs)."""
    def resolve(reference):
        try:
            return runtime.resolve_reference(reference, context)
        except runtime.NotAReference:
            raise delegation.NotAValue(reference) from None

    def type_of(value) -> str:
        return ("Boolean" if isinstance(value, bool) else "Number" if isinstance(value, (int, float)) else
                "List" if isinstance(value, list) else "Json" if isinstance(value, dict) else "String")

    template, given, secret = delegation.one_task_template(task, resolve, type_of, delegation.secret_sources(specs or {}),
                                                           ram_role)
    return {"template": template, "parameters": given, "secret_parameters": secret}


def test_roa_execute_api_uses_uri_body_headers():
    result = convert(content=ROA)
    first, second = _calls(result, "alicloud.oos.oos_execute_api")
    # The reference in the path is Jinja over the parameter; the rest is the template's data as written.
    assert first["method"] == "PUT" and first["uri"] == "/api/v2/clusters/{{ cluster_id }}" and isinstance(first["uri"], Code)
    assert first["body"] == '{"deletion_protection": true}' and isinstance(first["body"], TemplateText)
    assert first["headers"] == {"Content-Type": "application/json"} and first["parameters"] == {}
    wait = second["wait_for"]
    assert wait["retries"] == 5 and wait["desired_values"] == ["running"]
    assert wait["not_desired_values"] == ["failed"] and wait["stop_retry_values"] == ["deleted"]


def test_select_targets_of_other_products_are_listed_through_their_api():
    requests = filters.oos_target_requests({"ResourceType": "ALIYUN::RDS::Instance", "RegionId": "cn-beijing",
                                            "Filters": [{"Type": "ResourceIds", "ResourceIds": ["rm-1", "rm-2"]}]})
    assert requests == [{"service": "Rds", "version": "2014-08-15", "api": "DescribeDBInstances",
                         "parameters": {"DBInstanceId": "rm-1,rm-2", "RegionId": "cn-beijing"},
                         "resource": "aliyun::rds::instance"}]
    redis = filters.oos_target_requests({"ResourceType": "ALIYUN::Redis::Instance",
                                         "Filters": [{"Type": "Tags", "Tags": [{"Key": "env", "Value": "prod"}]}]})
    assert redis[0]["parameters"] == {"Tag.1.Key": "env", "Tag.1.Value": "prod"}
    merged = filters.oos_merge_instances([{"oos_request": requests[0], "response": {
        "Items": {"DBInstance": [{"DBInstanceId": "rm-1", "DBInstanceDescription": "db one"}]}}}])
    assert merged["Instances"]["Instance"][0]["InstanceId"] == "rm-1"
    assert merged["Instances"]["Instance"][0]["InstanceName"] == "db one"


def test_computed_resource_type_converts_and_unknown_static_type_is_delegated():
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {"kind": {"Type": "String"}},
                "Tasks": [{"Name": "pick", "Action": "ACS::SelectTargets",
                           "Properties": {"ResourceType": "{{ kind }}", "Filters": [{"Type": "All"}]}}]}
    assert _calls(convert(content=template), "alicloud.oos.oos_execute_api")
    template["Tasks"][0]["Properties"]["ResourceType"] = "ALIYUN::SLB::LoadBalancer"
    result = convert(content=template)
    assert result.delegated == [("Tasks[0]", "ACS::SelectTargets")]
    assert _calls(result, "alicloud.oos.oos_execution") and not _calls(result, "alicloud.oos.oos_execute_api")


def test_loop_inside_a_loop_is_delegated_to_oos_with_the_item_left_for_oos():
    task = {"Name": "snap", "Action": "ACS::ECS::CreateSnapshot",
            "Properties": {"diskId": "{{ ACS::TaskLoopItem }}", "name": "s-{{ prefix }}-{{ ACS::TaskLoopItem }}"},
            "Loop": {"Items": "{{ disks }}", "RateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0},
                     "Outputs": {"snapshotIds": {"AggregateType": "Fn::ListJoin", "AggregateField": "snapshotId"}}}}
    context = {"parameters": {"prefix": "p", "disks": ["d-1", "d-2"]}, "pseudo": {"acs::executionid": "exec-1"},
               "tasks": {}}
    delegation = one_task(task, context)
    template = delegation["template"]
    body = template["Tasks"][0]
    # The values travel as parameters of the one-task template; the item is OOS's to give.
    assert body["Properties"] == {"diskId": "{{ ACS::TaskLoopItem }}", "name": "s-{{ prefix }}-{{ ACS::TaskLoopItem }}"}
    assert body["Loop"]["Items"] == "{{ disks }}" and body["Loop"]["RateControl"]["Concurrency"] == 2
    assert delegation["parameters"] == {"prefix": "p", "disks": ["d-1", "d-2"]}
    assert template["Parameters"] == {"prefix": {"Type": "String"}, "disks": {"Type": "List"}}
    assert template["Outputs"] == {"snapshotIds": {"Type": "List", "Value": "{{ snap.snapshotIds }}"}}


def test_names_never_carry_jinja_and_trigger_notes_render_the_schedule_as_data():
    template = {"FormatVersion": "OOS-2019-06-01", "Description": "{{ lookup('pipe', 'id') }} run",
                "Tasks": [{"Name": "tick", "Action": "ACS::TimerTrigger", "Description": "{% if x %}",
                           "Properties": {"Type": "cron", "Expression": "{{ lookup('pipe', 'id') }}"}}]}
    result = convert(content=template)
    text = result.playbook_yaml()
    for line in text.splitlines():
        if line.strip().startswith(("- name:", "name:")):
            assert "{{" not in line and "{%" not in line, line
    notes = _calls(result, "ansible.builtin.debug")
    trigger = [n for n in notes if "oos_trigger_note" in str(n.get("msg"))]
    assert trigger and isinstance(trigger[0]["msg"], Code)
    note = filters.oos_trigger_note({"Type": "cron", "Expression": "{{ lookup('pipe', 'id') }}"}, "TimerTrigger")
    assert note.startswith("OOS TimerTrigger: schedule cron {{ lookup('pipe', 'id') }} (UTC)")


def test_dumped_playbooks_keep_lines_short_and_values_exact():
    value = {"jq": ".A|map(select(.B==\"x\"))" * 12, "cjk": "中文" * 120, "script": "echo " + "x" * 200 + "\nexit 0",
             "unsafe": TemplateText("{{ a }}" + "k" * 300)}
    text = dumper.dump([{"name": "Play", "vars": value}])
    assert max(len(line) for line in text.splitlines()) <= 160
    loaded = yaml.safe_load(text.replace("!unsafe", ""))
    assert loaded[0]["vars"] == {k: str(v) for k, v in value.items()}
    assert "noqa" not in text


def test_a_single_task_is_delegated_with_its_values_as_parameters_and_its_outputs():
    task = {"Name": "attach", "Action": "ACS::ECS::AttachDisk", "OnError": "cleanup",
            "Properties": {"diskId": "{{ disk }}", "instanceId": "{{ find.id }}", "note": "{{ lookup('pipe', 'id') }}",
                           "key": "{{ oos-secret:db-password }}", "arg": "run {{ word }} in {{ ACS::RegionId }}",
                           "pass": "{{ password }}"},
            "Outputs": {"device": {"Type": "String", "ValueSelector": ".device"}}}
    context = {"parameters": {"disk": "d-1 {{ ACS::ExecutionId }}", "password": "s3cr3t-value"},
               "pseudo": {"acs::regionid": "cn-hangzhou", "acs::executionid": "exec-1"},
               "tasks": {"find": {"id": "i-1"}}}
    specs = {"disk": {"Type": "String"}, "password": {"Type": "String", "NoEcho": True}}
    delegation = one_task(task, context, specs)
    template = delegation["template"]
    body = template["Tasks"][0]
    assert "Loop" not in body and "OnError" not in body
    assert body["Properties"] == {"diskId": "{{ disk }}", "instanceId": "{{ find_id }}",
                                  "note": "{{ lookup('pipe', 'id') }}", "key": "{{ oos-secret:db-password }}",
                                  "arg": "run {{ word }} in {{ ACS__RegionId }}", "pass": "{{ password }}"}
    # A value is data for OOS too: the reference inside it is not template text there.
    assert delegation["parameters"] == {"disk": "d-1 {{ ACS::ExecutionId }}", "find_id": "i-1",
                                        "ACS__RegionId": "cn-hangzhou", "password": "s3cr3t-value"}
    assert template["Parameters"]["password"] == {"Type": "String", "NoEcho": True}
    assert delegation["secret_parameters"] == ["password"]
    assert body["Outputs"] == task["Outputs"]
    assert template["Outputs"] == {"device": {"Type": "String", "Value": "{{ attach.device }}"}}


def test_a_delegated_task_runs_as_the_template_s_ram_role_and_the_header_says_how_the_playbook_runs():
    task = {"Name": "attach", "Action": "ACS::ECS::AttachDisk", "Properties": {"diskId": "{{ disk }}"}}
    context = {"parameters": {"disk": "d-1", "OOSAssumeRole": "OpsRole"}, "pseudo": {}, "tasks": {}}
    delegation = one_task(task, context, {}, "{{ OOSAssumeRole }}")
    assert delegation["template"]["RamRole"] == "{{ OOSAssumeRole }}"
    assert delegation["parameters"]["OOSAssumeRole"] == "OpsRole"
    assert "RamRole" not in one_task(task, context, {}, "")["template"]
    text = convert(content={"FormatVersion": "OOS-2019-06-01", "RamRole": "{{ OOSAssumeRole }}",
                            "Parameters": {"OOSAssumeRole": {"Type": "String", "Default": "OpsRole"}},
                            "Tasks": [{"Name": "s", "Action": "ACS::Sleep", "Properties": {"Duration": "PT1S"}}]}
                   ).playbook_yaml()
    assert "# RamRole {{ OOSAssumeRole }}: OOS runs the template as this RAM role" in text


def test_run_instances_sends_a_period_only_for_prepaid_instances_as_the_action_does():
    props = {"regionId": "cn-hangzhou", "imageId": "m-1", "instanceType": "ecs.g7.large", "period": 1,
             "periodUnit": "Month", "amount": 1}
    postpaid = filters.oos_run_instances_request(dict(props, instanceChargeType="PostPaid"))
    assert "Period" not in postpaid and "PeriodUnit" not in postpaid and postpaid["InstanceChargeType"] == "PostPaid"
    prepaid = filters.oos_run_instances_request(dict(props, instanceChargeType="PrePaid"))
    assert (prepaid["Period"], prepaid["PeriodUnit"]) == (1, "Month")


def test_a_delegated_execution_waiting_for_an_approval_names_it_and_how_to_answer():
    waiting = {"execution_id": "exec-1", "status": "Waiting", "outputs": {},
               "waiting_tasks": [{"task_name": "gate", "task_action": "ACS::Approve"}],
               "execution": {"current_tasks": [{"task_name": "child", "task_action": "ACS::Template"}]}}
    prompt = filters.oos_delegated_waiting(waiting)
    assert prompt.startswith("OOS execution exec-1 waits for an approval at gate (ACS::Approve)")
    assert "-e oos_approval_decision=approve" in prompt
    assert filters.oos_approval_note(["alice", "bob"], True) == "approved by alice, bob from ansible-playbook"
    assert filters.oos_approval_note([], False, "no decision") == "rejected from ansible-playbook: no decision"


def test_a_local_action_definition_that_calls_services_only_oos_reaches_is_delegated_not_refused(tmp_path):
    """OOS's own RDC actions call OOS-internal services: with action_templates_path they are delegated, as without."""
    (tmp_path / "ACS::RDC::RunIt.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters: {cmd: {Type: String}}\nTasks:\n  - Name: run\n"
        "    Action: ACS::ExecuteAPI\n    Properties: {Service: devops-inner, API: RunStaragentCommand,"
        " Parameters: {Cmd: '{{ cmd }}'}}\n")
    template = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: rdc\n    Action: ACS::RDC::RunIt\n"
                "    Properties: {cmd: uptime}\n")
    for folder in (str(tmp_path), None):
        result = convert(content=template, action_templates_path=folder)
        assert result.delegated == [("Tasks[0]", "ACS::RDC::RunIt")], folder
        assert _calls(result, "alicloud.oos.oos_execution") and not _calls(result, "alicloud.oos.oos_execute_api")


def test_api_calls_whose_style_the_playbook_cannot_make_are_delegated():
    """MNS with a URI (its own message API) and SAE without one (OOS knows the path): the module would refuse
    both at run time, so OOS makes them; a call whose style fits stays a module call."""
    template = ("FormatVersion: OOS-2019-06-01\nTasks:\n"
                "  - Name: publish\n    Action: ACS::ExecuteAPI\n    Properties: {Service: MNS, API: PublishMessage,"
                " Method: POST, URI: /topics/t/messages}\n"
                "  - Name: bind\n    Action: ACS::ExecuteAPI\n    Properties: {Service: SAE, API: BindSlb,"
                " Parameters: {AppId: a}}\n"
                "  - Name: clusters\n    Action: ACS::ExecuteAPI\n    Properties: {Service: CS, API: DescribeClusters,"
                " Method: GET, URI: /clusters}\n"
                "  - Name: regions\n    Action: ACS::ExecuteAPI\n    Properties: {Service: ECS, API: DescribeRegions}\n")
    result = convert(content=template)
    assert result.delegated == [("Tasks[0]", "ACS::ExecuteAPI"), ("Tasks[1]", "ACS::ExecuteAPI")]
    assert [call["api"] for call in _calls(result, "alicloud.oos.oos_execute_api")] == ["DescribeClusters", "DescribeRegions"]


def test_a_function_the_run_time_does_not_evaluate_is_delegated_in_a_task_and_refused_in_outputs():
    """Found by the #13 review: Fn::Escape and unknown functions converted and failed only at run time."""
    task = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: t1\n    Action: ACS::ExecuteAPI\n    Properties:\n"
            "      Service: ECS\n      API: DescribeInstances\n      Parameters: {InstanceName: {'Fn::NoSuchFunction': [1]}}\n")
    assert convert(content=task).delegated == [("Tasks[0]", "ACS::ExecuteAPI")]
    outputs = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - {Name: a, Action: ACS::Sleep, Properties: {Duration: PT0S}}\n"
               "Outputs:\n  x: {Type: String, Value: {'Fn::NoSuchFunction': [a, b]}}\n")
    with pytest.raises(ConversionError, match="Outputs: Fn::NoSuchFunction is an intrinsic function"):
        convert(content=outputs)


def test_an_unknown_function_in_a_condition_the_playbook_evaluates_is_refused_naming_it():
    """Found by the third #13 review: a Choice or a When with Fn::Escape was 'delegated' and could never run."""
    choice = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: ch\n    Action: ACS::Choice\n    Properties:\n"
              "      DefaultTask: t2\n      Choices: [{When: {'Fn::Escape': [a, b]}, NextTask: t2}]\n"
              "  - {Name: t2, Action: ACS::Sleep, Properties: {Duration: PT0S}}\n")
    with pytest.raises(ConversionError, match=r"Tasks\[0\] \(ch\).Properties: Fn::Escape"):
        convert(content=choice)
    when = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: t1\n    Action: ACS::Sleep\n"
            "    When: {'Fn::Escape': [a, b]}\n    Properties: {Duration: PT0S}\n")
    with pytest.raises(ConversionError, match=r"Tasks\[0\] \(t1\).When: Fn::Escape"):
        convert(content=when)


def test_an_empty_uri_is_no_uri():
    template = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: r\n    Action: ACS::ExecuteAPI\n"
                "    Properties: {Service: ECS, API: DescribeRegions, URI: ''}\n")
    assert convert(content=template).delegated == []
