"""The natural writer (issue #14): references, functions and flow as the Jinja a reviewer reads (no Ansible run)."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import flow, natural
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import Code, TemplateText

PARAMETERS = {"instanceId": {"Type": "String"}, "ids": {"Type": "List"}, "count": {"Type": "Number"},
              "flag": {"Type": "Boolean"}, "targetImageName": {"Type": "String"}}


def scope_with_task() -> natural.Scope:
    scope = natural.Scope({"Parameters": PARAMETERS})
    scope.add_task({"Name": "getInstance", "Outputs": {"instanceIds": {"Type": "List"}, "first": {"Type": "String"}}})
    return scope


@pytest.mark.parametrize("text, jinja", [
    # A whole reference keeps its type; a String keeps `| string` (ansible-core 2.16 would re-type '{"a": 1}').
    ("{{ instanceId }}", "{{ instance_id | string }}"),
    ("{{ targetImageName }}", "{{ target_image_name | string }}"),
    ("{{ getInstance.instanceIds }}", "{{ get_instance.instanceIds }}"),
    ("{{ ACS::RegionId }}", "{{ oos_region_id | string }}"),
    # Text that could read as a list, a mapping or True/False is one String expression, for the same reason.
    ("[{{ instanceId }}]", "{{ ('[' ~ instance_id ~ ']') | string }}"),
    ("{{ instanceId }}{{ count }}", "{{ (instance_id ~ count) | string }}"),
    ("image-{{ targetImageName }}-{{ ACS::ExecutionId }}", "image-{{ target_image_name }}-{{ oos_execution_id }}"),
    # Inside a longer string a List is written as JSON, a Boolean as true/false, as OOS writes them.
    ("ids={{ getInstance.instanceIds }}", "ids={{ (get_instance.instanceIds | to_json(ensure_ascii=false)) }}"),
    ("on={{ flag }}", "on={{ (flag | string | lower) }}"),
])
def test_references_become_jinja_over_the_variables(text, jinja):
    written = natural.value(text, scope_with_task())
    assert isinstance(written, Code) and written == jinja


def test_text_that_is_not_a_reference_stays_data():
    scope = scope_with_task()
    hostile = "{{ lookup('pipe', 'id') }}"
    assert isinstance(natural.value(hostile, scope), TemplateText)            # no reference: !unsafe data
    mixed = natural.value("x" + hostile + " {{ instanceId }} {% raw %}", scope)
    # The template text around the reference is read from oos_template_texts (tagged !unsafe), never inlined.
    assert mixed == "{{ oos_template_texts[0] }}{{ instance_id }}{{ oos_template_texts[1] }}"
    assert scope.texts == ["x" + hostile + " ", " {% raw %}"]
    assert natural.value(hostile + "{{ instanceId }}", scope) == "{{ (oos_template_texts[2] ~ instance_id) | string }}"
    assert natural.value({"Plain": "words-only", "N": 1}, scope) == {"Plain": "words-only", "N": 1}


@pytest.mark.parametrize("when, jinja", [
    ({"Fn::Equals": ["{{ targetImageName }}", "golden"]}, "(target_image_name == 'golden')"),
    ({"Fn::Equals": ["{{ flag }}", True]}, "(flag | bool)"),
    ({"Fn::Equals": ["{{ count }}", 0]}, "((count | float) == 0)"),
    # OOS compares loosely ('10' equals 10): where == would differ, the collection's function decides.
    ({"Fn::Equals": ["{{ getInstance.first }}", "10"]}, "([get_instance.first, '10'] | alicloud.oos.fn_equals)"),
    ({"Fn::Not": [{"Fn::Equals": ["{{ targetImageName }}", "x"]}]}, "not (target_image_name == 'x')"),
    ("{{ flag }}", "(flag | bool)"),
])
def test_conditions_are_core_jinja_where_core_means_the_same(when, jinja):
    assert natural.condition(when, scope_with_task()) == jinja


def test_functions_are_core_jinja():
    scope = scope_with_task()
    assert natural.expression({"Fn::Join": [",", "{{ ids }}"]}, scope)[0] == \
        "(ids | alicloud.oos.oos_parameter_value('List')) | join(',')"
    assert natural.expression({"Fn::Select": [0, "{{ getInstance.instanceIds }}"]}, scope)[0] == \
        "get_instance.instanceIds[0]"
    assert natural.expression({"Fn::If": [{"Fn::Equals": ["{{ targetImageName }}", "a"]}, 1, 2]}, scope)[0] == \
        "(1 if (target_image_name == 'a') else 2)"
    with pytest.raises(natural.Unsupported):
        natural.expression({"Fn::Escape": ["{{ targetImageName }}", "powershell"]}, scope)   # no OOS reference yet


@pytest.mark.parametrize("function, jinja", [
    # Core filters where core means what OOS means ...
    ({"Fn::Base64Encode": "{{ targetImageName }}"}, "(target_image_name | b64encode)"),
    ({"Fn::Split": [",", "{{ targetImageName }}"]}, "(target_image_name | split(','))"),
    ({"Fn::Replace": [{"a": "b", "c": "{{ instanceId }}"}, "{{ targetImageName }}"]},
     "(target_image_name | replace('a', 'b') | replace('c', instance_id))"),
    ({"Fn::MergeMap": [{"a": 1}, {"b": "{{ count }}"}]}, "({'a': 1} | combine({'b': count}))"),
    ({"Fn::Select": ["1", "{{ getInstance.instanceIds }}"]}, "get_instance.instanceIds[1]"),   # a quoted index
    # ... else the collection's implementation of the OOS function (the interpreter's, exactly).
    ({"Fn::Base64Decode": "{{ targetImageName }}"}, "(target_image_name | alicloud.oos.fn_base64decode)"),
    ({"Fn::Base64Encode": "{{ count }}"}, "(count | alicloud.oos.fn_base64encode)"),
    ({"Fn::Split": ["", "{{ targetImageName }}"]}, "(['', target_image_name] | alicloud.oos.fn_split)"),
    ({"Fn::MergeMapToList": [{"a": "{{ ids }}"}, {"b": [1, 2]}]},
     "([{'a': ids | alicloud.oos.oos_parameter_value('List')}, {'b': [1, 2]}] | alicloud.oos.fn_mergemaptolist)"),
    ({"Fn::Select": ["{{ count }}", "{{ getInstance.instanceIds }}"]},
     "[count, get_instance.instanceIds] | alicloud.oos.fn_select"),
    ({"Fn::Select": ["0", "{{ getInstance.first }}"]}, "['0', get_instance.first] | alicloud.oos.fn_select"),
    ({"Fn::Jq": ["{{ targetImageName }}", ".a", "{{ getInstance.instanceIds }}"]},
     "([target_image_name, '.a', get_instance.instanceIds] | alicloud.oos.fn_jq)"),
])
def test_functions_use_core_filters_where_they_mean_the_same_else_the_collection_implementation(function, jinja):
    assert natural.expression(function, scope_with_task())[0] == jinja


def test_flow_conditions_simplify_to_nothing_on_a_linear_template_and_read_branch_facts_otherwise():
    branches = {0: flow.Branch("pick_next", ("a", "b"), "choice"), 2: flow.Branch("t_failed", ("ok", "failed"), "error")}
    # 0 pick -> 1 (a) or 3 (b); 1 -> 2; 2 -> 3 on success, 4 on failure; 3 -> 4.
    edges = {0: [(1, (0, "a")), (3, (0, "b"))], 1: [(2, None)], 2: [(3, (2, "ok")), (4, (2, "failed"))], 3: [(4, None)]}
    reach = flow.conditions(edges, 5, branches)
    texts = [flow.render(r, branches) for r in reach]
    assert texts[0] is None and texts[4] is None          # every path reaches the last task
    assert texts[1] == "pick_next | default('') == 'a'"
    assert texts[3] == "(pick_next | default('') == 'a' and t_failed is not defined) or pick_next | default('') == 'b'"
    linear = flow.conditions({0: [(1, None)], 1: [(2, None)]}, 3, {})
    assert [flow.render(r, {}) for r in linear] == [None, None, None]


def test_a_linear_template_is_plain_tasks_without_guards():
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": PARAMETERS, "Tasks": [
        {"Name": "getInstance", "Action": "ACS::ExecuteAPI", "Description": "Views the ECS instances",
         "Properties": {"Service": "ECS", "API": "DescribeInstances", "Parameters": {"InstanceIds": ["{{ instanceId }}"]}},
         "Outputs": {"instanceIds": {"Type": "List", "ValueSelector": "Instances.Instance[].InstanceId"}}},
        {"Name": "reboot", "Action": "ACS::ECS::RebootInstance", "Properties": {"instanceId": "{{ ACS::TaskLoopItem }}"},
         "Loop": {"Items": "{{ getInstance.instanceIds }}",
                  "RateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0}}}],
        "Outputs": {"rebooted": {"Type": "List", "Value": "{{ getInstance.instanceIds }}"}}}
    result = convert(content=template)
    assert not result.handed_over
    text = result.playbook_yaml()
    assert "oos.next" not in text and "oos_render" not in text and "noqa" not in text
    (play,) = result.plays
    run = next(t for t in play["tasks"] if t["name"] == "Run the template tasks")
    names = [t["name"] for t in run["block"]]
    assert names == ["GetInstance | Views the ECS instances", "GetInstance | outputs", "Reboot", "Evaluate the template outputs"]
    assert all("when" not in t for t in run["block"][:2])
    assert run["block"][2]["alicloud.oos.oos_instance"]["instance_ids"] == "{{ get_instance.instanceIds }}"


def test_tasks_reading_a_secret_or_a_value_computed_from_one_are_no_log_and_only_those():
    call = {"Action": "ACS::ExecuteAPI", "Properties": {"Service": "ECS", "API": "DescribeRegions"}}

    def regions(language):
        return {"Service": "ECS", "API": "DescribeRegions", "Parameters": {"AcceptLanguage": language}}

    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {
        "password": {"Type": "String", "NoEcho": True}, "token": {"Type": "String", "AssociationProperty": "ALIYUN::OOS::SecretParameter::Value"},
        "region": {"Type": "String", "Default": "cn-hangzhou"}},
        "Tasks": [
            dict(call, Name="login", Properties=regions("{{ password }}"),
                 Outputs={"session": {"Type": "String", "ValueSelector": ".RequestId"}}),
            dict(call, Name="useSession", Properties=regions("x-{{ login.session }}")),
            dict(call, Name="plain", Properties=regions("{{ region }}")),
            dict(call, Name="byToken", When={"Fn::Equals": ["{{ token }}", "x"]})]}
    result = convert(content=template)
    assert not result.handed_over
    tasks = {t["name"]: t for play in result.plays for t in play["tasks"]}
    run = {t["name"]: t for t in tasks["Run the template tasks"]["block"]}
    hidden = sorted(name for name, task in run.items() if task.get("no_log"))
    # The outputs are evaluated with the secret values masked (printed by "Show the template outputs").
    assert hidden == ["ByToken", "Evaluate the template outputs", "Login", "Login | outputs", "UseSession"]
    assert tasks["Read the parameter values of -e oos_parameters_file=PATH (as data)"]["no_log"] is True
    assert "no_log" not in tasks["Check the template parameters"]   # its messages name NoEcho values without them
    plain = convert(content=dict(template, Parameters={"region": template["Parameters"]["region"]},
                                 Tasks=[template["Tasks"][2]]))
    assert "no_log" not in plain.playbook_yaml()


def test_names_the_writer_invents_never_take_a_name_the_playbook_reads():
    """F4 and its class: a task's facts, its register and the branch facts are new names, whatever the template
    calls its parameters and tasks (a parameter under either of its names, Ansible's own variables, oos_*)."""
    call = {"Action": "ACS::ExecuteAPI", "Properties": {"Service": "ECS", "API": "DescribeRegions"},
            "Outputs": {"o": {"Type": "String", "ValueSelector": ".RequestId"}}}
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {
        "describe_result": {"Type": "String", "Default": "a"}, "pickNext": {"Type": "String", "Default": "b"},
        "describe": {"Type": "String", "Default": "c"}},
        "Tasks": [dict(call, Name="describe", OnError="item"), dict(call, Name="item"), dict(call, Name="oos_region_id"),
                  {"Name": "pick", "Action": "ACS::Choice", "Properties": {"DefaultTask": "ACS::END", "Choices": [
                      {"When": {"Fn::Equals": ["{{ describe_result }}", "x"]}, "NextTask": "groups"}]}},
                  dict(call, Name="groups")]}
    result = convert(content=template)
    assert not result.handed_over
    play = result.plays[0]
    run = next(t for t in play["tasks"] if t["name"] == "Run the template tasks")["block"]
    units = [u for t in run for u in (t.get("block") or [t])]
    invented = [u["register"] for u in units if "register" in u]
    invented += [name for u in units for name in (u.get("ansible.builtin.set_fact") or {})]
    read = {"describe_result", "pickNext", "describe", "pick_next"} | set(play["vars"])
    assert invented and not set(invented) & (read | {"item", "groups", "oos_region_id"}), invented
    assert len(set(invented)) == len(invented)


def test_a_natural_playbook_never_holds_one_unsafe_mapping_or_list(monkeypatch):
    """Natural playbooks run on ansible-core 2.16 without a version check, which builds such values empty: the writer
    declines (the interpreter's playbook checks the version) rather than write one."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import generator
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import mark
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {"p": {"Type": "Json", "Default": {"a": "{{ x"}}},
                "Tasks": [{"Name": "t", "Action": "ACS::Sleep", "Properties": {"Duration": "PT0S"}}]}
    options = generator.Options()
    assert isinstance(natural.try_build(template, options), list)
    monkeypatch.setattr(natural, "data_tree", mark)
    assert "one !unsafe mapping or list" in natural.try_build(template, options)


def test_an_output_computed_from_a_camel_case_secret_is_masked_whole():
    """The references spell the parameter as the template does (dbPassword): the Outputs computed from it are found
    under that spelling (a lower-cased name matched none of them)."""
    template = {"FormatVersion": "OOS-2019-06-01",
                "Parameters": {"dbPassword": {"Type": "String", "NoEcho": True, "Default": "LongSecretValue1"}},
                "Tasks": [{"Name": "t", "Action": "ACS::Sleep", "Properties": {"Duration": "PT0S"}}],
                "Outputs": {"enc": {"Type": "String", "Value": {"Fn::Base64Encode": "{{ dbPassword }}"}},
                            "plain": {"Type": "String", "Value": "x"}}}
    result = convert(content=template)
    assert not result.handed_over
    outputs = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"][-1]
    assert outputs["ansible.builtin.set_fact"]["oos_outputs"].endswith(
        "| alicloud.oos.oos_masked([db_password | default(none)], ['enc']) }}")


def test_only_a_delegated_task_that_can_wait_for_an_approval_gets_an_answer():
    """OOS runs a product action without a mapping to its end (no approval in it: the task waits for the end); a
    template it finds by name may hold an ACS::Approve, which the next task answers."""
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "modifyCharge", "Action": "ACS::ECS::ModifyInstanceChargeType", "Properties": {"instanceId": "i-1"}},
        {"Name": "child", "Action": "ACS::Template", "Properties": {"TemplateName": "ACS-ECS-SomethingNotLocal"}}]}
    result = convert(content=template)
    assert not result.handed_over
    run = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"]
    calls = {t["name"]: t for t in run if "alicloud.oos.oos_execution" in t}
    action, child = calls["ModifyCharge | OOS runs it"], calls["Child | OOS runs it"]
    assert "wait_until" not in action["alicloud.oos.oos_execution"]          # waits for the end
    assert child["alicloud.oos.oos_execution"]["wait_until"] == "waiting"
    answers = [t for t in run if "ansible.builtin.include_role" in t]
    assert [t["vars"]["oos_execution_approval_name"] for t in answers] == ["child"]


@pytest.mark.parametrize("when, jinja", [
    # Any other function: its value held as OOS holds a When (Fn::And of that one value, the interpreter's truthiness).
    ({"Fn::ContainsSubString": ["{{ targetImageName }}", "/"]},
     "(([target_image_name, '/'] | alicloud.oos.fn_containssubstring) | bool)"),
    ({"Fn::Jq": ["First", ".a", "{{ getInstance.instanceIds }}"]},
     "([(get_instance.instanceIds | alicloud.oos.jq('.a') | first)] | alicloud.oos.fn_and)"),
    # Fn::Not over one negates a boolean and refuses anything else, as OOS's Fn::Not.
    ({"Fn::Not": {"Fn::Jq": ["First", ".a", "{{ getInstance.instanceIds }}"]}},
     "([(get_instance.instanceIds | alicloud.oos.jq('.a') | first)] | alicloud.oos.fn_not)"),
    ({"Fn::And": [{"Fn::ContainsSubString": ["{{ targetImageName }}", "a"]}, "{{ flag }}"]},
     "((([target_image_name, 'a'] | alicloud.oos.fn_containssubstring) | bool) and (flag | bool))"),
])
def test_a_when_of_any_other_function_holds_as_oos_holds_its_value(when, jinja):
    assert natural.condition(when, scope_with_task()) == jinja


def _written(tasks: list, parameters: dict | None = None):
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": parameters or PARAMETERS, "Tasks": tasks}
    result = convert(content=template)
    assert not result.handed_over, natural.try_build(template, _options())
    run = next(t for t in result.plays[-1]["tasks"] if t["name"] == "Run the template tasks")
    return run["block"][:-1]


def _options():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import Options
    return Options(hosts=None, parameters={}, action_templates_path=None, template_paths=[], select_targets="auto",
                   instance_id_var="instance_id", name=None, template_name=None)


@pytest.mark.parametrize("action", ["ACS::EventTrigger", "ACS::AlarmTrigger"])
def test_trigger_outputs_select_from_the_event_given_with_extra_vars_or_a_file(action):
    note, outputs = _written([{"Name": "trigger", "Action": action, "Properties": {"Product": "ECS"},
                               "Outputs": {"instanceId": {"Type": "String", "ValueSelector": ".content.resourceId"}}}])
    assert note["name"].startswith("Trigger | trigger (the ")
    assert "oos_trigger_note" in note["ansible.builtin.debug"]["msg"]
    fact = outputs["ansible.builtin.set_fact"]["trigger"]
    assert fact.startswith("{{ {'instanceId': oos_trigger_event | default(((lookup('ansible.builtin.file', "
                           "oos_trigger_event_file")
    assert fact.endswith("| alicloud.oos.jq('.content.resourceId', 'String')} }}")


def test_run_instances_is_the_request_then_the_wait_and_its_ids_are_its_output():
    run, wait, outputs = _written([{"Name": "launch", "Action": "ACS::ECS::RunInstances",
                                    "Properties": {"imageId": "img", "instanceType": "{{ targetImageName }}",
                                                   "amount": 2, "regionId": "cn-beijing"},
                                    "Outputs": {"ids": {"Type": "List", "ValueSelector": "instanceIds"}}}])
    call = run["alicloud.oos.oos_execute_api"]
    assert (call["service"], call["api"], call["region"]) == ("ECS", "RunInstances", "cn-beijing")
    assert call["parameters"].endswith("| alicloud.oos.oos_run_instances_request }}")
    assert run["register"] == "launch_result"
    assert wait["name"] == "Launch | wait until the instances are running"
    assert wait["alicloud.oos.oos_execute_api"]["parameters"] == (
        "{{ {'InstanceIds': launch_result.response.InstanceIdSets.InstanceIdSet | default([]) | to_json} }}")
    assert wait["alicloud.oos.oos_execute_api"]["wait_for"]["desired_values"] == ["Running"]
    assert outputs["ansible.builtin.set_fact"]["launch"] == (
        "{{ {'ids': {'instanceIds': launch_result.response.InstanceIdSets.InstanceIdSet | default([])} "
        "| alicloud.oos.jq('instanceIds', 'List')} }}")


def test_select_targets_of_a_computed_resource_type_lists_what_the_run_names():
    parameters = dict(PARAMETERS, resourceType={"Type": "String", "Default": "ALIYUN::ECS::Instance"})
    (select, _outputs) = _written([{"Name": "pick", "Action": "ACS::SelectTargets",
                                    "Properties": {"ResourceType": "{{ resourceType }}"},
                                    "Outputs": {"ids": {"Type": "List", "ValueSelector": "Instances.Instance[].InstanceId"}}}],
                                  parameters)
    assert "resource_type" in select["loop"] and select["loop"].endswith("| alicloud.oos.oos_target_requests }}")


def test_a_value_selector_computed_by_a_function_is_its_value_as_a_jq_program():
    call = {"Service": "ECS", "API": "DescribeRegions"}
    selector = {"Fn::Join": ["", [".", "{{ targetImageName }}"]]}
    (_call, outputs) = _written([{"Name": "read", "Action": "ACS::ExecuteAPI", "Properties": call,
                                  "Outputs": {"x": {"Type": "String", "ValueSelector": selector}}}])
    assert outputs["ansible.builtin.set_fact"]["read"] == (
        "{{ {'x': read_result.response | alicloud.oos.jq(((['.', target_image_name] | join('')) | string), 'String')} }}")


def test_a_when_reading_the_loop_item_of_a_looped_task_goes_to_oos_with_the_task():
    """Whether OOS reads such a When once or per item is not documented: OOS runs the task, When and all."""
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": PARAMETERS, "Tasks": [
        {"Name": "probe", "Action": "ACS::ECS::RunCommand", "When": {"Fn::Equals": ["{{ ACS::TaskLoopItem }}", "{{ instanceId }}"]},
         "Properties": {"instanceId": "{{ ACS::TaskLoopItem }}", "commandContent": "echo"},
         "Loop": {"Items": "{{ ids }}"}}]}
    result = convert(content=template)
    assert not result.handed_over
    run = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"]
    (call,) = [t for t in run if "alicloud.oos.oos_execution" in t]
    assert "when" not in call
    one_task = result.plays[0]["vars"]["oos_delegated_templates"]["probe"]["Tasks"][0]
    assert one_task["When"] == {"Fn::Equals": ["{{ ACS::TaskLoopItem }}", "{{ instanceId }}"]}
    assert set(one_task["Loop"]) == {"Items"} and call["alicloud.oos.oos_execution"]["parameters"]["instanceId"]


def test_a_failed_run_ends_with_the_message_oos_gives():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters
    failed = {"failed": True, "msg": "InvalidInstanceId.NotFound: no such instance"}
    assert filters.oos_execution_failure(failed, "StopIt | Stop the instance", {"StopIt": "stopIt"}) == (
        "OOS execution Failed: task stopIt failed: InvalidInstanceId.NotFound: no such instance")
    assert filters.oos_execution_failure({"msg": "task x failed: 1 of 1 items failed"}, "End as OOS would: x") == (
        "OOS execution Failed: task x failed: 1 of 1 items failed")
    assert filters.oos_execution_failure({"msg": "Cancelled: rejected"}, "Stop the play as cancelled") == (
        "OOS execution Cancelled: rejected")
    # A nested template's own check fails the calling task with its own message.
    assert filters.oos_execution_failure(failed, "Call | check", {}, ["Call | check"]) == (
        "InvalidInstanceId.NotFound: no such instance")


def test_a_name_that_is_no_parameter_or_task_stays_as_written():
    """A Cloud Assistant ``{{ dir }}`` (filled on the instance with enableParameter) is left as OOS leaves it: text,
    next to the references around it; the task stays Ansible."""
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {"instanceId": {"Type": "String"}, "word": {"Type": "String"}},
                "Tasks": [{"Name": "run", "Action": "ACS::ECS::RunCommand", "Properties": {
                    "instanceId": "{{ instanceId }}", "commandContent": "cd {{ dir }} && echo {{ word }}",
                    "enableParameter": True, "parameters": {"dir": "/tmp"}}}]}
    result = convert(content=template)
    assert not result.handed_over and not result.delegated
    play = result.plays[0]
    call = next(t for t in play["tasks"] if t["name"] == "Run the template tasks")["block"][0]["alicloud.oos.oos_run_command"]
    assert call["command_content"] == "{{ oos_template_texts[0] }}{{ word }}"
    assert play["vars"]["oos_template_texts"] == ["cd {{ dir }} && echo "]
    # An output no task has is refused, naming it (OOS refuses the template too).
    template["Tasks"][0]["Properties"]["commandContent"] = "echo {{ run.missing }}"
    with pytest.raises(ConversionError, match="task run holds the reference run.missing"):
        convert(content=template)


def test_a_when_the_playbook_cannot_write_goes_to_oos_with_the_task():
    """Found by the attack on the one-writer converter (H8): a Parameter Store reference in a When failed the
    conversion; the task is handed to OOS, which reads the When with it (as for a When that reads the loop item)."""
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "a", "Action": "ACS::Sleep", "When": {"Fn::Equals": ["{{ oos:flag }}", "on"]},
         "Properties": {"Duration": "PT1S"}},
        {"Name": "b", "Action": "ACS::Sleep", "When": {"Fn::Equals": ["{{ oos:flag }}", "on"]},
         "Properties": {"Duration": "PT1S"}, "OnError": "ACS::NEXT"}]}
    result = convert(content=template)
    assert result.handed_over == {"a": "a Parameter Store reference", "b": "a Parameter Store reference"}
    play = result.plays[0]
    for name in ("a", "b"):
        assert play["vars"]["oos_delegated_templates"][name]["Tasks"][0]["When"] == {"Fn::Equals": ["{{ oos:flag }}", "on"]}
    run = next(t for t in play["tasks"] if t["name"] == "Run the template tasks")["block"]
    assert "when" not in run[0] and run[0]["name"] == "A | OOS runs it"


@pytest.mark.parametrize("loop, waits", [
    ({"Items": "{{ ids }}", "RateControl": "{{ rc }}"}, False),    # refused before OOS starts when it asks to pause
    ({"Items": "{{ ids }}", "Concurrency": "{{ n }}"}, False),
    ({"Items": "{{ ids }}", "RateControl": {"Mode": "Batch", "Batch": [1], "BatchPauseOption": "FirstBatchPause"}}, True),
    ({"Items": "{{ ids }}", "RateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 0}}, False),
])
def test_a_delegated_loop_that_may_pause_between_batches_is_answered_or_refused(loop, waits):
    """Found by the second attack on the one-writer converter (A): a task OOS runs with a rate control the run gives
    was waited for to its end, where OOS may pause it between batches for a person: a written pause is answered, a
    rate control the run gives is refused when it asks for one (as the converted loops refuse it)."""
    template = {"FormatVersion": "OOS-2019-06-01",
                "Parameters": {"ids": {"Type": "List"}, "rc": {"Type": "Json"}, "n": {"Type": "Number", "Default": 1}},
                "Tasks": [{"Name": "stopEach", "Action": "ACS::ECS::StopInstance", "Loop": loop,
                           "Properties": {"instanceId": "{{ ACS::TaskLoopItem }}", "hibernate": True}}]}
    result = convert(content=template)
    run = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"]
    call = run[0]["alicloud.oos.oos_execution"]
    assert (call.get("wait_until") == "waiting") is waits
    assert any("oos_execution_approval" in str(t.get("ansible.builtin.include_role", "")) for t in run) is waits
    if loop.get("RateControl") == "{{ rc }}":
        assert call["parameters"]["rc"].endswith("| alicloud.oos.oos_unpaused_rate_control }}")


def test_a_pause_oos_runs_is_answered_once_and_a_skipped_task_oos_runs_gives_no_outputs_to_read():
    """Found by the second attack (C, D): a Pause handed to OOS for its When was also gated by the playbook's own
    pause check (two variables, the OOS execution left Waiting); a task with Outputs handed over with its When failed
    when OOS skipped it (its one-task template's Outputs read it): refused at conversion, naming it."""
    when = {"Fn::Equals": ["{{ oos:flag }}", "on"]}
    paused = convert(content={"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "pauseIf", "Action": "ACS::Pause", "When": when}]})
    run = next(t for t in paused.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"]
    assert run[0]["alicloud.oos.oos_execution"]["wait_until"] == "waiting"
    assert "ansible.builtin.fail" not in str(run[:-1]) and "oos_pause_refusal" not in str(run)
    assert sum("alicloud.oos.oos_execution_approval" in str(t.get("ansible.builtin.include_role")) for t in run) == 1
    with pytest.raises(ConversionError, match="task gated holds a When the playbook cannot write, on a task with Outputs"):
        convert(content={"FormatVersion": "OOS-2019-06-01", "Tasks": [
            {"Name": "gated", "Action": "ACS::ExecuteAPI", "When": when,
             "Properties": {"Service": "ECS", "API": "DescribeRegions"},
             "Outputs": {"n": {"Type": "Number", "ValueSelector": ".TotalCount"}}}]})


def test_a_pause_two_definitions_down_makes_oos_wait_for_a_person(tmp_path):
    """Found by the second attack (E): a product action OOS runs whose definition calls another holding an ACS::Pause
    was waited for to its end (30 minutes against a paused execution)."""
    ecs = tmp_path / "ECS"
    ecs.mkdir()
    (ecs / "ACS::ECS::Outer.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters: {id: {Type: String}}\nTasks:\n"
        "- {Name: callInner, Action: 'ACS::ECS::Inner', Properties: {id: '{{ id }}'}}\n")
    (ecs / "ACS::ECS::Inner.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters: {id: {Type: String}}\nTasks:\n- {Name: gate, Action: 'ACS::Pause'}\n")
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "outer", "Action": "ACS::ECS::Outer", "Properties": {"id": "{{ oos:instance }}"}}]}
    result = convert(content=template, action_templates_path=str(tmp_path))
    assert result.handed_over == {"outer": "a Parameter Store reference"}
    run = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"]
    assert run[0]["alicloud.oos.oos_execution"]["wait_until"] == "waiting"
    (ecs / "ACS::ECS::Inner.yml").write_text(
        "FormatVersion: OOS-2019-06-01\nParameters: {id: {Type: String}}\nTasks:\n- {Name: nap, Action: 'ACS::Sleep'}\n")
    natural._definition_text.cache_clear()
    run = next(t for t in convert(content=template, action_templates_path=str(tmp_path)).plays[0]["tasks"]
               if t["name"] == "Run the template tasks")["block"]
    assert "wait_until" not in run[0]["alicloud.oos.oos_execution"]
