"""Readable YAML for generated playbooks in which template data can never be evaluated.

How each kind of value of :mod:`text` is written:

* a template mapping or list standing on its own is tagged ``!unsafe``: everything inside it is data for
  every ansible-core version, and its strings keep their type (ansible-core 2.19 re-resolves an
  ``!unsafe`` *scalar* as if it were plain, so ``!unsafe 'true'`` would become a boolean);
* a template string standing on its own is tagged ``!unsafe`` unless YAML would read it as another type
  (``'true'``, ``'1'``, ``''``, ``'<<'``): those are quoted instead, and hold no Jinja by construction;
* converter Jinja (:class:`text.Code`) is written as it is;
* any other string must be inert, else the conversion fails (a generator bug, never a playbook that runs
  template text).
"""
from __future__ import annotations

import re

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    JINJA_MARKERS, Code, TemplateList, TemplateMap, TemplateText, possibly_template)

HEADER_NOTE = ("# '# noqa: jinja' marks tasks whose !unsafe OOS template data ansible-lint would otherwise parse as Jinja.\n")
_RESOLVER = Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _reads_as_str(value: str) -> bool:
    """Whether YAML reads ``value``, written plain, as a string (ansible-core resolves !unsafe scalars so)."""
    return _RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR_TAG


class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    # > 0 while the children of a template container tagged !unsafe are written: they are data already.
    inside_data = 0

    def ignore_aliases(self, data):
        # Every task spells out its own data: no &anchors / *aliases in a playbook meant to be read and edited.
        return True

    def write_double_quoted(self, text, split=True):
        """PyYAML's double-quoted writer, also folding inside long words (jq programs, URLs, CJK text).

        An escaped line break joins the lines without adding a space, so the value is unchanged while
        no line exceeds the lint limit. Prefers spaces; breaks anywhere only past ``_FOLD + 20``.
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
            if 0 < end < len(text) - 1 and split and width > _FOLD and (
                    ch == " " or start >= end or width > _FOLD + 20):
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
# Long values are double-quoted and folded at _FOLD columns; the emitter's own width is larger, so shorter
# values (names above all, whose '# noqa' comment must stay on their first line) are never folded.
_FOLD = 120
_WIDTH = 158


def _style(value: str, default):
    if "\n" in value:
        # A literal block keeps scripts readable, unless one of its lines is too long to fit.
        return "|" if max(len(line) for line in value.split("\n")) <= _LONG else '"'

    # Double-quoted scalars can be folded anywhere (even inside words): no line exceeds the lint limit.
    return '"' if len(value) > _LONG else default


def _represent_str(dumper, value):
    if not dumper.inside_data and possibly_template(value):
        raise ConversionError([f"internal error: the converter wrote unmarked text that Ansible would evaluate "
                               f"({value[:80]!r}); please report it"])
    return dumper.represent_scalar(_STR_TAG, value, style=_style(value, None))


def _represent_code(dumper, value):
    return dumper.represent_scalar(_STR_TAG, str(value), style=_style(value, None))


def _represent_text(dumper, value):
    value = str(value)
    if not _reads_as_str(value):
        # A string YAML reads as a boolean, number, null or merge key cannot hold Jinja: quoted, it stays the
        # string it is (an !unsafe tag would make ansible-core 2.19 read it as that other type).
        return dumper.represent_scalar(_STR_TAG, value, style=_style(value, None))
    if dumper.inside_data and not any(marker in value for marker in JINJA_MARKERS):
        # Inside an !unsafe mapping or list it is data already. Strings with Jinja delimiters keep a tag of
        # their own all the same: ansible-lint's jinja rule skips !unsafe strings, not !unsafe containers.
        return dumper.represent_scalar(_STR_TAG, value, style=_style(value, None))
    return dumper.represent_scalar("!unsafe", value, style=_style(value, "'"))


def _represent_container(represent, plain_tag):
    def representer(dumper, value):
        tag = plain_tag if dumper.inside_data else "!unsafe"
        dumper.inside_data += 1
        try:
            return represent(dumper, tag, value)
        finally:
            dumper.inside_data -= 1
    return representer


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Code, _represent_code)
_Dumper.add_representer(TemplateText, _represent_text)
_Dumper.add_representer(TemplateMap, _represent_container(
    lambda dumper, tag, value: dumper.represent_mapping(tag, value.items()), "tag:yaml.org,2002:map"))
_Dumper.add_representer(TemplateList, _represent_container(
    lambda dumper, tag, value: dumper.represent_sequence(tag, value), "tag:yaml.org,2002:seq"))

_NAME_LINE = re.compile(r"^(\s*)- name: ")
# ansible-lint's jinja rule parses every string that contains braces, even !unsafe ones that Ansible never
# templates; template data is not Jinja, so the task (or play) that carries it says so (see HEADER_NOTE).
_NOQA_UNSAFE = "  # noqa: jinja"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _key_column(line: str) -> int:
    stripped = line.lstrip()
    return _indent(line) + (2 if stripped.startswith("- ") else 0)


def _carries_jinja(lines: list, index: int) -> bool:
    """Whether the !unsafe value that starts on ``lines[index]`` (with its nested lines) looks like Jinja."""
    level = _key_column(lines[index])
    for number, line in enumerate(lines[index:]):
        if number and line.strip() and _indent(line) <= level:
            return False
        if any(marker in line for marker in JINJA_MARKERS) or line.rstrip().endswith("{\\"):
            return True
    return False


def _mark_unsafe_owners(lines: list) -> list:
    owners = set()
    for index, line in enumerate(lines):
        if "!unsafe" not in line or not _carries_jinja(lines, index):
            continue
        indent = _indent(line)
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
    # A long name may be folded over several lines: the comment goes after its last line, never inside it.
    marked = {_scalar_end(lines, owner) for owner in owners}
    return [line + _NOQA_UNSAFE if index in marked else line for index, line in enumerate(lines)]


def _scalar_end(lines: list, index: int) -> int:
    """The last line of the scalar that starts on ``lines[index]`` (its folded lines are indented deeper)."""
    level = _key_column(lines[index])
    end = index
    while end + 1 < len(lines) and lines[end + 1].strip() and _indent(lines[end + 1]) > level:
        end += 1
    return end


def dump(data, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=_WIDTH, default_flow_style=False)
    # Lines Ansible must keep as they are (lint suppressions the data model cannot express).
    body = body.replace("ignore_errors: true\n", "ignore_errors: true  # noqa: ignore-errors\n")
    lines = _mark_unsafe_owners(body.split("\n"))
    return header + "---\n" + "\n".join(lines)
