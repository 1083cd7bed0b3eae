"""Selectors read only the document: hostile jq programs at every entry point, run as a user would.

A ValueSelector often comes from a template someone else wrote, and its value ends up in outputs, tags and
logs. Each program below tries to read the controller (environment, files, modules, ~/.jq, clock zone) or
to write beside its result; every entry point must refuse it with a message naming the option and the
builtin, before any API call, and the secrets and canaries must appear nowhere in the -vvvv output.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO_ROOT, clean_environment

SECRET = "HostileSelectorSecret0123456789abcdef"
CANARY = "canary-from-the-controller-7b1e"

# (jq program, the name the refusal must give). {home} is a directory holding ~/.jq, a module and a data file.
HOSTILE = (
    ("$ENV.ALICLOUD_SECRET_KEY", "$ENV"),
    ("env.ALICLOUD_SECRET_KEY", "env"),
    ('"key=\\(env.ALICLOUD_SECRET_KEY)"', "env"),           # inside a string interpolation
    ("{$ENV} | tostring", "$ENV"),
    ("[.[] | env]", "env"),
    ("$__loc__", "$__loc__"),
    ("input_filename", "input_filename"),
    ("input_line_number", "input_line_number"),
    ("input", "input"),
    ("[inputs]", "inputs"),
    ('import "leak" as $leak {search: "{home}"}; $leak', "import"),
    ('include "leak" {search: "{home}"}; leaked', "include"),
    ('"leak" | modulemeta', "modulemeta"),
    ("get_search_list", "get_search_list"),
    ("get_prog_origin", "get_prog_origin"),
    ("get_jq_origin", "get_jq_origin"),
    ("[home_canary]", "home_canary"),                        # defined in ~/.jq: libjq must not load it
    ('debug("x")', "debug"),
    ("stderr", "stderr"),
    ('"x" | halt_error', "halt_error"),
    ("halt", "halt"),
    ("now | localtime", "localtime"),
    ('now | strflocaltime("%Z")', "strflocaltime"),
)
# What a selector may still do: the document's own keys named like builtins, and UTC time.
ALLOWED = (
    ("{env: .Env, input: .Input} | tostring", '{"env":"doc-env","input":"doc-input"}'),
    (".env", "doc-lower"),
    ('"$ENV and env stay text"', "$ENV and env stay text"),
    ("now | type", "number"),
    ("0 | todate", "1970-01-01T00:00:00Z"),
)
DOCUMENT = {"Env": "doc-env", "Input": "doc-input", "env": "doc-lower"}


def controller_home(tmp_path: Path) -> Path:
    """A HOME whose ~/.jq, module and data file would each put the canary into a selector's result."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".jq").write_text(f'def home_canary: "{CANARY}";\n')
    (home / "leak.json").write_text(json.dumps({"canary": CANARY}))
    (home / "leak.jq").write_text(f'def leaked: "{CANARY}";\n')
    return home


def user_environment(emulator, home: Path) -> dict:
    return emulator.env | {"ALICLOUD_SECRET_KEY": SECRET, "HOME": str(home), "ALICLOUD_OOS_TEST_CANARY": CANARY}


ENTRY_POINTS = """
- hosts: localhost
  gather_facts: false
  vars_files: [selectors.yml]
  tasks:
    - name: module outputs value_selector
      alicloud.oos.oos_execute_api:
        service: ecs
        api: DescribeInstances
        outputs: {leak: {value_selector: "{{ item }}", type: String}}
      loop: "{{ programs }}"
      register: module_outputs
      ignore_errors: true
    - name: module wait_for property_selector
      alicloud.oos.oos_execute_api:
        service: ecs
        api: DescribeInstances
        wait_for: {property_selector: "{{ item }}", desired_values: [x], retries: 1}
      loop: "{{ programs }}"
      register: module_wait
      ignore_errors: true
    - name: oos_api lookup value_selector
      ansible.builtin.debug:
        msg: "{{ lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ecs', value_selector=item) }}"
      loop: "{{ programs }}"
      register: lookup_value_selector
      ignore_errors: true
    - name: jq filter
      ansible.builtin.debug: {msg: "{{ document | alicloud.oos.jq(item) }}"}
      loop: "{{ programs }}"
      register: jq_filter
      ignore_errors: true
    - name: jq_first filter
      ansible.builtin.debug: {msg: "{{ document | alicloud.oos.jq_first(item) }}"}
      loop: "{{ programs }}"
      register: jq_first_filter
      ignore_errors: true
    - name: Fn::Jq through fn_jq
      ansible.builtin.debug: {msg: "{{ ['First', item, document] | alicloud.oos.fn_jq }}"}
      loop: "{{ programs }}"
      register: fn_jq
      ignore_errors: true
    - name: Fn::Jq through oos_fn
      ansible.builtin.debug: {msg: "{{ {'Fn::Jq': ['All', item, document]} | alicloud.oos.oos_fn }}"}
      loop: "{{ programs }}"
      register: oos_fn
      ignore_errors: true
    - name: Allowed programs, through the jq filter
      ansible.builtin.set_fact:
        allowed: "{{ allowed | default([]) + [document | alicloud.oos.jq_first(item)] }}"
      loop: "{{ allowed_programs }}"
    - name: Save for the test
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        mode: "0600"
        content: "{{ {'module_outputs': module_outputs, 'module_wait': module_wait, 'lookup_value_selector': lookup_value_selector,
                      'jq_filter': jq_filter, 'jq_first_filter': jq_first_filter, 'fn_jq': fn_jq, 'oos_fn': oos_fn,
                      'allowed': allowed} | to_json }}"
"""
# Where each entry point names the program it refuses.
FIELDS = {"module_outputs": "outputs.leak.value_selector", "module_wait": "wait_for.property_selector",
          "lookup_value_selector": "value_selector", "jq_filter": "jq program", "jq_first_filter": "jq program",
          "fn_jq": "Fn::Jq", "oos_fn": "Fn::Jq"}


def unsafe_yaml(data) -> str:
    """Vars whose strings are data: !unsafe, so Jinja never reads them."""
    class Unsafe(str):
        pass
    dumper = yaml.SafeDumper
    dumper.add_representer(Unsafe, lambda d, v: d.represent_scalar("!unsafe", str(v), style='"'))

    def mark(value):
        if isinstance(value, str):
            return Unsafe(value)
        if isinstance(value, list):
            return [mark(v) for v in value]
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        return value
    return yaml.dump(mark(data), Dumper=dumper)


def leaks(text: str) -> list:
    return [s for s in (SECRET, CANARY) if s in text]


@pytest.mark.heavy(60)
def test_hostile_selectors_are_refused_at_every_entry_point(emulator_factory, tmp_path):
    emulator = emulator_factory("--instances", "2", "--seed", "3", "--access-key-secret", SECRET)
    home = controller_home(tmp_path)
    programs = [program.replace("{home}", str(home)) for program, _name in HOSTILE]
    (tmp_path / "selectors.yml").write_text(unsafe_yaml({
        "programs": programs, "document": DOCUMENT, "allowed_programs": [p for p, _unused in ALLOWED]}))
    (tmp_path / "site.yml").write_text(ENTRY_POINTS)
    results_file = tmp_path / "results.json"
    emulator.control("stats/reset", {}, method="POST")
    proc = subprocess.run([str(BIN / "ansible-playbook"), str(tmp_path / "site.yml"), "-vvvv",
                           "-e", json.dumps({"results_file": str(results_file)})],
                          cwd=REPO_ROOT, env=user_environment(emulator, home), capture_output=True, text=True,
                          timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    results = json.loads(results_file.read_text())

    problems = []
    for entry, field in FIELDS.items():
        items = results[entry]["results"]
        assert len(items) == len(HOSTILE)
        for (program, name), item in zip(HOSTILE, items):
            message = str(item.get("msg", ""))
            if not item.get("failed"):
                problems.append(f"{entry} {program!r}: not refused: {item}")
            elif name not in message or field not in message or "Traceback" in message:
                problems.append(f"{entry} {program!r}: message does not name {field} and {name}: {message}")
    assert not problems, "\n".join(problems)
    assert results["allowed"] == [expected for _program, expected in ALLOWED]
    assert emulator.stats()["total_calls"] == 0, "a selector was refused only after the call"
    assert not leaks(output), "the controller's secret or files reached the output"
    assert "Traceback" not in output


CONVERTED_TEMPLATE = {
    "FormatVersion": "OOS-2019-06-01",
    "Description": "Reads the controller's environment into an output, then writes it into a tag",
    "Tasks": [
        {"Name": "describe", "Action": "ACS::ExecuteAPI",
         "Properties": {"Service": "ECS", "API": "DescribeInstances", "Parameters": {"MaxResults": 10}},
         "Outputs": {"instanceIds": {"Type": "List", "ValueSelector": "Instances.Instance[].InstanceId"},
                     "leak": {"Type": "String", "ValueSelector": None}}},
        {"Name": "tag", "Action": "ACS::ExecuteAPI",
         "Properties": {"Service": "ECS", "API": "TagResources",
                        "Parameters": {"ResourceType": "instance", "ResourceIds": "{{ describe.instanceIds }}",
                                       "Tags": [{"Key": "leak", "Value": "{{ describe.leak }}"}]}}},
    ],
}


@pytest.mark.heavy(30)
@pytest.mark.parametrize("where", ["ValueSelector", "Fn::Jq"])
def test_converted_template_cannot_put_the_environment_into_a_tag(where, emulator_factory, tmp_path):
    emulator = emulator_factory("--instances", "2", "--seed", "3", "--access-key-secret", SECRET)
    template = json.loads(json.dumps(CONVERTED_TEMPLATE))
    outputs = template["Tasks"][0]["Outputs"]
    if where == "ValueSelector":
        outputs["leak"]["ValueSelector"] = "$ENV.ALICLOUD_SECRET_KEY"
    else:
        outputs["leak"] = {"Type": "String", "Value": {"Fn::Jq": ["First", "env.ALICLOUD_SECRET_KEY", "{}"]}}
    source = tmp_path / "leaky.json"
    source.write_text(json.dumps(template))
    converted = tmp_path / "leaky.yml"
    convert = subprocess.run([str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={source}",
                              "-e", f"dest={converted}"], cwd=REPO_ROOT, env=clean_environment(),
                             capture_output=True, text=True, timeout=300, check=False)
    # Refused at conversion, naming where and why: nothing is written, so nothing can run.
    output = convert.stdout + convert.stderr
    assert convert.returncode != 0, output[-3000:]
    refused = "$ENV" if where == "ValueSelector" else "env"
    assert f"uses {refused}, which reads the controller's environment variables" in output, output[-3000:]
    assert where in output and "Traceback" not in output
    assert not converted.exists()
    assert not leaks(output)
    assert emulator.stats()["total_calls"] == 0
