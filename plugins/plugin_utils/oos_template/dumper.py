"""Readable YAML for generated playbooks, with every template-provided Jinja-looking string tagged !unsafe."""
from __future__ import annotations

import re

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


HEADER_NOTE = ("# '# noqa: jinja' marks tasks whose !unsafe OOS template data ansible-lint would otherwise parse as Jinja.\n")


class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    def ignore_aliases(self, data):
        # Every task spells out its own data: no &anchors / *aliases in a playbook meant to be read and edited.
        return True

    def write_double_quoted(self, text, split=True):
        """PyYAML's double-quoted writer, also folding inside long words (jq programs, URLs, CJK text).

        An escaped line break joins the lines without adding a space, so the value is unchanged while
        no line exceeds the lint limit. Prefers spaces; breaks anywhere only past ``best_width + 20``.
        """
        self.write_indicator('"', True)
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if ch is None or ch in '"\\\x85\u2028\u2029\uFEFF' or not (
                    "\x20" <= ch <= "\x7E" or ("\xA0" <= ch <= "\uD7FF" or "\uE000" <= ch <= "\uFFFD")):
                if start < end:
                    self.column += end - start
                    self.stream.write(text[start:end])
                    start = end
                if ch is not None:
                    if ch in self.ESCAPE_REPLACEMENTS:
                        data = "\\" + self.ESCAPE_REPLACEMENTS[ch]
                    elif ch <= "\xFF":
                        data = "\\x%02X" % ord(ch)
                    elif ch <= "\uFFFF":
                        data = "\\u%04X" % ord(ch)
                    else:
                        data = "\\U%08X" % ord(ch)
                    self.column += len(data)
                    self.stream.write(data)
                    start = end + 1
            width = self.column + (end - start)
            if 0 < end < len(text) - 1 and split and width > self.best_width and (
                    ch == " " or start >= end or width > self.best_width + 20):
                data = text[start:end] + "\\"
                if start < end:
                    start = end
                self.column += len(data)
                self.stream.write(data)
                self.write_indent()
                self.whitespace = False
                self.indention = False
                if text[start] == " ":
                    self.column += 1
                    self.stream.write("\\")
            end += 1
        self.write_indicator('"', False)

    def increase_indent(self, flow=False, indentless=False):
        # Indent sequences under their key, as ansible-lint's yamllint configuration expects.
        return super().increase_indent(flow, False)


_LONG = 110


def _style(value: str, default):
    if "\n" in value:
        # A literal block keeps scripts readable, unless one of its lines is too long to fit.
        return "|" if max(len(line) for line in value.split("\n")) <= _LONG else '"'

    # Double-quoted scalars can be folded anywhere (even inside words): no line exceeds the lint limit.
    return '"' if len(value) > _LONG else default


def _represent_str(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=_style(value, None))


def _represent_unsafe(dumper, value):
    return dumper.represent_scalar("!unsafe", str(value), style=_style(value, "'"))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Unsafe, _represent_unsafe)

_NAME_LINE = re.compile(r"^(\s*)- name: ")
# ansible-lint's jinja rule parses every string that contains braces, even !unsafe ones that Ansible never
# templates; template data is not Jinja, so the task (or play) that carries it says so (see HEADER_NOTE).
_NOQA_UNSAFE = "  # noqa: jinja"


def _mark_unsafe_owners(lines: list) -> list:
    owners = set()
    for index, line in enumerate(lines):
        if "!unsafe" not in line:
            continue
        indent = len(line) - len(line.lstrip())
        for back in range(index - 1, -1, -1):
            candidate = lines[back]
            stripped = candidate.lstrip()
            if not stripped:
                continue
            level = len(candidate) - len(stripped)
            if level < indent:
                indent = level
                if _NAME_LINE.match(candidate):
                    owners.add(back)
                    break
    return [line + _NOQA_UNSAFE if index in owners else line for index, line in enumerate(lines)]


def dump(data, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    # Lines Ansible must keep as they are (lint suppressions the data model cannot express).
    body = body.replace("ignore_errors: true\n", "ignore_errors: true  # noqa: ignore-errors\n")
    lines = _mark_unsafe_owners(body.split("\n"))
    return header + "---\n" + "\n".join(lines)
