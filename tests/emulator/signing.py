"""Signature verification for Alibaba Cloud RPC requests (pure functions, standard library only).

Written from the published recipes in ``PROTOCOL.md`` §3 (V3, ``ACS3-HMAC-SHA256``) and §4
(V2, HMAC-SHA1 ``SignatureVersion=1.0``). The server recomputes the signature from what it received
and compares it with what the client sent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: ``A-Za-z0-9-_.~`` stay literal, everything else is ``%XX`` (space is ``%20``)."""
    return quote(value, safe="-_.~")


def canonical_query(pairs) -> str:
    """Form-decoded (key, value) pairs, sorted by key then value, joined as ``k=v&...`` percent-encoded."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def parse_authorization(header: str) -> dict:
    """``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=a;b,Signature=..`` -> its parts.

    Raises ValueError when the header does not have that shape.
    """
    algorithm, _unused, rest = header.strip().partition(" ")
    parts = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise ValueError(f"malformed Authorization item {item!r}")
        parts[key] = value
    missing = {"Credential", "SignedHeaders", "Signature"} - parts.keys()
    if not algorithm or missing:
        raise ValueError(f"Authorization lacks {', '.join(sorted(missing)) or 'an algorithm'}")
    return {
        "algorithm": algorithm,
        "credential": parts["Credential"],
        "signed_headers": [h for h in parts["SignedHeaders"].split(";") if h],
        "signature": parts["Signature"],
    }


def v3_canonical_request(method: str, path: str, query_pairs, headers: dict, signed_headers: list,
                         payload_hash: str) -> str:
    """The V3 canonical request; ``headers`` maps lowercase names to values."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers)
    return "\n".join([method.upper(), path or "/", canonical_query(query_pairs), canonical_headers,
                      ";".join(signed_headers), payload_hash])


def v3_string_to_sign(canonical_request: str, algorithm: str = V3_ALGORITHM) -> str:
    return f"{algorithm}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v2_string_to_sign(method: str, params) -> str:
    """``METHOD&%2F&pct(canonical)`` over every parameter except ``Signature``."""
    pairs = params.items() if isinstance(params, dict) else params
    canonical = canonical_query((k, v) for k, v in pairs if k != "Signature")
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def v2_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(f"{secret}&".encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signatures_equal(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))
