"""Interrupting ansible-playbook while oos_execution waits: with cancel_on_interrupt (what converted templates set
for the tasks they hand to OOS) the execution is cancelled; without it, it runs on in OOS, as documented."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import BIN, REPO_ROOT

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: A long execution
      alicloud.oos.oos_execution:
        template_content: |
          FormatVersion: OOS-2019-06-01
          Tasks:
            - {Name: longSleep, Action: 'ACS::Sleep', Properties: {Duration: PT1H}}
        cancel_on_interrupt: CANCEL
        poll_interval: 0.2
"""


@pytest.mark.heavy(20)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("cancel", [True, False], ids=["cancel", "leave-running"])
def test_an_interrupted_wait_cancels_the_execution_only_when_asked(emulator_factory, tmp_path, signum, cancel):
    emulator = emulator_factory("--instances", "1", "--seed", "3")
    playbook = tmp_path / "long.yml"
    playbook.write_text(PLAYBOOK.replace("CANCEL", str(cancel).lower()))
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), str(playbook)], cwd=REPO_ROOT, env=emulator.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def statuses():
        return [e["Status"] for e in emulator.control("executions")]
    try:
        deadline = time.monotonic() + 60
        while statuses() != ["Running"]:
            assert time.monotonic() < deadline and proc.poll() is None, "the execution never started"
            time.sleep(0.2)
        time.sleep(1)   # the module is polling
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)   # ^C reaches the whole foreground process group
        else:
            proc.send_signal(signum)
        proc.communicate(timeout=60)
        deadline = time.monotonic() + 15
        while cancel and statuses() == ["Running"] and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert statuses() == (["Cancelled"] if cancel else ["Running"])
