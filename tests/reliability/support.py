"""Helpers of the reliability suite: what the emulator says was applied, per instance."""
from __future__ import annotations

from collections import defaultdict

# API action -> the power change it applies to one instance.
POWER_ACTIONS = {
    "StopInstance": "stop", "StopInstances": "stop",
    "StartInstance": "start", "StartInstances": "start",
    "RebootInstance": "reboot", "RebootInstances": "reboot",
}


def power_changes(emulator) -> dict[str, list[str]]:
    """``{instance_id: ["stop", "start", ...]}``: every power change the emulator applied, in order."""
    changes = defaultdict(list)
    for mutation in emulator.control("mutations"):
        change = POWER_ACTIONS.get(mutation["action"])
        if change:
            changes[mutation["instance_id"]].append(change)
    return dict(changes)


def command_runs(emulator, marker: str) -> dict[str, list[dict]]:
    """``{instance_id: [per-instance record, ...]}`` of the invocations whose script contains ``marker``."""
    runs = defaultdict(list)
    for invocation in emulator.control("invocations"):
        if marker in invocation["CommandContent"]:
            for record in invocation["Instances"]:
                runs[record["InstanceId"]].append(record | {"InvokeId": invocation["InvokeId"],
                                                            "OverallStatus": invocation["InvocationStatus"]})
    return dict(runs)


def ids_tagged(emulator, key: str, value: str) -> list[str]:
    return sorted(i["InstanceId"] for i in emulator.instances() if i["Tags"].get(key) == value)


def statuses(emulator, ids) -> dict[str, str]:
    wanted = set(ids)
    return {i["InstanceId"]: i["Status"] for i in emulator.instances() if i["InstanceId"] in wanted}


def failed_task(output: str) -> str | None:
    """Name of the task whose failure stopped the run: the last ``TASK [...]`` header before ``fatal:``."""
    current = None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            current = line[len("TASK ["):line.rindex("]")]
        elif line.startswith("fatal:"):
            return current
    return None
