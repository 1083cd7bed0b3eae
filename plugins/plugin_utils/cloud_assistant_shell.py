# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scripts the ``cloud_assistant`` connection runs on a Linux instance (``RunShellScript``), and
the reading of what they print.

Cloud Assistant merges stdout and stderr, keeps only the first 24 KB of output and has no stdin. So
every script runs the real command with its stdin, stdout and stderr on files of a private
temporary directory, and prints only a **report**: lines ``<marker> <key> <values>`` where the
marker is random for each script, so nothing the command prints can be taken for a report line.
stdout and stderr come back gzip-compressed and Base64-encoded, in the report when they fit, else
left in the directory (a **spool**) and read in pieces by further scripts.

Only POSIX ``sh`` and the tools of every Linux image are used (``base64``, ``mktemp``, ``dd``,
``sha256sum``; ``gzip`` and ``timeout`` when present); a module payload is rebuilt by the module's
own interpreter. A Windows dialect (``RunPowerShellScript``) would implement the same methods.

Report keys: ``rc N``; ``out|err <z|b> RAW_BYTES ENCODED_BYTES`` then ``o|e <base64>`` (inline) or
``spool DIR``; ``timeout``; ``cache DIR``, ``tools ...``, ``objects ...`` (the inventory of the
account's object cache); ``missing NAME`` (a cached object is gone: nothing was run), ``lost
DIGEST`` (SendFile parts never arrived: nothing was run); ``file DIGEST SIZE <z|b> ENCODED_BYTES``
and ``d <base64>`` (fetch, read); ``put ok``; ``fail WHY``; ``end``.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import re
import secrets
import shlex
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_ansiballz import DECODER
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_payload import DIGEST_PREFIX

OUTPUT_LIMIT = 24 * 1024             # Cloud Assistant keeps the first 24 KB of a command's output
REPORT_RESERVE = 1024                # report lines other than data
INVENTORY_RESERVE = 5632             # the ``objects`` line of a hello (400 name prefixes)
READ_CHUNK_KB = 23                   # Base64 bytes read back per script: 23 KB (+ framing < 24 KB)
INVENTORY_SIZE = 400
CACHE_SUBDIR = "/.ansible/cloud_assistant"   # the account's cache directory, under its home
CACHE_DIR = f'"$HOME{CACHE_SUBDIR}"'
SPOOL_PREFIX = "ansible-ca-"
ASSEMBLY_WAIT = 120                  # seconds a script waits for SendFile parts to land
OBJECT_DAYS = 30                     # cached blobs unused this long are removed


def new_marker() -> str:
    return secrets.token_hex(10)


def q(value: str) -> str:
    return shlex.quote(value)


class ReportError(Exception):
    """The instance printed no complete report (the script was killed, or the shell is unusable)."""


@dataclass
class Report:
    values: dict = field(default_factory=dict)
    lists: dict = field(default_factory=dict)

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    def all(self, key: str) -> list:
        return self.lists.get(key, [])

    @property
    def rc(self) -> int:
        return int(self.values["rc"][0])


def parse_report(output: bytes, marker: str) -> Report:
    """The report lines of ``output`` (everything else is ignored); raises ReportError without ``end``."""
    prefix = marker.encode() + b" "
    report = Report()
    for line in output.split(b"\n"):
        if not line.startswith(prefix):
            continue
        key, _unused, rest = line[len(prefix):].decode("utf-8", errors="replace").partition(" ")
        values = rest.split(" ") if rest else []
        report.values[key] = values
        report.lists.setdefault(key, []).append(values)
    if "end" not in report.values:
        raise ReportError("no report from the instance")
    return report


def decode_stream(encoded: bytes, compressed: bool, size: int) -> bytes:
    """Base64 (of gzip) back to the bytes; checks the announced size."""
    try:
        data = base64.b64decode(encoded, validate=True)
        if compressed:
            data = gzip.decompress(data)
    except (binascii.Error, ValueError, OSError, EOFError) as exc:
        raise ReportError(f"the data read back is damaged ({exc})") from None
    if len(data) != size:
        raise ReportError(f"the data read back has {len(data)} bytes, {size} were announced")
    return data


# Ansible's expansion of ``~`` / ``~user`` (``_remote_expand_user``), possibly wrapped by the executable.
HOME_QUERY = re.compile(r"^(?:\S+ -c )?(?P<q>'?)echo ~(?P<user>[A-Za-z0-9_.-]*)(?: && sleep 0)?(?P=q)$")


def home_query(command: str) -> str | None:
    """The account whose home ``command`` only prints (``""``: the current one), or None for any other command."""
    match = HOME_QUERY.match(command.strip())
    return match.group("user") if match else None


def shell_path(path: str) -> str:
    """A remote path as a shell word: quoted, with a leading ``~/`` meaning the account's home."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + q(path[2:])
    return q(path)


def heredoc(command: str, data: bytes, tag: str, then: str = "") -> str:
    """``command <<'TAG' then`` with ``data`` (text ending with a newline) as the body of ``command``'s
    stdin (``then``: the rest of a pipeline); the tag is checked absent from the data."""
    text = data.decode("utf-8")
    if f"\n{tag}\n" in f"\n{text}":
        raise ValueError("here-document delimiter found in the data")
    return f"{command} <<'{tag}'{then}\n{text}{tag}\n"


@dataclass
class Assembly:
    """A blob the script assembles from SendFile parts (``count`` parts, the last one possibly inline).

    ``tag`` makes the part names of one upload its own (``<digest>-<tag>.N``): runs that send the same blob to
    one instance at the same time (an instance listed twice, parallel jobs) never join or remove each other's
    parts. ``into`` is where the checked blob goes: the shared cache (module objects, moved there atomically)
    or a file of this upload (a put, which then moves it to its destination).
    """
    digest: str
    count: int
    compressed: bool
    tail: bytes | None = None      # the last part, written by the script itself
    tag: str = ""
    private: bool = False

    @property
    def stem(self) -> str:
        return f"{self.digest}-{self.tag}" if self.tag else self.digest

    @property
    def into(self) -> str:
        return f"$C/parts/{self.stem}.f" if self.private else f"$C/{self.digest}"


class PosixShell:
    """Scripts for ``RunShellScript`` (see the module docstring)."""

    command_type = "RunShellScript"

    # ----- building blocks -------------------------------------------------------------------------
    @staticmethod
    def prelude(marker: str) -> str:
        return (
            f"M={marker}\n"
            "e() { printf '%s %s\\n' \"$M\" \"$*\"; }\n"
            "u=$(umask); umask 077\n"
            "[ -n \"$HOME\" ] || HOME=$(cd ~ 2>/dev/null && pwd) || HOME=/\n"
            f"C={CACHE_DIR}\n"
            "cd \"$HOME\" 2>/dev/null\n"
            "k() { { sha256sum \"$1\" || shasum -a 256 \"$1\" || openssl dgst -sha256 -r \"$1\"; } 2>/dev/null"
            " | cut -c1-64; }\n"
        )

    @staticmethod
    def hello() -> str:
        """Housekeeping and the inventory of the account's cache (once per instance, account and run)."""
        return (
            "mkdir -p \"$C/parts\" 2>/dev/null\n"
            f"find \"$C\" -type f -mtime +{OBJECT_DAYS} -exec rm -f {{}} + 2>/dev/null\n"
            "find \"$C/parts\" -type f -mtime +0 -exec rm -f {} + 2>/dev/null\n"
            f"find \"${{TMPDIR:-/tmp}}\" -maxdepth 1 -name '{SPOOL_PREFIX}*' -mtime +0 -exec rm -rf {{}} + 2>/dev/null\n"
            "e cache \"$C\"\n"
            "e tools $(for t in gzip timeout base64; do command -v $t >/dev/null 2>&1 && echo $t; done)"
            " $([ -n \"$(k /dev/null)\" ] && echo sha256)\n"
            "e objects $(ls -t \"$C\" 2>/dev/null | grep -E '^[0-9a-f]{32}$' | head -n "
            f"{INVENTORY_SIZE} | cut -c1-{DIGEST_PREFIX})\n"
        )

    @staticmethod
    def assembler() -> str:
        """``a DIGEST STEM COUNT Z INTO``: wait for the parts ``STEM.N``, join (and gunzip), check the digest, move
        to INTO (the cache, or a file of this upload)."""
        return (
            "a() {\n"
            f" h=$1 s=$2 n=$3 z=$4 o=$5 w=$(( $(date +%s) + {ASSEMBLY_WAIT} ))\n"
            " while :; do\n"
            "  i=0 ok=1\n"
            "  while [ $i -lt $n ]; do [ -f \"$C/parts/$s.$i\" ] || ok=0; i=$((i+1)); done\n"
            "  if [ $ok = 1 ]; then\n"
            "   i=0; while [ $i -lt $n ]; do cat \"$C/parts/$s.$i\"; i=$((i+1)); done >\"$C/parts/$s.t\"\n"
            "   if [ $z = 1 ]; then gzip -dc <\"$C/parts/$s.t\" >\"$C/parts/$s.u\" 2>/dev/null;"
            " else mv -f \"$C/parts/$s.t\" \"$C/parts/$s.u\"; fi\n"
            "   if [ \"$(k \"$C/parts/$s.u\")\" = \"$h\" ]; then mv -f \"$C/parts/$s.u\" \"$o\";"
            " rm -f \"$C/parts/$s.\"[0-9tu]*; return 0; fi\n"
            "  fi\n"
            "  [ \"$(date +%s)\" -lt $w ] || return 1\n"
            "  sleep 0.2 2>/dev/null || sleep 1\n"
            " done\n"
            "}\n"
        )

    @staticmethod
    def encoder() -> str:
        """``p FILE``: FILE.b = Base64 of FILE (gzip-compressed when over 512 bytes); prints z or b."""
        return (
            "p() {\n"
            " if [ \"$(wc -c <\"$1\")\" -gt 512 ] && gzip -c \"$1\" >\"$1.z\" 2>/dev/null; then"
            " base64 <\"$1.z\" | tr -d '\\n' >\"$1.b\"; rm -f \"$1.z\"; echo z;\n"
            " else base64 <\"$1\" | tr -d '\\n' >\"$1.b\"; echo b; fi\n"
            "}\n"
        )

    def assemblies(self, marker: str, items: list) -> str:
        """Assemble blobs from their SendFile parts (``L=1`` after ``lost DIGEST`` for those that never came)."""
        if not items:
            return ""
        lines = [self.assembler()]
        for n, item in enumerate(items):
            if item.tail is not None:
                lines.append(heredoc(f"base64 -d >\"$C/parts/{item.stem}.{item.count - 1}\"",
                                     base64.b64encode(item.tail) + b"\n", f"_{marker}_t{n}"))
            lines.append(f"a {item.digest} {item.stem} {item.count} {int(item.compressed)} \"{item.into}\""
                         f" || {{ e lost {item.digest}; L=1; }}\n")
        return "".join(lines)

    # ----- scripts ---------------------------------------------------------------------------------
    def hello_script(self, marker: str) -> str:
        return self.prelude(marker) + self.hello() + "e end\n"

    def exec_script(self, marker: str, command: str, *, hello: bool, timeout: int, prepare: str = "",
                    feed: str | None = None, cleanup=()) -> str:
        """Run ``command`` with ``/bin/sh``, its stdin written to ``$S/i`` by ``feed`` (None: no stdin).

        ``prepare`` (blob assemblies) and ``feed`` may set ``L=1`` after reporting ``lost``/``missing``:
        then nothing runs. ``cleanup``: files of the cache directory to remove in any case.
        """
        budget = OUTPUT_LIMIT - REPORT_RESERVE - (INVENTORY_RESERVE if hello else 0)
        drop = "".join(f"rm -f \"$C/{name}\"; " for name in cleanup)
        out = [self.prelude(marker), self.hello() if hello else "", "L=0\n", prepare,
               f"if [ $L = 1 ]; then {drop}e end; exit 0; fi\n",
               f"S=$(mktemp -d \"${{TMPDIR:-/tmp}}/{SPOOL_PREFIX}XXXXXXXX\") || {{ {drop}e fail mktemp; e end; exit 0; }}\n",
               heredoc("cat >\"$S/c\"", command.encode("utf-8") + b"\n", f"_{marker}_c")]
        if feed is not None:
            out += [feed, f"if [ $L = 1 ]; then rm -rf \"$S\"; {drop}e end; exit 0; fi\n"]
        stdin = "\"$S/i\"" if feed is not None else "/dev/null"
        # A payload on stdin is a module (pipelining): its own temporary files (AnsiballZ unpacks its code there)
        # go in the spool, so a module stopped at its timeout leaves nothing behind. Async jobs outlive the
        # command and take no stdin: they keep the account's TMPDIR.
        private_tmp = "mkdir \"$S/t\" 2>/dev/null && { TMPDIR=\"$S/t\"; export TMPDIR; }; " if feed is not None else ""
        out += [
            f"T=; command -v timeout >/dev/null 2>&1 && T='timeout -k 10 {int(timeout)}'\n",
            "s=$(date +%s)\n",
            f"(umask \"$u\"; cd 2>/dev/null; {private_tmp}exec $T /bin/sh \"$S/c\") <{stdin} >\"$S/o\" 2>\"$S/e\"\n",
            "r=$?\nrm -rf \"$S/i\" \"$S/t\"\n",
            f"[ $r = 124 ] && [ $(( $(date +%s) - s )) -ge {int(timeout)} ] && e timeout\n",
            drop + "\n" if drop else "",
            self.encoder(),
            "zo=$(p \"$S/o\"); ze=$(p \"$S/e\")\n"
            "no=$(wc -c <\"$S/o.b\"); ne=$(wc -c <\"$S/e.b\")\n"
            "e rc $r\n"
            "e out $zo $(wc -c <\"$S/o\") $no\n"
            "e err $ze $(wc -c <\"$S/e\") $ne\n"
            f"B={budget}; ie=0; io=0\n"
            "if [ $ne -le $B ]; then printf '%s e ' \"$M\"; cat \"$S/e.b\"; echo; B=$((B-ne)); ie=1; fi\n"
            "if [ $no -le $B ]; then printf '%s o ' \"$M\"; cat \"$S/o.b\"; echo; io=1; fi\n"
            "if [ $io = 1 ] && [ $ie = 1 ]; then rm -rf \"$S\"; else rm -f \"$S/c\" \"$S/o\" \"$S/e\"; e spool \"$S\"; fi\n"
            "e end\nexit 0\n",
        ]
        return "".join(out)

    def feed_parts(self, marker: str, parts: list) -> str:
        """stdin from Inline runs (in the script) and blob names (assembled in the cache directory)."""
        out = ["{\n"]
        for n, part in enumerate(parts):
            if isinstance(part, str):
                out.append(f"cat \"$C/{part}\"\n")
            elif part.is_text:
                out.append(heredoc("cat", part.data, f"_{marker}_{n}"))
            else:
                out.append(heredoc("base64 -d", base64.b64encode(part.data) + b"\n", f"_{marker}_{n}"))
        out.append("} >\"$S/i\"\n")
        return "".join(out)

    def feed_recipe(self, marker: str, interpreter: list, encoded: str | None, source: str | None = None) -> str:
        """stdin rebuilt by DECODER with the module's interpreter from a recipe (``encoded`` in the script,
        or the cache file ``source``); the objects it lacks are reported ``missing`` and nothing runs.

        Without the interpreter the command gets no stdin, and fails as it would have anyway.
        """
        if "'" in DECODER:
            raise ValueError("the decoder must not contain a single quote")
        words = " ".join(q(word) for word in interpreter)
        run = f" {words} -c '{DECODER}' \"$C\" \"$S/i\" >\"$S/m\" 2>&1"
        if source is None:
            run = heredoc(run, encoded.encode("ascii") + b"\n", f"_{marker}_r")
        else:
            run += f" <\"$C/{source}\"\n"
        return (
            f"if command -v {q(interpreter[0])} >/dev/null 2>&1; then\n"
            + run
            + " y=$?\n"
            " if [ $y = 3 ]; then for h in $(sed -n 's/^missing //p' \"$S/m\"); do e missing $h; done; L=1\n"
            " elif [ $y != 0 ]; then e fail rebuilding the module payload: $(head -c 300 \"$S/m\" | tr '\\n' ' '); L=1; fi\n"
            "else : >\"$S/i\"; fi\n"
        )

    def read_script(self, marker: str, path: str, chunk: int, cleanup: str | None = None) -> str:
        """Print chunk number ``chunk`` (READ_CHUNK_KB each) of a spooled Base64 file; optionally remove the spool."""
        script = (f"M={marker}\n"
                  f"printf '%s d ' \"$M\"; dd if={q(path)} bs=1024 skip={chunk * READ_CHUNK_KB} "
                  f"count={READ_CHUNK_KB} 2>/dev/null; echo\n")
        if cleanup:
            script += f"rm -rf {q(cleanup)}\n"
        return script + "printf '%s end\\n' \"$M\"\n"

    def cleanup_script(self, path: str) -> str:
        return f"rm -rf {q(path)}\n"

    def fetch_script(self, marker: str, path: str) -> str:
        """Snapshot ``path``, report its digest and size, and its data (inline when it fits, else a spool)."""
        budget = OUTPUT_LIMIT - REPORT_RESERVE
        return (
            self.prelude(marker) + self.encoder()
            + f"P={shell_path(path)}\n"
            "if [ ! -e \"$P\" ]; then e fail missing\n"
            "elif [ ! -f \"$P\" ]; then e fail notfile\n"
            "elif [ ! -r \"$P\" ]; then e fail denied\n"
            "else\n"
            f" S=$(mktemp -d \"${{TMPDIR:-/tmp}}/{SPOOL_PREFIX}XXXXXXXX\") || {{ e fail mktemp; e end; exit 0; }}\n"
            " if cat \"$P\" >\"$S/f\" 2>/dev/null; then\n"
            "  z=$(p \"$S/f\"); n=$(wc -c <\"$S/f.b\")\n"
            "  e file $(k \"$S/f\") $(wc -c <\"$S/f\") $z $n\n"
            "  rm -f \"$S/f\"\n"
            f"  if [ $n -le {budget} ]; then printf '%s d ' \"$M\"; cat \"$S/f.b\"; echo; rm -rf \"$S\";"
            " else e spool \"$S\"; fi\n"
            " else rm -rf \"$S\"; e fail denied; fi\n"
            "fi\n"
            "e end\nexit 0\n"
        )

    def put_inline_script(self, marker: str, destination: str, payload: bytes, compressed: bool, digest: str) -> str:
        """Write ``payload`` (gzip-compressed when ``compressed``) to ``destination`` if its digest matches."""
        then = " | gzip -dc >\"$S/u\"" if compressed else " >\"$S/u\""
        return (
            self.prelude(marker)
            + f"D={shell_path(destination)}\n"
            + f"S=$(mktemp -d \"${{TMPDIR:-/tmp}}/{SPOOL_PREFIX}XXXXXXXX\") || {{ e fail mktemp; e end; exit 0; }}\n"
            + heredoc("base64 -d", base64.b64encode(payload) + b"\n", f"_{marker}_d", then)
            + self._install("$S/u", digest)
            + "rm -rf \"$S\"\ne end\nexit 0\n"
        )

    def put_parts_script(self, marker: str, destination: str, assembly: Assembly) -> str:
        """Assemble the blob whose parts were sent and move it to ``destination``."""
        return (
            self.prelude(marker)
            + f"D={shell_path(destination)}\nL=0\n"
            + self.assemblies(marker, [assembly])
            + f"if [ $L = 0 ]; then\n{self._install(assembly.into, assembly.digest)}fi\n"
            + "e end\nexit 0\n"
        )

    @staticmethod
    def _install(source: str, digest: str) -> str:
        return (
            f"if [ \"$(k \"{source}\")\" != {digest} ]; then e fail corrupt\n"
            f"elif [ -d \"$D\" ]; then e fail isdir\n"
            f"elif mv -f \"{source}\" \"$D\" 2>/dev/null; then e put ok\n"
            f"elif [ -d \"$(dirname \"$D\")\" ]; then e fail denied\n"
            f"else e fail nodir; fi\n"
            f"rm -f \"{source}\"\n"
        )
