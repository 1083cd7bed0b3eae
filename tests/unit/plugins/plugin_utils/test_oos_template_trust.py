"""Template text is data; conversions are bounded; gates and pseudo-parameters fail closed (no Ansible run)."""
from __future__ import annotations

import json
import time

import jinja2
import pytest
from ansible._internal._datatag._tags import TrustedAsTemplate
from ansible.parsing.yaml.loader import AnsibleLoader

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import dumper, filters, parameters, runtime
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    Code, TemplateText, literal, mark, possibly_template)
from tests.integration.converter import hostile

TEXTS = [s.at("/nonexistent") for s in hostile.STRINGS]


def _strings(node, keys=True):
    """Every string of ``node``; with ``keys=False`` only the values (ansible-core never evaluates keys)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if keys or possibly_template(key):
                yield from _strings(key)
            yield from _strings(value, keys)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, keys)


def _load_as_ansible(text: str):
    """As ansible-playbook loads a playbook file: its strings are trusted as templates unless marked !unsafe."""
    loader = AnsibleLoader(TrustedAsTemplate().tag(text))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def test_every_template_string_loads_untrusted_and_unchanged_and_converter_jinja_stays_code():
    template = {"FormatVersion": "OOS-2019-06-01", "Description": TEXTS[4],
                "Parameters": {f"p{i}": {"Type": "String", "Default": t, "AllowedValues": [t]} for i, t in enumerate(TEXTS)},
                "Tasks": [{"Name": "call", "Action": "ACS::ExecuteAPI", "Description": TEXTS[5],
                           "Properties": {"Service": "ECS", "API": TEXTS[6],   # a Service must be a known product
                                          "Parameters": {t: t for t in TEXTS}}},
                          {"Name": "command", "Action": "ACS::ECS::RunCommand",
                           "Properties": {"instanceId": "i-1", "commandContent": TEXTS[4]}}],
                "Outputs": {t: {"Type": "String", "Value": t} for t in TEXTS}}
    plays = _load_as_ansible(convert(content=template).playbook_yaml())
    loaded = list(_strings(plays))
    # Every value and every key that could be a template arrives untrusted: values each tagged !unsafe (so
    # ansible-core before 2.19 also marks what is computed from them unsafe).
    evaluated = list(_strings(plays, keys=False))
    for text in TEXTS:
        copies = [s for s in loaded if s == text]
        assert copies, f"{text[:40]!r} was changed on its way into the playbook"
        # Text YAML would read as another type is quoted instead (it cannot hold Jinja).
        assert not any(TrustedAsTemplate.is_tagged_on(s) for s in evaluated if s == text and dumper._reads_as_str(s)), \
            text[:40]
    # Whatever looked like a boolean, number, date, null or merge key is still that string.
    assert {"true", "yes", "null", "0x1F", "2024-01-01", "<<"} <= {s for s in loaded if isinstance(s, str)}
    code = [s for s in loaded if s.startswith("{{ ") and "alicloud.oos." in s]
    assert code and all(TrustedAsTemplate.is_tagged_on(s) for s in code)


def test_natural_playbooks_hold_template_text_only_as_untrusted_data():
    """The natural writer (issue #14) in every position it writes text: Defaults, properties (keys too), the
    functions it writes as filters, a task OOS runs (its one-task template), NoEcho parameters, outputs. Each text
    loads untrusted and unchanged, and no trusted string (the converter's Jinja) holds one."""
    joined = [t for t in TEXTS if "'" not in t]
    template = {"FormatVersion": "OOS-2019-06-01", "Description": TEXTS[4],
                "Parameters": dict({f"p{i}": {"Type": "String", "Default": t} for i, t in enumerate(TEXTS)},
                                   secret={"Type": "String", "NoEcho": True, "Default": TEXTS[0]}),
                "Tasks": [{"Name": "call", "Action": "ACS::ExecuteAPI", "Description": TEXTS[5],
                           "Properties": {"Service": "ECS", "API": "DescribeInstances",
                                          "Parameters": dict({t: t for t in TEXTS}, **{
                                              "ref": "{{ p0 }}" + TEXTS[1] + "{{ secret }}",
                                              "b64": {"Fn::Base64Encode": TEXTS[2]},
                                              "split": {"Fn::Split": [TEXTS[3], "{{ p1 }}"]},
                                              "replace": {"Fn::Replace": [{t: t for t in joined}, "{{ p2 }}"]},
                                              "merge": {"Fn::MergeMap": [{t: t for t in TEXTS}, {"x": "{{ p3 }}"}]},
                                              "select": {"Fn::Select": [TEXTS[8], {t: t for t in TEXTS}]},
                                              "computed": {"Fn::Select": ["{{ p9 }}", {t: t for t in TEXTS}]}})}},
                          {"Name": "delegated", "Action": "ACS::ECS::CreateSnapshotX",
                           "Properties": dict({t: t for t in TEXTS}, ref="{{ p4 }}" + TEXTS[0] + "{{ secret }}"),
                           "Outputs": {"o": {"Type": "String", "ValueSelector": TEXTS[7]}}}],
                "Outputs": dict({t: {"Type": "String", "Value": t} for t in TEXTS},
                                out={"Type": "String", "Value": "{{ delegated.o }}"})}
    result = convert(content=template)
    assert not result.handed_over and result.delegated
    plays = _load_as_ansible(result.playbook_yaml())
    loaded = list(_strings(plays))
    for text in TEXTS:
        copies = [s for s in loaded if s == text]
        assert copies, f"{text[:40]!r} was changed on its way into the playbook"
        if possibly_template(text):   # words without Jinja ('yes', '<<') may be plain YAML: Ansible has nothing to do
            assert not any(TrustedAsTemplate.is_tagged_on(s) for s in copies), text[:40]
    # No text that Ansible could evaluate inside the converter's Jinja (or any other trusted string).
    trusted = [s for s in loaded if TrustedAsTemplate.is_tagged_on(s)]
    assert trusted and not [(t, s) for t in TEXTS for s in trusted if possibly_template(t) and t in s]
    assert not [s for s in trusted if possibly_template(s) and not s.startswith("{{ ")]


@pytest.mark.parametrize("rate_control", [{"MaxErrors": 0}, "{{ rate }}"])   # loop:, the role
def test_natural_loop_text_loads_untrusted_and_unchanged(rate_control):
    looped = {"Name": "each", "Action": "ACS::ExecuteAPI",
              "Properties": {"Service": "ECS", "API": "DescribeRegions",
                             "Parameters": {"Item": "{{ ACS::TaskLoopItem }}", **{f"k{i}": t for i, t in enumerate(TEXTS)}}},
              "Loop": {"Items": TEXTS, "RateControl": rate_control,
                       "Outputs": {"all": {"AggregateType": "Fn::ListJoin", "AggregateField": "one"},
                                   "own": {"AggregateType": "Fn::ListJoin", "AggregateField": "item"}}},
              "Outputs": {"one": {"Type": "String", "ValueSelector": json.dumps(TEXTS[0])},
                          "item": {"Type": "String", "ValueSelector": TEXTS[1] + ' "{{ ACS::TaskLoopItem }}"'}}}
    template = {"FormatVersion": "OOS-2019-06-01", "Parameters": {"rate": {"Type": "Json", "Default": {"MaxErrors": 1}}},
                "Tasks": [looped], "Outputs": {"all": {"Type": "List", "Value": "{{ each.all }}"}}}
    result = convert(content=template)
    assert not result.handed_over
    loaded = list(_strings(_load_as_ansible(result.playbook_yaml())))
    code = [s for s in loaded if TrustedAsTemplate.is_tagged_on(s)]
    assert any("item" in s for s in code) and any("alicloud.oos." in s for s in code)
    for text in TEXTS + [TEXTS[1] + ' "{{ ACS::TaskLoopItem }}"']:
        copies = [s for s in loaded if s == text]
        # Data as it is (!unsafe), or a quoted literal inside the converter's Jinja (plain words such as 'true').
        assert copies or any(f"'{text}'" in s for s in code), f"{text[:40]!r} was changed on its way into the playbook"
        if possibly_template(text):   # words without Jinja ('true', '<<') may be plain YAML: nothing to evaluate
            assert not any(TrustedAsTemplate.is_tagged_on(s) for s in copies), text[:40]


def test_the_dumper_refuses_unmarked_text_ansible_would_evaluate():
    for text in ("{{ x }}", "#jinja2:variable_start_string:'[['\n[[ x ]]", "{% if x %}{% endif %}", "{# x #}"):
        with pytest.raises(ConversionError, match="internal error: the converter wrote unmarked text"):
            dumper.dump([{"name": "Play", "vars": {"x": text}}])
        dumper.dump([{"name": "Play", "vars": {"x": TemplateText(text), "y": Code("{{ 1 }}")}}])


def test_template_scalars_that_yaml_would_retype_stay_strings_and_containers_are_never_tagged():
    """ansible-core before 2.19 reads an !unsafe mapping or list empty: only strings carry the tag."""
    data = {"a": TemplateText("true"), "b": TemplateText(""), "c": TemplateText("{{ x }}"),
            "d": mark({"<<": "1", "true": ["yes", "null"], "k": "v", "{{ k }}": "w"}), "e": mark([])}
    text = dumper.dump([data])
    assert "a: 'true'" in text and "c: !unsafe '{{ x }}'" in text and "e: []" in text
    assert "d:\n" in text and "k: !unsafe 'v'" in text and "!unsafe '{{ k }}': !unsafe 'w'" in text
    loaded = _load_as_ansible(text)[0]
    assert loaded == {"a": "true", "b": "", "c": "{{ x }}", "d": {"<<": "1", "true": ["yes", "null"], "k": "v",
                                                                  "{{ k }}": "w"}, "e": []}


@pytest.mark.parametrize("text", TEXTS + ["\U0001F600 \x00 '\\"])
def test_literal_puts_any_text_in_converter_jinja_as_a_value(text):
    source = literal(text)
    assert not any(ch in source[1:-1] for ch in "'\"{}#\n%")
    assert jinja2.Environment().from_string("{{ " + source + " }}").render() == text


# ------------------------------------------------------------------------------------------------
# bounds: refused fast, with one clear message

@pytest.mark.parametrize("document", [d for d in hostile.DOCUMENTS if d.outcome != "converted"], ids=lambda d: d.id)
def test_hostile_documents_are_refused_well_under_a_second(document):
    started = time.perf_counter()
    with pytest.raises(ConversionError) as info:
        convert(content=hostile.DOCUMENT_TEXT[document.id])
    elapsed = time.perf_counter() - started
    print(f"\n{document.id}: refused in {elapsed * 1000:.1f} ms")
    assert document.outcome in str(info.value)
    assert elapsed < 0.5


def test_a_template_of_64_kb_still_converts_in_well_under_a_second():
    items = ",".join(["x"] * 31000)
    text = ("FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: t\n    Action: ACS::ExecuteAPI\n"
            f"    Properties: {{Service: ECS, API: DescribeRegions, Parameters: {{L: [{items}]}}}}\n")
    assert 60_000 < len(text.encode()) <= 65536
    started = time.perf_counter()
    playbook = convert(content=text).playbook_yaml()
    elapsed = time.perf_counter() - started
    print(f"\n64 KB template: converted in {elapsed * 1000:.0f} ms into {len(playbook)} bytes")
    assert elapsed < 10   # about 0.6 s on an idle core; generous for a loaded machine


def test_nested_templates_that_multiply_are_refused(tmp_path):
    for level in range(4):
        calls = [{"Name": f"call{i}", "Action": "ACS::Template", "Properties": {"TemplateName": f"level{level + 1}"}}
                 for i in range(12)] if level < 3 else [{"Name": "t", "Action": "ACS::Sleep",
                                                         "Properties": {"Duration": "PT0S"}}]
        (tmp_path / f"level{level}.json").write_text(json.dumps({"FormatVersion": "OOS-2019-06-01", "Tasks": calls}))
    started = time.perf_counter()
    with pytest.raises(ConversionError, match="more than 2000 tasks"):
        convert(str(tmp_path / "level0.json"), template_paths=[str(tmp_path)])
    assert time.perf_counter() - started < 2


# ------------------------------------------------------------------------------------------------
# gates and values that need a decision

@pytest.mark.parametrize("decision,approved_by,answers,approvers,minimum,approved,reason", [
    ("approve", [], [], [], 1, True, ""),
    ("", [], ["approve"], [], 1, True, ""),
    ("", [], [""], [], 1, False, "no decision"),
    ("reject", [], [], [], 1, False, "rejected"),
    ("approve", ["alice", "bob"], [], ["alice", "bob"], 2, True, ""),
    ("approve", ["alice", "alice"], [], ["alice", "bob"], 2, False, "got 1 (alice)"),
    ("approve", ["mallory"], [], ["alice"], 1, False, "'mallory' may not approve"),
    ("approve", [], [], ["alice"], 1, False, "name the approver"),
    ("", [], ["approve alice", "reject bob"], ["alice", "bob"], 1, False, "rejected by bob"),
    ("", [], ["approve alice", "approve bob"], "alice, bob", "2", True, ""),
    ("approve", ["alice"], [], ["alice"], 3, False, "3 approval(s) from alice are required"),
])
def test_approval_tally(decision, approved_by, answers, approvers, minimum, approved, reason):
    outcome = filters.oos_approval_tally(decision, approved_by, answers, approvers, minimum)
    assert outcome["approved"] is approved and reason in outcome["reason"]


def test_pause_goes_on_only_on_resume():
    refusal = filters.oos_pause_refusal
    assert refusal("", "hold", "").startswith("OOS execution Cancelled: ACS::Pause hold was not resumed: no decision")
    assert refusal("", "hold", "  Resume ") == "" and refusal({"hold": "resume"}, "hold") == ""
    assert refusal({"other": "resume"}, "hold").startswith("OOS execution Cancelled:")
    assert "not resume" in refusal("", "hold", "go") and "the operator cancelled it" in refusal("cancel", "hold", "resume")
    # A decision that is neither resume nor cancel is no resume (never an error an OnError would catch).
    for bad in ("yes", True, ["resume"], 1):
        assert "is neither" not in refusal(bad, "hold") and "not resume or cancel" in refusal(bad, "hold")
        assert refusal(bad, "hold").startswith("OOS execution Cancelled: ACS::Pause hold was not resumed")
    assert filters.oos_pause_decision(["resume"], "hold") == '["resume"]'
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [{"Name": "hold", "Action": "ACS::Pause"}]}
    result = convert(content=template)
    pause, cancel = next(t for t in result.plays[0]["tasks"] if t["name"] == "Run the template tasks")["block"][:2]
    assert not result.handed_over and "type resume to go on" in pause["ansible.builtin.pause"]["prompt"]
    assert pause["when"] == "(oos_pause_decision | default('') | alicloud.oos.oos_pause_decision('hold')) == ''"
    assert "oos_pause_refusal('hold', hold_result.user_input" in cancel["ansible.builtin.fail"]["msg"]


def test_pseudo_parameters_the_controller_cannot_know_are_never_guessed(monkeypatch):
    monkeypatch.delenv("ALICLOUD_REGION", raising=False)
    context = {"parameters": {}, "pseudo": {"acs::executionid": "exec-1"}, "tasks": {}}
    for name, variable in (("ACS::ExecuteUser", "oos_execute_user"), ("ACS::RegionId", "oos_region_id"),
                           ("acs::accountid", "oos_account_id"), ("ACS::OOSUtilVersion", "oos_util_version")):
        with pytest.raises(runtime.OosRuntimeError, match=f"pass -e {variable}="):
            runtime.render("{{ %s }}" % name, context)
    # A converted playbook reads them from -e (or the environment) and its first task refuses to go on without them.
    problems = filters.oos_parameter_problems({}, {}, {"acs::executeuser": "", "acs::regionid": "cn-x", "acs::accountid": ""})
    assert problems == [runtime.pseudo_missing("acs::executeuser"), runtime.pseudo_missing("acs::accountid")]
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [{"Name": "x", "Action": "ACS::ExecuteAPI", "Properties": {
        "Service": "ECS", "API": "DescribeRegions", "Parameters": {"R": "{{ ACS::RegionId }}", "U": "{{ ACS::ExecuteUser }}"}}}]}
    play = convert(content=template).plays[0]
    assert "lookup('ansible.builtin.env', 'ALICLOUD_REGION', default='')" in play["vars"]["oos_region_id"]
    assert "lookup" not in play["vars"]["oos_execute_user"]   # no environment variable names a RAM user: -e only
    check = play["tasks"][0]["vars"]["oos_parameter_problems"]
    assert "'acs::executeuser': oos_execute_user | default('')" in check


def test_required_parameter_hint_names_the_variable_the_playbook_reads():
    assert parameters.variable_for("tags") == "oos_param_tags"
    assert parameters.variable_for("range") == "oos_param_range"        # a Jinja global
    assert parameters.variable_for("oos_next") == "oos_param_oos_next"  # the converter's own variables
    _unused, problems = parameters.validate({"tags": {"Type": "String"}, "name": {"Type": "List"}}, {}, None)
    assert problems == ["parameter tags is required: pass -e oos_param_tags=<String>",
                        "parameter name is required: pass -e oos_param_name=<List>"]


def test_every_jump_target_must_name_a_task_and_go_forward():
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "a", "Action": "ACS::Sleep", "Properties": {"Duration": "PT0S"}},
        {"Name": "pick", "Action": "ACS::Choice", "Properties": {
            "DefaultTask": "missing", "Choices": [{"When": True, "NextTask": "a"}, {"When": True, "NextTask": "nope"},
                                                  {"When": False}, "not a mapping"]}},
        {"Name": "b", "Action": "ACS::Sleep", "OnSuccess": "ghost", "Properties": {"Duration": "PT0S"}}]}
    with pytest.raises(ConversionError) as info:
        convert(content=template)
    assert info.value.problems == [
        "DefaultTask 'missing' is not a task of this template (use a task name, ACS::NEXT or ACS::END) at Tasks[1] (pick)",
        "unsupported backward jump to a (Choices[0].NextTask) at Tasks[1] (pick)",
        "Choices[1].NextTask 'nope' is not a task of this template (use a task name, ACS::NEXT or ACS::END) "
        "at Tasks[1] (pick)",
        "Choices[3] must be a mapping with When and NextTask at Tasks[1] (pick)",
        "OnSuccess 'ghost' is not a task of this template (use a task name, ACS::NEXT or ACS::END) at Tasks[2] (b)",
    ]


def test_a_choice_without_next_task_goes_on_with_the_next_task_as_oos_does():
    template = {"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "pick", "Action": "ACS::Choice", "Properties": {"DefaultTask": "ACS::END", "Choices": [{"When": True}]}},
        {"Name": "b", "Action": "ACS::Sleep", "Properties": {"Duration": "PT0S"}}]}
    run = next(t for t in convert(content=template).plays[-1]["tasks"] if t["name"] == "Run the template tasks")
    pick, b = run["block"][:2]
    assert pick["ansible.builtin.set_fact"] == {"pick_next": "{{ 'b' if true else 'ACS::END' }}"}
    assert b["name"] == "B" and b["when"] == ["pick_next | default('') == 'b'"]


def test_template_names_never_become_paths(tmp_path):
    (tmp_path / "inner.yml").write_text("FormatVersion: OOS-2019-06-01\nTasks: [{Name: t, Action: 'ACS::Sleep'}]\n")
    (tmp_path / "sub").mkdir()   # ../inner from it would be the file above
    for name in ("../inner", "/etc/passwd", "a/b", "..\\inner"):
        template = {"FormatVersion": "OOS-2019-06-01",
                    "Tasks": [{"Name": "t", "Action": "ACS::Template", "Properties": {"TemplateName": name}}]}
        with pytest.raises(ConversionError, match="is not a template name"):
            convert(content=template, template_paths=[str(tmp_path / "sub")])


def test_error_messages_keep_the_api_error_not_ansibles_wrapping():
    wrapped = {"msg": "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving "
                      "value for 'oos': The filter plugin 'alicloud.oos.oos_loop_failure' failed: oos_loop_failure: 1 of 3 items "
                      "failed: ECS StopInstance failed [InvalidInstanceId.NotFound] gone",
               "error": {"code": "InvalidInstanceId.NotFound", "message": "gone"}}
    assert runtime.error_message(wrapped) == "1 of 3 items failed: ECS StopInstance failed [InvalidInstanceId.NotFound] gone"


def test_loop_iterations_of_items_that_never_ran_are_none():
    hostvars = {"h0": {"oos_loop_execution": "exec-1", "oos_iteration": {"error": "boom"}},
                "h1": {"oos_loop_execution": "exec-1"},
                "h2": {"oos_loop_execution": "exec-0", "oos_iteration": {"outputs": {}}}}
    assert filters.oos_loop_iterations(["h0", "h1", "h2"], hostvars, "exec-1") == [{"error": "boom"}, None]


def test_parameter_check_messages_never_hold_a_noecho_value():
    specs = parameters.runtime_specs({
        "password": {"Type": "String", "NoEcho": True, "AllowedPattern": "[a-z]+", "Label": "x"},
        "pin": {"Type": "Number", "NoEcho": "true", "MaxValue": 10},
        "name": {"Type": "String", "AllowedValues": ["a"]}})
    found = parameters.problems(specs, {"password": "Hunter2!", "pin": "12345x", "name": "Hunter2!"})
    assert found == ["parameter password: the value (NoEcho, not shown) does not match the pattern [a-z]+",
                     "parameter pin: the value (NoEcho, not shown) is not a valid Number",
                     "parameter name: 'Hunter2!' is not one of a"]
    assert parameters.problems(specs, {"password": "abc", "pin": 99, "name": "a"}) == [
        "parameter pin: the value (NoEcho, not shown) is above MaxValue 10"]
    _resolved, problems = parameters.validate(specs, {"password": "Hunter2!", "pin": 1, "name": "a"}, lambda v, _r: v)
    assert problems == ["parameter password: the value (NoEcho, not shown) does not match the pattern [a-z]+"]
