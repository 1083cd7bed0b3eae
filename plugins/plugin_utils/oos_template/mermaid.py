"""Mermaid flowchart of a template's tasks and their OnSuccess / OnError / Choice edges."""
from __future__ import annotations

import hashlib
import re

# Where an edge ends when it names no task: the execution ends (ACS::END), or fails (no OnError).
END = "__end__"
FAILED = "__failed__"

_UNSAFE_LABEL = re.compile(r'["<>{}\[\]|`#]')


def _node(name: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if len(ident) > 40:
        # Keep the flowchart comment lines short; the digest keeps long names distinct.
        ident = ident[:30] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return "t_" + ident


def _label(text: str, limit: int = 45) -> str:
    text = _UNSAFE_LABEL.sub(" ", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def flowchart(edges: list) -> str:
    """``edges`` are (name, task, on_success, on_error) tuples from the generator, in template order."""
    lines = ["flowchart TD", "  start((start))"]
    targets = {END: "finish", "__end_ok__": "finish", FAILED: "failed"}
    if edges:
        lines.append(f"  start --> {_node(edges[0][0])}")
    used_failed = False
    for name, task, on_success, on_error in edges:
        action = str(task.get("Action", ""))
        shape = ("{", "}") if action.lower() == "acs::choice" else ("[", "]")
        lines.append(f'  {_node(name)}{shape[0]}"{_label(name)}<br/>{_label(action)}"{shape[1]}')
        if action.lower() == "acs::choice":
            props = task.get("Properties") or {}
            for choice in props.get("Choices") or []:
                if isinstance(choice, dict):
                    target = str(choice.get("NextTask", ""))
                    dest = "finish" if target.upper() == "ACS::END" else _node(target)
                    lines.append(f"  {_node(name)} -->|when| {dest}")
            default = props.get("DefaultTask")
            if default is not None:
                default = str(default)
                dest = "finish" if default.upper() == "ACS::END" else _node(default)
                lines.append(f"  {_node(name)} -->|default| {dest}")
            else:
                lines.append(f"  {_node(name)} -->|default| {targets.get(on_success, _node(on_success))}")
            continue
        lines.append(f"  {_node(name)} --> {targets.get(on_success, _node(on_success))}")
        if "OnError" in task or on_error != FAILED:
            lines.append(f"  {_node(name)} -.->|error| {targets.get(on_error, _node(on_error))}")
            used_failed = used_failed or on_error == FAILED
    lines.append("  finish((end))")
    if used_failed:
        lines.append("  failed((failed))")
    return "\n".join(lines) + "\n"


def as_comment(chart: str) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in chart.splitlines())
