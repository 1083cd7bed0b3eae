# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``become`` over Cloud Assistant: RunCommand runs a script as any account of the instance
(``Username``), so switching user needs neither sudo nor a password. The ``cloud_assistant``
connection wraps the task's become plugin in :class:`UsernameBecome`:

* in ``username`` mode, for the methods that only switch user (``sudo``, ``su``), the command is
  not wrapped (``build_become_command`` returns it unchanged) and the connection runs the whole
  task as ``become_user``: it reports that account as its ``remote_user``, so its temporary
  files, transfers and module belong to it and Ansible needs no ACL or chown for an unprivileged
  become user.
* in ``command`` mode, or for other methods, the become plugin works as usual (sudo on the
  instance); a password cannot be typed in (no terminal, no stdin), see :func:`password_problem`.
"""
from __future__ import annotations

USER_SWITCH_METHODS = ("sudo", "su")


def method_name(plugin) -> str:
    name = getattr(plugin, "name", None) or getattr(plugin, "_load_name", "") or ""
    return name.rsplit(".", 1)[-1]


class UsernameBecome:
    """A become plugin seen through the connection's ``become_mode`` (see the module docstring)."""

    def __init__(self, plugin, mode):
        object.__setattr__(self, "_plugin", plugin)
        object.__setattr__(self, "_mode", mode)    # callable: the connection's become_mode option

    def __getattr__(self, name):
        return getattr(self._plugin, name)

    def __setattr__(self, name, value):
        setattr(self._plugin, name, value)

    @property
    def plugin(self):
        return self._plugin

    @property
    def as_username(self) -> bool:
        return self._mode() == "username" and method_name(self._plugin) in USER_SWITCH_METHODS

    def build_become_command(self, cmd, shell):
        if self.as_username:
            return cmd
        return self._plugin.build_become_command(cmd, shell)

    def expect_prompt(self) -> bool:
        return False if self.as_username else self._plugin.expect_prompt()


def password_problem(become) -> str | None:
    """Why a become command cannot work here (it would wait for a password nobody can type), or None."""
    if become is None or (isinstance(become, UsernameBecome) and become.as_username):
        return None
    try:
        password = become.get_option("become_pass")
    except KeyError:
        password = None
    if password or become.expect_prompt():
        return (f"the {method_name(become)} become method asks for a password, which Cloud Assistant cannot pass "
                "(no terminal, no stdin, and the command text is kept by the service): use become_mode=username "
                "(the default, for sudo and su), or passwordless sudo (NOPASSWD) on the instance")
    return None
