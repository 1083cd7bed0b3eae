"""Nested templates in the natural writer (issue #14): one block per call, its parameters as block vars of their own,
the child's tasks with prefixed facts, the calling task's outputs; what it cannot write keeps the interpreter."""
from __future__ import annotations

import json

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert


def child(tasks, parameters=None, outputs=None) -> dict:
    return {"FormatVersion": "OOS-2019-06-01", "Parameters": parameters or {}, "Tasks": tasks, "Outputs": outputs or {}}


def describe(name="describe", instance="{{ instanceId }}") -> dict:
    return {"Name": name, "Action": "ACS::ExecuteAPI",
            "Properties": {"Service": "ECS", "API": "DescribeInstances", "Parameters": {"InstanceIds": [instance]}},
            "Outputs": {"status": {"Type": "String", "ValueSelector": "Instances.Instance[0].Status"}}}


def parent(calling: dict, parameters=None) -> str:
    return json.dumps({"FormatVersion": "OOS-2019-06-01",
                       "Parameters": parameters or {"instanceId": {"Type": "String"}},
                       "Tasks": [calling], "Outputs": {"status": {"Type": "String", "Value": "{{ call.status }}"}}})


def calling(content: dict, given: dict, **extra) -> dict:
    return {"Name": "call", "Action": "ACS::Template",
            "Properties": {"TemplateContent": content, "Parameters": given},
            "Outputs": {"status": {"Type": "String", "ValueSelector": "status"}}, **extra}


def run_block(result) -> list:
    return next(t for t in result.plays[0]["tasks"] if t.get("name") == "Run the template tasks")["block"]


def test_a_template_content_call_is_one_block_with_prefixed_parameters_and_facts():
    content = child([describe()], {"instanceId": {"Type": "String"}, "label": {"Type": "String", "Default": "x"}},
                    {"status": {"Type": "String", "Value": "{{ describe.status }}"}})
    result = convert(content=parent(calling(content, {"instanceId": "{{ instanceId }}"})))
    assert not result.handed_over
    (block, evaluate) = run_block(result)
    assert block["name"] == "Call | ACS::Template"
    # The parent's instance_id read by a var of the call's own (a var named instance_id reading itself would recurse).
    assert block["vars"] == {"call_instance_id": "{{ instance_id | string }}", "call_label": "x"}
    check, api, outputs, record = block["block"]
    assert check["name"] == "Call | check the parameters of ACS::Template"
    # The check reads the values as given (an output nothing selected is none, a missing parameter, as in OOS).
    assert "'instanceId': (instance_id) | default(none), 'label': call_label" in check["vars"]["oos_parameter_problems"]
    assert api["register"] == "call_describe_result"
    assert outputs["ansible.builtin.set_fact"] == {
        "call_describe": "{{ {'status': call_describe_result.response | alicloud.oos.jq('Instances.Instance[0].Status', 'String')} }}"}
    # The calling task's outputs fact (call) selects from the child's Outputs.
    assert list(record["ansible.builtin.set_fact"]) == ["call"]
    assert record["vars"] == {"call_outputs": "{{ {'status': call_describe.status} }}"}
    assert block["rescue"][0]["name"] == "Call | the nested template failed"
    assert "call.status" in evaluate["ansible.builtin.set_fact"]["oos_outputs"]


def test_a_builtin_product_action_and_a_nested_call_inside_a_nested_one_are_written():
    inner = child([describe("inner")], {"instanceId": {"Type": "String"}},
                  {"status": {"Type": "String", "Value": "{{ inner.status }}"}})
    middle = child([{"Name": "deeper", "Action": "ACS::Template",
                     "Properties": {"TemplateContent": inner, "Parameters": {"instanceId": "{{ instanceId }}"}},
                     "Outputs": {"status": {"Type": "String", "ValueSelector": "status"}}}],
                   {"instanceId": {"Type": "String"}}, {"status": {"Type": "String", "Value": "{{ deeper.status }}"}})
    result = convert(content=parent(calling(middle, {"instanceId": "{{ instanceId }}"})))
    assert not result.handed_over
    (block, _evaluate) = run_block(result)
    deeper = block["block"][1]
    assert deeper["name"] == "Deeper | ACS::Template"
    assert deeper["vars"] == {"deeper_instance_id": "{{ call_instance_id | string }}"}
    assert deeper["block"][1]["register"] == "deeper_inner_result"
    snapshot = {"Name": "call", "Action": "ACS::ECS::CreateSnapshot", "Properties": {"diskId": "d-1"},
                "Outputs": {"status": {"Type": "String", "ValueSelector": "snapshotId"}}}
    assert not convert(content=parent(snapshot)).handed_over


def test_a_looped_call_inside_a_nested_template_is_run_by_oos():
    """A looped call is a play of its own (natural_loop_play) only among the template's own tasks: inside a child
    (a block) OOS runs the loop, as the interpreter hands over a loop inside a loop."""
    inner = dict(calling(child([describe()]), {}), Loop={"Items": ["a", "b"]})
    call = dict(calling(child([inner]), {}), Properties={"TemplateContent": child([inner]), "Parameters": {}})
    result = convert(content=parent(call))
    assert not result.handed_over
    (block, _evaluate) = run_block(result)
    (delegated,) = [t for t in block["block"] if "alicloud.oos.oos_execution" in t]
    assert delegated["name"].endswith("| OOS runs it")


@pytest.mark.parametrize("change, reason", [
    ({"Properties": {"TemplateContent": child([describe()]), "Parameters": {"unknown": "x"}}},
     "ACS::Template given parameters its template does not declare: unknown"),
    ({"Properties": {"TemplateContent": child([{"Name": "t", "Action": "ACS::Notify", "Properties": {}}])}},
     "ACS::Notify without a WebHook"),
])
def test_what_it_cannot_write_is_handed_to_oos_and_says_why(change, reason):
    task = dict(calling(child([describe()], {"instanceId": {"Type": "String"}}), {"instanceId": "{{ instanceId }}"}), **change)
    template = json.loads(parent(task))
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import generator, loader
    loaded = loader.load(content=json.dumps(template))
    assert natural.try_build(loaded, generator.Options()) == reason
    assert convert(content=json.dumps(template)).handed_over == {task["Name"]: reason}


def test_a_child_parameter_given_a_secret_is_secret_in_the_child():
    content = child([describe()], {"instanceId": {"Type": "String"}}, {"status": {"Type": "String", "Value": "{{ describe.status }}"}})
    result = convert(content=parent(calling(content, {"instanceId": "{{ instanceId }}"}),
                                    {"instanceId": {"Type": "String", "NoEcho": True}}))
    assert not result.handed_over
    (block, _evaluate) = run_block(result)
    # Every task inside that reads the value (or what was computed from it) is no_log.
    assert [task.get("no_log", False) for task in block["block"]] == [True, True, True, True]
    plain = convert(content=parent(calling(content, {"instanceId": "{{ instanceId }}"})))
    assert not any(task.get("no_log") for task in run_block(plain)[0]["block"])
