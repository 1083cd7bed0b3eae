# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: cloud_assistant
short_description: Run Ansible on ECS instances through Cloud Assistant, without SSH
version_added: 0.2.0
description:
  - "Runs every task on an ECS instance through Cloud Assistant (C(RunCommand), C(SendFile)): no SSH, no
    public IP, no bastion, no bucket, no extra binary; only an AccessKey (or a RAM role) that may call the
    Cloud Assistant API, and the Cloud Assistant agent on the instance (public images have it)."
  - Commands run as C(root) unless O(remote_user) is set. C(become) with the C(sudo) or C(su) method runs the
    privileged commands as C(become_user) through Cloud Assistant's own C(Username) (no sudo, no password on
    the instance); see O(become_mode).
  - stdout, stderr and the exit code come back apart and whole, whatever their size (outputs over the 24 KB
    that Cloud Assistant keeps are read back in pieces). Files are sent and fetched in pieces within the API
    limits, checked by SHA-256.
  - "Modules are pipelined: the payload, its run and its clean-up take one C(RunCommand) (plus polls). The
    module code (the same for every task of a module) is sent once per instance and account with C(SendFile)
    and kept in C(~/.ansible/cloud_assistant) on the instance; the task's arguments travel with each command
    and are never kept."
  - A host whose instance is not running, whose agent is missing or offline, or that the API cannot reach is
    C(unreachable), with a message that says what to do. API throttling and transient errors are retried.
  - Linux instances (C(RunShellScript)). Windows instances (C(RunPowerShellScript)) are not supported yet.
  - See docs/connection.md for the limits of Cloud Assistant, the calls per task, and AWX.
author:
  - alicloud.oos contributors (!UNKNOWN)
notes:
  - Everything a command carries (for a module, its arguments) is stored by Cloud Assistant with the
    invocation (C(DescribeInvocations) shows it for weeks) and, for files, with the C(SendFile) record. Use
    C(no_log) and a RAM policy that restricts C(ecs:DescribeInvocations) and C(ecs:DescribeSendFileResults)
    when tasks carry secrets.
  - "RAM permissions: C(ecs:RunCommand), C(ecs:DescribeInvocationResults), C(ecs:SendFile),
    C(ecs:DescribeSendFileResults), C(ecs:DescribeCloudAssistantStatus), C(ecs:StopInvocation)."
extends_documentation_fragment:
  - alicloud.oos.auth.connection
options:
  instance_id:
    description:
      - The ECS instance id (V(i-...)) of the host.
      - Defaults to the host variable C(instance_id) set by the M(alicloud.oos.ecs) inventory plugin, then to the
        host's C(ansible_host) or name when it is an instance id.
      - The region is O(region) (the inventory's C(region_id) host variable).
    type: str
    vars:
      - name: instance_id
      - name: ansible_cloud_assistant_instance_id
  remote_user:
    description:
      - The account of the instance that runs the commands (RunCommand C(Username)). Defaults to C(root), as
        Cloud Assistant does.
    type: str
    env:
      - name: ANSIBLE_REMOTE_USER
    ini:
      - section: defaults
        key: remote_user
    vars:
      - name: ansible_user
      - name: ansible_cloud_assistant_user
    cli:
      - name: user
    keyword:
      - name: remote_user
  become_mode:
    description:
      - How C(become) switches to C(become_user).
      - V(username) runs the privileged commands as C(become_user) through RunCommand's C(Username), for the C(sudo)
        and C(su) become methods (other methods use their command). No sudo configuration or password is needed.
      - V(command) wraps the commands with the become method (for example sudo) as usual, run as O(remote_user);
        the method must not ask for a password (for sudo, C(NOPASSWD)), since nothing can answer it.
    type: str
    choices: [username, command]
    default: username
    vars:
      - name: ansible_cloud_assistant_become_mode
  command_timeout:
    description:
      - Seconds a command may run on the instance. Past it the command is stopped and the task fails with its
        last output. Cloud Assistant allows up to 86400; use C(async) for longer tasks.
    type: int
    default: 1800
    vars:
      - name: ansible_cloud_assistant_command_timeout
  pipelining:
    description:
      - Feed modules to the interpreter's stdin (the payload travels in the command) instead of copying them to a
        temporary directory first, which costs several more calls per task.
      - Ansible's general C(pipelining) setting (C(ANSIBLE_PIPELINING), often turned off for SSH and C(requiretty))
        does not apply to this connection, which has no terminal.
    type: bool
    default: true
    vars:
      - name: ansible_cloud_assistant_pipelining
  module_cache:
    description:
      - Keep module code (the same for every task of a module, never the task's arguments) in
        C(~/.ansible/cloud_assistant) on the instance so that later tasks do not send it again. Entries unused for
        30 days are removed. With V(false) it is sent with every task and removed afterwards.
    type: bool
    default: true
    vars:
      - name: ansible_cloud_assistant_module_cache
"""

EXAMPLES = r"""
# fleet.ecs.yml: every instance of the inventory is reached through Cloud Assistant
#   plugin: alicloud.oos.ecs
#   regions: [cn-hangzhou]
#   use_cloud_assistant: true
#
# ansible -i fleet.ecs.yml all -m ansible.builtin.setup

# A static inventory
#   [web]
#   web1 instance_id=i-bp1abc... region_id=cn-hangzhou
#   [web:vars]
#   ansible_connection=alicloud.oos.cloud_assistant

- name: Configure private instances, without SSH
  hosts: web
  become: true
  become_user: ecs-user          # runs as ecs-user through Cloud Assistant's Username
  tasks:
    - name: A file in ecs-user's home
      ansible.builtin.copy:
        src: app.conf
        dest: /home/ecs-user/app.conf
        mode: "0600"

- name: Long tasks
  hosts: web
  vars:
    ansible_cloud_assistant_command_timeout: 7200
  tasks:
    - name: Rebuild the index (up to two hours)
      ansible.builtin.command: /opt/app/bin/reindex
"""

import contextlib
import os
import re

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.plugin_utils.base import auth_settings_from_options
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_api import (
    CommandFailed,
    InstanceChannel,
    Unreachable,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_become import (
    UsernameBecome,
    password_problem,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_session import Session
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_shell import PosixShell

display = Display()

INSTANCE_ID = re.compile(r"^i-[A-Za-z0-9]+$")


class Connection(ConnectionBase):
    """Cloud Assistant connection (see DOCUMENTATION); the work is in plugin_utils/cloud_assistant_*."""

    transport = "alicloud.oos.cloud_assistant"
    has_pipelining = True
    has_tty = False
    default_user = None

    def __init__(self, play_context, *args, **kwargs):
        super().__init__(play_context, *args, **kwargs)
        self._session = None

    # ----- become ------------------------------------------------------------------------------------
    def set_become_plugin(self, plugin):
        self.become = None if plugin is None else UsernameBecome(plugin, lambda: self.get_option("become_mode"))

    def _become_as_username(self) -> str | None:
        """The become user when become goes through RunCommand's Username (see become_mode)."""
        if isinstance(self.become, UsernameBecome) and self.become.as_username:
            return self.become.get_option("become_user") or "root"
        return None

    def get_option(self, option, hostvars=None):
        # With become through Username the task *is* the become user: its temporary files, transfers and
        # module all run as that account, so Ansible sees no unprivileged become and needs no ACL or chown.
        if option == "remote_user":
            mapped = self._become_as_username()
            if mapped:
                return mapped
        return super().get_option(option, hostvars=hostvars)

    def _user(self) -> str | None:
        """The RunCommand Username (None: Cloud Assistant's default, root)."""
        return self.get_option("remote_user") or None

    def _login_user(self) -> str | None:
        return super().get_option("remote_user") or None

    # ----- connection --------------------------------------------------------------------------------
    @property
    def _host(self) -> str:
        return self._play_context.remote_addr

    def _connect(self):
        if self._connected:
            return self
        if getattr(self._shell, "SHELL_FAMILY", "sh") != "sh":
            raise AnsibleError(f"{self.transport}: {self._host} uses the {self._shell.SHELL_FAMILY} shell; this "
                               "connection supports Linux instances (RunShellScript) only for now")
        instance_id = self._instance_id()
        try:
            auth = auth_settings_from_options(self.get_option)
        except AlicloudInputError as error:
            raise AnsibleError(f"{self.transport}: invalid option {error.field}: {error.message}") from None
        if not auth.region:
            raise AnsibleError(f"{self.transport}: no region for {self._host}: set the host variable region_id (the "
                               "alicloud.oos.ecs inventory sets it), ansible_cloud_assistant_region or ALICLOUD_REGION")
        channel = InstanceChannel(lambda: AlicloudClient(auth, "ecs", auth.region), instance_id,
                                  PosixShell.command_type, log=self._log)
        self._session = Session(channel, PosixShell(), os.path.join(C.DEFAULT_LOCAL_TMP, "cloud_assistant"),
                                command_timeout=self.get_option("command_timeout"),
                                cache_blobs=self.get_option("module_cache"), log=self._log)
        display.vvv(f"ESTABLISH CLOUD ASSISTANT CONNECTION FOR USER: {self._login_user() or 'root'} "
                    f"TO {instance_id} IN {auth.region}", host=self._host)
        self._connected = True
        return self

    def _instance_id(self) -> str:
        value = self.get_option("instance_id")
        if not value and self._host and INSTANCE_ID.match(self._host):
            value = self._host
        if not value:
            raise AnsibleError(f"{self.transport}: no ECS instance id for {self._host}: set the host variable "
                               "instance_id (the alicloud.oos.ecs inventory sets it) or ansible_cloud_assistant_instance_id")
        if not INSTANCE_ID.match(str(value)):
            raise AnsibleError(f"{self.transport}: instance_id {value!r} of {self._host} is not an ECS instance id "
                               "(i-...)")
        return str(value)

    def _log(self, message: str) -> None:
        display.vvvv(f"CLOUD ASSISTANT: {message}", host=self._host)

    @contextlib.contextmanager
    def _errors(self, user):
        """Cloud Assistant failures as Ansible sees them: unreachable host or failed task, one clear message."""
        try:
            yield
        except Unreachable as error:
            raise AnsibleConnectionFailure(f"{self.transport}: {error}") from None
        except CommandFailed as error:
            if error.error_code == "AccountNotExists" and user == self._login_user():
                raise AnsibleConnectionFailure(f"{self.transport}: {error}") from None
            raise AnsibleError(f"{self.transport}: {error}") from None
        except AlicloudInputError as error:
            raise AnsibleError(f"{self.transport}: invalid option {error.field}: {error.message}") from None
        except AlicloudError as error:
            raise AnsibleConnectionFailure(f"{self.transport}: {error}") from None
        finally:
            if self._session is not None and self._session.channel.calls:
                counts = ", ".join(f"{n} {action}" for action, n in sorted(self._session.channel.calls.items()))
                self._log(f"API calls so far for this task: {counts}")

    # ----- the three operations ----------------------------------------------------------------------
    def exec_command(self, cmd, in_data=None, sudoable=True):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        problem = password_problem(self.become) if sudoable else None
        if problem:
            raise AnsibleError(f"{self.transport}: {problem}")
        user = self._user()
        display.vvv(f"EXEC as {user or 'root'}: {cmd}", host=self._host)
        if in_data is not None:
            in_data = to_bytes(in_data)
            self._log(f"stdin: {len(in_data)} bytes")
        with self._errors(user):
            return self._session.exec(cmd, in_data, user)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv(f"PUT {in_path} TO {out_path}", host=self._host)
        if not os.path.exists(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}")
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as handle:
            data = handle.read()
        user = self._user()
        with self._errors(user):
            self._session.put(data, out_path, user)

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self._host)
        user = self._user()
        with self._errors(user):
            data = self._session.fetch(in_path, user)
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as handle:
            handle.write(data)

    def reset(self):
        """``meta: reset_connection``: forget what this run learnt of the instance (cache, tools)."""
        if self._session is not None:
            # Deduplicated (the two are often the same user), in a stable order.
            for user in dict.fromkeys((self._user(), self._login_user())):
                self._session.knowledge(user).forget()

    def close(self):
        self._session = None
        self._connected = False
