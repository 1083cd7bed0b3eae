"""become through Cloud Assistant's Username, or through the become plugin's own command."""
from __future__ import annotations

import pytest
from ansible.plugins.loader import become_loader
from ansible.plugins.shell.sh import ShellModule

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_become import (
    UsernameBecome,
    method_name,
    password_problem,
)


def become(name, mode, **options):
    plugin = become_loader.get(name)
    plugin.set_options(direct={"become_user": "ecs-user", **options})
    return UsernameBecome(plugin, lambda: mode)


@pytest.mark.parametrize("name", ["sudo", "su"])
def test_user_switching_methods_map_to_username(name):
    proxy = become(name, "username")
    assert proxy.as_username and proxy.build_become_command("id", ShellModule()) == "id"
    assert proxy.get_option("become_user") == "ecs-user" and not proxy.expect_prompt()
    assert password_problem(proxy) is None


def test_command_mode_uses_the_plugin_and_refuses_a_password():
    proxy = become("sudo", "command")
    assert not proxy.as_username and "sudo" in proxy.build_become_command("id", ShellModule())
    assert password_problem(proxy) is None
    with_password = become("sudo", "command", become_pass="hunter2")
    problem = password_problem(with_password)
    assert "NOPASSWD" in problem and "hunter2" not in problem


def test_other_methods_keep_their_command_and_attributes_reach_the_plugin():
    proxy = become("runas", "username")
    assert not proxy.as_username
    proxy.prompt = "changed"
    assert proxy.plugin.prompt == "changed"


def test_method_names_with_or_without_collection():
    class Plugin:
        name = "ansible.builtin.su"
    assert method_name(Plugin()) == "su"
