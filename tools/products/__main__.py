"""``python -m tools.products [--check] | extract PKG...`` (see the package docstring)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from tools.products import catalog, extract


def regenerate(check: bool) -> int:
    text = catalog.render(catalog.build(catalog.load_snapshot()))
    current = catalog.MODULE.read_text(encoding="utf-8") if catalog.MODULE.exists() else ""
    if check:
        if current != text:
            print(f"{catalog.MODULE} is stale: run python -m tools.products", file=sys.stderr)
            return 1
        return 0
    if current != text:
        catalog.MODULE.write_text(text, encoding="utf-8")
    print(f"{catalog.MODULE.relative_to(catalog.MODULE.parents[2])}: {len(catalog.build(catalog.load_snapshot())['PRODUCTS'])} products")
    return 0


def extract_into_snapshot(paths: list) -> int:
    snapshot = catalog.load_snapshot() if catalog.SNAPSHOT.exists() else {"packages": {}}
    for path in paths:
        facts, _source = extract.read_package(path)
        product = facts.pop("product")
        previous = snapshot["packages"].get(product)
        if previous and previous["api_version"] != facts["api_version"]:
            print(f"{product}: API version {previous['api_version']} -> {facts['api_version']} "
                  "(check the choice recorded in 'choices')", file=sys.stderr)
        snapshot["packages"][product] = facts
        print(f"{product}: {facts['package']} {facts['package_version']} ({facts['api_version']})")
    snapshot["packages"] = dict(sorted(snapshot["packages"].items()))
    catalog.SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=False, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.products", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the generated module is current")
    parser.add_argument("command", nargs="?", choices=["extract"], help="extract: read SDK packages into the snapshot")
    parser.add_argument("packages", nargs="*", help="SDK wheels, sdists or unpacked folders (extract)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.command == "extract":
        if not args.packages:
            parser.error("extract needs SDK package files or folders")
        code = extract_into_snapshot(args.packages)
    else:
        code = regenerate(args.check)
    print(f"done in {time.monotonic() - started:.2f}s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
