"""Readable YAML for generated playbooks, with every template-provided Jinja-looking string tagged !unsafe."""
from __future__ import annotations

import yaml

_MARKERS = ("{{", "{%", "{#")


class Unsafe(str):
    """A template-provided string that Ansible must never evaluate (dumped as ``!unsafe``)."""

    __slots__ = ()


def needs_protection(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def protect(value):
    """Mark every string (keys included) that Jinja could evaluate as Unsafe, recursively."""
    if isinstance(value, str):
        return Unsafe(value) if needs_protection(value) else value
    if isinstance(value, list):
        return [protect(item) for item in value]
    if isinstance(value, dict):
        return {protect(k): protect(v) for k, v in value.items()}
    return value


def plain(value):
    """Drop the Unsafe markers (data returned by the lookup: Ansible already treats it as untrusted)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    def increase_indent(self, flow=False, indentless=False):
        # Indent sequences under their key, as ansible-lint's yamllint configuration expects.
        return super().increase_indent(flow, False)


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_unsafe(dumper, value):
    style = "|" if "\n" in value else "'"
    return dumper.represent_scalar("!unsafe", str(value), style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Unsafe, _represent_unsafe)


def dump(data, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=150, default_flow_style=False)
    # Lines Ansible must keep as they are (lint suppressions the data model cannot express).
    body = body.replace("ignore_errors: true\n", "ignore_errors: true  # noqa: ignore-errors\n")
    return header + "---\n" + body
