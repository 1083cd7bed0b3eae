"""Read the OOS templates embedded in the seed documents of ../shared/seeds (test input, never copied).

* ``000_*``: a JSON template with a Tasks map (the lab describe/stop/start template);
* ``003_*``: a YAML template printed as numbered lines whose indentation was lost: the nesting
  depth of each numbered line is given below (the text itself is read from the seed);
* ``004_*``: ACS-ECS-UpdateImage, plain YAML.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.conftest import SHARED

SEEDS = SHARED / "seeds"

# Nesting depth (two spaces each) of lines 1..84 of the numbered template in seed 003.
_SEED_003_DEPTHS = [
    0, 0, 1, 1, 0, 1, 2, 2, 2, 3, 1, 2, 3, 2, 2, 2, 3, 3, 3, 1, 2, 3, 2, 1, 2, 3, 2, 2, 3, 1, 2, 3, 2, 2,
    1, 2, 3, 2, 2, 0, 0, 1, 2, 3, 2, 2, 3, 3, 4, 2, 3, 4, 4, 3, 4, 4, 1, 2, 2, 3, 3, 4, 4, 5, 4, 5, 5, 6,
    5, 6, 6, 1, 2, 2, 3, 2, 3, 2, 3, 3, 0, 1, 2, 2,
]


def seed_path(prefix: str) -> Path | None:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    return found[0] if found else None


def lab_template() -> dict:
    """Seed 000: the first JSON object that has a FormatVersion."""
    text = seed_path("000").read_text(encoding="utf-8")
    start = text.index('{\n  "FormatVersion"')
    return json.JSONDecoder().raw_decode(text[start:])[0]


def approval_template() -> str:
    """Seed 003: the numbered YAML lines, re-indented."""
    text = seed_path("003").read_text(encoding="utf-8")
    lines = re.findall(r"^\s*(\d+)\. (.*)$", text[text.index("Template in the YAML format"):], re.M)
    body = []
    for number, content in lines:
        index = int(number) - 1
        if index != len(body) or index >= len(_SEED_003_DEPTHS):
            break
        body.append("  " * _SEED_003_DEPTHS[index] + content)
    result = "\n".join(body) + "\n"
    yaml.safe_load(result)
    return result


def update_image_template() -> str:
    """Seed 004: ACS-ECS-UpdateImage, from FormatVersion to the end of its Outputs."""
    text = seed_path("004").read_text(encoding="utf-8")
    start = text.index("FormatVersion: OOS-2019-06-01")
    end = text.index("\nThe template executes", start)
    return text[start:end].rstrip() + "\n"
