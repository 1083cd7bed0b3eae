"""Converter over the public template corpus (issue #14 measures), converted as a user does (no options):
speed in one process, size, lint time, the tasks handed to OOS for a construct with no Ansible form; and the same
with the action definitions and the public templates as folders.

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
                result = convert(str(path))
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
                    "lines_ratio_max_template": ratios["max_template"],
                    "handed_over": sum(item.handed_over for item in converted_corpus),
                    "noqa_lines": sum(item.playbook.count("# noqa") for item in converted_corpus)})
    print(f"converter: {len(converted_corpus)} converted, {figures['handed_over']} tasks handed to OOS for a construct "
          f"with no Ansible form, {figures['noqa_lines']} noqa; "
          f"lines of playbook per template line: median {ratios['median']} (target <= 1.3), "
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
    figures["with_folders"] = with_folders()
    return figures


def with_folders() -> dict:
    """The corpus converted with the action definitions and the public templates as folders (the converter then
    inlines the nested templates and product actions it finds instead of delegating them): how many convert, the
    tasks handed to OOS for a construct with no Ansible form, and their lines per template line."""
    result = corpus.convert_corpus(with_folders=True)
    ratios = corpus.lines_ratios(result.converted)
    figures = {"converted": len(result.converted), "templates": result.total,
               "handed_over": sum(item.handed_over for item in result.converted),
               "lines_ratio_median": ratios["median"], "lines_ratio_max": ratios["max"]}
    print("converter (with action_templates_path and template_paths): {converted} of {templates} converted, "
          "{handed_over} tasks handed to OOS; lines per template line median {lines_ratio_median}, "
          "max {lines_ratio_max}".format(**figures))
    return figures


if __name__ == "__main__":
    run()
