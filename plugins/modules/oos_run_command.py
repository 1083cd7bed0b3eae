#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oos_run_command
short_description: Run a Cloud Assistant command on ECS instances in batches (ACS::ECS::RunCommand)
version_added: 0.1.0
description:
  - Runs a shell, batch, PowerShell, Python or Perl script on ECS instances through Cloud Assistant, the way the OOS
    cloud product action C(ACS::ECS::RunCommand) does (run, wait for the invocation, read the output,
    check the exit code), on a whole fleet with as few calls as the API allows.
  - One C(RunCommand) call per 100 instances; C(DescribeInvocationResults) is polled for all
    unfinished invocations together, with a backing-off delay.
  - Instances that are not C(Running) are not sent the command; they are reported as C(Aborted) with
    C(error_code=InstanceNotRunning) and count as failures.
  - The task fails when more instances failed than C(MaxErrors) of O(rate_control) allows (none without
    it), naming each failed instance and its error.
  - Over inventory hosts (C(hosts=web)) without an instance option, the action plugin takes each
    host's instance from its hostvars and runs the command for the whole play batch in shared calls;
    each host gets its own result.
options:
  command_content:
    description:
      - The script. Plain text unless O(content_encoding=Base64).
      - With O(parameters), C({{name}}) placeholders in it are filled by Cloud Assistant on the instance;
        built-in parameters such as C({{ACS::InstanceId}}) are filled too (C(EnableParameter) is set when
        they appear). Quote them with C(!unsafe) or C({% raw %}) so Ansible does not template them.
    type: str
    required: true
  command_type:
    description:
      - Script language, as in C(ACS::ECS::RunCommand).
      - V(RunPythonScript) and V(RunPerlScript) run on Linux instances as a shell script that hands the script
        to C(python3) (else C(python)) or C(perl); C({{name}}) parameters in it are still filled.
    type: str
    choices: [RunShellScript, RunBatScript, RunPowerShellScript, RunPythonScript, RunPerlScript]
    default: RunShellScript
  enable_parameter:
    description:
      - Whether Cloud Assistant fills C({{name}}) and built-in C({{ACS::...}}) parameters in the script
        (C(EnableParameter)).
      - By default it is on when O(parameters) are given or a built-in parameter appears in a plain-text script.
        V(false) with O(parameters) is an error.
    type: bool
  parameters:
    description:
      - Values of the C({{name}}) parameters in O(command_content) (sent with C(EnableParameter=true)).
      - Shown in output like any option, except those named in O(secret_parameters).
    type: dict
  secret_parameters:
    description:
      - Names of the O(parameters) whose values are secret (passwords, tokens). Their values are masked in
        everything the task returns (the invocation, command output, error messages), and nothing else is.
      - A parameter whose value is a C({{ oos-secret:name }}) reference is secret too.
      - A secret value shorter than 6 characters is masked where it stands as a parameter value but not inside
        other text, where it would match inside instance ids and words; the task warns about it.
      - Write secrets as parameters, never inline in O(command_content).
    type: list
    elements: str
  working_dir:
    description: Directory the command runs in (default C(/root) on Linux).
    type: str
  username:
    description: User that runs the command (default C(root) on Linux, C(system) on Windows).
    type: str
  windows_password_name:
    description:
      - For V(RunBatScript) and V(RunPowerShellScript) run as O(username), the name of the OOS encrypted
        parameter that holds that user's password (C(WindowsPasswordName)). Only the name is sent.
    type: str
  timeout:
    description: Seconds the command may run before Cloud Assistant stops it (C(Timeout) status), 10 to 86400.
    type: int
    default: 60
  content_encoding:
    description: Encoding of O(command_content).
    type: str
    choices: [PlainText, Base64]
    default: PlainText
  wait:
    description:
      - Wait for every result. Without it the task returns once the command was sent
        (O(rate_control) waves are still awaited, except the last one) with C(Pending)/C(Running) results.
    type: bool
    default: true
  fail_on_nonzero:
    description:
      - Count a non-zero exit code as a failure. With V(false) only delivery errors, timeouts and
        instances that are not running count.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
  - alicloud.oos.instance_selection
  - alicloud.oos.instance_selection.action_plugin
attributes:
  check_mode:
    support: full
    details: Validates and selects the instances; runs nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The command always runs, so the task always reports C(changed) when it ran anywhere (like
    ansible.builtin.command); use C(changed_when) on the output to refine it.
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials and region come from the environment (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_REGION).

- name: Check the uptime of two instances
  alicloud.oos.oos_run_command:
    instance_ids: [i-bp1aaaaaaaaaaaaaaaaa, i-bp1bbbbbbbbbbbbbbbbb]
    command_content: uptime
  register: uptime

- name: Roll a restart over the prod fleet, 10 at a time, tolerating 10% failures
  alicloud.oos.oos_run_command:
    tags: {Env: prod}
    filters: {Status: Running}
    command_content: systemctl restart nginx
    timeout: 300
    rate_control: {Mode: Concurrency, Concurrency: 10, MaxErrors: "10%"}

- name: Pass Cloud Assistant parameters (filled on the instance); the password is masked in every output
  alicloud.oos.oos_run_command:
    instance_id: i-bp1aaaaaaaaaaaaaaaaa
    command_content: 'mysql -p"{% raw %}{{DbPassword}}{% endraw %}" -e "select {% raw %}{{count}}{% endraw %}"'
    parameters:
      DbPassword: "{{ vault_db_password }}"
      count: 1
    secret_parameters: [DbPassword]

# Inventory-driven: every host of the play batch is handled by shared batched calls.
- hosts: web
  gather_facts: false
  tasks:
    - alicloud.oos.oos_run_command:
        command_content: hostname
      register: out
    - ansible.builtin.debug:
        var: out.stdout_lines

# Fleet pattern: one RunCommand per 100 hosts, then each host takes its own result.
- hosts: web
  gather_facts: false
  tasks:
    - alicloud.oos.oos_run_command:
        instance_ids: "{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}"
        command_content: cat /etc/os-release
      run_once: true
      delegate_to: localhost
      register: fleet
    - ansible.builtin.set_fact:
        os_release: "{{ (fleet | alicloud.oos.per_host(instance_id)).stdout }}"
"""

RETURN = r"""
results:
  description: One entry per instance, in the order selected.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: Instance id.
      type: str
      returned: always
      sample: i-bp1aaaaaaaaaaaaaaaaa
    status:
      description:
        - Cloud Assistant status (C(Success), C(Failed), C(Timeout), C(Error), C(Aborted), ...);
          C(Skipped) in check mode or when MaxErrors stopped the run.
      type: str
      returned: always
      sample: Success
    exit_code:
      description: Exit code of the script, or null.
      type: int
      returned: always
      sample: 0
    output:
      description: Output of the script, decoded to text.
      type: str
      returned: always
      sample: "hello\n"
    dropped:
      description: Bytes of output truncated by Cloud Assistant.
      type: int
      returned: always
      sample: 0
    error_code:
      description: Cloud Assistant error code, or null.
      type: str
      returned: always
      sample: InstanceNotRunning
    error_info:
      description: Details of the error, or null.
      type: str
      returned: always
    invoke_id:
      description: The invocation that ran on this instance.
      type: str
      returned: always
      sample: t-hz0jdfwd9f0000
    start_time:
      description: When the command started (UTC).
      type: str
      returned: always
      sample: "2024-01-01T00:00:00Z"
    finish_time:
      description: When the command finished (UTC).
      type: str
      returned: always
      sample: "2024-01-01T00:00:01Z"
    stdout:
      description: The output, as C(ansible.builtin.command) names it. Cloud Assistant returns one stream, so stderr is included.
      type: str
      returned: always
      sample: "hello\n"
    stdout_lines:
      description: RV(results[].stdout) split into lines.
      type: list
      returned: always
      elements: str
      sample: [hello]
    rc:
      description: The exit code, as C(ansible.builtin.command) names it; null when the command did not finish.
      type: int
      returned: always
      sample: 0
stdout:
  description:
    - The output of the command when the task ran on exactly one instance (always over inventory hosts, one
      instance per host). Cloud Assistant returns one stream, so stderr is included.
  returned: when the task selected exactly one instance
  type: str
  sample: "hello\n"
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the task selected exactly one instance
  type: list
  elements: str
  sample: [hello]
rc:
  description: The exit code when the task ran on exactly one instance; null when the command did not finish.
  returned: when the task selected exactly one instance
  type: int
  sample: 0
invoke_ids:
  description: Ids of the invocations (one per 100 instances and wave).
  returned: always
  type: list
  elements: str
counts:
  description: C(total), C(failed) and C(by_status) counts.
  returned: always
  type: dict
  sample: {total: 3, failed: 1, by_status: {Success: 2, Failed: 1}}
failed_instances:
  description: The entries of RV(results) that count as failures.
  returned: always
  type: list
  elements: dict
max_errors:
  description: How many failed instances O(rate_control) tolerates (0 without rate control).
  returned: always
  type: int
request_ids:
  description:
    - Request ids of every successful API request the task sent (to correlate with ActionTrail).
    - Over inventory hosts, the requests that concerned this host's instance (a batched call serves several hosts).
  returned: always
  type: list
  elements: str
  sample: [4C6B9E1A-2F3D-4E5F-8A9B-0C1D2E3F4A5B]
"""

from ansible_collections.alicloud.oos.plugins.module_utils.cloud_assistant import (
    command_secrets,
    run_command_argument_spec,
    run_command_task,
)
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import run_instance_module


def main():
    run_instance_module(run_command_argument_spec(), run_command_task, secrets=command_secrets)


if __name__ == "__main__":
    main()
