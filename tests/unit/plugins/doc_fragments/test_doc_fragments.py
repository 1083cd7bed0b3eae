"""The doc fragments are literal YAML (ansible-doc and the sanity tests read them without running code) that
must say what the code does: the common options of ``module_utils.auth.AUTH_OPTIONS`` and the polling
options of ``module_utils.waiter.poll_option_docs``, from which the argument specs are built."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from ansible_collections.alicloud.oos.plugins.doc_fragments import auth, wait
from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS
from ansible_collections.alicloud.oos.plugins.module_utils.waiter import poll_option_docs

REPO = Path(__file__).resolve().parents[4]
FRAGMENTS = REPO / "plugins" / "doc_fragments"


def documented_option(spec: dict, *, modules: bool) -> dict:
    """What the fragment must document for one AUTH_OPTIONS entry."""
    description = list(spec["description"])
    if modules and spec.get("env"):
        # Modules read the environment through env_fallback: the first variable set wins.
        description.append("Environment: " + ", ".join(f"C({v})" for v in spec["env"]) + " (first one set wins).")
    doc = {"description": description, "type": spec["type"]}
    for key in ("aliases", "default"):
        if key in spec:
            doc[key] = spec[key]
    if not modules and spec.get("env"):
        # Ansible's config system lets the LAST variable set win: listed reversed, the first still wins.
        doc["env"] = [{"name": v} for v in reversed(spec["env"])]
    return doc


def test_auth_fragment_for_modules_documents_the_auth_table():
    doc = yaml.safe_load(auth.ModuleDocFragment.DOCUMENTATION)
    assert doc["options"] == {name: documented_option(spec, modules=True) for name, spec in AUTH_OPTIONS.items()}


def test_auth_fragment_for_plugins_documents_the_auth_table_with_env_entries():
    doc = yaml.safe_load(auth.ModuleDocFragment.PLUGINS)
    assert doc["options"] == {name: documented_option(spec, modules=False) for name, spec in AUTH_OPTIONS.items()}


def test_auth_fragments_share_notes_and_name_the_runtime_requirements():
    modules = yaml.safe_load(auth.ModuleDocFragment.DOCUMENTATION)
    plugins = yaml.safe_load(auth.ModuleDocFragment.PLUGINS)
    assert modules["notes"] == plugins["notes"] and modules["requirements"] == plugins["requirements"]
    lower_bounds = dict(re.findall(r"^(alibabacloud-[\w-]+)>=(\S+)", (REPO / "requirements.txt").read_text(), re.M))
    assert modules["requirements"] == [f"{name} >= {version}" for name, version in lower_bounds.items()]
    for option in re.findall(r"O\((\w+)\)", " ".join(modules["notes"])):
        assert option in AUTH_OPTIONS, f"the notes name an unknown option {option}"


def test_wait_fragment_documents_the_poll_options_the_argument_spec_is_built_from():
    options = yaml.safe_load(wait.ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(options) == {"wait_for", "check_for"}
    assert options["wait_for"]["suboptions"] == poll_option_docs(single_check=False)
    assert options["check_for"]["suboptions"] == poll_option_docs(single_check=True)
    assert options["wait_for"]["type"] == options["check_for"]["type"] == "dict"


def test_every_fragment_is_a_literal_string():
    """ansible-test's yamllint reads the class attributes of a fragment without importing it."""
    for path in sorted(FRAGMENTS.glob("*.py")):
        tree = ast.parse(path.read_text())
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assert [c.name for c in classes] == ["ModuleDocFragment"], path.name
        for statement in classes[0].body:
            if isinstance(statement, ast.Assign):
                assert isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str), \
                    f"{path.name}: {ast.unparse(statement.targets[0])} is not a literal string"
                yaml.safe_load(statement.value.value)
