# Copyright (c) alicloud.oos contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution audit records: the pure part of the ``alicloud.oos.oos_audit`` callback.

A record mirrors an OOS execution: an id, who started it and when, its parameters, every task's
status per host, the API request ids our modules returned (to correlate with ActionTrail), outputs
and a final status. Everything here is plain Python so it can be unit-tested without Ansible.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import (
    MASK,
    MIN_TEXT_LENGTH,
    SECRET_NAME_PATTERN,
    is_secret_name,
    snake_name,
)

RECORD_SUFFIX = ".json"

# The collection's secret auth options (secret_key, security_token, their aliases such as
# access_key_secret) and the environment variables they are read from: one table, in auth.py.
_SECRET_OPTIONS = [(name, spec) for name, spec in AUTH_OPTIONS.items() if spec.get("no_log")]
SECRET_OPTION_NAMES = frozenset(n for name, spec in _SECRET_OPTIONS for n in (name, *spec.get("aliases", ())))
SECRET_ENV_VARS = tuple(env for _name, spec in _SECRET_OPTIONS for env in spec.get("env", ()))
# Other key names whose values are secrets (passwords, tokens, private keys, Authorization headers):
# the one pattern of module_utils/secrets.py.
SECRET_KEY_PATTERN = SECRET_NAME_PATTERN
# Secrets embedded in URLs, e.g. a DingTalk webhook ``...?access_token=abc``.
SECRET_IN_URL_PATTERN = re.compile(r"((?:access_token|token|secret|signature|password)=)[^&\s\"']+", re.IGNORECASE)
# Shorter values would mask ordinary words; real secrets are far longer.
MIN_SECRET_LENGTH = MIN_TEXT_LENGTH

# Keys of our modules' results that carry request ids (plural list or single id on errors).
REQUEST_ID_KEYS = ("request_ids", "request_id", "RequestId")

SUCCESS, FAILED, RUNNING = "Success", "Failed", "Running"


def is_secret_key(name: object) -> bool:
    return isinstance(name, str) and (snake_name(name) in SECRET_OPTION_NAMES or is_secret_name(name))


def secret_values_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the credential environment variables, longest first (so substrings mask cleanly)."""
    environ = os.environ if environ is None else environ
    names = set(SECRET_ENV_VARS)
    names.update(k for k in environ if k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_")) and is_secret_key(k))
    values = {environ[k] for k in names if len(environ.get(k) or "") >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def mask_text(text: str, secret_values: Iterable[str] = ()) -> str:
    for value in secret_values:
        if value in text:
            text = text.replace(value, MASK)
    return SECRET_IN_URL_PATTERN.sub(lambda m: m.group(1) + MASK, text)


def mask(data, secret_values: Iterable[str] = (), max_chars: int = 0):
    """A JSON-safe deep copy of ``data`` with secrets masked and long strings truncated.

    Values under secret-looking keys become ``MASK``; known secret values are masked inside any
    string; anything that is not JSON (dates, custom objects) becomes its ``str()``.
    """
    secret_values = tuple(secret_values)

    def walk(value):
        if isinstance(value, Mapping):
            return {str(k): (MASK if is_secret_key(k) and v not in (None, "") else walk(v)) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [walk(v) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if "Encrypted" in type(value).__name__:
            # Vaulted values (AnsibleVaultEncryptedUnicode, EncryptedString): str() would decrypt.
            return MASK
        if isinstance(value, (int, float)):
            return value
        return truncate(mask_text(str(value), secret_values), max_chars)

    return walk(data)


def truncate(text: str, max_chars: int) -> str:
    if max_chars and len(text) > max_chars:
        return f"{text[:max_chars]}... [{len(text) - max_chars} more characters]"
    return text


def collect_request_ids(data) -> list[str]:
    """Every API request id found in a task result (nested loop results included), in order."""
    found: list[str] = []

    def add(value):
        if isinstance(value, str) and value and value not in found:
            found.append(value)

    def walk(value):
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key in REQUEST_ID_KEYS:
                    for rid in item if isinstance(item, (list, tuple)) else [item]:
                        add(rid)
                elif isinstance(item, (Mapping, list, tuple)):
                    walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(data)
    return found


def new_execution_id() -> str:
    """An id shaped like an OOS execution id (``exec-`` + 20 hex digits)."""
    return f"exec-{uuid.uuid4().hex[:20]}"


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def task_status(outcome: str, result: Mapping) -> str:
    """Status of one task on one host: ok, changed, failed, ignored, skipped or unreachable."""
    if outcome == "ok":
        return "changed" if result.get("changed") else "ok"
    return outcome


def final_status(host_stats: Mapping[str, Mapping[str, int]]) -> str:
    """OOS-style final status from per-host counters (``failures``/``unreachable``)."""
    for counters in host_stats.values():
        if counters.get("failures") or counters.get("unreachable"):
            return FAILED
    return SUCCESS


def write_record(directory: str, record: Mapping) -> str:
    """Write ``record`` atomically as ``<directory>/<execution_id>.json``, readable by the owner only."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, record["execution_id"] + RECORD_SUFFIX)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=RECORD_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
