"""``python -m tools.products [--check] | extract PKG... | sync INDEX DEFAULTS SPECS`` (see the package docstring)."""
from __future__ import annotations

import argparse
import sys
import time

from tools.products import catalog, extract, sync


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


def write_snapshot(snapshot: dict) -> None:
    catalog.SNAPSHOT.write_text(catalog.dump_snapshot(snapshot), encoding="utf-8")


def sync_snapshot(paths: list) -> int:
    snapshot = catalog.load_snapshot()
    for change in sync.run(*paths, snapshot=snapshot):
        print(change)
    write_snapshot(snapshot)
    print(f"{len(snapshot['packages'])} products; {len(snapshot['unreadable'])} unreadable", file=sys.stderr)
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
        snapshot.get("unreadable", {}).pop(product, None)
        print(f"{product}: {facts['package']} {facts['package_version']} ({facts['api_version']})")
    snapshot["packages"] = dict(sorted(snapshot["packages"].items()))
    write_snapshot(snapshot)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.products", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the generated module is current")
    parser.add_argument("command", nargs="?", choices=["extract", "sync"],
                        help="extract: read SDK packages into the snapshot; sync: every product of the package index")
    parser.add_argument("packages", nargs="*", help="extract: SDK wheels, sdists, unpacked folders or spec folders; "
                        "sync: the index listing, the product metadata (products.json) and the SDK specs folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.command == "extract":
        if not args.packages:
            parser.error("extract needs SDK package files or folders")
        code = extract_into_snapshot(args.packages)
    elif args.command == "sync":
        if len(args.packages) != 3:
            parser.error("sync needs the index listing, the product metadata and the SDK specs folder")
        code = sync_snapshot(args.packages)
    else:
        code = regenerate(args.check)
    print(f"done in {time.monotonic() - started:.2f}s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
