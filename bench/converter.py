"""Converter over the public template corpus (issue #14 measures): speed in one process, size, lint time.

* templates/s to plays in memory (best of ``rounds`` passes) and end to end, template file in -> playbook YAML text
  out: the first such pass in the process (the dumper's caches cold, as for a user's first conversions), also per
  second of the process's CPU (a loaded machine stretches wall time), and the best of ``rounds`` (warm);
* lines of playbook per line of template (whole files): median and maximum, with the template of the maximum;
* the corpus lint as the corpus gate runs it (``tests/integration/converter/corpus.py``): wall and CPU seconds of
  the ansible-lint run (every process it started), files linted.

Figures are reported, never asserted (the targets are printed beside them).
"""
from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import (  # noqa: E402
    ConversionError, convert)
from tests.integration.converter import corpus  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(rounds: int = 3) -> dict:
    files = sorted(corpus.PUBLIC.glob("*.yml"))
    if not files:
        print("converter bench skipped: ../shared/oos-templates is absent")
        return {}

    def one_pass(write_yaml: bool):
        """(wall seconds, CPU seconds of this process, templates converted)."""
        converted = 0
        start, cpu = time.perf_counter(), time.process_time()
        for path in files:
            try:
                result = convert(str(path), action_templates_path=str(corpus.ACTIONS), template_paths=[str(corpus.PUBLIC)])
                if write_yaml:
                    result.playbook_yaml(path.name)
                converted += 1
            except ConversionError:
                pass
        return time.perf_counter() - start, time.process_time() - cpu, converted

    best, _cpu, converted = min(one_pass(False) for _unused in range(rounds))
    first_with_yaml, first_cpu, _unused = one_pass(True)
    best_with_yaml = min([first_with_yaml] + [one_pass(True)[0] for _unused in range(rounds - 1)])
    failed = len(files) - converted
    tracemalloc.start()
    one_pass(False)
    _unused, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {"templates": len(files), "converted": converted, "failed": failed,
               "templates_per_second": round(len(files) / best, 1),
               "templates_per_second_with_yaml": round(len(files) / first_with_yaml, 1),
               # The same pass per second of this process's CPU: what a busy machine does not change much.
               "templates_per_cpu_second_with_yaml": round(len(files) / first_cpu, 1),
               "templates_per_second_with_yaml_warm": round(len(files) / best_with_yaml, 1),
               "peak_traced_mib": round(peak / 2**20, 1),
               "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print("converter: {templates} templates ({converted} converted, {failed} refused), "
          "{templates_per_second}/s to plays, {templates_per_second_with_yaml}/s file to YAML text "
          "({templates_per_cpu_second_with_yaml}/s of CPU, {templates_per_second_with_yaml_warm}/s warm; "
          "target >= 200/s), peak traced {peak_traced_mib} MiB, "
          "max RSS {max_rss_mib} MiB".format(**figures))

    converted_corpus = corpus.convert_corpus().converted
    ratios = corpus.lines_ratios(converted_corpus)
    figures.update({"lines_ratio_median": ratios["median"], "lines_ratio_max": ratios["max"],
                    "lines_ratio_max_template": ratios["max_template"]})
    print(f"converter: lines of playbook per template line: median {ratios['median']} (target <= 1.3), "
          f"max {ratios['max']} (target <= 4; {ratios['max_template']})")

    lint_dir = Path(tempfile.mkdtemp(prefix="bench-corpus-lint-"))
    paths = corpus.write_lint_files(converted_corpus, lint_dir)
    cpu, start = _children_cpu(), time.monotonic()
    proc = corpus.lint(lint_dir, paths)
    figures.update({"lint_wall_seconds": round(time.monotonic() - start, 1),
                    "lint_cpu_seconds": round(_children_cpu() - cpu, 1), "lint_files": len(paths),
                    "lint_profile": corpus.LINT_PROFILE, "lint_passed": proc.returncode == 0})
    print("converter: corpus lint (profile {lint_profile}, {lint_files} files): {lint_wall_seconds} s wall, "
          "{lint_cpu_seconds} s CPU (target <= 60 s), {result}".format(
              result="passed" if proc.returncode == 0 else "FAILED", **figures))
    figures["natural"] = natural_writer(files)
    return figures


def natural_writer(files: list) -> dict:
    """The plain-Ansible writer (issue #14) as a fresh install converts (no action definitions): how many templates
    it writes, their lines per template line, its speed file to YAML text, and ansible-lint's production profile
    over its playbooks (no noqa allowed)."""
    written, ratios, everything = [], [], []
    cpu = time.process_time()
    for path in files:
        try:
            result = convert(str(path), writer="natural")
        except ConversionError:
            continue
        text = result.playbook_yaml(path.name)
        ratio = len(text.splitlines()) / max(1, len(path.read_text(encoding="utf-8").splitlines()))
        everything.append(ratio)
        if result.natural:
            ratios.append(ratio)
            written.append(corpus.Converted(path.name, 0, text, result.plays))
    cpu = time.process_time() - cpu
    figures = {"templates": len(files), "natural": len(written),
               "templates_per_cpu_second_with_yaml": round(len(files) / cpu, 1),
               "lines_ratio_median": round(statistics.median(ratios), 2), "lines_ratio_max": round(max(ratios), 2),
               "all_lines_ratio_median": round(statistics.median(everything), 2),
               "all_lines_ratio_max": round(max(everything), 2),
               "noqa_lines": sum(item.playbook.count("# noqa") for item in written)}
    lint_dir = Path(tempfile.mkdtemp(prefix="bench-natural-lint-"))
    paths = corpus.write_lint_files(written, lint_dir)
    (lint_dir / ".ansible-lint").write_text(corpus.LINT_CONFIG.replace(f"profile: {corpus.LINT_PROFILE}",
                                                                       "profile: production"))
    children, start = _children_cpu(), time.monotonic()
    proc = corpus.lint(lint_dir, paths)
    figures.update({"lint_wall_seconds": round(time.monotonic() - start, 1),
                    "lint_cpu_seconds": round(_children_cpu() - children, 1), "lint_passed": proc.returncode == 0})
    print("converter (natural writer, no action definitions): {natural} of {templates} written naturally, "
          "{templates_per_cpu_second_with_yaml}/s of CPU file to YAML text; lines per template line median "
          "{lines_ratio_median}, max {lines_ratio_max} (all, natural where covered: {all_lines_ratio_median} / "
          "{all_lines_ratio_max}); {noqa_lines} noqa; lint production {lint_wall_seconds} s wall, "
          "{lint_cpu_seconds} s CPU, {result}".format(result="passed" if proc.returncode == 0 else "FAILED", **figures))
    if proc.returncode:
        print(corpus.name_findings(proc.stdout[-3000:], lint_dir))
    return figures


if __name__ == "__main__":
    run()
