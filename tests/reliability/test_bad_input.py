"""The bad-input matrix: every module, lookup, filter and the inventory, fed bad values.

Each case must fail with one message that names the field (every string of ``names`` appears in the
message), with no traceback and no module crash, and the emulator must see no API request at all.
Cases run in one ansible-playbook per plugin kind (modules, lookups, filters); the inventory cases
run ``ansible-inventory`` per configuration. Other test files keep their own bad-input tests; this
table is the one place that covers every plugin (``test_every_plugin_is_in_the_matrix``).
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

import pytest

from tests.conftest import BIN, REPO_ROOT, clean_environment, start_emulator

CRASH_MARKERS = ("Traceback", "MODULE FAILURE", "module_stderr", "unhandled exception", "NoneType",
                 "object has no attribute", "KeyError", "TypeError:")


@dataclass(frozen=True)
class Case:
    plugin: str          # module, lookup or filter name (without alicloud.oos.)
    what: str            # what is wrong
    value: object        # module arguments, lookup keyword arguments, or filter input
    names: tuple         # strings the message must contain
    extra: str = ""      # lookup terms or filter arguments, Jinja text after the value
    defect: str = ""     # a known defect of the plugin: expected to fail until it is fixed


IDS = ["i-bp1aaaaaaaaaaaaaaaaa"]
# ---- modules --------------------------------------------------------------------------------------------
MODULES = (
    Case("oos_execute_api", "missing required", {"service": "ecs"}, ("api",)),
    Case("oos_execute_api", "unknown key", {"service": "ecs", "api": "DescribeInstances", "colour": "red"}, ("colour",)),
    Case("oos_execute_api", "wrong enum", {"service": "cs", "api": "GetCluster", "method": "FETCH", "uri": "/x"},
         ("method", "FETCH")),
    Case("oos_execute_api", "invalid type", {"service": "ecs", "api": "DescribeInstances", "auto_paging": "sometimes"},
         ("auto_paging",)),
    Case("oos_execute_api", "malformed jq", {"service": "ecs", "api": "DescribeInstances",
                                             "outputs": {"ids": {"value_selector": ".Instances | map(", "type": "List"}}},
         ("value_selector",)),
    Case("oos_execute_api", "malformed JMESPath", {"service": "ecs", "api": "DescribeInstances",
                                                   "query": "Instances.Instance[?Status=="}, ("query",)),
    Case("oos_execute_api", "malformed wait selector", {"service": "ecs", "api": "DescribeInstances",
                                                        "wait_for": {"property_selector": "Instances.Instance[?Status==",
                                                                     "desired_values": ["Running"]}},
         ("property_selector",)),
    Case("oos_instance", "missing instances on localhost", {"state": "stopped"}, ("instance_id",)),
    Case("oos_instance", "wrong enum", {"instance_ids": IDS, "state": "stoped"}, ("state", "stoped")),
    Case("oos_instance", "invalid type", {"instance_ids": IDS, "wait_timeout": "soon"}, ("wait_timeout",)),
    Case("oos_instance", "unknown key", {"instance_ids": IDS, "colour": "red"}, ("colour",)),
    Case("oos_instance", "two selections", {"instance_id": IDS[0], "instance_ids": IDS}, ("instance_id", "instance_ids")),
    Case("oos_instance", "bad rate control", {"instance_ids": IDS, "state": "stopped",
                                              "rate_control": {"Mode": "Concurrency", "Concurrency": "many"}},
         ("Concurrency",)),
    Case("oos_instance", "bad targets", {"targets": {"Type": "Everything"}, "state": "stopped"}, ("Type",)),
    Case("oos_instance", "unknown filter", {"filters": {"Colour": "blue"}, "state": "stopped"}, ("filters.Colour",)),
    Case("oos_instance", "tags twice", {"filters": {"tags": {"App": "web"}}, "tags": {"Env": "dev"}}, ("tags",)),
    Case("oos_instance_info", "unknown key", {"colour": "red"}, ("colour",)),
    Case("oos_instance_info", "unknown filter", {"filters": {"Colour": "blue"}}, ("filters.Colour",)),
    Case("oos_instance_info", "wrong filter type", {"filters": {"Status": ["Running"]}}, ("filters.Status",)),
    Case("oos_instance_info", "two selections", {"instance_id": IDS[0], "tags": {"Env": "dev"}},
         ("instance_id", "tags")),
    Case("oos_instance", "option for another state", {"instance_ids": IDS, "state": "running",
                                                      "stopped_mode": "StopCharging"}, ("stopped_mode",)),
    Case("oos_run_command", "missing required", {"instance_ids": IDS}, ("command_content",)),
    Case("oos_run_command", "out of range", {"instance_ids": IDS, "command_content": "true", "timeout": 5}, ("timeout",)),
    Case("oos_run_command", "wrong enum", {"instance_ids": IDS, "command_content": "true", "command_type": "Bash"},
         ("command_type", "Bash")),
    Case("oos_run_command", "invalid type", {"instance_ids": IDS, "command_content": "true", "parameters": 7},
         ("parameters",)),
    Case("oos_run_command", "unknown key", {"instance_ids": IDS, "command_content": "true", "shell": "zsh"}, ("shell",)),
    Case("oos_create_image", "missing source", {"image_name": "good-name"}, ("instance_id",)),
    Case("oos_create_image", "bad image name", {"instance_id": IDS[0], "image_name": "9 bad name"}, ("image_name",)),
    Case("oos_create_image", "invalid type", {"instance_id": IDS[0], "image_name": "good", "tags": ["env", "dev"]}, ("tags",)),
    Case("oos_create_image", "wrong enum", {"image_id": "m-1", "state": "deleted"}, ("state", "deleted")),
    Case("oos_template", "missing required", {"content": "FormatVersion: OOS-2019-06-01\nTasks: []\n"}, ("name",)),
    Case("oos_template", "YAML syntax error", {"name": "broken", "content": "Tasks: [\n  - Name: a\n"}, ("content",)),
    Case("oos_template", "not a mapping", {"name": "listy", "content": "- a\n- b\n"}, ("content",)),
    Case("oos_template", "reserved name", {"name": "ACS-Mine", "content": "FormatVersion: OOS-2019-06-01\nTasks: []\n"},
         ("name", "ACS-Mine")),
    Case("oos_template", "wrong enum", {"name": "t1", "state": "gone"}, ("state", "gone")),
    Case("oos_execution", "wrong enum", {"template_name": "t1", "mode": "Manualish"}, ("mode", "Manualish")),
    Case("oos_execution", "missing required", {"state": "approved"}, ("execution_id",)),
    Case("oos_execution", "invalid type", {"template_name": "t1", "parameters": 5}, ("parameters",)),
    Case("oos_execution", "two templates", {"template_name": "t1", "template_content": {"Tasks": []}},
         ("template_name", "template_content")),
    Case("oos_execution_info", "wrong enum", {"status": "Sleeping"}, ("status", "Sleeping")),
    Case("oos_execution_info", "invalid type", {"limit": "lots"}, ("limit",)),
    Case("oos_execution_info", "unknown key", {"colour": "red"}, ("colour",)),
    Case("oos_temporary_instances", "missing required", {"mode": "delete"}, ("tags",)),
    Case("oos_temporary_instances", "no role tag", {"tags": {"Env": "dev"}}, ("tags", "alicloud.oos:role")),
    Case("oos_temporary_instances", "tag value not a string", {"tags": {"alicloud.oos:role": "r", "Env": ["dev"]}},
         ("tags.Env",)),
    Case("oos_temporary_instances", "wrong enum", {"tags": {"alicloud.oos:role": "r"}, "mode": "later"},
         ("mode", "later")),
    Case("oos_temporary_instances", "invalid type", {"tags": {"alicloud.oos:role": "r"}, "wait_timeout": "soon"},
         ("wait_timeout",)),
)

# ---- lookups: keyword arguments (value) and terms (extra) ----------------------------------------------
GOOD_TEMPLATE = {"FormatVersion": "OOS-2019-06-01", "Tasks": [{"Name": "a", "Action": "ACS::Sleep",
                                                              "Properties": {"Duration": "PT1S"}}]}


def template(**changes) -> dict:
    return GOOD_TEMPLATE | changes


def task(name, **fields) -> dict:
    return {"Name": name, "Action": "ACS::Sleep", "Properties": {"Duration": "PT1S"}} | fields


LOOKUPS = (
    Case("oos_api", "mutating call", {"service": "ecs", "parameters": {"InstanceId": "i-1"}}, ("StopInstance",),
         extra="'StopInstance'"),
    Case("oos_api", "invalid retries", {"service": "ecs", "api_retries": "many"}, ("api_retries",),
         extra="'DescribeInstances'"),
    Case("oos_api", "unknown option", {"service": "ecs", "colour": "red"}, ("colour",), extra="'DescribeInstances'"),
    Case("oos_api", "malformed jq", {"service": "ecs", "value_selector": ".Instances | map("}, ("value_selector",),
         extra="'DescribeInstances'"),
    Case("oos_api", "invalid type", {"service": "ecs", "parameters": "RegionId=x"}, ("parameters",),
         extra="'DescribeInstances'"),
    Case("oos_template", "YAML syntax error", {"content": "Tasks: [\n  - Name: a\n"}, ("YAML",)),
    Case("oos_template", "unknown FormatVersion", {"content": template(FormatVersion="OOS-2030-01-01")},
         ("FormatVersion", "OOS-2030-01-01")),
    Case("oos_template", "Tasks not a list", {"content": template(Tasks="run everything")}, ("Tasks",)),
    Case("oos_template", "duplicate task names", {"content": template(Tasks=[task("a"), task("a")])}, ("a", "duplicate")),
    Case("oos_template", "jump to an unknown task", {"content": template(Tasks=[task("a", OnSuccess="nowhere")])},
         ("OnSuccess", "nowhere")),
    Case("oos_template", "backward jump", {"content": template(Tasks=[task("a"), task("b", OnSuccess="a")])},
         ("backward jump", "Tasks[1]")),
    Case("oos_template", "loop over a non-list", {"content": template(Tasks=[{
        "Name": "a", "Action": "ACS::ExecuteAPI", "Properties": {"Service": "ECS", "API": "DescribeInstances"},
        "Loop": {"Items": 5}}])}, ("Loop", "Items")),
    Case("oos_template", "wrong enum", {"content": GOOD_TEMPLATE, "output": "html"}, ("output", "html")),
    Case("oos_template", "invalid type", {"content": GOOD_TEMPLATE, "parameters": "a=b"}, ("parameters",)),
    Case("oos_template", "content an integer", {"content": 42}, ("content", "a string", "a mapping", "an integer")),
    Case("oos_template", "content a list", {"content": ["Tasks"]}, ("content", "a string", "a list")),
    Case("oos_template", "content a boolean", {"content": True}, ("content", "a boolean")),
    Case("oos_template", "content null", {"content": None}, ("content",)),
    Case("oos_template", "path an integer", {}, ("_terms", "a string", "an integer"), extra="42"),
    Case("oos_api", "action an integer", {"service": "ecs"}, ("_terms", "a string", "an integer"), extra="42"),
    Case("oos_api", "action a mapping", {"service": "ecs"}, ("_terms", "a string", "a mapping"), extra="{'a': 1}"),
)


def documented_options(plugin_type: str, name: str) -> dict:
    """``{option: (type, elements)}`` from a plugin's DOCUMENTATION (its doc fragments included, via ansible-doc)."""
    proc = subprocess.run([str(BIN / "ansible-doc"), "-t", plugin_type, f"alicloud.oos.{name}", "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, env=clean_environment(), check=True)
    options = next(iter(json.loads(proc.stdout).values()))["doc"]["options"]
    return {k: (v.get("type") or "str", v.get("elements")) for k, v in options.items() if k != "_terms"}


# Two values of the wrong type for each documented type (given through variables: Ansible-tagged values),
# and the words the error must use for the expected type.
WRONG_VALUES = {"str": ((42, "an integer"), (["x"], "a list")), "path": ((42, "an integer"), ({"a": 1}, "a mapping")),
                "int": (("many", "a string"), (True, "a boolean")), "float": (("soon", "a string"), ([1], "a list")),
                "bool": (("sometimes", "a string"), (7, "an integer")), "boolean": (("sometimes", "a string"), (7, "an integer")),
                "list": ((42, "an integer"), ({"a": 1}, "a mapping")), "dict": ((42, "an integer"), ("a=b", "a string"))}
EXPECTED_TYPE = {"str": "a string", "path": "a path", "int": "a whole number", "float": "a number",
                 "bool": "a boolean", "boolean": "a boolean", "list": "a list", "dict": "a mapping"}
LOOKUP_TERMS = {"oos_api": "'DescribeInstances'", "oos_template": ""}
LOOKUP_BASE = {"oos_api": {"service": "ecs"}, "oos_template": {"content": GOOD_TEMPLATE}}


def lookup_type_cases() -> tuple:
    """Every option of every lookup, given values of other types: one error naming the option and its type."""
    cases = []
    for lookup in LOOKUP_TERMS:
        for option, (kind, _elements) in documented_options("lookup", lookup).items():
            for value, given in WRONG_VALUES.get(kind, ()):
                cases.append(Case(lookup, f"{option} {given}", LOOKUP_BASE[lookup] | {option: value},
                                  (option, EXPECTED_TYPE[kind], given), extra=LOOKUP_TERMS[lookup]))
    return tuple(cases)


# ---- filters: input (value) and arguments (extra) -------------------------------------------------------
FILTERS = (
    Case("jq", "malformed jq", {"a": 1}, ("jq", ".a | map("), extra="('.a | map(')"),
    Case("jq_first", "malformed jq", {"a": 1}, ("jq", ".[[["), extra="('.[[[')"),
    Case("jq_items", "malformed jq", [{"response": {"a": 1}, "item": "x"}], ("ValueSelector", ".a | ("),
         extra="('.a | (', 'String')"),
    Case("jq", "program an integer", {"a": 1}, ("jq program", "42"), extra="(42)"),
    Case("jq", "program a list", {"a": 1}, ("jq program", "['.a']"), extra="(['.a'])"),
    Case("jq_first", "program null", {"a": 1}, ("jq program", "None"), extra="(None)"),
    Case("jq", "program reads the environment", {"a": 1}, ("jq program", "env"), extra="('env.HOME')"),
    Case("fn_jq", "malformed jq", ["First", ".a | (", {"a": 1}], ("fn_jq", "Fn::Jq")),
    Case("fn_jq", "unknown method", ["Most", ".a", {"a": 1}], ("Fn::Jq", "Most")),
    Case("fn_join", "not a list", 5, ("Fn::Join",)),
    Case("fn_split", "wrong arity", ["-"], ("Fn::Split",)),
    Case("fn_select", "wrong type", [5, {"a": 1}], ("Fn::Select",)),
    Case("fn_equals", "wrong arity", ["a"], ("Fn::Equals",)),
    Case("fn_not", "not a boolean", "perhaps", ("Fn::Not",)),
    Case("fn_and", "not a list", "yes", ("Fn::And",)),
    Case("fn_or", "not a list", "yes", ("Fn::Or",)),
    Case("fn_if", "wrong arity", [True, "x"], ("Fn::If",)),
    Case("fn_replace", "wrong type", ["x", "text"], ("Fn::Replace",)),
    Case("fn_base64encode", "wrong arity", ["a", "b"], ("Fn::Base64Encode",)),
    Case("fn_base64decode", "not Base64", "%%%", ("Fn::Base64Decode",)),
    Case("fn_mergelist", "not a list", "a", ("Fn::MergeList",)),
    Case("fn_mergemap", "not maps", ["a", "b"], ("Fn::MergeMap",)),
    Case("fn_mergemaptolist", "not a map", "a", ("Fn::MergeMapToList",)),
    Case("fn_convertmaptolist", "not a map", "a", ("Fn::ConvertMapToList",)),
    Case("fn_listjoin", "not a list", 5, ("Fn::ListJoin",)),
    Case("fn_min", "not numbers", ["a", "b"], ("Fn::Min",)),
    Case("fn_max", "not numbers", ["a", "b"], ("Fn::Max",)),
    Case("fn_sum", "not numbers", ["a", "b"], ("Fn::Sum",)),
    Case("fn_first", "not a list", 5, ("Fn::First",)),
    Case("fn_last", "not a list", 5, ("Fn::Last",)),
    Case("fn_intersection", "not lists", [1, 2], ("Fn::Intersection",)),
    Case("fn_union", "not lists", [1, 2], ("Fn::Union",)),
    Case("fn_difference", "not lists", [1, 2], ("Fn::Difference",)),
    Case("fn_calculatebatch", "not numbers", ["a", "b"], ("Fn::CalculateBatch",)),
    Case("fn_formatutctime", "bad time", ["not a time", "%Y"], ("fn_formatutctime", "not a time")),
    Case("fn_addhour", "bad time", ["not a time", 1], ("fn_addhour", "not a time")),
    Case("fn_durationbetween", "bad time", ["not a time", "2024-01-01T00:00:00Z"], ("fn_durationbetween", "not a time")),
    Case("fn_sub", "wrong arity", ["x"], ("Fn::Sub",)),
    Case("fn_containssubstring", "wrong arity", ["x"], ("fn_containssubstring", "2 arguments")),
    Case("fn_rangeselect", "wrong type", ["x", "y", "z"], ("Fn::RangeSelect",)),
    Case("fn_mapjoin", "not a map", 5, ("Fn::MapJoin",)),
    Case("fn_eval", "malformed expression", "1 +", ("Fn::Eval",)),
    Case("oos_fn", "unknown function", {"Fn::Teleport": [1]}, ("Fn::Teleport",)),
    Case("oos_render", "context not a map", "{{ name }}", ("oos_render", "context"), extra="('nope')"),
    Case("targets_to_filters", "unknown Type", {"Type": "Everything"}, ("Type", "Everything")),
    Case("targets_to_pattern", "not a map", "web", ("targets_to_pattern", "targets")),
    Case("hosts_to_targets", "not a list", 5, ("hosts",)),
    Case("rate_control_to_serial", "bad Concurrency", {"Mode": "Concurrency", "Concurrency": "many"}, ("Concurrency",),
         extra="(10)"),
    Case("rate_control_to_throttle", "unknown Mode", {"Mode": "Sometimes"}, ("Mode", "Sometimes"), extra="(10)"),
    Case("max_errors_to_fail_percentage", "bad MaxErrors", {"Mode": "Concurrency", "MaxErrors": "lots"},
         ("MaxErrors",), extra="(10)"),
    Case("rate_control_to_play", "not a map", "fast", ("rate_control",), extra="(10)"),
    Case("max_errors_allowed", "bad MaxErrors", {"Mode": "Concurrency", "MaxErrors": "lots"}, ("MaxErrors",),
         extra="(10)"),
    Case("per_host", "not a task result", "text", ("per_host",), extra="('i-1')"),
)
# Run-time filters of generated playbooks: the converter is their only caller (tested in tests/integration).
CONVERTER_RUNTIME_FILTERS = "oos_"

# ---- the inventory: one configuration file per case -------------------------------------------------------
INVENTORY = (
    ("unknown key", "plugin: alicloud.oos.ecs\ncolour: red\n", ("colour",)),
    ("invalid type", "plugin: alicloud.oos.ecs\nregions: {cn-hangzhou: 1}\n", ("regions",)),
    ("regions not a list of strings", "plugin: alicloud.oos.ecs\nregions: [{a: 1}]\n", ("regions",)),
    ("bad filters", "plugin: alicloud.oos.ecs\nfilters: [Status=Running]\n", ("filters",)),
    ("unknown hostnames source", "plugin: alicloud.oos.ecs\nhostnames: [serial_number_of_the_moon]\n", ("hostnames",)),
    ("YAML syntax error", "plugin: alicloud.oos.ecs\nregions: [cn-hangzhou\n", ("yml",)),
    # Wrong types: Ansible read 'maybe' as false and an integer secret as its text.
    ("strict not a boolean", "plugin: alicloud.oos.ecs\nstrict: maybe\n", ("strict", "a boolean", "a string")),
    ("use_extra_vars an integer", "plugin: alicloud.oos.ecs\nuse_extra_vars: 7\n", ("use_extra_vars", "a boolean")),
    ("secret_key an integer", "plugin: alicloud.oos.ecs\nsecret_key: 5\naccess_key: LTAI5t\n",
     ("secret_key", "a string", "an integer")),
    ("cache_timeout not a number", "plugin: alicloud.oos.ecs\ncache_timeout: soon\n", ("cache_timeout", "int")),
    ("hostvars_prefix a list", "plugin: alicloud.oos.ecs\nhostvars_prefix: [a]\n", ("hostvars_prefix",)),
    ("compose a list", "plugin: alicloud.oos.ecs\ncompose: [a]\n", ("compose",)),
    ("keyed_groups a mapping", "plugin: alicloud.oos.ecs\nkeyed_groups: {a: 1}\n", ("keyed_groups",)),
    ("leading_separator a list", "plugin: alicloud.oos.ecs\nleading_separator: [x]\n", ("leading_separator",)),
    ("hostnames items not strings", "plugin: alicloud.oos.ecs\nhostnames: [{a: 1}]\n", ("hostnames",)),
)


# ---- the harness -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quiet_emulator():
    emulator = start_emulator("--instances", "2", "--seed", "1")
    yield emulator
    emulator.stop()


def as_yaml(value) -> str:
    """JSON is YAML; text holding OOS references is marked !unsafe so Ansible leaves it alone."""
    if isinstance(value, str) and "{{" in value:
        return "!unsafe " + json.dumps(value)
    return json.dumps(value)


def case_id(kind: str, case: Case) -> str:
    return f"{kind} {case.plugin}: {case.what}"


def task_for(kind: str, case: Case, index: int) -> str:
    if kind == "module":
        body = f"  alicloud.oos.{case.plugin}: {json.dumps(case.value)}\n"
    elif kind == "lookup":
        terms = f"{case.extra}, " if case.extra else ""
        kwargs = ", ".join(f"{k}=args.{k}" for k in case.value)
        body = (f"  vars: {{args: {json.dumps(case.value)}}}\n"
                f"  ansible.builtin.debug: {{msg: \"{{{{ lookup('alicloud.oos.{case.plugin}', {terms}{kwargs}) }}}}\"}}\n")
    else:
        body = (f"  vars: {{value: {as_yaml(case.value)}}}\n"
                f"  ansible.builtin.debug: {{msg: \"{{{{ value | alicloud.oos.{case.plugin}{case.extra} }}}}\"}}\n")
    # After each case, the emulator's call count (a local HTTP read of the control API, not a cloud call).
    count = (f"- name: calls after case {index}\n"
             f"  ansible.builtin.uri: {{url: \"{{{{ emulator_url }}}}/_emulator/stats\", return_content: true}}\n"
             f"  register: calls_{index}\n")
    return f"- name: case {index}\n{body}  register: case_{index}\n  ignore_errors: true\n" + count


def run_matrix(kind: str, cases: tuple, emulator, playbook) -> dict:
    """``{case id: (registered result, API calls the case made, the run's output)}``."""
    tasks = "".join(task_for(kind, case, n) for n, case in enumerate(cases))
    collect = ", ".join(f"'{n}': [case_{n}, calls_{n}.json.total_calls]" for n in range(len(cases)))
    text = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
            + "".join("    " + line + "\n" for line in tasks.splitlines())
            + "    - name: Save for the test\n      ansible.builtin.copy:\n"
              "        dest: \"{{ results_file }}\"\n        mode: \"0600\"\n"
              f"        content: \"{{{{ {{{collect}}} | to_json }}}}\"\n")
    emulator.control("stats/reset", {}, method="POST")
    run = playbook(text, emulator.env, extra_vars={"emulator_url": emulator.url})
    assert run.rc == 0, run.output[-3000:]
    outcome, before = {}, 0
    for n, case in enumerate(cases):
        result, total = run.results[str(n)]
        outcome[case_id(kind, case)] = (result, total - before, run.output)
        before = total
    return outcome


def check(case_id: str, result: dict, names: tuple) -> None:
    assert result.get("failed"), f"{case_id}: did not fail: {result}"
    message = str(result.get("msg", ""))
    assert not any(marker in message for marker in CRASH_MARKERS), f"{case_id}: crashed: {message}"
    # ansible-core 2.19 marks every failure without a Python exception '(traceback unavailable)'.
    assert not result.get("module_stderr"), f"{case_id}: {result}"
    assert result.get("exception") in (None, "(traceback unavailable)"), f"{case_id}: {result}"
    missing = [n for n in names if n not in message]
    assert not missing, f"{case_id}: message does not name {missing}: {message}"


class LookupTypeCases:
    """``lookup_type_cases()``, generated when first iterated (it reads the lookups' documentation)."""

    _cases = None

    def __iter__(self):
        if LookupTypeCases._cases is None:
            LookupTypeCases._cases = lookup_type_cases()
        return iter(LookupTypeCases._cases)


KINDS = {"module": MODULES, "lookup": LOOKUPS, "lookup option types": LookupTypeCases(), "filter": FILTERS}


@pytest.mark.heavy(40)
# One ansible-playbook per kind (a test each, so `pytest -n 2` spreads them); every case is checked and the
# failures are compared with the known defects: a defect that gets fixed fails the test until its mark goes.
@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_fails_clearly_and_sends_nothing(kind, quiet_emulator, playbook):
    cases = tuple(KINDS[kind])
    kind = "lookup" if kind.startswith("lookup") else kind
    outcome = run_matrix(kind, cases, quiet_emulator, playbook)
    problems = {}
    for case in cases:
        name = case_id(kind, case)
        result, calls, output = outcome[name]
        try:
            check(name, result, case.names)
            assert calls == 0, f"{name}: {calls} API call(s) sent"
        except AssertionError as error:
            problems[name] = str(error).splitlines()[0]
    assert "Traceback" not in next(iter(outcome.values()))[2]
    unexpected = {name: problem for name, problem in problems.items()
                  if not next(c for c in cases if case_id(kind, c) == name).defect}
    assert not unexpected, "\n".join(unexpected.values())
    fixed = [case_id(kind, c) for c in cases if c.defect and case_id(kind, c) not in problems]
    assert not fixed, f"fixed, remove their defect= note: {fixed}"


@pytest.mark.parametrize("what, config, names", INVENTORY, ids=[c[0] for c in INVENTORY])
def test_inventory_bad_configuration(what, config, names, quiet_emulator, tmp_path):
    source = tmp_path / "bad.ecs.yml"
    source.write_text(config)
    quiet_emulator.control("stats/reset", {}, method="POST")
    env = quiet_emulator.env | {"ANSIBLE_INVENTORY_ENABLED": "alicloud.oos.ecs", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Traceback" not in output and "unhandled exception" not in output.lower(), output
    missing = [n for n in names if n not in output]
    assert not missing, f"message does not name {missing}: {output}"
    assert quiet_emulator.stats()["total_calls"] == 0


def plugin_names(kind: str) -> set[str]:
    folder = REPO_ROOT / "plugins" / kind
    return {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}


def test_every_plugin_is_in_the_matrix():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.alicloud.oos.plugins.filter import per_host, rate_control, targets
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters as impl

    filters = set(impl.all_filters(AnsibleFilterError))
    for module in (per_host, rate_control, targets):
        filters |= set(module.FilterModule().filters())
    user_filters = {f for f in filters if not f.startswith(CONVERTER_RUNTIME_FILTERS)} | {"oos_fn", "oos_render"}
    assert plugin_names("modules") == {c.plugin for c in MODULES}
    assert plugin_names("lookup") == {c.plugin for c in LOOKUPS}
    assert user_filters == {c.plugin for c in FILTERS}
    assert plugin_names("inventory") == {"ecs"} and INVENTORY
