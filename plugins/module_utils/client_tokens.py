# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ClientTokens derived from a request's inputs, for the creations that must not happen twice.

The same inputs give the same token, so a repeated or concurrent identical request is answered with
what the first one created. Once that resource is gone (deleted, or its creation failed), the same
token would keep answering with the dead resource: the next token is then derived from the inputs
*and* the dead resource's id, so a new run creates a new resource, and runs that meet the same dead
resource still agree on one token.

    token = derive_client_token("oos-image-", inputs)                     # first generation
    token = derive_client_token("oos-image-", inputs, gone="m-123")       # after m-123 is gone
"""
from __future__ import annotations

import hashlib
import json

# How many dead resources in a row one request steps over before giving up (each costs a call).
MAX_GENERATIONS = 20


def derive_client_token(prefix: str, inputs, gone=None) -> str:
    """``prefix`` + 48 hex digits of the inputs' hash (at most 64 characters, as the APIs require)."""
    payload = inputs if gone is None else {"inputs": inputs, "after": gone}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return prefix + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:48]
