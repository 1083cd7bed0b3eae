# Copyright (c) alicloud.oos contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: oos_audit
type: aggregate
short_description: Write an OOS-style execution record for every playbook run
version_added: 0.1.0
description:
  - Writes one JSON file per playbook run, like the execution history of Alibaba Cloud Operation
    Orchestration Service (OOS), to O(directory) as C(<execution_id>.json).
  - A record holds an execution id (C(exec-...)), who started the run and when, the playbook and the
    OOS template name when the playbook was converted from a template (play variable
    C(oos_template_name)), the parameters (extra vars), every task's status per host, the API
    request ids returned by this collection's modules (to correlate with ActionTrail), the task
    C(outputs), the run outputs set with M(ansible.builtin.set_stats), and the final status
    (C(Success) or C(Failed)).
  - Secrets are masked before anything is written - values under secret-looking keys
    (C(secret_key), C(security_token), C(access_key_secret), passwords, tokens), C(token=...) parts
    of URLs, and the values of the credential environment variables (C(ALICLOUD_SECRET_KEY),
    C(ALICLOUD_SECURITY_TOKEN), C(ALIBABA_CLOUD_ACCESS_KEY_SECRET), C(ALIBABA_CLOUD_SECURITY_TOKEN))
    wherever they appear. Results of C(no_log) tasks are never seen by callbacks.
  - The record is written with status C(Running) when the first play starts and rewritten at the end.
    A run whose plays all set C(oos_audit_record=false) writes nothing (for example
    C(alicloud.oos.executions), which lists the records).
  - List and show records with C(ansible-playbook alicloud.oos.executions).
requirements:
  - Enable it in C(ansible.cfg) (C(callbacks_enabled = alicloud.oos.oos_audit)) or with
    C(ANSIBLE_CALLBACKS_ENABLED=alicloud.oos.oos_audit).
options:
  directory:
    description: Directory the execution records are written to. Created with mode 0700 when missing.
    type: path
    default: ~/.ansible/oos_executions
    env:
      - name: ALICLOUD_OOS_AUDIT_DIR
    ini:
      - section: callback_oos_audit
        key: directory
  max_output_chars:
    description:
      - Longest string kept in a record; longer strings (command output, for example) are truncated.
      - C(0) keeps strings whole.
    type: int
    default: 4096
    env:
      - name: ALICLOUD_OOS_AUDIT_MAX_OUTPUT_CHARS
    ini:
      - section: callback_oos_audit
        key: max_output_chars
"""

import getpass
import os
import socket

from ansible import __version__ as ansible_version
from ansible.plugins.callback import CallbackBase

from ansible_collections.alicloud.oos.plugins.plugin_utils import audit


def _result_of(task_result) -> dict:
    # ansible-core 2.19 exposes `result` (native types); older releases only `_result`.
    result = getattr(task_result, "result", None)
    return result if result is not None else task_result._result


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "alicloud.oos.oos_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._record: dict | None = None
        self._playbook = None
        self._recording = False
        self._task_started: dict[str, str] = {}
        self._secrets = audit.secret_values_from_env()

    # -- helpers ---------------------------------------------------------------------------------
    def _clean(self, data):
        return audit.mask(data, self._secrets, self.get_option("max_output_chars"))

    def _write(self) -> None:
        try:
            audit.write_record(os.path.expanduser(self.get_option("directory")), self._record)
        except OSError as error:
            # An audit failure must not fail the automation it describes; say so loudly instead.
            self._display.warning(f"alicloud.oos.oos_audit could not write the execution record: {error}")

    def _add_task(self, task_result, outcome: str) -> None:
        if self._record is None:
            return
        task = task_result._task
        result = _result_of(task_result)
        entry = {
            "name": task.get_name(),
            "action": getattr(task, "resolved_action", None) or task.action,
            "host": task_result._host.get_name(),
            "status": audit.task_status(outcome, result),
            "start_time": self._task_started.get(task._uuid),
            "end_time": audit.utc_now(),
        }
        request_ids = audit.collect_request_ids(result)
        if request_ids:
            entry["request_ids"] = request_ids
            self._record["request_ids"].extend(r for r in request_ids if r not in self._record["request_ids"])
        if "outputs" in result:
            entry["outputs"] = self._clean(result["outputs"])
        if outcome in ("failed", "ignored", "unreachable") and result.get("msg"):
            entry["message"] = self._clean(result["msg"])
        if result.get("censored"):
            entry["no_log"] = True
        self._record["tasks"].append(entry)

    # -- playbook events -------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook = playbook

    def v2_playbook_on_play_start(self, play):
        play_vars = play.get_vars() or {}
        if play_vars.get("oos_audit_record", True) in (False, "false", "False", "no"):
            return
        if self._record is None:
            extra_vars = getattr(getattr(play, "_variable_manager", None), "extra_vars", {}) or {}
            self._record = {
                "execution_id": audit.new_execution_id(),
                "status": audit.RUNNING,
                "playbook": os.path.abspath(self._playbook._file_name) if self._playbook else None,
                "template_name": None,
                "start_time": audit.utc_now(),
                "end_time": None,
                "executed_by": {
                    "user": getpass.getuser(),
                    "controller": socket.gethostname(),
                    # AWX/AAP pass who launched the job as extra vars.
                    "awx_user_name": extra_vars.get("awx_user_name") or extra_vars.get("tower_user_name"),
                    "awx_job_id": extra_vars.get("awx_job_id") or extra_vars.get("tower_job_id"),
                },
                "ansible_version": ansible_version,
                "parameters": self._clean(extra_vars),
                "plays": [],
                "tasks": [],
                "request_ids": [],
                "outputs": {},
                "hosts": {},
            }
        # A converted playbook names its OOS template in a play variable (kept as text, never templated).
        template_name = play_vars.get("oos_template_name")
        if template_name and not self._record["template_name"]:
            self._record["template_name"] = self._clean(template_name)
        self._record["plays"].append(play.get_name())
        self._write()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started[task._uuid] = audit.utc_now()

    def v2_playbook_on_handler_task_start(self, task):
        self._task_started[task._uuid] = audit.utc_now()

    def v2_runner_on_ok(self, result):
        self._add_task(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add_task(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._add_task(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._add_task(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if self._record is None:
            return
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._record["hosts"] = hosts
        # set_stats data (the run outputs, also AWX artifacts): aggregated under `_run`, else per host.
        custom = dict(stats.custom)
        outputs = custom.pop("_run", {})
        if custom:
            outputs = {**outputs, "per_host": custom}
        self._record["outputs"] = self._clean(outputs)
        self._record["status"] = audit.final_status(hosts)
        self._record["end_time"] = audit.utc_now()
        self._write()
