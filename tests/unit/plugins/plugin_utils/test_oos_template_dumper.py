"""The playbook writer (dumper._Writer) against PyYAML's own dumper, and the loader's bounds from the event stream.

The writer drives PyYAML's emitter without its representer, serializer and event queue, and takes short cuts for
common scalars: these tests hold it to the text ``yaml.dump`` writes with the representers it replaced (kept here
as the reference), over random plays built from hostile text.
"""
from __future__ import annotations

import random

import pytest
import yaml
from yaml.emitter import Emitter

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import dumper, loader
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    JINJA_MARKERS, Code, TemplateList, TemplateMap, TemplateText)
from tests.integration.converter import hostile


class _Reference(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """yaml.dump with the representers the writer replaced (the dumper before issue #14)."""

    write_double_quoted = dumper._Writer.write_escaped_quoted   # the character loop: no short cut

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(representer, value):
    return representer.represent_scalar(dumper._STR_TAG, str(value), style=dumper._style(value, None))


def _represent_text(representer, value):
    """Template strings: each tagged !unsafe, unless YAML would read it as another type (then quoted)."""
    value = str(value)
    if not dumper._reads_as_str(value):
        return representer.represent_scalar(dumper._STR_TAG, value, style=dumper._style(value, None))
    return representer.represent_scalar("!unsafe", value, style=dumper._style(value, "'"))


def _key(key):
    """Template keys are tagged only when they could be templates (ansible-core never evaluates keys)."""
    if isinstance(key, TemplateText) and not any(marker in key for marker in JINJA_MARKERS) \
            and not key.startswith("#jinja2:"):
        return str(key)
    return key


def _represent_mapping(representer, value):
    return representer.represent_mapping("tag:yaml.org,2002:map", [(_key(k), v) for k, v in value.items()])


_Reference.add_representer(str, _represent_str)
_Reference.add_representer(Code, _represent_str)
_Reference.add_representer(TemplateText, _represent_text)
_Reference.add_representer(dict, _represent_mapping)
_Reference.add_representer(TemplateMap, _represent_mapping)
_Reference.add_representer(TemplateList, lambda self, value: self.represent_sequence("tag:yaml.org,2002:seq", value))


def reference(data) -> str:
    return yaml.dump(data, Dumper=_Reference, sort_keys=False, allow_unicode=True, width=dumper._WIDTH,
                     default_flow_style=False)


# Text that exercises every style and fold: hostile strings, indicators, YAML's other types, breaks, long words.
_PIECES = [s.at("/nonexistent") for s in hostile.STRINGS] + [
    "", " ", "a", "- a", "-a", ": x", "a:", "a: b", "a #b", "a#b", "? q", "?q", "---", "...x", "'", "''x'", '"q"',
    "true", "no", "~", "null", "1", "0x1F", "1e3", ".inf", "<<", "=", "2024-01-01", "x ", " x", "a  b", "\t", "é",
    "中文", "\U0001F600", "\x85", "\u2028", "\ufeff", "\x07", "a\nb", "a\n", "\n", "a\n\n", " a\nb", "a \nb",
    "{{ x }}", "{% raw %}", "{# c #}", "#jinja2:x", "\\", "a\\b", "x" * 130, "y " * 70, "z" * 40 + " " + "w" * 150,
    ".A|map(select(.B==\"x\"))" * 8, "echo " + "x" * 200 + "\nexit 0", "l1\n" * 5 + "m" * 120]


def _text(rng: random.Random) -> str:
    text = "".join(rng.choice(_PIECES) for _unused in range(rng.choice((1, 1, 1, 2, 3))))
    return text[:rng.choice((20, 60, 130, 400))] if rng.random() < 0.3 else text


def _scalar(rng: random.Random, marked: bool):
    choice = rng.random()
    if choice < 0.08:
        return rng.choice([True, False, None, 0, -7, 12345678901234567890, 1.5, float("inf"), 1e20])
    text = _text(rng)
    if marked:
        return TemplateText(text)
    if choice < 0.3:
        return Code("{{ " + text.replace("}}", "") + " }}")
    return "".join(ch for ch in text if ch not in "{}#")


def _value(rng: random.Random, depth: int, marked: bool):
    if depth > 9 or rng.random() < 0.45:
        return _scalar(rng, marked)
    width = rng.choice((0, 1, 2, 4))
    into = marked or rng.random() < 0.25
    if rng.random() < 0.5:
        items = [_value(rng, depth + 1, into) for _unused in range(width)]
        return TemplateList(items) if into else items
    pairs = {}
    for _unused in range(width):
        key = _scalar(rng, into) if rng.random() < 0.8 else rng.choice([1, True, None])
        pairs[key] = _value(rng, depth + 1, into)
    return TemplateMap(pairs) if into else pairs


def _deep(rng: random.Random):
    """A value 20 to 70 mappings deep: scalars start far to the right, where PyYAML folds them."""
    value = _value(rng, 8, rng.random() < 0.5)
    for level in range(rng.randint(20, 70)):
        value = {f"k{level}": value} if rng.random() < 0.7 else [value]
    return value


@pytest.mark.parametrize("seed", range(60))
def test_the_writer_writes_what_pyyaml_writes(seed):
    rng = random.Random(seed)
    plays = [{"name": f"Play {n}", "vars": _value(rng, 0, False), "tasks": [_value(rng, 1, False) for _u in range(3)],
              "deep": _deep(rng)} for n in range(3)]
    try:
        expected = reference(plays)
    except Exception:   # noqa: BLE001 -- whatever PyYAML refuses, the writer refuses too
        with pytest.raises(Exception):
            dumper._Writer(flow=False).document(plays)
        return
    assert dumper._Writer(flow=False).document(plays) == expected


class _TagLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """Reads !unsafe scalars as ('!unsafe', text): what Ansible reads, tags included."""


_TagLoader.add_constructor("!unsafe", lambda loader, node: ("!unsafe", loader.construct_scalar(node)))


def _untagged(value):
    if isinstance(value, tuple):
        return value[1]
    if isinstance(value, dict):
        return {_untagged(k): _untagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    return value


def _plain(value):
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def _tagged(value) -> int:
    if isinstance(value, tuple):
        return 1
    if isinstance(value, dict):
        return sum(_tagged(k) + _tagged(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_tagged(v) for v in value)
    return 0


@pytest.mark.parametrize("seed", range(60))
def test_small_collections_on_one_line_read_as_the_block_layout_reads(seed):
    """The layout a person writes ({seconds: 5}, [a, b]) holds the same data and the same tags as the block one."""
    rng = random.Random(seed)
    plays = [{"name": f"Play {n}", "vars": _value(rng, 0, False), "tasks": [_value(rng, 1, False) for _u in range(3)],
              "small": {"a": "b, c", "when": ["x"], "n": [1, None, "{x}"], "t": TemplateText("{{ y }}")}}
             for n in range(3)]
    try:
        block = dumper._Writer(flow=False).document(plays)
    except Exception:   # noqa: BLE001 -- what the block writer refuses is not the question here
        return
    flow = dumper._Writer().document(plays)
    # The same values as written (PyYAML's block writer loses a NEL in single quotes: the original is the oracle),
    # and the same strings tagged !unsafe as in the block layout.
    loaded = yaml.load(flow, Loader=_TagLoader)
    assert _untagged(loaded) == _plain(plays)
    assert _tagged(loaded) == _tagged(yaml.load(block, Loader=_TagLoader))
    if seed == 0:
        assert "[1, null, '{x}']" in flow and "when:\n" in flow and "a: b, c" in flow


@pytest.mark.parametrize("data", [
    [{"name": "Play", "vars": {"kept": TemplateText("a\n\n")}}],   # a literal that keeps its last breaks ends the text
    [{"name": "Play", "vars": {"kept": TemplateText("a\n\n"), "then": 1}}],
    "root", TemplateText("{{ root }}"), "", [], {}, TemplateMap(), [[["a"]]], [{"": 1, "a\nb": [], "k" * 125: {}}],
])
def test_the_writer_ends_and_keys_documents_as_pyyaml_does(data):
    assert dumper._Writer(flow=False).document(data) == reference(data)


@pytest.mark.parametrize("kind", [str, TemplateText])
def test_short_scalars_fold_at_the_width_as_pyyaml_folds_them(kind):
    """Scalars that end around the emitter's width, at every column: the short cut stops where folding starts."""
    for depth in range(60, 82):
        for words in range(1, 14):
            for text in ("ab " * words).strip(), ("a'b " * words).strip(), "- " + "cd " * words + "x":
                if not 145 <= 2 * depth + len(text) <= 175:   # the value ends away from the width (158)
                    continue
                data = {"x": kind(text)}
                for level in range(depth):
                    data = {"k": data}
                assert dumper._Writer(flow=False).document([data]) == reference([data]), (depth, text)


@pytest.mark.parametrize("column", [0, 7, 60, 119, 121, 139, 141, 150, 170])
def test_double_quoted_text_folds_as_the_character_loop_does(column):
    rng = random.Random(column)
    for _unused in range(300):
        text = "".join(rng.choice(["a", "b", " ", "  ", "xyz" * 9, "中", ".", "-"]) for _u in range(rng.randint(1, 120)))
        written = []
        for write in (dumper._Writer.write_folded_plain_quoted, dumper._Writer.write_escaped_quoted):
            writer = dumper._Writer(flow=False)
            writer.indent, writer.column, writer.whitespace = 10, column, False
            write(writer, text)
            written.append(("".join(writer.stream), writer.column))
        assert written[0] == written[1], text


def test_the_short_analysis_is_pyyamls():
    rng = random.Random(14)
    alphabet = " :#-?'\"!&*[]{}|>%@`,.~ab01"
    analyzer = Emitter(None, allow_unicode=True)
    samples = ["---", "...", "- ", "-", "? ", "?x", ":", ":x", "a:", "a: ", "a #", "#", " ", "x ", "a#b"] + [
        "".join(rng.choice(alphabet) for _u in range(rng.randint(1, 8))) for _unused in range(20000)]
    for text in samples:
        full = analyzer.analyze_scalar(text)
        assert dumper._analysis(text) == (full.empty, full.multiline, full.allow_block_plain, full.allow_single_quoted,
                                          full.allow_block), repr(text)


def test_the_writer_refuses_what_it_cannot_write():
    with pytest.raises(ConversionError, match="cannot write a tuple"):
        dumper.dump([{"name": "Play", "vars": {"x": ("a", "b")}}])


def _shape_verdict(text: str) -> str:
    """What check_shape (the node walk) says of the composed text."""
    node = yaml.compose(text, Loader=loader._TemplateLoader)
    try:
        loader.check_shape(node, loader._yaml_children, "t")
    except ConversionError as error:
        return str(error)
    return "ok"


def _loader_verdict(text: str) -> str:
    try:
        loader.parse_text(text, "t")
    except ConversionError as error:
        return str(error)
    return "ok"


@pytest.mark.parametrize("levels", [62, 63, 64, 65, 66])
@pytest.mark.parametrize("leaf", ["x", "[]", "{}", "{a: b}"])
def test_texts_without_aliases_are_bounded_from_their_events_as_the_node_walk_bounds_them(levels, leaf):
    text = "[" * levels + leaf + "]" * levels
    assert _loader_verdict(text) == _shape_verdict(text)
    text = "".join(f"{'  ' * n}k:\n" for n in range(levels)) + "  " * levels + "leaf"
    assert _loader_verdict(text) == _shape_verdict(text)
