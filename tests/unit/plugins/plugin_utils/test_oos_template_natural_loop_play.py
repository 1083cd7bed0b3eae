"""A looped nested template in the natural writer (issue #14): the localhost play split around it, a serial play of
one in-memory host per item, the items collected on localhost; what it cannot write keeps the interpreter."""
from __future__ import annotations

import json

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import generator, loader, natural
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert

CHILD = {"FormatVersion": "OOS-2019-06-01",
         "Parameters": {"instanceId": {"Type": "String"}, "secret": {"Type": "String", "Default": ""}},
         "Tasks": [{"Name": "describe", "Action": "ACS::ExecuteAPI",
                    "Properties": {"Service": "ECS", "API": "DescribeInstances", "Parameters": {
                        "InstanceIds": ["{{ instanceId }}"], "Note": "{{ secret }}"}},
                    "Outputs": {"count": {"Type": "Number", "ValueSelector": "TotalCount"}}}],
         "Outputs": {"count": {"Type": "Number", "Value": "{{ describe.count }}"}}}


def api(name: str, **extra) -> dict:
    return {"Name": name, "Action": "ACS::ExecuteAPI",
            "Properties": {"Service": "ECS", "API": "DescribeRegions"}, **extra}


def looped(name="each", items="{{ ids }}", **extra) -> dict:
    task = {"Name": name, "Action": "ACS::Template",
            "Properties": {"TemplateContent": CHILD, "Parameters": {"instanceId": "{{ ACS::TaskLoopItem }}"}},
            "Loop": {"Items": items, "RateControl": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 1},
                     "Outputs": {"counts": {"AggregateType": "Fn::ListJoin", "AggregateField": "count"},
                                 "total": {"AggregateType": "Fn::Sum", "AggregateField": "count"}}},
            "Outputs": {"count": {"Type": "Number", "ValueSelector": "count"}}}
    task.update(extra)
    return task


def template(*tasks, parameters=None, outputs=None) -> str:
    return json.dumps({"FormatVersion": "OOS-2019-06-01",
                       "Parameters": parameters or {"ids": {"Type": "List"}, "label": {"Type": "String", "Default": "x"}},
                       "Tasks": list(tasks), "Outputs": outputs or {"total": {"Type": "Number", "Value": "{{ each.total }}"}}})


def run_block(play) -> list:
    return next(t for t in play["tasks"] if t.get("name") == "Run the template tasks")["block"]


def test_the_play_is_split_around_the_looped_task_into_localhost_items_and_localhost():
    result = convert(content=template(api("before"), looped(), api("after")))
    assert not result.handed_over
    first, items, last = result.plays
    assert [play["hosts"] for play in result.plays] == ["localhost", items["hosts"], "localhost"]
    assert items["hosts"].startswith("oos_loop_") and items["hosts"].endswith("_each")
    before, add, start = run_block(first)
    assert before["name"] == "Before"
    # One host per item: the child's parameter values evaluated on localhost for that item, the execution id.
    host = add["ansible.builtin.add_host"]
    assert host["groups"] == items["hosts"] and add["loop"] == "{{ ids | alicloud.oos.oos_parameter_value('List') }}"
    assert host["each_instance_id"] == "{{ (item if item is string else item | to_json(ensure_ascii=false)) | string }}"
    assert host["oos_loop_execution"] == "{{ oos_execution_id }}" and host["each_secret"] == ""
    assert "rate_control_to_serial" in start["ansible.builtin.set_fact"]["each_loop"]
    # The final status and outputs once, at the end of the last play.
    assert not any(t["name"].startswith("Publish the execution status") for t in first["tasks"])
    assert [t["name"] for t in last["tasks"]][-2:] == ["Publish the execution status and outputs", "Show the template outputs"]
    # The item play: none of the parent's variables, serial from the evaluated rate control, MaxErrors stops it.
    assert "label" not in items.get("vars", {}) and "each_loop" in items["serial"]
    stale, call, stop = items["tasks"]
    assert stale["ansible.builtin.meta"] == "end_host" and stop["ansible.builtin.meta"] == "end_play" and stop["run_once"]
    assert call["rescue"][0]["ansible.builtin.set_fact"]["oos_iteration"].startswith("{{ {'error': ")
    assert "'outputs'" in call["block"][-1]["ansible.builtin.set_fact"]["oos_iteration"]
    # Localhost again: the parameters as play vars as in the first play, the items collected, then the tasks after.
    # (the specs only where the check reads them)
    assert last["vars"] == {"label": "x"} and first["vars"] == dict(last["vars"], oos_parameter_specs={
        "ids": {"Type": "List"}, "label": {"Type": "String", "Default": "x"}})
    collected, after, evaluate = run_block(last)
    failed, outputs = collected["block"]
    assert failed["ansible.builtin.fail"]["msg"] == "{{ oos_loop_failure }}" and "max_errors" in collected["vars"]["oos_loop_failure"]
    assert outputs["ansible.builtin.set_fact"]["each"] == (
        "{{ {'counts': (oos_loop_results | select('mapping') | selectattr('outputs', 'defined') | map(attribute='outputs'))"
        " | map(attribute='count') | list, 'total': (oos_loop_results | select('mapping') | selectattr('outputs', "
        "'defined') | map(attribute='outputs')) | map(attribute='count') | sum} }}")
    assert after["name"] == "After" and "each.total" in evaluate["ansible.builtin.set_fact"]["oos_outputs"]


def test_an_on_error_applies_to_each_localhost_part_and_two_loops_make_five_plays():
    result = convert(content=template(looped(OnError="recover"), looped("again"), api("recover")))
    assert not result.handed_over and len(result.plays) == 5
    first, _items, middle, _again, _last = result.plays
    (prepare,) = run_block(first)
    assert prepare["name"] == "Each | with its OnError" and "each_failed" in str(prepare["rescue"])
    collected = run_block(middle)[0]
    assert collected["name"] == "Each | with its OnError"
    assert collected["block"][0]["name"] == "Each | the items"
    # The next loop runs only where the first did not fail (the flow's when:).
    assert run_block(middle)[1]["when"] == ["each_failed is not defined"]
    assert result.plays[1]["hosts"] != result.plays[3]["hosts"]


def test_a_looped_task_skipped_by_a_choice_adds_no_host_and_collects_nothing():
    choice = {"Name": "pick", "Action": "ACS::Choice", "Properties": {
        "DefaultTask": "each", "Choices": [{"When": {"Fn::Equals": ["{{ route }}", "skip"]}, "NextTask": "after"}]}}
    result = convert(content=template(choice, looped(), api("after"), parameters={
        "ids": {"Type": "List"}, "route": {"Type": "String", "Default": "go"}}, outputs={}))
    assert not result.handed_over
    _pick, add, start = run_block(result.plays[0])
    assert add["when"] == start["when"] == ["pick_next | default('') == 'each'"]
    collected = run_block(result.plays[2])[0]
    assert collected["when"][0] == "pick_next | default('') == 'each'"
    assert "execution" in collected["when"][1]


def test_secret_values_given_to_the_items_are_hidden_where_they_are_read():
    task = looped()
    task["Properties"]["Parameters"]["secret"] = "{{ password }}"
    result = convert(content=template(task, parameters={"ids": {"Type": "List"}, "password": {"Type": "String", "NoEcho": True}}))
    assert not result.handed_over
    add = run_block(result.plays[0])[0]
    assert add["no_log"] is True
    call = result.plays[1]["tasks"][1]
    describe = next(t for t in call["block"] if t["name"] == "Describe")
    assert describe["no_log"] is True
    collected = run_block(result.plays[2])[0]
    assert all(step.get("no_log") for step in collected["block"])


@pytest.mark.parametrize("change, reason", [
    ({"Loop": {"Items": "{{ ids }}", "Outputs": {"total": {"AggregateType": "Fn::ListJoin", "AggregateField": "nothing"}}}},
     "a Loop.Outputs AggregateField that names no task Output"),
    ({"Outputs": {"count": {"Type": "String", "Value": "{{ ids }}"}}},
     "Outputs of a looped nested template that read more than the item (count)"),
    ({"Loop": {"Items": "{{ ids }}", "RateControl": {"Mode": "Batch", "Batch": [1], "ConcurrencyInBatches": [1]},
               "Outputs": {"total": {"AggregateType": "Fn::Sum", "AggregateField": "count"}}}},
     "a looped nested template with ConcurrencyInBatches"),
    ({"Loop": {"Items": "{{ ids }}", "RateControl": {"Mode": "Concurrency", "Concurrency": 1,
                                                     "BatchPauseOption": "FirstBatchPause"},
               "Outputs": {"total": {"AggregateType": "Fn::Sum", "AggregateField": "count"}}}},
     "a Loop that pauses between batches (BatchPauseOption)"),
])
def test_what_it_cannot_write_is_handed_to_oos_and_says_why(change, reason):
    loaded = loader.load(content=template(api("before"), looped(**change), api("after")))
    written = natural.build(loaded, generator.Options())
    assert written.handed_over == {"each": reason}
    result = convert(content=template(api("before"), looped(**change), api("after")))
    assert result.handed_over == {"each": reason} and len(result.plays) == 1
    assert result.delegated == [("Tasks[1]", f"ACS::Template; not written as Ansible: {reason}")]
    each = run_block(result.plays[0])[1]
    assert each["name"].endswith("| OOS runs it") and "alicloud.oos.oos_execution" in each
    # The tasks around it stay plain Ansible.
    assert [t["name"] for t in run_block(result.plays[0])[::2]][:2] == ["Before", "After"] or \
        "alicloud.oos.oos_execute_api" in run_block(result.plays[0])[0]


def test_the_items_failing_beyond_max_errors_are_reported_as_oos_words_it():
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters
    iterations = [{"outputs": {}}, {"error": "first failed"}, {"error": "second failed"}, None]
    assert filters.oos_loop_failure(iterations, 1) == (
        "2 of 4 items failed (MaxErrors allows 1; 1 not started): first failed")
    assert filters.oos_loop_failure(iterations[:3], 0) == "2 of 3 items failed (MaxErrors allows 0): first failed"
    # Items that never ran though MaxErrors did not stop them (their hosts left out by --limit): OOS never does that.
    assert filters.oos_loop_failure([{"outputs": {}}, None, None], 0).startswith("2 of 3 items did not run")
    assert filters.oos_loop_failure([{"outputs": {}}, {"error": "x"}], "1") == ""
