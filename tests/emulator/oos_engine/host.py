"""Wiring the engine to the emulator: in-process calls into the same handler table the HTTP server uses."""
from __future__ import annotations

import time
import uuid

PRODUCT_VERSIONS = {"ecs": "2014-05-26", "oos": "2019-06-01"}


def in_process_api(world, emulator=None, registry=None):
    """``call_api(product, action, params, region)`` for :class:`OOSEngine`: runs the registered handler
    under ``world.lock`` exactly as the server does for a signed request (minus signing and fault injection:
    OOS's own calls do not go through the user's gateway)."""
    if registry is None:
        from ..api import REGISTRY as registry  # noqa: N811 - the emulator's one handler table
    from ..api import Request
    from ..errors import api_error

    def call_api(product: str, action: str, params: dict, region: str) -> dict:
        version = PRODUCT_VERSIONS.get(product.lower())
        entry = registry.lookup(version, action) if version else None
        if entry is None:
            raise api_error("InvalidAction.NotFound")
        query = dict(params)
        query.setdefault("RegionId", region)
        for name in entry.required:
            if query.get(name, "") == "":
                raise entry.missing(name)
        with world.lock:
            request = Request(world, query, action=action, version=version,
                              request_id=str(uuid.uuid4()).upper(), now=time.time(), emulator=emulator)
            return entry.handler(request)

    return call_api
