"""The layering docs/ARCHITECTURE.md describes: module_utils (the client layer, shipped inside every module) never
imports plugin_utils (controller-only code), and nothing under plugins/ imports the tests (the emulator)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def imported_modules(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PLUGINS.rglob("*.py")), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_layers(path):
    imports = imported_modules(path)
    assert not {name for name in imports if name == "tests" or name.startswith("tests.")}, imports
    if path.parent.name == "module_utils":
        assert not {name for name in imports if ".plugin_utils" in name or name.startswith("plugin_utils")}, imports
