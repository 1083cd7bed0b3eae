"""The API versions of real Alibaba Cloud products, so the gateway answers a product it does not emulate as
that product would answer an action it does not have (``404 InvalidAction.NotFound``), and keeps
``400 InvalidVersion`` for versions no product has.

The facts come from the official SDK packages, as extracted into ``tools/products/sdk_snapshot.json``
(the SDK's data, not the collection's code: the emulator never imports ``plugins/``).
"""
from __future__ import annotations

import json
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "tools" / "products" / "sdk_snapshot.json"


def _products_by_version() -> dict:
    if not SNAPSHOT.is_file():
        return {}
    packages = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["packages"]
    by_version: dict = {}
    for product, package in sorted(packages.items()):
        by_version.setdefault(package["api_version"], []).append(product)
    return by_version


PRODUCTS_BY_VERSION = _products_by_version()


def product_name(version: str) -> str | None:
    """``kms`` for 2016-01-20; ``ros/waf-openapi`` when products share a version; None for no product."""
    products = PRODUCTS_BY_VERSION.get(version)
    return "/".join(products) if products else None
