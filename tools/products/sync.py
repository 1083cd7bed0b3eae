"""Bring the snapshot to every product of the package index: choose each product's API version, read it.

Inputs (all local files; nothing is downloaded here):

* the index listing: the package index's ``alibabacloud-<product><YYYYMMDD>`` names, one a line (the first
  field of a line; other lines are ignored), e.g. a registry's name list or ``pip index`` output;
* the product default versions: ``metadatas/products.json`` of https://github.com/aliyun/aliyun-openapi-meta
  (the metadata the official ``aliyun`` CLI calls products with: ``code`` and default ``version``);
* the SDK specs: a checkout of https://github.com/aliyun/alibabacloud-sdk (``<product>-<YYYYMMDD>/main.tea``
  and ``Teafile``, the Darabonba source each SDK package is generated from).

The version of a product (:func:`choose_version`): the curated choice if any, else the default version of the
product metadata when the index has its package, else the newest package. A package already in the snapshot
with the chosen version is kept as read (from a wheel, or an earlier spec); any other is read from its spec.
A chosen package whose spec is absent or unreadable is listed under ``unreadable`` with the reason.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from tools.products import extract

# ``alibabacloud-adb-inc20211201``: product ``adb-inc``, API version 2021-12-01 (the product never ends in '-').
_PACKAGE = re.compile(r"^alibabacloud[-_]([a-z0-9][a-z0-9_-]*[a-z0-9])(20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


def index_versions(lines) -> dict:
    """``{product: [API version, ...]}`` (oldest first) of the SDK package names among ``lines``."""
    versions: dict = {}
    for line in lines:
        fields = line.split()
        found = _PACKAGE.match(fields[0].lower()) if fields else None
        if found:
            product, year, month, day = found.groups()
            versions.setdefault(product.replace("_", "-"), set()).add(f"{year}-{month}-{day}")
    return {product: sorted(dates) for product, dates in sorted(versions.items())}


def default_versions(products_json: dict) -> dict:
    """``{product: default API version}`` of the product metadata (codes are case-insensitive)."""
    return {entry["code"].lower(): entry["version"] for entry in products_json["products"]}


def choose_version(product: str, versions: list, choices: dict, defaults: dict) -> str:
    """The API version the catalogue gives ``product`` (see the module docstring)."""
    if product in choices:
        return choices[product]["version"]
    if defaults.get(product) in versions:
        return defaults[product]
    return versions[-1]


def sync(snapshot: dict, index: dict, defaults: dict, specs: Path) -> list:
    """Update ``snapshot`` in place; return one line per change."""
    packages, choices = snapshot["packages"], snapshot.get("choices", {})
    changes, unreadable = [], {}
    for product, versions in index.items():
        version = choose_version(product, versions, choices, defaults)
        # (An API version is YYYY-MM-DD but for a rare one the SDK sends as YYYYMMDD: AIContent's 20240611.)
        if packages.get(product, {}).get("api_version", "").replace("-", "") == version.replace("-", ""):
            continue
        folder = specs / f"{product}-{version.replace('-', '')}"
        try:
            facts, _source = extract.read_spec(folder)
        except extract.ExtractError as error:
            unreadable[product] = str(error).replace(str(specs) + "/", "")
            continue
        facts.pop("product")
        changes.append(f"{product}: {facts['package']} {facts['package_version']} ({facts['api_version']})")
        packages[product] = facts
    for product in sorted(set(packages) - set(index)):
        changes.append(f"{product}: no package on the index any more, left as read")
    snapshot["packages"] = dict(sorted(packages.items()))
    snapshot["index"] = index
    # Only the defaults that choose between versions matter; a one-version product takes its only version.
    snapshot["default_versions"] = {product: defaults[product] for product, versions in index.items()
                                    if len(versions) > 1 and product in defaults}
    snapshot["unreadable"] = dict(sorted(unreadable.items()))
    return changes


def run(index_path: str, defaults_path: str, specs: str, snapshot: dict) -> list:
    index = index_versions(Path(index_path).read_text(encoding="utf-8").splitlines())
    defaults = default_versions(json.loads(Path(defaults_path).read_text(encoding="utf-8")))
    return sync(snapshot, index, defaults, Path(specs))
