"""A Cloud Assistant stand-in for unit tests: scripts really run with ``sh`` in a private HOME, SendFile
writes the file, output is truncated at 24 KB as the service does. No API, no emulator."""
from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_api import InstanceChannel, Outcome
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_shell import OUTPUT_LIMIT


class LocalChannel:
    """The InstanceChannel interface, with the scripts run locally (``shell``: sh or bash)."""

    instance_id = "i-local"
    command_type = "RunShellScript"

    def __init__(self, home: Path, shell: str = "sh", lose_sends: bool = False):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "tmp").mkdir(exist_ok=True)
        self.shell = shell
        self.lose_sends = lose_sends
        self.calls = Counter()
        self.scripts = []
        self.outcomes = {}
        self.sent = []

    def start(self, script: str, username, timeout) -> str:
        self.calls["RunCommand"] += 1
        self.scripts.append(script)
        env = {"HOME": str(self.home), "PATH": os.environ["PATH"], "TMPDIR": str(self.home / "tmp"),
               "LANG": "C.UTF-8"}
        proc = subprocess.run([self.shell, "-c", script], capture_output=True, env=env, cwd=self.home, timeout=120, check=False)
        merged = proc.stdout + proc.stderr
        invoke_id = f"t-{len(self.scripts)}"
        status = "Success" if proc.returncode == 0 else "Failed"
        self.outcomes[invoke_id] = Outcome(invoke_id, status, proc.returncode, merged[:OUTPUT_LIMIT],
                                           max(0, len(merged) - OUTPUT_LIMIT), "", "")
        return invoke_id

    def wait(self, invoke_ids, timeout, first_poll=None):
        self.calls["DescribeInvocationResults"] += 1
        return {i: self.outcomes[i] for i in invoke_ids}

    def run(self, script, username, timeout, wait, first_poll=None):
        invoke_id = self.start(script, username, timeout)
        return self.wait([invoke_id], wait, first_poll)[invoke_id]

    def send(self, target_dir, name, data, owner) -> str:
        self.calls["SendFile"] += 1
        self.sent.append(name)
        if not self.lose_sends:
            Path(target_dir).mkdir(parents=True, exist_ok=True)
            (Path(target_dir) / name).write_bytes(data)
        return f"f-{len(self.sent)}"

    def send_failures(self, invoke_ids):
        return [f"{i}: Failed (FileCreateFail)" for i in invoke_ids] if self.lose_sends else []

    def parallel(self, function, items):
        return [function(item) for item in items]

    explain = InstanceChannel.explain
    agent_problem = InstanceChannel.agent_problem

    def agent_status(self):
        return {"CloudAssistantStatus": "true", "CloudAssistantVersion": "2.2.3.857"}
