# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How data reaches an instance through Cloud Assistant, which has no stdin and small messages.

A command's script (RunCommand ``CommandContent``) holds at most 24 KB once Base64-encoded, so
about 18 KB; a SendFile ``Content`` at most 32 KB once Base64-encoded (24 KB of bytes). Data that
does not fit the script travels as a :class:`Blob`: sent beforehand with SendFile in parts
(gzip-compressed when that helps), joined and checked (SHA-256) on the instance by the command that
uses it, then removed. :func:`split_stdin` cuts arbitrary stdin data into :class:`Inline` runs (in
the script) and blobs. Module payloads take a cheaper road (``cloud_assistant_ansiballz``).

:class:`InstanceKnowledge` is what the controller knows of one instance and account during one
``ansible`` run (the account's cache directory, the tools found, the cached objects, how long its
commands take): a small JSON file in Ansible's per-run local temporary directory, shared by the
worker processes of the run.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field

# RunCommand CommandContent: 24 KB once Base64-encoded (KeepCommand=false).
SCRIPT_LIMIT = 24 * 1024 * 3 // 4
# SendFile Content: 32 KB once Base64-encoded.
PART_LIMIT = 32 * 1024 * 3 // 4
# Lines at least this long travel as blobs first when the script has no room for everything.
LINE_BLOB_MIN = 1024
# Compress only when it saves at least this share.
COMPRESS_GAIN = 0.9
DIGEST_PREFIX = 12   # hex characters of an object digest in the instance's inventory


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> tuple[bytes, bool]:
    """gzip (no timestamp, so equal data gives equal bytes) when it saves enough, else the data as is."""
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    if len(packed) < len(data) * COMPRESS_GAIN:
        return packed, True
    return data, False


def split_parts(payload: bytes) -> list:
    """SendFile-sized pieces of ``payload``."""
    return [payload[i:i + PART_LIMIT] for i in range(0, len(payload), PART_LIMIT)] or [b""]


@dataclass
class Blob:
    """Data sent with SendFile in parts and joined on the instance under its digest."""
    data: bytes
    digest: str = ""

    def __post_init__(self):
        self.digest = self.digest or sha256(self.data)

    def parts(self, gzip_ok: bool = True) -> tuple[list[bytes], bool]:
        """``(SendFile parts, compressed)``: gzip-compressed when it pays and the instance has gzip."""
        payload, compressed = compress(self.data) if gzip_ok else (self.data, False)
        return split_parts(payload), compressed


@dataclass
class Inline:
    """Data written into the command's own script."""
    data: bytes

    @property
    def is_text(self) -> bool:
        """Text that a quoted here-document carries unchanged: UTF-8, no NUL, ending with a newline."""
        if not self.data.endswith(b"\n") or b"\0" in self.data:
            return False
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def script_size(self) -> int:
        """Bytes this run takes in the script (delimiters included)."""
        return (len(self.data) if self.is_text else len(base64.b64encode(self.data)) + 1) + 64


def split_stdin(data: bytes, inline_budget: int) -> list:
    """Cut ``data`` into Inline runs and Blobs so that the inline runs fit ``inline_budget`` bytes:
    the longest lines become blobs first, then, if need be, the largest remaining runs."""
    lines = data.splitlines(keepends=True)
    as_blob = [False] * len(lines)
    while True:
        parts = _group(lines, as_blob)
        if _inline_size(parts) <= inline_budget:
            return parts
        candidates = [i for i, line in enumerate(lines) if not as_blob[i] and len(line) >= LINE_BLOB_MIN]
        if not candidates:
            break
        as_blob[max(candidates, key=lambda i: len(lines[i]))] = True
    while _inline_size(parts) > inline_budget:   # only short lines are left: whole runs become blobs
        largest = max((p for p in parts if isinstance(p, Inline)), key=lambda p: len(p.data))
        parts = _merge([Blob(p.data) if p is largest else p for p in parts])
    return parts


def _inline_size(parts: list) -> int:
    return sum(p.script_size() for p in parts if isinstance(p, Inline))


def _merge(parts: list) -> list:
    """Adjacent blobs joined into one (fewer SendFile parts)."""
    merged = []
    for part in parts:
        if merged and isinstance(part, Blob) and isinstance(merged[-1], Blob):
            merged[-1] = Blob(merged[-1].data + part.data)
        else:
            merged.append(part)
    return merged


def _group(lines: list, as_blob: list) -> list:
    """Consecutive lines of the same kind joined: ``[Inline | Blob, ...]``."""
    parts = []
    for line, blob in zip(lines, as_blob):
        kind = Blob if blob else Inline
        if parts and isinstance(parts[-1], kind):
            parts[-1] = kind(parts[-1].data + line)
        else:
            parts.append(kind(line))
    return parts


@dataclass
class InstanceKnowledge:
    """What this run knows of one instance and account (see the module docstring)."""
    path: str
    cache_dir: str = ""
    tools: list = field(default_factory=list)
    objects: set = field(default_factory=set)
    seeded: bool = False
    durations: dict = field(default_factory=dict)   # kind of command -> typical seconds until its result

    @classmethod
    def load(cls, directory: str, instance_id: str, user: str) -> "InstanceKnowledge":
        safe_user = re.sub(r"[^A-Za-z0-9_.-]", "_", user or "root")
        path = os.path.join(directory, f"{instance_id}@{safe_user}.json")
        try:
            with open(path, encoding="utf-8") as handle:
                saved = json.load(handle)
        except (OSError, ValueError):
            return cls(path)
        return cls(path, cache_dir=saved.get("cache_dir", ""), tools=list(saved.get("tools", [])),
                   objects=set(saved.get("objects", [])), seeded=bool(saved.get("seeded")),
                   durations=dict(saved.get("durations", {})))

    def save(self) -> None:
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".state-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"cache_dir": self.cache_dir, "tools": self.tools, "objects": sorted(self.objects),
                       "seeded": self.seeded, "durations": self.durations}, out)
        os.replace(temporary, self.path)

    def forget(self) -> None:
        self.cache_dir, self.tools, self.objects, self.seeded = "", [], set(), False
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def has(self, digest: str) -> bool:
        return digest[:DIGEST_PREFIX] in self.objects

    def remember(self, digests) -> None:
        self.objects.update(d[:DIGEST_PREFIX] for d in digests)

    def drop(self, digests) -> None:
        self.objects.difference_update(d[:DIGEST_PREFIX] for d in digests)

    def seed(self, cache_dir: str, tools, objects) -> None:
        self.cache_dir, self.tools, self.seeded = cache_dir, list(tools), True
        self.objects = {o[:DIGEST_PREFIX] for o in objects}

    def can(self, tool: str) -> bool:
        return tool in self.tools

    def expected(self, kind: str) -> float | None:
        """Seconds a command of this kind typically took until its result (None: not seen yet this run)."""
        return self.durations.get(kind)

    def observed(self, kind: str, seconds: float) -> None:
        previous = self.durations.get(kind)
        self.durations[kind] = round(seconds if previous is None else (previous + seconds) / 2, 3)
