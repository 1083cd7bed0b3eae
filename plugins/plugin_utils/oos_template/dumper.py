"""Readable YAML for generated playbooks in which template data can never be evaluated.

How each kind of value of :mod:`text` is written:

* every template string used as a value is tagged ``!unsafe`` on its own, unless YAML would read it as another
  type (``'true'``, ``'1'``, ``''``, ``'<<'``): those are quoted instead, and hold no Jinja by construction
  (ansible-core 2.19 re-resolves an ``!unsafe`` scalar as if it were plain, so ``!unsafe 'true'`` would
  become a boolean). Containers are never tagged: ansible-core before 2.19 builds an ``!unsafe`` mapping or
  list before its nested values are filled in, and reads it empty. Tagging every string also keeps results
  computed from template data unsafe on those versions (a template that reads an unsafe value has its result
  marked unsafe, so it is never evaluated again);
* a template string used as a mapping key is tagged only when it could be a template (ansible-core never
  evaluates keys; the tag is for linters and readers);
* converter Jinja (:class:`text.Code`) is written as it is;
* any other string must be inert, else the conversion fails (a generator bug, never a playbook that runs
  template text).
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

from yaml.emitter import Emitter
from yaml.nodes import ScalarNode
from yaml.representer import SafeRepresenter
from yaml.resolver import Resolver

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    JINJA_MARKERS, Code, TemplateList, TemplateMap, TemplateText, possibly_template)

_RESOLVER = Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_UNSAFE = "!unsafe"
_BREAKS = "\n\x85\u2028\u2029"
_UNICODE_BREAKS = "\x85\u2028\u2029"
_YAML12_NUMBER = re.compile(r"[-+]?0o[0-7]+|[-+]?0x[0-9a-fA-F]+")
# What PyYAML's double-quoted writer escapes (with allow_unicode).
_NEEDS_ESCAPE = re.compile("[\"\\\\\x85\u2028\u2029\uFEFF]|[^\x20-\x7E\xA0-\uD7FF\uE000-\uFFFD]")

_LONG = 110
# Long values are double-quoted and folded at _FOLD columns; the emitter's own width is larger, so shorter
# values (names above all, whose '# noqa' comment must stay on their first line) are never folded.
_FOLD = 120
_WIDTH = 158


@functools.lru_cache(maxsize=8192)
def _resolved_tag(text: str) -> str:
    """The tag YAML gives ``text`` written plain (ansible-core resolves !unsafe scalars so too)."""
    return _RESOLVER.resolve(ScalarNode, text, (True, False))


def _reads_as_str(value: str) -> bool:
    """Whether YAML reads ``value``, written plain, as a string."""
    return _resolved_tag(value) == _STR_TAG


def _style(value: str, default):
    if _YAML12_NUMBER.fullmatch(value):
        return "'"   # a string YAML 1.1 keeps but YAML 1.2 (yamllint) reads as a number: quoted for the reader
    if any(brk in value for brk in _UNICODE_BREAKS):
        # YAML reads these as line breaks in plain, single-quoted and literal text (a NEL came back as a space or
        # a newline): only double quotes keep them, escaped.
        return '"'
    if "\n" in value:
        # A literal block keeps scripts readable, unless one of its lines is too long to fit.
        return "|" if max(len(line) for line in value.split("\n")) <= _LONG else '"'

    # Double-quoted scalars can be folded anywhere (even inside words): no line exceeds the lint limit.
    return '"' if len(value) > _LONG else default


class _Stream(list):
    write = list.append


class _Writer(Emitter):
    """PyYAML's emitter driven straight from the data: the same text as ``yaml.dump`` gives with a representer
    per kind of string, at a fraction of the cost (no nodes, events or state machine).

    The layout (block style, sequences indented under their key, empty containers as ``[]``/``{}``, no
    anchors) and the scalar decisions are PyYAML's own (``analyze_scalar``, its style choice and writers);
    the common short plain and single-quoted scalars are written directly when they cannot be folded.
    """

    def __init__(self, flow: bool = True):
        super().__init__(_Stream(), allow_unicode=True, width=_WIDTH)
        self.flow = flow   # small collections of short scalars on one line (False: PyYAML's block layout only)

    # -- layout (PyYAML's expect_* handlers for block collections, without the events) --------------------
    def document(self, data) -> str:
        self.node(data, root=True)
        self.write_indent()
        if self.open_ended:
            self.write_indicator("...", True)
            self.write_indent()
        return "".join(self.stream)

    def node(self, value, root=False):
        kind = type(value)
        if kind is dict or kind is TemplateMap or kind is list or kind is TemplateList:
            if kind is dict or kind is TemplateMap:
                self.block_mapping(value)
            else:
                self.block_sequence(value)
        else:
            self.scalar(_scalar_form(kind, value, False, False), root)

    def block_mapping(self, mapping):
        if not mapping:
            self.write_indicator("{", True, whitespace=True)
            self.write_indicator("}", False)
            return
        self.indents.append(self.indent)
        self.indent = 0 if self.indent is None else self.indent + self.best_indent
        for key, value in mapping.items():
            self.write_indent()
            form = _scalar_form(type(key), key, True, True)
            if form.simple_key and form.short is not None and not form.tag:
                self.write_indicator(form.short + ":", True)   # a key is never folded
            elif form.simple_key:
                self.scalar(form, False)
                self.write_indicator(":", False)
            else:
                self.write_indicator("?", True, indention=True)
                self.scalar(_scalar_form(type(key), key, False, True), False)
                self.write_indent()
                self.write_indicator(":", True, indention=True)
            flow = self.flow_text(key, value) if self.flow else None
            if flow is not None:
                self.write_indicator(flow, True)
            else:
                self.node(value)
        self.indent = self.indents.pop()

    def flow_text(self, key, value):
        """A small mapping or list of short scalars on one line (``{seconds: 5}``, ``[a, b]``) as a person writes
        it; None when it is not one, holds a container, or would not fit the line. Conditions stay one per line."""
        kind = type(value)
        if not value or kind not in (dict, list, TemplateMap, TemplateList) or key in _BLOCK_KEYS:
            return None
        pieces = []
        room = _FLOW_WIDTH - self.column - 3
        mapping = isinstance(value, dict)
        for entry_key, entry in value.items() if mapping else ((None, item) for item in value):
            text = _flow_scalar(type(entry), entry, False)
            if text is None:
                return None
            if mapping:
                name = _flow_scalar(type(entry_key), entry_key, True)
                if name is None:
                    return None
                text = f"{name}: {text}"
            room -= len(text) + 2
            if room < 0:
                return None
            pieces.append(text)
        return ("{" + ", ".join(pieces) + "}") if mapping else ("[" + ", ".join(pieces) + "]")

    def block_sequence(self, sequence):
        if not sequence:
            self.write_indicator("[", True, whitespace=True)
            self.write_indicator("]", False)
            return
        self.indents.append(self.indent)
        # Indented under their key, as ansible-lint's yamllint configuration expects.
        self.indent = 0 if self.indent is None else self.indent + self.best_indent
        for item in sequence:
            self.write_indent()
            self.write_indicator("-", True, indention=True)
            self.node(item)
        self.indent = self.indents.pop()

    def scalar(self, form, root):
        if form.tag:
            self.write_indicator(form.tag, True)
        if form.short is not None and self.column + 1 + len(form.short) <= self.best_width:
            # Short enough that PyYAML's writers would not fold it: written as they would write it.
            self.write_indicator(form.short, True)
            self.open_ended = root and form.style == ""
            return
        self.indents.append(self.indent)
        self.indent = self.best_indent if self.indent is None else self.indent + self.best_indent
        self.root_context, self.simple_key_context = root, form.in_key
        split = not form.in_key
        if form.style == "":
            self.write_plain(form.text, split)
        elif form.style == "'" and self.flow and split:
            # PyYAML folds single-quoted text only once past its width, so a value that starts far to the right
            # ends past the lint limit: double-quoted text folds before it (the value is the same).
            self.write_double_quoted(form.text, split)
        elif form.style == "'":
            self.write_single_quoted(form.text, split)
        elif form.style == '"':
            self.write_double_quoted(form.text, split)
        else:
            self.write_literal(form.text)
        self.indent = self.indents.pop()

    def write_double_quoted(self, text, split=True):
        """PyYAML's double-quoted writer, also folding inside long words (jq programs, URLs, CJK text).

        An escaped line break joins the lines without adding a space, so the value is unchanged while
        no line exceeds the lint limit. Prefers spaces; breaks anywhere only past ``_FOLD + 20``.
        """
        if split and not _NEEDS_ESCAPE.search(text):
            self.write_folded_plain_quoted(text)
        else:
            self.write_escaped_quoted(text, split)

    def write_escaped_quoted(self, text, split=True):
        """The double-quoted writer, one character at a time (escapes, and folds inside long words)."""
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

    def write_folded_plain_quoted(self, text):
        """:meth:`write_escaped_quoted` for text with nothing to escape (most of it): the same folds, found by slicing."""
        self.write_indicator('"', True)
        start, last = 0, len(text) - 1
        while True:
            # The loop above folds at the first position past _FOLD columns that holds a space, or past _FOLD + 20.
            first = max(start + 1, start + _FOLD + 1 - self.column)
            anywhere = max(first, start + _FOLD + 21 - self.column)
            fold = text.find(" ", first, min(anywhere, last))
            if fold < 0:
                fold = anywhere
            if fold >= last:
                break
            data = text[start:fold] + "\\"
            self.column += len(data)
            self.stream.write(data)
            self.write_indent()
            self.whitespace = False
            self.indention = False
            start = fold
            if text[start] == " ":
                self.column += 1
                self.stream.write("\\")
        self.column += len(text) - start
        self.stream.write(text[start:])
        self.write_indicator('"', False)


_REPRESENTER = SafeRepresenter()
_REPRESENT = {bool: SafeRepresenter.represent_bool, int: SafeRepresenter.represent_int,
              float: SafeRepresenter.represent_float, type(None): SafeRepresenter.represent_none}
_ANALYZER = Emitter(None, allow_unicode=True)
_ANALYZER.tag_prefixes = dict(Emitter.DEFAULT_TAG_PREFIXES)


def _represent(kind, value, is_key: bool):
    """``(text, tag, style hint, written plain it reads as that tag, the tag is str)`` of a scalar."""
    if kind is TemplateText:
        value = str(value)
        if not _reads_as_str(value):
            # A string YAML reads as a boolean, number, null or merge key cannot hold Jinja: quoted, it stays the
            # string it is (an !unsafe tag would make ansible-core 2.19 read it as that other type).
            return value, _STR_TAG, _style(value, None), False, True
        if is_key and not possibly_template(value):
            return value, _STR_TAG, _style(value, None), True, True
        return value, _UNSAFE, _style(value, "'"), False, False
    if kind is str:
        if possibly_template(value):
            raise ConversionError([f"internal error: the converter wrote unmarked text that Ansible would evaluate "
                                   f"({value[:80]!r}); please report it"])
        return value, _STR_TAG, _style(value, None), _reads_as_str(value), True
    if kind is Code:
        value = str(value)
        return value, _STR_TAG, _style(value, None), _reads_as_str(value), True
    if kind in _REPRESENT:
        node = _REPRESENT[kind](_REPRESENTER, value)
        return node.value, node.tag, None, _resolved_tag(node.value) == node.tag, False
    raise ConversionError([f"internal error: the converter cannot write a {kind.__name__} ({str(value)[:80]!r}); "
                           "please report it"])


class _Form(NamedTuple):
    text: str
    tag: str          # the tag to write ('!unsafe'), or ''
    style: str        # PyYAML's: '' plain, "'", '"' or '|'
    short: str        # the scalar as written when nothing needs folding, or None (written by PyYAML's writers)
    in_key: bool      # chosen for a mapping key
    simple_key: bool  # usable as a simple key ('key: value'), else PyYAML writes '? key'


class _Analysis(NamedTuple):
    """The parts of PyYAML's ``Emitter.analyze_scalar`` that choose a style in block context."""
    empty: bool
    multiline: bool
    allow_block_plain: bool
    allow_single_quoted: bool
    allow_block: bool


_LEADING_INDICATORS = "#,[]{}&*!|>'\"%@`"


def _analysis(text: str) -> _Analysis:
    """PyYAML's analysis of ``text``; one line of printable ASCII (most scalars) is analysed with str methods."""
    if text and text.isascii() and text.isprintable():
        # No line breaks or special characters: only indicators and spaces at either end matter.
        indicator = (text[0] in _LEADING_INDICATORS or (text[0] in "?:-" and text[1:2] in ("", " "))
                     or text.startswith(("---", "...")) or ": " in text or text.endswith(":") or " #" in text)
        return _Analysis(False, False, not (indicator or text[0] == " " or text[-1] == " "), True, text[-1] != " ")
    full = _ANALYZER.analyze_scalar(text)
    return _Analysis(full.empty, full.multiline, full.allow_block_plain, full.allow_single_quoted, full.allow_block)


@functools.lru_cache(maxsize=16384)
def _scalar_form(kind, value, in_key: bool, is_key: bool) -> _Form:
    """How PyYAML's emitter writes this scalar (its choose_scalar_style, process_tag and check_simple_key).

    ``in_key``: written as a simple key (``key: value``); ``is_key``: it is a key, however it is written.
    """
    text, tag, hint, implicit_plain, implicit_quoted = _represent(kind, value, is_key)
    if hint == '"':
        # Double-quoted whatever it holds (long text): no need to read it all.
        multiline = any(brk in text for brk in _BREAKS)
        style, analysis = '"', _Analysis(not text, multiline, False, False, False)
    else:
        analysis = _analysis(text)
        if not hint and implicit_plain and analysis.allow_block_plain and not (
                in_key and (analysis.empty or analysis.multiline)):
            style = ""
        elif hint == "|" and not in_key and analysis.allow_block:
            style = "|"
        elif hint in (None, "'") and analysis.allow_single_quoted and not (in_key and analysis.multiline):
            style = "'"
        else:
            style = '"'
    written_tag = "" if (style == "" and implicit_plain) or (style != "" and implicit_quoted) else _prepared_tag(tag)
    short = None
    if style == "" and text:
        short = text
    elif style == "'" and not analysis.multiline:
        short = "'" + text.replace("'", "''") + "'"
    simple_key = len(_prepared_tag(tag)) + len(text) < 128 and not analysis.empty and not analysis.multiline
    return _Form(text, written_tag, style, short, in_key, simple_key)


# Keys whose lists stay one item per line (conditions, tasks) and the widest flow collection written.
_BLOCK_KEYS = frozenset(("when", "that", "block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers",
                         "changed_when", "failed_when", "until"))
_FLOW_WIDTH = 110
_FLOW_INDICATORS = frozenset(",[]{}:")   # PyYAML reads any ':' in a flow collection as a value indicator


def _flow_scalar(kind, value, is_key: bool):
    """The scalar as written inside a flow collection, or None when it would need more than one plain or quoted
    word (a tag, folding, line breaks)."""
    if kind in (dict, list, TemplateMap, TemplateList):
        return None
    form = _scalar_form(kind, value, is_key, is_key)
    if form.short is None or (is_key and not form.simple_key) or (form.tag and (is_key or form.style != "'")):
        return None
    if form.tag:
        return f"{form.tag} {form.short}"   # !unsafe 'text': a tagged scalar reads the same in a flow collection
    if form.style == "" and (_FLOW_INDICATORS.intersection(form.text) or form.text.startswith("?")):
        if kind is not str and kind is not Code or "'" in form.text or any(m in form.text for m in JINJA_MARKERS):
            return None
        return "'" + form.text + "'"   # plain in a block, but a flow collection reads , [ ] { } as its own
    return form.short


@functools.lru_cache(maxsize=64)
def _prepared_tag(tag: str) -> str:
    return _ANALYZER.prepare_tag(tag)


def dump(data, header: str = "") -> str:
    return header + "---\n" + _Writer().document(data)
