"""The README tour works when pasted: `make demo` runs its blocks in one bash shell; so does this test.

Unlike the other integration tests, the tour runs without ANSIBLE_TRANSPORT=local, as a user's shell
would: the ssh executable is replaced by a script that records any attempt, and none may happen
(every step must run on the controller, never on the emulated instances).
"""
from __future__ import annotations

import pytest

import ast
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT, clean_environment
from tests.demo import README, tour_blocks


def test_tour_blocks_cover_the_workflow_in_order():
    titles = [title for title, _code in tour_blocks(README.read_text(encoding="utf-8"))]
    expected = ["Start the emulator", "Inventory", "Describe", "Stop and start", "Run a command", "Create an image",
                "Convert an OOS template", "AWX", "Stop the emulator"]
    assert len(titles) == len(expected)
    for title, word in zip(titles, expected):
        assert word in title, titles


@pytest.mark.heavy(70)
def test_readme_tour_runs_end_to_end_without_connecting_to_instances(tmp_path):
    ssh_log = tmp_path / "ssh-attempts"
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text(f"#!/bin/sh\necho \"$@\" >> {ssh_log}\nexit 255\n")
    fake_ssh.chmod(0o755)
    env = clean_environment()
    del env["ANSIBLE_TRANSPORT"]
    env.update({"ANSIBLE_SSH_EXECUTABLE": str(fake_ssh), "TMPDIR": str(tmp_path), "HOME": str(tmp_path)})

    proc = subprocess.run([sys.executable, "-m", "tests.demo"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert not ssh_log.exists(), ssh_log.read_text()
    assert "Traceback" not in out and "[WARNING]" not in out, out[-6000:]

    steps = re.split(r"^=== ", out, flags=re.M)[1:]
    assert len(steps) == 9, [s.splitlines()[0] for s in steps]
    _start, inventory, describe, power, command, image, convert, awx, stop = steps

    dev_hosts = sorted(set(re.findall(r"\|--((?:web|db)-dev-\d{4})", inventory)))
    assert len(dev_hosts) == 6 and not re.search(r"\|--\S+-prod-", inventory)
    assert len(re.findall(r'"(?:web|db)-(?:dev|prod)-\d{4}",\s*"Running"', describe)) == 12

    assert "DRY RUN" in power and "would stop 6 of 6" in power
    assert re.search(r"msg\": \"stop 6 of 6 selected", power) and re.search(r"msg\": \"start 6 of 6 selected", power)

    report_rows = re.findall(r"^(web-\S+)\s+i-\w+\s+Success\s+0\s+hello from Linux$", command, re.M)
    assert len(set(report_rows)) == 6, command[-3000:]

    first, second = image.split("web-dev-0001 | ")[1:]
    assert first.startswith("CHANGED") and second.startswith("SUCCESS") and '"changed": false' in second

    outputs = re.search(r'"msg": \{\s*"outputs": \{\s*"report": \[(.*?)\]\s*\},\s*"status": "Success"', convert, re.S)
    assert outputs and outputs.group(1).count("/dev/") == 6, convert[-3000:]
    assert (re.search(r"TASK \[alicloud.oos.ecs_fleet_command : Print the report\]", awx)
            and re.search(r"^successful$", awx, re.M))
    history = re.findall(r'"exec-\w+\s+(\w+)\s+\S+\s+\d+\s+(\S+)"', awx)
    # The ad-hoc runs are not recorded; the collection's playbooks show by FQCN, a converted one by template.
    assert len(history) == 7 and ("Success", "check-disk") in history, history
    assert [name for _status, name in history].count("alicloud.oos.stop_start") == 3, history

    total, mutating, calls = re.search(r"^(\d+) API calls, (\d+) mutating: (\{.*\})$", stop, re.M).groups()
    calls = ast.literal_eval(calls)
    # One batched call per transition: stop the dev fleet, start it, stop the imaged instance. One image.
    assert calls["StopInstances"] == 2 and calls["StartInstances"] == 1 and calls["CreateImage"] == 1
    assert int(mutating) == sum(calls.get(a, 0) for a in ("StopInstances", "StartInstances", "CreateImage", "RunCommand"))
