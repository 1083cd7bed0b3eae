"""Converter throughput over the public template corpus (templates per second, one process) and peak memory."""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import (  # noqa: E402
    ConversionError, convert)

CORPUS = ROOT.parent / "shared" / "oos-templates"


def run(rounds: int = 3) -> dict:
    files = sorted((CORPUS / "PublicTemplates").glob("*.yml"))
    if not files:
        print("converter bench skipped: ../shared/oos-templates is absent")
        return {}
    actions = str(CORPUS / "CloudProductActions")
    public = str(CORPUS / "PublicTemplates")   # templates that call other public templates by name

    def one_pass(write_yaml: bool):
        converted = 0
        start = time.perf_counter()
        for path in files:
            try:
                result = convert(str(path), action_templates_path=actions, template_paths=[public])
                if write_yaml:
                    result.playbook_yaml()
                converted += 1
            except ConversionError:
                pass
        return time.perf_counter() - start, converted

    best, converted = min(one_pass(False) for _unused in range(rounds))
    with_yaml, _unused = one_pass(True)
    failed = len(files) - converted
    tracemalloc.start()
    one_pass(False)
    _unused, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {"templates": len(files), "converted": converted, "failed": failed,
               "templates_per_second": round(len(files) / best, 1),
               "templates_per_second_with_yaml": round(len(files) / with_yaml, 1), "peak_traced_mib": round(peak / 2**20, 1),
               "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print("converter: {templates} templates ({converted} converted, {failed} refused), "
          "{templates_per_second}/s to plays ({templates_per_second_with_yaml}/s with the YAML text), peak traced {peak_traced_mib} MiB, "
          "max RSS {max_rss_mib} MiB (target >= 200/s)".format(**figures))
    return figures


if __name__ == "__main__":
    run()
