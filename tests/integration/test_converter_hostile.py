"""Template text is data, never code: hostile strings in every position a template can hold text.

The table is ``tests/integration/converter/hostile.py`` (also rendered in docs/reliability.md). As a user
would: convert with the ``alicloud.oos.convert_template`` playbook, ``--syntax-check`` the result, run it
with ansible-playbook against the emulator, then prove that no Jinja payload created its marker file and
that every string reached the emulator exactly as the template wrote it (the emulator's request log,
Cloud Assistant invocations, a local webhook receiver, the AWX survey, the printed outputs).
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import dumper
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import mark
from tests.conftest import BIN, REPO_ROOT, clean_environment, run_playbook
from tests.integration.converter import hostile
from tests.integration.converter.webhook import receiver


def convert_with_playbook(src: Path, dest: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible-playbook"), "alicloud.oos.convert_template", "-e", f"src={src}", "-e", f"dest={dest}", *extra]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=clean_environment(), capture_output=True, text=True, timeout=300, check=False)


def markers(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir())


def sent_parameters(emulator) -> tuple[dict, list]:
    """What the emulator recorded: ({parameter name: [values]} over every request, [ListTemplates Tags mappings])."""
    found: dict = {}
    tags = []
    for request in emulator.control("requests"):
        if request["action"] == "ListTemplates":
            tags.append(json.loads(request["params"]["Tags"]))
        for name, value in request["params"].items():
            found.setdefault(name, []).append(value)
    return found, tags


def flattened(sent: dict, prefix: str) -> list:
    """A list the SDK flattened into ``prefix.1``, ``prefix.2``, ... (as every RPC client does)."""
    values, number = [], 1
    while f"{prefix}.{number}" in sent:
        values += sent[f"{prefix}.{number}"]
        number += 1
    return values


def printed_json(stdout: str, task: str, key: str = "msg"):
    match = re.search(r"TASK \[" + re.escape(task) + r"\].*?\n(?:ok|changed): \[localhost\] => (\{.*?\n\})", stdout, re.S)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))[key]


@pytest.fixture
def cloud(emulator_factory):
    return emulator_factory("--instances", "1", "--seed", "5", "--transition-seconds", "0.1")


@pytest.mark.heavy(90)
def test_hostile_text_is_data_in_every_position(tmp_path, cloud):
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    texts = [s.at(marker_dir) for s in hostile.STRINGS]
    baked = {t: f"baked_{i}" for i, t in enumerate(texts)}
    with receiver() as webhook:
        templates, named, actions = hostile.templates(marker_dir, webhook.url)
        for folder, files in (("named", named), ("actions", actions)):
            (tmp_path / folder).mkdir()
            for filename, body in files.items():
                (tmp_path / folder / filename).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        # Baked values come from a vars file, as a user who means them as data writes them (!unsafe on each
        # string: ansible-core before 2.19 reads an !unsafe mapping empty).
        bake = dumper.dump({"template_parameters": {"baked": mark(baked)}})
        assert "!unsafe 'baked_0'" in bake
        (tmp_path / "bake.yml").write_text(bake, encoding="utf-8")
        converted = []
        for name, body in templates.items():
            src, dest = tmp_path / f"{name}.json", tmp_path / f"{name}-playbook.yml"
            src.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            extra = ["-e", f"action_templates_path={tmp_path / 'actions'}",
                     "-e", json.dumps({"template_paths": [str(tmp_path / "named")]})]
            if name == "hostile-data":
                extra += ["-e", f"@{tmp_path / 'bake.yml'}"]
            proc = convert_with_playbook(src, dest, *extra)
            assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
            converted.append(dest)
        assert markers(marker_dir) == [], "converting evaluated template text"
        index = tmp_path / "all.yml"
        index.write_text("---\n" + "".join(f"- name: Import {p.name}\n  ansible.builtin.import_playbook: {p}\n"
                                           for p in converted))

        env = cloud.env
        syntax = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(index)], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=300, check=False)
        assert syntax.returncode == 0, (syntax.stdout + syntax.stderr)[-3000:]
        assert markers(marker_dir) == [], "--syntax-check evaluated template text"

        instance = cloud.instances()[0]["InstanceId"]
        result = run_playbook(index, env, extra_vars={"instanceId": instance})
        assert result.rc == 0, result.output[-5000:]
        assert markers(marker_dir) == [], "the run evaluated template text"
        posts = list(webhook.posts)

    sent, tags = sent_parameters(cloud)
    indexes = range(len(texts))
    # Parameter Defaults (String, List, Json keys), property values at depth 1 to 3 and in Fn::Join, property keys.
    assert [sent[f"default_{i}"] for i in indexes] == [[t] for t in texts]
    assert flattened(sent, "default_list") == texts
    assert {t: f"default_json_{i}" for i, t in enumerate(texts)} in tags
    assert [sent[f"property_{i}"] for i in indexes] == [[t] for t in texts]
    assert flattened(sent, "property_deep.level2.level3") == texts
    assert sent["property_join"] == ["|".join(texts)]
    assert {t: f"property_key_{i}" for i, t in enumerate(texts)} in tags
    assert [sent[t] for t in texts if hostile.signable_name(t)] == [
        [f"property_key_{i}"] for i in indexes if hostile.signable_name(texts[i])]
    # ValueSelectors, loop items, values baked with parameters=.
    assert [sent[f"value_selector_{i}"] for i in indexes] == [[t] for t in texts]
    assert sorted(sent["loop_item"]) == sorted(texts)
    assert baked in tags
    # When and Choice conditions compared the texts as they are: the guarded task ran.
    assert all(f"when_{i}" in sent for i in indexes)
    # Nested template (TemplateContent), template found by name, inlined product action: given values passed
    # the AllowedValues check and reached the API, as did the child's own Defaults and literals.
    for position in ("nested", "named", "action"):
        assert [sent[f"{position}_{i}"] for i in indexes] == [[t] for t in texts], position
        assert [sent[f"{position}_literal_{i}"] for i in indexes] == [[t] for t in texts], position
        assert flattened(sent, f"{position}_default") == texts, position
    # A looped nested template: one child per item, given its item and the same values, sending its literals.
    assert sorted(sent["looped_nested_item"]) == sorted(texts)
    for name in ("looped_nested", "looped_nested_literal"):
        assert [sent[f"{name}_{i}"] for i in indexes] == [[t] * len(texts) for t in texts], name
    assert sorted(flattened(sent, "looped_nested_default")) == sorted(texts * len(texts))
    # commandContent, as Cloud Assistant recorded the command.
    commands = [invocation["CommandContent"] for invocation in cloud.control("invocations")]
    assert commands == [hostile.command_content(texts), hostile.command_content([t for t in texts if "{{" not in t])]
    # Webhook content.
    assert [p["body"] for p in posts] == [{"texts": texts, "keys": {t: i for i, t in enumerate(texts)}}]
    # Template Outputs (names and values) as the run printed them.
    shown = printed_json(result.stdout, "Show the template outputs")
    assert shown["status"] == "Success" and shown["outputs"] == {t: t for t in texts}
    # The TimerTrigger note shows the expression as the template wrote it.
    note = printed_json(result.stdout, "Timer | trigger (run this playbook from a schedule)")
    assert note.startswith("OOS TimerTrigger: schedule cron " + "\n".join(texts) + " (" + texts[0] + ")")
    # Labels and Descriptions: the AWX survey, byte for byte.
    survey = json.loads((tmp_path / "hostile-data-playbook.survey.json").read_text(encoding="utf-8"))
    questions = {q["variable"]: q for q in survey["spec"]}
    assert [questions[f"p{i}"]["question_name"] for i in indexes] == texts
    assert [questions[f"p{i}"]["question_description"] for i in indexes] == texts


def test_hostile_documents_are_refused_at_conversion(tmp_path):
    """Every document of the table through the lookup, in one ansible-playbook run: refused (or converted) as listed."""
    for document in hostile.DOCUMENTS:
        (tmp_path / f"{document.id}.yml").write_text(hostile.DOCUMENT_TEXT[document.id], encoding="utf-8")
    playbook = f"""
    - name: Convert each hostile document
      hosts: localhost
      gather_facts: false
      tasks:
        - name: Convert
          ansible.builtin.set_fact:
            converted: "{{{{ lookup('alicloud.oos.oos_template', '{tmp_path}/' ~ item ~ '.yml', output='survey') }}}}"
          loop: {json.dumps([d.id for d in hostile.DOCUMENTS])}
          register: attempts
          ignore_errors: true
        - name: Save what each conversion said
          ansible.builtin.copy:
            content: "{{{{ attempts.results | map(attribute='msg', default='') | list | zip(attempts.results
              | map(attribute='ansible_facts', default={{}}) | list) | list | to_json }}}}"
            dest: "{{{{ results_file }}}}"
            mode: "0600"
    """
    started = time.monotonic()
    result = run_playbook(playbook, clean_environment())
    elapsed = time.monotonic() - started
    assert result.rc == 0, result.output[-3000:]
    outcomes = result.results
    assert "Traceback" not in result.output
    for document, (message, facts) in zip(hostile.DOCUMENTS, outcomes):
        if document.outcome == "converted":
            assert not message, (document.id, message)
            defaults = {q["variable"]: q.get("default") for q in facts["converted"]["spec"]}
            assert defaults == {"base": "anchored", "copy": "anchored", "merged": "merged"}
        else:
            assert document.outcome in message, (document.id, message)
    assert elapsed < 60, elapsed
