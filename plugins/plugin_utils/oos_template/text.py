"""The kinds of strings a generated playbook holds, and the rule that keeps template text from becoming code.

* Template data: every string, list and mapping read from an OOS template (keys included), or handed to
  the converter as data (baked parameter values), whatever it contains. :func:`mark` turns a parsed
  template into :class:`TemplateText`, :class:`TemplateList` and :class:`TemplateMap` at one place, the
  loader; the dumper writes every piece of it so that Ansible never evaluates it (``!unsafe``).
* :class:`Code`: Jinja the converter writes itself (:func:`expr`). It is built from names the converter
  chose or validated; other template text enters it only as a quoted literal (:func:`literal`).
* Any other string the generator writes (module names, register names, fixed messages) must be inert:
  the dumper refuses one that Ansible could read as a template (:func:`possibly_template`), so a code
  path that drops the mark (an f-string around template text) fails the conversion instead of writing code.
"""
from __future__ import annotations

import re

# ansible-core treats a string as a template when it holds one of these, or starts with the header
# that redefines the delimiters for the rest of the string (#jinja2:variable_start_string:'[[', ...).
JINJA_MARKERS = ("{{", "{%", "{#")
JINJA_HEADER = "#jinja2:"


class TemplateText(str):
    """A string that came from a template: data, never code."""

    __slots__ = ()


class TemplateList(list):
    """A list that came from a template (its items are template data too)."""

    __slots__ = ()


class TemplateMap(dict):
    """A mapping that came from a template (its keys and values are template data too)."""

    __slots__ = ()


class Code(str):
    """Jinja written by the converter, for Ansible to evaluate."""

    __slots__ = ()


def mark(value):
    """Template data: every string (keys included), list and mapping of ``value`` marked, recursively.

    Nesting is bounded by the loader before this runs (``loader.parse_text``, ``loader.check_shape``).
    """
    if isinstance(value, str):
        return TemplateText(value)
    if isinstance(value, (list, tuple)):
        return TemplateList(mark(item) for item in value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return TemplateMap((mark(k), mark(v)) for k, v in value.items())
    # Plain scalars (data handed over by Ansible may be tagged subclasses of them).
    for kind in (bool, int, float):
        if isinstance(value, kind):
            return kind(value)
    return None if value is None else TemplateText(value)


def plain(value):
    """The same data without marks (what the lookup returns: Ansible already treats lookup results as data)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def possibly_template(text: str) -> bool:
    """Whether ansible-core could evaluate ``text`` as a template."""
    return text.startswith(JINJA_HEADER) or any(marker in text for marker in JINJA_MARKERS)


def expr(text: str) -> Code:
    """A Jinja expression the converter wrote."""
    return Code("{{ " + text + " }}")


def inner(code: Code) -> str:
    """The expression of ``expr(expression)`` (to write it inside another one)."""
    if not (isinstance(code, Code) and code.startswith("{{ ") and code.endswith(" }}")):
        raise ValueError(f"not one converter expression: {code!r}")
    return code[3:-3]


# Printable ASCII but quotes, backslash, braces, '#' and '%' (what could end the literal or open Jinja).
_LITERAL_SAFE = re.compile(r"[A-Za-z0-9_.:/ ()\[\]!?,;=+*&^$@<>|~`-]")


def literal(text: str) -> str:
    """``text`` as a Jinja string literal whose every other character is a ``\\u`` escape.

    The literal holds no quote, brace, ``#`` or line break, whatever ``text`` contains: template text
    placed in converter Jinja this way stays a value.
    """
    escaped = "".join(ch if _LITERAL_SAFE.match(ch) else (f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
                      for ch in str(text))
    return f"'{escaped}'"


def display_name(text: str, limit: int) -> str:
    """A task or play name from template text: one line, capitalised, and inert by construction.

    No braces (shown as parentheses) and no leading ``#`` (a ``#jinja2:`` header), so Ansible has nothing to
    evaluate (the dumper checks it); names stay untagged, as ansible-lint matches its ``noqa`` comments to them.
    """
    text = " ".join(str(text).translate({ord("{"): "(", ord("}"): ")"}).split()).lstrip("# ")[:limit]
    return text[:1].upper() + text[1:]
