"""Hostile template text: the table the hostile-template tests run and ``docs/reliability.md`` shows.

``STRINGS`` are texts a template author could write; each Jinja payload would create a marker file
``{M}/<id>`` on the controller if anything evaluated it. ``POSITIONS`` are the places a template can
hold text; ``template()`` puts every string in every position of one template (with a nested template,
a template found by name and an inlined product action). ``DOCUMENTS`` are whole templates the
converter must refuse, with the message it gives.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

MARKER = "{M}"


@dataclass(frozen=True)
class HostileString:
    id: str
    text: str       # {M} is the marker directory
    what: str       # for the documentation

    def at(self, marker_dir) -> str:
        return self.text.replace(MARKER, str(marker_dir))


STRINGS = (
    HostileString("jinja_expression", "{{ lookup('pipe', 'touch {M}/jinja_expression') }}", "Jinja expression"),
    HostileString("jinja_statement", "{% set x = lookup('pipe', 'touch {M}/jinja_statement') %}{{ x | upper }}done",
                  "Jinja statement"),
    HostileString("jinja_comment", "{# lookup('pipe', 'touch {M}/jinja_comment') #} after",
                  "Jinja comment"),
    HostileString("jinja_empty", "{{}} {%%} {{{ }}} {0} {name} %s %(x)s", "empty and unbalanced delimiters, "
                  "Python format fields"),
    HostileString("header_variable", "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n"
                  "[[ lookup('pipe', 'touch {M}/header_variable') ]]",
                  "`#jinja2:` header redefining the variable delimiters to `[[ ]]`"),
    HostileString("header_block", "#jinja2:block_start_string:'<%', block_end_string:'%>'\n"
                  "<% set x = lookup('pipe', 'touch {M}/header_block') %>ok",
                  "`#jinja2:` header redefining the block delimiters to `<% %>`"),
    HostileString("header_dollar", "#jinja2:variable_start_string:'${', variable_end_string:'}'\n"
                  "${ lookup('pipe', 'touch {M}/header_dollar') }",
                  "`#jinja2:` header making `${ }` the variable delimiters"),
    HostileString("header_default", "#jinja2:trim_blocks:True\n{{ lookup('pipe', 'touch {M}/header_default') }}",
                  "`#jinja2:` header followed by ordinary Jinja"),
    HostileString("dollar", "${lookup('pipe', 'touch {M}/dollar')} ${HOME} $(id) `id`",
                  "`${...}`, shell substitutions"),
    HostileString("raw_block", "{% raw %}{{ lookup('pipe', 'touch {M}/raw_block') }}{% endraw %}{% endraw %}",
                  "`{% raw %}` escape and a stray `{% endraw %}`"),
    HostileString("unsafe_tag", "!unsafe '{{ lookup(\"pipe\", \"touch {M}/unsafe_tag\") }}'",
                  "text that looks like an `!unsafe` YAML tag"),
    HostileString("yaml_syntax", "&anchor *alias <<: {a: 1}\n---\n...\n%YAML 1.1\n? key\n: value\n- item # comment",
                  "YAML anchors, aliases, merge keys, directives and document markers as text"),
    HostileString("quotes", "'\"`\\ \\' \\\" '' \"\" \\n", "quotes and backslashes"),
    HostileString("long", "{{ lookup('pipe', 'touch {M}/long') }} " + "word " * 120 + "x" * 300,
                  "a 900-character string (longer than any YAML line or key limit)"),
    HostileString("unicode", "é 中文 😀 \u2028 \u2029 \x85 \ufeff \u202eRTL\u202c \\u007b\\u007b lookup \\x7b\ttab\r\ncrlf",
                  "non-ASCII, line and paragraph separators, BOM, bidi override, `\\u007b` escapes written out"),
    HostileString("control", "bell \x07 escape \x1b delete \x7f", "control characters"),
    HostileString("true", "true", "a string YAML reads as a boolean"),
    HostileString("yes", "yes", "a string YAML 1.1 reads as a boolean"),
    HostileString("null", "null", "a string YAML reads as null"),
    HostileString("hex", "0x1F", "a string YAML reads as a number"),
    HostileString("date", "2024-01-01", "a string YAML reads as a date"),
    HostileString("merge", "<<", "a YAML merge key"),
)


@dataclass(frozen=True)
class Position:
    id: str
    where: str      # where the template holds the text
    seen: str       # how the test sees what became of it


POSITIONS = (
    Position("description", "template `Description`, task `Description`",
             "play and task names (braces shown as parentheses, a leading `#` dropped); the run proves they are not "
             "evaluated"),
    Position("label", "parameter `Label` and `Description`", "the AWX survey, byte for byte"),
    Position("default", "parameter `Default` (String, and inside List and Json defaults, keys included)",
             "the API request parameters the emulator recorded"),
    Position("allowed_values", "parameter `AllowedValues` (of a nested template, given the same text)",
             "the value passes the check and reaches the API"),
    Position("property", "task `Properties` values at depth 1 to 3, and inside `Fn::Join`",
             "the API request parameters"),
    Position("property_key", "task `Properties` keys (inside a parameter the API takes as JSON; as API parameter "
             "names too, for the texts that can be one)", "the API request parameters"),
    Position("command", "`ACS::ECS::RunCommand` `commandContent` (literal and through a parameter)",
             "the Cloud Assistant command the emulator recorded"),
    Position("value_selector", "task `Outputs` `ValueSelector` (a jq string literal)",
             "the output, sent on to the API"),
    Position("output", "template `Outputs` names and values", "the outputs the run prints"),
    Position("loop_item", "`Loop.Items` (a loop that runs as a play over in-memory hosts)",
             "one API request per item"),
    Position("when", "task `When` and `ACS::Choice` conditions (`Fn::Equals` of the text with itself)",
             "the guarded task runs"),
    Position("webhook", "`ACS::Notify` WebHook `Content`", "the body a local webhook receiver got"),
    Position("trigger", "`ACS::TimerTrigger` `Expression`", "the note the run prints"),
    Position("nested", "`ACS::Template` with `TemplateContent`", "the API request parameters"),
    Position("named", "`ACS::Template` found by `TemplateName` in `template_paths`", "the API request parameters"),
    Position("looped_nested", "`Loop.Items` of an `ACS::Template` (a play of one in-memory host per item), the "
             "values given its child, the child's literals and Defaults", "the API request parameters of each item"),
    Position("action", "a cloud product action inlined from `action_templates_path`", "the API request parameters"),
    Position("baked", "values baked into the playbook with the lookup's `parameters=`",
             "the API request parameters"),
)

WHAT_EACH_GETS = ("written `!unsafe` (a template mapping or list as one `!unsafe` value; the few strings YAML would "
                  "read as another type, quoted); no marker file is created by the conversion, "
                  "`ansible-playbook --syntax-check` or the run; the text reaches the emulator unchanged")


@dataclass(frozen=True)
class HostileDocument:
    id: str
    what: str           # for the documentation
    outcome: str        # what the converter answers (a fragment of its message, or "converted")


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["FormatVersion: OOS-2019-06-01", "Parameters:", "  p:", "    Type: Json", "    Default:",
             "      a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines + ["Tasks:", "  - {Name: t, Action: 'ACS::Sleep', Properties: {Duration: PT0S}}"]) + "\n"


_SLEEP = "Tasks:\n  - {Name: t, Action: 'ACS::Sleep', Properties: {Duration: PT0S}}\n"
DOCUMENT_TEXT = {
    "alias_bomb": alias_bomb(),
    "alias_bomb_small": alias_bomb(levels=6),
    "recursive_alias": "FormatVersion: OOS-2019-06-01\nParameters:\n  p: &p {Type: Json, Default: [*p]}\n" + _SLEEP,
    "too_large": "FormatVersion: OOS-2019-06-01\nDescription: '" + "x" * 70000 + "'\n" + _SLEEP,
    "ten_megabytes": "FormatVersion: OOS-2019-06-01\nDescription: '" + "x" * 10_000_000 + "'\n" + _SLEEP,
    "deep_yaml": "FormatVersion: OOS-2019-06-01\nParameters: {p: {Type: Json, Default: " + "[" * 30000 + "]" * 30000
                 + "}}\n" + _SLEEP,
    "deep_json": '{"FormatVersion": "OOS-2019-06-01", "Parameters": {"p": {"Type": "Json", "Default": '
                 + "[" * 20000 + "]" * 20000 + '}}, "Tasks": [{"Name": "t", "Action": "ACS::Sleep"}]}',
    "unsafe_tag": "FormatVersion: OOS-2019-06-01\nParameters:\n  p: {Type: String, Default: !unsafe 'x'}\n" + _SLEEP,
    "python_tag": "FormatVersion: OOS-2019-06-01\nParameters:\n  p: {Type: String, Default: !!python/object/apply:os.getcwd []}\n"
                  + _SLEEP,
    "no_format_version": "Parameters: {}\n" + _SLEEP,
    "wrong_format_version": "FormatVersion: OOS-2019-06-01-State\n" + _SLEEP,
    "task_name": "FormatVersion: OOS-2019-06-01\nTasks:\n  - {Name: \"{{ lookup('pipe', 'id') }}\", Action: 'ACS::Sleep', "
                 "Properties: {Duration: PT0S}}\n",
    "choice_next_task": "FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: pick\n    Action: ACS::Choice\n    Properties:\n"
                        "      DefaultTask: ACS::NEXT\n      Choices: [{When: true, NextTask: nowhere}]\n"
                        "  - {Name: t, Action: 'ACS::Sleep', Properties: {Duration: PT0S}}\n",
    "choice_default_task": "FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: pick\n    Action: ACS::Choice\n"
                           "    Properties: {DefaultTask: nowhere, Choices: []}\n"
                           "  - {Name: t, Action: 'ACS::Sleep', Properties: {Duration: PT0S}}\n",
    "template_name_path": "FormatVersion: OOS-2019-06-01\nTasks:\n  - Name: t\n    Action: ACS::Template\n"
                          "    Properties: {TemplateName: ../../etc/passwd}\n",
    "anchors": "FormatVersion: OOS-2019-06-01\nParameters:\n  base: &base {Type: String, Default: anchored}\n"
               "  copy: *base\n  merged: {<<: *base, Default: merged}\n" + _SLEEP,
}

DOCUMENTS = (
    HostileDocument("alias_bomb", "a 600-byte YAML alias bomb (9 levels of 9 aliases: 387 million values)",
                    "expands to more than 50000 values"),
    HostileDocument("alias_bomb_small", "a 400-byte alias bomb (6 levels: 531,441 values)",
                    "expands to more than 50000 values"),
    HostileDocument("recursive_alias", "an alias inside the value it refers to", "a recursive structure"),
    HostileDocument("too_large", "70 KB of template", "OOS accepts at most 65536 bytes"),
    HostileDocument("ten_megabytes", "10 MB of template", "OOS accepts at most 65536 bytes"),
    HostileDocument("deep_yaml", "30,000 nested YAML lists (libyaml's composer would crash the controller)",
                    "more than 64 levels deep"),
    HostileDocument("deep_json", "20,000 nested JSON lists", "more than 64 levels deep"),
    HostileDocument("unsafe_tag", "a real `!unsafe` YAML tag", "could not determine a constructor for the tag '!unsafe'"),
    HostileDocument("python_tag", "a `!!python/object/apply` YAML tag", "could not determine a constructor"),
    HostileDocument("no_format_version", "no `FormatVersion`", "FormatVersion is missing"),
    HostileDocument("wrong_format_version", "`FormatVersion: OOS-2019-06-01-State`", "unsupported FormatVersion"),
    HostileDocument("task_name", "a task name with Jinja", "unsupported task name"),
    HostileDocument("choice_next_task", "a `Choice` `NextTask` that names no task",
                    "Choices[0].NextTask 'nowhere' is not a task of this template"),
    HostileDocument("choice_default_task", "a `Choice` `DefaultTask` that names no task",
                    "DefaultTask 'nowhere' is not a task of this template"),
    HostileDocument("template_name_path", "an `ACS::Template` `TemplateName` that is a path",
                    "is not a template name"),
    HostileDocument("anchors", "small anchors, aliases and a merge key", "converted"),
)


# ------------------------------------------------------------------------------------------------
# the template that holds every string in every position

def _api(name: str, parameters: dict, **task) -> dict:
    body = {"Name": name, "Action": "ACS::ExecuteAPI",
            "Properties": {"Service": "ECS", "API": "DescribeRegions", "Parameters": parameters}}
    body.update(task)
    return body


def command_content(texts: list) -> str:
    """A script that only carries the texts (a quoted here-document runs nothing)."""
    return ": <<'OOS_EOF'\n" + "\n".join(texts) + "\nOOS_EOF\necho done\n"


def _tags(name: str, tags) -> dict:
    return {"Name": name, "Action": "ACS::ExecuteAPI",
            "Properties": {"Service": "OOS", "API": "ListTemplates", "Parameters": {"Tags": tags}}}


def signable_name(text: str) -> bool:
    """Whether ``text`` can be an API parameter name: the SDK signs names without encoding them, so only
    names of unreserved characters reach the API (real parameter names are letters and digits)."""
    return re.fullmatch(r"[A-Za-z0-9_.~-]+", text) is not None


def _jq_string(text: str) -> str:
    return json.dumps(text)


def templates(marker_dir, webhook_url: str) -> tuple[dict, dict, dict]:
    """({name: template}, {file name: template found by name}, {file name: product action template}).

    Every string in every position, over three templates (fewer would pass OOS's 64 KB limit). Request
    parameters are named ``<position>_<index>`` (index into STRINGS), so the test finds each one in the
    emulator's request log; key positions use the string itself as the name and ``<position>_<index>`` as
    the value.
    """
    texts = [s.at(marker_dir) for s in STRINGS]
    count = len(texts)
    p = {f"p{i}": {"Type": "String", "Default": t, "Label": t, "Description": {"en": t, "zh-cn": t}}
         for i, t in enumerate(texts)}
    p["pList"] = {"Type": "List", "Default": texts}
    p["pJson"] = {"Type": "Json", "Default": {t: f"default_json_{i}" for i, t in enumerate(texts)}}
    p["instanceId"] = {"Type": "String"}
    p["baked"] = {"Type": "Json", "Default": {}}
    data = [
        {"Name": "timer", "Action": "ACS::TimerTrigger", "Description": texts[4],
         "Properties": {"Type": "cron", "Expression": "\n".join(texts), "TimeZone": texts[0]}},
        _api("defaults", {**{f"default_{i}": f"{{{{ p{i} }}}}" for i in range(count)}, "default_list": "{{ pList }}"},
             Description={"en": texts[5]}),
        # OOS ListTemplates takes Tags as one JSON string: the way mapping keys reach an API unchanged (the SDK
        # flattens other mappings into parameter names).
        _tags("jsonDefault", "{{ pJson }}"),
        _tags("keys", {t: f"property_key_{i}" for i, t in enumerate(texts)}),
        _api("properties", {**{f"property_{i}": t for i, t in enumerate(texts)},
                            "property_deep": {"level2": {"level3": texts}}, "property_join": {"Fn::Join": ["|", texts]},
                            **{t: f"property_key_{i}" for i, t in enumerate(texts) if signable_name(t)}}),
        {"Name": "command", "Action": "ACS::ECS::RunCommand",
         "Properties": {"instanceId": "{{ instanceId }}", "commandType": "RunShellScript",
                        "commandContent": command_content(texts)}},
        # Without an OOS reference the content is written into the playbook as it is (!unsafe), not rendered.
        {"Name": "commandLiteral", "Action": "ACS::ECS::RunCommand",
         "Properties": {"instanceId": "{{ instanceId }}", "commandType": "RunShellScript",
                        "commandContent": command_content([t for t in texts if "{{" not in t])}},
        {"Name": "selectors", "Action": "ACS::ExecuteAPI",
         "Properties": {"Service": "ECS", "API": "DescribeRegions", "Parameters": {}},
         "Outputs": {f"out{i}": {"Type": "String", "ValueSelector": _jq_string(t)} for i, t in enumerate(texts)}},
        _api("selected", {f"value_selector_{i}": f"{{{{ selectors.out{i} }}}}" for i in range(count)}),
        _api("looped", {"loop_item": "{{ ACS::TaskLoopItem }}"},
             Loop={"Items": texts, "RateControl": {"Mode": "Concurrency", "Concurrency": 4, "MaxErrors": 0}}),
        _tags("bakedValues", "{{ baked }}"),
    ]
    flow = [
        {"Name": "choose", "Action": "ACS::Choice",
         "Properties": {"DefaultTask": "ACS::END",
                        "Choices": [{"When": {"Fn::And": [{"Fn::Equals": [t, t]} for t in texts]},
                                     "NextTask": "guarded"}]}},
        _api("guarded", {f"when_{i}": f"when_{i}" for i in range(count)},
             When={"Fn::And": [{"Fn::Equals": [t, t]} for t in texts]}),
        {"Name": "notify", "Action": "ACS::Notify",
         "Properties": {"NotifyType": "WebHook", "WebHook": {
             "URI": webhook_url, "Headers": {"Content-Type": "application/json"},
             "Content": {"texts": texts, "keys": {t: i for i, t in enumerate(texts)}}}}},
        {"Name": "nested", "Action": "ACS::Template",
         "Properties": {"TemplateContent": json.dumps(_child("nested", texts)),
                        "Parameters": {f"c{i}": t for i, t in enumerate(texts)}}},
        {"Name": "named", "Action": "ACS::Template",
         "Properties": {"TemplateName": "hostile-named", "Parameters": {f"c{i}": t for i, t in enumerate(texts)}}},
        {"Name": "action", "Action": "ACS::Hostile::Echo",
         "Properties": {f"c{i}": t for i, t in enumerate(texts)}},
    ]
    outputs = {t: {"Type": "String", "Value": f"{{{{ p{i} }}}}"} for i, t in enumerate(texts)}
    main = {"FormatVersion": "OOS-2019-06-01", "Description": {"en": texts[4], "zh-cn": texts[0]},
            "Parameters": p, "Tasks": data, "Outputs": outputs}
    second = {"FormatVersion": "OOS-2019-06-01", "Description": texts[6], "Tasks": flow}
    loop = {"FormatVersion": "OOS-2019-06-01", "Description": texts[6], "Tasks": [
        {"Name": "loopedNested", "Action": "ACS::Template",
         "Properties": {"TemplateContent": json.dumps(_looped_child(texts)),
                        "Parameters": {"item": "{{ ACS::TaskLoopItem }}", **{f"c{i}": t for i, t in enumerate(texts)}}},
         "Loop": {"Items": texts, "RateControl": {"Mode": "Concurrency", "Concurrency": 4, "MaxErrors": 0},
                  "Outputs": {"sent": {"AggregateType": "Fn::ListJoin", "AggregateField": "sent"}}},
         "Outputs": {"sent": {"Type": "String", "ValueSelector": "sent"}}},
    ]}
    return ({"hostile-data": main, "hostile-flow": second, "hostile-loop": loop},
            {"hostile-named.json": _child("named", texts)}, {"ACS::Hostile::Echo.json": _child("action", texts)})


def _looped_child(texts: list) -> dict:
    """:func:`_child` of the position ``looped_nested`` that also sends the item it is given."""
    child = _child("looped_nested", texts)
    child["Parameters"]["item"] = {"Type": "String"}
    child["Tasks"][0]["Properties"]["Parameters"]["looped_nested_item"] = "{{ item }}"
    return child


def _child(position: str, texts: list) -> dict:
    """A template whose parameters accept exactly the hostile texts and send them to the API."""
    parameters = {f"c{i}": {"Type": "String", "AllowedValues": [t], "Label": t} for i, t in enumerate(texts)}
    parameters["fromDefault"] = {"Type": "List", "Default": texts}   # sent flattened: fromDefault.1, .2, ...
    return {"FormatVersion": "OOS-2019-06-01", "Description": texts[4], "Parameters": parameters,
            "Tasks": [_api("send", {**{f"{position}_{i}": f"{{{{ c{i} }}}}" for i in range(len(texts))},
                                    f"{position}_default": "{{ fromDefault }}",
                                    **{f"{position}_literal_{i}": t for i, t in enumerate(texts)}})],
            "Outputs": {"sent": {"Type": "String", "Value": texts[0]}}}
