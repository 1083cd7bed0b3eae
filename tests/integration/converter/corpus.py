"""The public template corpus (../shared/oos-templates) converted and linted: what the corpus gate checks and
`make bench` measures, in one place.

Measures of issue #14: lines of playbook per line of template (whole files, header comments included) and the
time to lint the converted corpus. The lint reads the playbooks grouped several templates to a file: a group is
only the same plays one after the other, each under a comment naming its template, and it saves ansible-lint's
per-file work (an `ansible-playbook --syntax-check` process, YAML loads, rule set-up): 188 s of CPU for one file per
template, 128 s for 20 templates to a file, 154 s for 50. The rest grows with the tasks: every rule normalises and
deep-copies every task (a block's nested tasks again with it), then the jinja and yaml rules read every string and
line.
"""
from __future__ import annotations

import collections
import re
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from tests.conftest import BIN, SHARED, clean_environment

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"
ACTIONS = SHARED / "oos-templates" / "CloudProductActions"

# The ansible-lint profile the converted playbooks pass, with no noqa (issue #14).
LINT_PROFILE = "production"
LINT_CONFIG = f"""---
# The converted playbooks only: no network (collections resolve through ANSIBLE_COLLECTIONS_PATH).
profile: {LINT_PROFILE}
offline: true
"""
# Templates per linted file (see the module docstring).
TEMPLATES_PER_LINT_FILE = 20
_GROUP_MARK = "# ===== converted from "


@dataclass
class Converted:
    name: str            # the template's file name
    template_lines: int
    playbook: str        # the YAML text, as written to a file
    plays: list          # the plays in memory (marked: text.TemplateText, text.Code ...)
    handed_over: int = 0    # tasks OOS runs for a construct with no Ansible form

    @property
    def lines_ratio(self) -> float:
        return len(self.playbook.splitlines()) / max(1, self.template_lines)


@dataclass
class Corpus:
    converted: list      # Converted, in template file order
    failures: collections.Counter   # reason -> templates refused for it
    total: int


def convert_corpus(with_folders: bool = False) -> Corpus:
    """Convert every public template as a user does (no options), or ``with_folders``: with the action
    definitions (``action_templates_path``) and the public templates as ``template_paths`` (they call each other
    by name, ACS::Template TemplateName, as in OOS), which the converter then inlines instead of delegating."""
    files = sorted(PUBLIC.glob("*.yml"))
    failures, converted = collections.Counter(), []
    folders = {"action_templates_path": str(ACTIONS), "template_paths": [str(PUBLIC)]} if with_folders else {}
    for path in files:
        try:
            result = convert(str(path), **folders)
        except ConversionError as error:
            for problem in error.problems:
                failures[re.sub(r" at Tasks\[.*", "", problem)[:100]] += 1
            continue
        converted.append(Converted(path.name, len(path.read_text(encoding="utf-8").splitlines()),
                                   result.playbook_yaml(path.name), result.plays, len(result.handed_over)))
    return Corpus(converted, failures, len(files))


def lines_ratios(converted: list) -> dict:
    """Median and maximum lines of playbook per line of template, and the template with the maximum."""
    worst = max(converted, key=lambda c: c.lines_ratio)
    return {"median": round(statistics.median(c.lines_ratio for c in converted), 2),
            "max": round(worst.lines_ratio, 2), "max_template": worst.name}


def write_lint_files(converted: list, out_dir: Path) -> list:
    """The playbooks grouped TEMPLATES_PER_LINT_FILE to a file under ``out_dir`` (with the lint configuration)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".ansible-lint").write_text(LINT_CONFIG)
    paths = []
    for first in range(0, len(converted), TEMPLATES_PER_LINT_FILE):
        group = converted[first:first + TEMPLATES_PER_LINT_FILE]
        parts = ["---\n"]
        for item in group:
            # Header comments, then one root list of plays: the lists of a group make one list.
            header, start, body = item.playbook.partition("\n---\n")
            assert start, f"{item.name}: no document start after the header comments"   # no play left out
            body = body[:-len("...\n")] if body.endswith("\n...\n") else body   # no document end marker inside
            parts.append(f"{_GROUP_MARK}{item.name}\n{header}\n{body}")
        path = out_dir / f"converted_{first // TEMPLATES_PER_LINT_FILE:03d}.yml"
        path.write_text("".join(parts))
        paths.append(path)
    return paths


# ansible-lint (26.x) loads and parses its first command-line file again for every include_role task it meets
# (utils._validate_task_handler_action_for_role builds a Lintable of it): a tiny first file makes that cheap.
_FIRST = "---\n- name: Lint the converted playbooks\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n"


def lint(out_dir: Path, paths: list) -> subprocess.CompletedProcess:
    """ONE ansible-lint run (LINT_PROFILE) over ``paths`` (files written by write_lint_files)."""
    (out_dir / "first.yml").write_text(_FIRST)
    return subprocess.run([str(BIN / "ansible-lint"), "-c", ".ansible-lint", "--nocolor", "-f", "pep8", "first.yml",
                           *[str(Path(p).relative_to(out_dir)) for p in paths]],
                          cwd=out_dir, env=clean_environment(), capture_output=True, text=True, timeout=1800,
                          check=False)


def name_findings(output: str, out_dir: Path) -> str:
    """ansible-lint's ``file:line: rule`` findings, each followed by the template the line was converted from."""
    named = []
    for line in output.splitlines():
        match = re.match(r"(converted_\d+\.yml):(\d+)", line)
        if match:
            lines = (out_dir / match.group(1)).read_text().splitlines()[:int(match.group(2))]
            source = next((text[len(_GROUP_MARK):] for text in reversed(lines) if text.startswith(_GROUP_MARK)), "?")
            line += f"  [from {source}]"
        named.append(line)
    return "\n".join(named)
