# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module payloads (AnsiballZ) sent as a **recipe**: the parts that do not change between tasks are
cached on the instance, so a task usually sends only its own arguments.

An AnsiballZ payload is a Python wrapper (the same for every module), a call with the task's
arguments, and a Base64-encoded zip of the module and its ``module_utils`` whose entries carry the
time the zip was built (so the zip differs on every run, while each entry's compressed data does
not). :func:`build_recipe` cuts the payload into:

* **objects**: the wrapper's code and the compressed data of each zip entry, named by their SHA-256 (its
  first 128 bits) and kept in the account's cache directory on the instance (``~/.ansible/cloud_assistant``);
* **glue**: everything else (the task's arguments, zip headers and directory), sent with the
  command, zlib-compressed;
* **ops**: how to join them (``[`` and ``]`` enclose what is Base64-encoded back into the literal).

:data:`DECODER` is the Python program that rebuilds the exact payload on the instance with the
module's own interpreter, checks it against the payload's SHA-256, stores the objects the
controller sent along (inline, or in a bundle sent with SendFile) and reports the objects it lacks
(exit code 3) before anything runs. Objects never hold task arguments, which live in the glue.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
import shlex
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_payload import sha256

WRAPPER_MARK = b"\n_ANSIBALLZ_WRAPPER = True\n"
MAIN_LINE = b'if __name__ == "__main__":\n'
LITERAL = re.compile(rb"^(\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*')([A-Za-z0-9+/]+={0,2})('\s*,?\s*)$")
MIN_OBJECT = 256           # smaller pieces travel in the glue
MIN_LITERAL = 4096
NAME_LENGTH = 32           # hex characters of an object's name: the start of its SHA-256 (128 bits)

# Runs on the instance: python DECODER CACHE_DIR OUT < base64(zlib(header JSON \n glue new-objects)).
# Header: sha (of the payload), glue (bytes), new [[digest, size]...] (objects after the glue),
# unpack [[bundle digest, [[digest, size]...]]...], ops, drop (remove the objects after use).
# No single quote in it: the shell passes it in single quotes.
DECODER = r"""
import base64,hashlib,json,os,sys,zlib
c,o=sys.argv[1],sys.argv[2]
H=lambda b:hashlib.sha256(b).hexdigest()[:32]
def rd(p):
 with open(p,"rb") as f:return f.read()
def wr(p,b):
 t="%s.%d"%(p,os.getpid())
 with open(t,"wb") as f:f.write(b)
 os.rename(t,p)
z=zlib.decompress(base64.b64decode(sys.stdin.read()))
j,_,g=z.partition(b"\n")
d=json.loads(j.decode())
n,g=g[d["glue"]:],g[:d["glue"]]
if not os.path.isdir(c):os.makedirs(c,448)
def keep(k,b):
 if H(b)==k:wr(os.path.join(c,k),b)
q=0
for k,l in d["new"]:
 keep(k,n[q:q+l]);q+=l
for b,items in d["unpack"]:
 x=rd(os.path.join(c,b));q=0
 for k,l in items:
  keep(k,x[q:q+l]);q+=l
 os.remove(os.path.join(c,b))
m={}
for k in set(x for x in d["ops"] if isinstance(x,str) and len(x)==32):
 try:
  b=rd(os.path.join(c,k))
  if H(b)==k:m[k]=b
 except OSError:pass
w=[k for k in set(x for x in d["ops"] if isinstance(x,str) and len(x)==32) if k not in m]
for k in w:print("missing",k)
if w:sys.exit(3)
s,p=[[]],0
for x in d["ops"]:
 if x=="[":s.append([])
 elif x=="]":y=b"".join(s.pop());s[-1].append(base64.b64encode(y))
 elif isinstance(x,int):s[-1].append(g[p:p+x]);p+=x
 else:s[-1].append(m[x])
r=b"".join(s[0])
if H(r)!=d["sha"]:print("corrupt");sys.exit(4)
wr(o,r)
for k in m:
 f=os.path.join(c,k)
 if d["drop"]:os.remove(f)
 else:os.utime(f,None)
"""


@dataclass
class Recipe:
    """An AnsiballZ payload as objects, glue and ops (see the module docstring)."""
    sha: str
    interpreter: list
    ops: list = field(default_factory=list)
    glue: bytearray = field(default_factory=bytearray)
    objects: dict = field(default_factory=dict)    # name -> bytes
    labels: dict = field(default_factory=dict)     # name -> zip entry name ("" for the wrapper's code)

    def lit(self, data: bytes) -> None:
        if not data:
            return
        self.glue += data
        if self.ops and isinstance(self.ops[-1], int):
            self.ops[-1] += len(data)
        else:
            self.ops.append(len(data))

    def obj(self, data: bytes, label: str = "") -> None:
        if len(data) < MIN_OBJECT:
            self.lit(data)
            return
        digest = object_name(data)
        self.objects[digest] = data
        self.labels.setdefault(digest, label)
        self.ops.append(digest)

    def likely_new(self) -> list:
        """Object names, those most likely new to an instance first: the module's own code (its
        ``module_utils`` are shared with other modules), then the smallest."""
        return sorted(self.objects, key=lambda name: ("/modules/" not in self.labels.get(name, ""),
                                                      len(self.objects[name])))

    def rebuild(self) -> bytes:
        """The payload as the decoder will rebuild it (checked on the controller before anything is sent)."""
        stack, position = [[]], 0
        for op in self.ops:
            if op == "[":
                stack.append([])
            elif op == "]":
                inner = b"".join(stack.pop())
                stack[-1].append(base64.b64encode(inner))
            elif isinstance(op, int):
                stack[-1].append(bytes(self.glue[position:position + op]))
                position += op
            else:
                stack[-1].append(self.objects[op])
        return b"".join(stack[0])

    def encode(self, new: list, unpack: list, drop: bool) -> str:
        """What the script feeds the decoder: ``new`` objects travel inline, ``unpack`` lists the bundles."""
        header = {"sha": self.sha, "glue": len(self.glue), "new": [[d, len(self.objects[d])] for d in new],
                  "unpack": [[bundle, [[d, len(self.objects[d])] for d in digests]] for bundle, digests in unpack],
                  "ops": self.ops, "drop": drop}
        body = json.dumps(header, separators=(",", ":")).encode() + b"\n" + bytes(self.glue) \
            + b"".join(self.objects[d] for d in new)
        return base64.b64encode(zlib.compress(body, 9)).decode("ascii")


def object_name(data: bytes) -> str:
    return sha256(data)[:NAME_LENGTH]


def build_recipe(payload: bytes) -> Recipe | None:
    """The recipe of an AnsiballZ payload, or None for any other data (or if it would not rebuild exactly)."""
    if WRAPPER_MARK not in payload or not payload.startswith(b"#!"):
        return None
    lines = payload.splitlines(keepends=True)
    try:
        interpreter = shlex.split(lines[0][2:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not interpreter:
        return None
    recipe = Recipe(sha=object_name(payload), interpreter=interpreter)
    main = lines.index(MAIN_LINE) if MAIN_LINE in lines else 0
    recipe.lit(lines[0])
    recipe.obj(b"".join(lines[1:main]))
    for line in lines[max(main, 1):]:
        match = LITERAL.match(line) if len(line) >= MIN_LITERAL else None
        if match is None:
            recipe.lit(line)
            continue
        recipe.lit(match.group(1))
        recipe.ops.append("[")
        _archive(recipe, match.group(2))
        recipe.ops.append("]")
        recipe.lit(match.group(3))
    try:
        if recipe.rebuild() != payload:
            return None
    except (KeyError, IndexError):
        return None
    return recipe


def _archive(recipe: Recipe, literal: bytes) -> None:
    """The Base64 literal's bytes: a zip cut at entry boundaries (entry data as objects), else one object."""
    try:
        data = base64.b64decode(literal, validate=True)
    except (binascii.Error, ValueError):
        recipe.lit(literal)   # cannot happen for the regex, kept for safety: rebuild() would then fail
        return
    pieces = zip_pieces(data)
    if pieces is None:
        recipe.obj(data)
        return
    for kind, piece, entry in pieces:
        if kind == "data":
            recipe.obj(piece, entry)
        else:
            recipe.lit(piece)


def zip_pieces(data: bytes) -> list | None:
    """``[("header"|"data", bytes, entry name), ...]`` covering ``data`` exactly, or None when it is no plain zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = sorted(archive.infolist(), key=lambda info: info.header_offset)
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    pieces, position = [], 0
    for info in entries:
        start = info.header_offset
        if start != position or data[start:start + 4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack("<HH", data[start + 26:start + 30])
        data_start = start + 30 + name_length + extra_length
        data_end = data_start + info.compress_size
        if data_end > len(data):
            return None
        pieces += [("header", data[start:data_start], info.filename), ("data", data[data_start:data_end], info.filename)]
        position = data_end
    pieces.append(("header", data[position:], ""))
    return pieces
