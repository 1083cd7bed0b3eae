"""plugin_utils/ansible_internals.py fails loudly when ansible-core moved what batching relies on."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils import ansible_internals as internals
from ansible_collections.alicloud.oos.plugins.plugin_utils.batch_membership import has_template


def test_a_missing_internal_names_itself_and_the_way_out():
    with pytest.raises(internals.AnsibleInternalsChanged) as raised:
        internals.task_uuid(SimpleNamespace())
    assert "Task._uuid" in str(raised.value) and "batch: false" in str(raised.value)


def test_a_task_without_a_play_is_not_guessed():
    orphan = SimpleNamespace(_parent=SimpleNamespace(_parent=None, _play=None))
    with pytest.raises(internals.AnsibleInternalsChanged, match="Block._play"):
        internals.play_of(orphan)


def test_hostvars_without_a_variable_manager_fail_loudly():
    task = SimpleNamespace(_parent=SimpleNamespace(_parent=None, _play=SimpleNamespace(strategy="linear")))
    with pytest.raises(internals.AnsibleInternalsChanged, match="HostVars._variable_manager"):
        internals.HostVariables(task, {"hostvars": {}})


def test_names_in_templates_sees_keys_values_and_nested_lists():
    names = internals.names_in_templates({"a": "{{ ansible_host }}", "{{ key_var }}": ["x", "{% if y %}z{% endif %}"]},
                                         "plain ansible_user")
    assert {"ansible_host", "key_var", "y"} <= names and "ansible_user" not in names
    assert "ansible_host" in internals.UNKNOWABLE_VARIABLES and "ansible_failed_hosts" in internals.UNKNOWABLE_VARIABLES


@pytest.mark.parametrize("value, expected", [
    ("plain", False), ("{{ x }}", True), ({"k": ["{% if a %}"]}, True), ({"{{ k }}": 1}, True), ([1, 2], False),
])
def test_has_template(value, expected):
    assert has_template(value) is expected
