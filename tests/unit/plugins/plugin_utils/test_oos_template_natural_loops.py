"""Loops in the natural writer (issue #14): which form each Loop takes, and what it declines (no Ansible run;
tests/integration/test_converter_natural_loops.py and the differential test run them)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural, natural_loops
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert

DELETE = {"Service": "ECS", "API": "DeleteSnapshot", "Parameters": {"SnapshotId": "{{ ACS::TaskLoopItem }}"}}


def template(loop: dict, action: str = "ACS::ExecuteAPI", properties: dict | None = None, **task) -> dict:
    return {"FormatVersion": "OOS-2019-06-01",
            "Parameters": {"ids": {"Type": "List"}, "rateControl": {"Type": "Json", "Default": {"MaxErrors": 1}}},
            "Tasks": [{"Name": "deleteEach", "Action": action, "Properties": properties or DELETE, "Loop": loop, **task}]}


def written_tasks(body: dict) -> list:
    result = convert(content=body)
    assert not result.handed_over, natural.try_build(body, _options())
    run = next(t for t in result.plays[-1]["tasks"] if t["name"] == "Run the template tasks")
    return run["block"][:-1]   # the last one evaluates the template outputs


def _options():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import Options
    return Options(hosts=None, parameters={}, action_templates_path=None, template_paths=[], select_targets="auto",
                   instance_id_var="instance_id", name=None, template_name=None)


@pytest.mark.parametrize("loop", [
    {"Items": "{{ ids }}"},                                                             # OOS defaults: MaxErrors 0
    {"Items": "{{ ids }}", "RateControl": {"Mode": "Concurrency", "Concurrency": 5, "MaxErrors": 0}},
    {"Items": "{{ ids }}", "Concurrency": 3, "MaxErrors": "0%"},                        # the legacy flat form
])
def test_max_errors_zero_as_written_is_a_loop_that_skips_the_items_after_the_first_failure(loop):
    (step,) = written_tasks(template(loop))
    assert step["alicloud.oos.oos_execute_api"]["parameters"] == {"SnapshotId": "{{ item }}"}
    assert step["loop"] == "{{ ids | alicloud.oos.oos_parameter_value('List') }}"
    assert step["register"] == "delete_each_result"
    # The items after the first failed one are skipped: each reads the result the item before it registered.
    assert step["when"] == ["delete_each_result is not defined or delete_each_result is not failed and "
                            "delete_each_result is not skipped"]
    assert "loop_control" not in step


@pytest.mark.parametrize("loop, rate", [
    ({"Items": "{{ ids }}", "RateControl": "{{ rateControl }}"},   # a pause the run asks for is refused there
     "{{ (rate_control | alicloud.oos.oos_parameter_value('Json') | alicloud.oos.oos_unpaused_rate_control) }}"),
    ({"Items": "{{ ids }}", "MaxErrors": "10%", "Concurrency": 2}, "{{ {'MaxErrors': '10%', 'Concurrency': 2} }}"),
])
def test_max_errors_that_may_allow_failures_runs_each_item_through_the_role(loop, rate):
    (step,) = written_tasks(template(loop))
    assert step["ansible.builtin.include_role"] == {"name": "alicloud.oos.oos_loop_item"}
    assert step["vars"]["oos_loop_item_call"] == {"service": "ECS", "api": "DeleteSnapshot",
                                                  "parameters": {"SnapshotId": "{{ item }}"}}
    assert step["vars"]["oos_loop_item_register"] == "delete_each_result"
    assert step["vars"]["oos_loop_item_rate_control"] == rate
    assert step["loop_control"] == {"extended": True}
    assert "register" not in step and "alicloud.oos.oos_execute_api" not in step


def test_loop_outputs_aggregate_the_items_that_succeeded_in_item_order_or_sum_them():
    outputs = {"Outputs": {"size": {"Type": "Number", "ValueSelector": ".Size"},
                           "name": {"Type": "String", "ValueSelector": ".Name"}}}
    loop = {"Items": "{{ ids }}", "RateControl": "{{ rateControl }}",
            "Outputs": {"names": {"AggregateType": "Fn::ListJoin", "AggregateField": "name"},
                        "total": {"AggregateType": "Fn::Sum", "AggregateField": "SIZE"}}}   # fields: any case
    step, record = written_tasks(template(loop, **outputs))
    documents = "((delete_each_result.results | default([]) | select('succeeded')) | map(attribute='response'))"
    assert record == {"name": "DeleteEach | outputs", "ansible.builtin.set_fact": {"delete_each": (
        f"{{{{ {{'names': {documents} | map('alicloud.oos.jq', '.Name', 'String') | list, "
        f"'total': {documents} | map('alicloud.oos.jq', '.Size', 'Number') | sum}} }}}}")}}


@pytest.mark.parametrize("body, reason", [
    (template({"Items": "{{ ids }}", "Outputs": {"all": {"AggregateType": "Fn::ListJoin", "AggregateField": "item"}}},
              Outputs={"item": {"Type": "String", "ValueSelector": '"{{ ACS::TaskLoopItem }}-{{ ids }}"'}}),
     "a Loop.Outputs field without a plain ValueSelector"),
    (template({"Items": "{{ ids }}", "Outputs": {"all": {"AggregateType": "Fn::ListJoin", "AggregateField": "id"}}},
              "ACS::ECS::StopInstance", {"instanceId": "{{ ACS::TaskLoopItem }}", "forceStop": True},
              Outputs={"id": {"Type": "String", "ValueSelector": '"{{ ACS::TaskLoopItem }}"'}}),
     "Loop.Outputs of a looped ACS::ECS::StopInstance"),
    (template({"Items": "{{ ids }}", "Outputs": {"all": {"AggregateType": "Fn::Max", "AggregateField": "x"}}}),
     "the Loop.Outputs AggregateType Fn::Max"),
    (template({"Items": "{{ ids }}", "RateControl": {"Mode": "Batch", "Batch": [1], "BatchPauseOption": "EveryBatchPause"}}),
     "a Loop that pauses between batches"),
    (template({"Items": "{{ ids }}", "BatchPauseOption": "FirstBatchPause"}), "a Loop that pauses between batches"),
    (template({"Items": "{{ ids }}"}, "ACS::SelectTargets", {"ResourceType": "ALIYUN::ECS::Instance"}),
     "a Loop over ACS::SelectTargets"),
    (template({"Items": "{{ ids }}", "RateControl": "{{ rateControl }}"}, "ACS::ECS::CreateImage",
              {"instanceId": "{{ ACS::TaskLoopItem }}", "imageName": "{{ ACS::TaskLoopItem }}"}),
     "a Loop over ACS::ECS::CreateImage whose MaxErrors may allow failures"),
    (template({"Items": "{{ ids }}", "Outputs": {"all": {"AggregateType": "Fn::ListJoin", "AggregateField": "out"}}},
              "ACS::ECS::RunCommand", {"instanceId": {"Fn::Select": [0, "{{ ACS::TaskLoopItem }}"]},
                                       "commandContent": "echo"},
              Outputs={"out": {"Type": "String", "ValueSelector": '"{{ ACS::TaskLoopItem }}"'}}),
     "a Loop.Outputs field without a plain ValueSelector"),
])
def test_loops_it_cannot_write_as_oos_runs_them_are_handed_to_oos(body, reason):
    """(A rate control OOS refuses is not handed to it: the conversion fails naming it, in every loop form.)"""
    assert str(natural.try_build(body, _options())).startswith(reason)
    result = convert(content=body)
    [(label, why)] = result.delegated
    assert list(result.handed_over) == ["deleteEach"] and label == "Tasks[0]" and reason in why
    assert "alicloud.oos.oos_execution" in str(result.plays)


def test_a_selector_that_reads_the_item_is_one_program_per_item():
    selector = '.Disks.Disk[] | {"InstanceId": "{{ACS::TaskLoopItem}}", "DiskId": .DiskId}'
    loop = {"Items": "{{ ids }}", "Outputs": {"disks": {"AggregateType": "Fn::ListJoin", "AggregateField": "disk"}}}
    _step, record = written_tasks(template(loop, Outputs={"disk": {"Type": "Json", "ValueSelector": selector}}))
    assert record["ansible.builtin.set_fact"]["delete_each"] == (
        "{{ {'disks': (delete_each_result.results | select('succeeded')) | alicloud.oos.jq_items(oos_template_texts[0], "
        "'Json') | list} }}")
    play = convert(content=template(loop, Outputs={"disk": {"Type": "Json", "ValueSelector": selector}})).plays[-1]
    assert play["vars"]["oos_template_texts"] == [selector]   # the selector stays data, its item filled at run time


def test_an_ecs_action_over_instance_ids_stays_one_batched_call():
    body = template({"Items": "{{ ids }}", "RateControl": "{{ rateControl }}"}, "ACS::ECS::StopInstance",
                    {"instanceId": "{{ ACS::TaskLoopItem }}"})
    assert natural_loops.batched(body["Tasks"][0]) and not natural_loops.looped_call(body["Tasks"][0])
    (step,) = written_tasks(body)
    assert step["alicloud.oos.oos_instance"]["instance_ids"] == "{{ (ids | alicloud.oos.oos_parameter_value('List')) }}"
    assert "loop" not in step


def test_jq_items_fills_each_item_in_as_oos_writes_it_into_text():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.filters import jq_items
    results = [{"item": "i-1", "response": {"Size": 20}}, {"item": None, "response": {"Size": 1}}]
    assert jq_items(results, '{"item": "{{ACS::TaskLoopItem}}", "size": .Size}', "Json") == [
        {"item": "i-1", "size": 20}, {"item": "", "size": 1}]
    # A mapping item is written as JSON: here a jq object, as OOS substitutes it before jq runs.
    mapped = [{"item": {"id": "i-2"}, "response": {"Size": 40}}]
    assert jq_items(mapped, '{{ ACS::TaskLoopItem }} + {"size": .Size}', "Json") == [{"id": "i-2", "size": 40}]


def test_the_role_gets_every_argument_of_the_call_the_region_included():
    body = template({"Items": "{{ ids }}", "RateControl": "{{ rateControl }}"}, "ACS::ECS::DeleteInstance",
                    {"instanceId": "{{ ACS::TaskLoopItem }}", "regionId": "cn-beijing"})
    (step,) = written_tasks(body)
    assert step["vars"]["oos_loop_item_call"] == {"service": "ECS", "api": "DeleteInstance", "region": "cn-beijing",
                                                  "parameters": {"InstanceId": "{{ item }}"}}
    assert set(step["vars"]["oos_loop_item_call"]) <= natural_loops.ROLE_ARGUMENTS
    collection = Path(natural_loops.__file__).parents[3]
    role_tasks = (collection / "roles" / "oos_loop_item" / "tasks" / "main.yml").read_text(encoding="utf-8")
    passed = set(re.findall(r"oos_loop_item_call\.(\w+)", role_tasks))
    assert passed == natural_loops.ROLE_ARGUMENTS   # what the writer may give is what the role passes on


def test_the_differential_core_loop_template_is_written_naturally():
    # The differential test compares these loops as the playbook runs them: none of them handed to OOS.
    core = Path(__file__).resolve().parents[3] / "integration" / "core_templates" / "loop-api-calls.yml"
    assert not convert(path=str(core)).handed_over


def test_a_looped_run_command_over_computed_ids_runs_each_item_through_the_role_and_aggregates_its_documents():
    """ACS-ECS-BulkyRunCommandAcrossRegions: items are maps, MaxErrors from a parameter, Loop.Outputs."""
    properties = {"instanceId": {"Fn::Select": ["instanceId", "{{ ACS::TaskLoopItem }}"]},
                  "regionId": {"Fn::Select": ["regionId", "{{ ACS::TaskLoopItem }}"]}, "commandContent": "echo hi"}
    loop = {"Items": "{{ ids }}", "RateControl": "{{ rateControl }}",
            "Outputs": {"outs": {"AggregateType": "Fn::ListJoin", "AggregateField": "out"}}}
    step, record = written_tasks(template(loop, "ACS::ECS::RunCommand", properties,
                                          Outputs={"out": {"Type": "String", "ValueSelector": "invocationOutput"}}))
    assert step["ansible.builtin.include_role"] == {"name": "alicloud.oos.oos_loop_item"}
    command = step["vars"]["oos_loop_item_command"]
    assert command["instance_id"] == "{{ ['instanceId', item] | alicloud.oos.fn_select }}"
    assert command["region"] == "{{ ['regionId', item] | alicloud.oos.fn_select }}"
    assert command["command_content"] == "echo hi" and command["enable_parameter"] is False
    assert "oos_loop_item_call" not in step["vars"]
    # One instance per item: each succeeded item's one command document.
    documents = ("((delete_each_result.results | default([]) | select('succeeded')) "
                 "| map('alicloud.oos.oos_command_documents') | map('first'))")
    assert record["ansible.builtin.set_fact"]["delete_each"] == (
        f"{{{{ {{'outs': {documents} | map('alicloud.oos.jq', 'invocationOutput', 'String') | list}} }}}}")
    role = (Path(natural.__file__).parents[3] / "roles" / "oos_loop_item" / "tasks" / "main.yml").read_text()
    passed = set(re.findall(r"oos_loop_item_command\.(\w+)", role))
    assert natural_loops.ROLE_COMMAND_ARGUMENTS == passed   # the role passes on every argument the writer may give


def test_a_looped_command_reading_a_secret_is_no_log_and_gives_the_role_the_secret_values():
    body = template({"Items": "{{ ids }}", "RateControl": "{{ rateControl }}"}, "ACS::ECS::RunCommand",
                    {"instanceId": {"Fn::Select": ["id", "{{ ACS::TaskLoopItem }}"]},
                     "commandContent": "echo {{ token }} > /dev/null"})
    body["Parameters"]["token"] = {"Type": "String", "NoEcho": True}
    (step,) = written_tasks(body)
    assert step["no_log"] is True
    assert step["vars"]["oos_loop_item_command"]["secret_values"].startswith("{{")
    assert "secret_values" not in step["vars"].get("oos_loop_item_call", {})


@pytest.mark.parametrize("action, properties", [
    ("ACS::ExecuteAPI", None),
    ("ACS::ECS::RebootInstance", {"instanceId": "{{ ACS::TaskLoopItem }}"}),   # one batched module call
])
def test_a_rate_control_oos_refuses_fails_the_conversion_in_every_form(action, properties):
    """Found by the second attack (F): a mis-cased key was handed to OOS as "refused by OOS" in one form and failed
    only at run time in another."""
    for rate in ({"MaxErrors": "many"}, {"Concurrency": 1, "batchPauseOption": "EveryBatchPause"}):
        with pytest.raises(ConversionError, match="holds a Loop whose rate control OOS refuses .*: correct the template"):
            convert(content=template({"Items": "{{ ids }}", "RateControl": rate}, action, properties))
