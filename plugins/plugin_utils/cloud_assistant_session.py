# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``exec``, ``put`` and ``fetch`` of the ``cloud_assistant`` connection, with as few calls as the
API allows (see docs/connection.md for the figures):

* ``exec``: one RunCommand (plus polls). A module payload travels as a recipe
  (``cloud_assistant_ansiballz``): only the objects the instance's cache lacks are sent, inline or
  in one SendFile bundle; any other stdin goes inline, the rest in SendFile blobs. stdout and
  stderr come back in the report, or are read back in 23 KB pieces, several invocations at a
  time, the last one removing the spool.
* ``put``: one RunCommand when the (compressed) file fits the script, else SendFile parts then one
  RunCommand that joins them and checks the SHA-256 before moving the file into place; a module file
  (async tasks) travels as a recipe, like a pipelined module.
* ``fetch``: one RunCommand that snapshots and compresses the file and returns it when it fits,
  else reads like a spooled output; the SHA-256 is checked on the controller.

The first script for an instance and account in a run also reports where the account's object
cache is, which tools the instance has and which objects it holds (:class:`InstanceKnowledge`).
"""
from __future__ import annotations

import math
import time
import zlib

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_ansiballz import build_recipe
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_api import CommandFailed
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_payload import (
    SCRIPT_LIMIT,
    Blob,
    InstanceKnowledge,
    compress,
    sha256,
    split_parts,
    split_stdin,
)
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_shell import (
    CACHE_SUBDIR,
    READ_CHUNK_KB,
    Assembly,
    ReportError,
    decode_stream,
    home_query,
    new_marker,
    parse_report,
    shell_path,
)

SCRIPT_GRACE = 30        # RunCommand Timeout beyond the command's own (the script's `timeout` acts first)
DELIVERY_GRACE = 60      # how long a command may wait for delivery before we give up on it
MAX_IN_FLIGHT = 8        # concurrent read invocations on one instance
MAX_TRIES = 3            # runs of one exec when cached blobs turn out missing
PACE = 0.9               # first poll at this share of what such commands took on the instance
FETCH_ERRORS = {"missing": "does not exist", "notfile": "is not a regular file", "denied": "cannot be read"}
PUT_ERRORS = {"nodir": "its directory does not exist", "denied": "its directory is not writable",
              "isdir": "it is a directory", "corrupt": "the data arrived damaged"}


def upload_tag(marker: str) -> str:
    """The part-name tag of the upload a script (its marker) assembles."""
    return marker[:12]


def upload_stem(digest: str, marker: str) -> str:
    return f"{digest}-{upload_tag(marker)}"


def private_name(digest: str, marker: str) -> str:
    """Where a blob of this upload only is assembled, relative to the cache directory (``Assembly.into``)."""
    return f"parts/{upload_stem(digest, marker)}.f"


class Session:
    """One instance through one :class:`InstanceChannel` and one shell dialect."""

    def __init__(self, channel, shell, knowledge_dir: str, *, command_timeout: int, cache_blobs: bool = True,
                 log=None):
        self.channel = channel
        self.shell = shell
        self.knowledge_dir = knowledge_dir
        self.command_timeout = int(command_timeout)
        self.cache_blobs = cache_blobs
        self.log = log or (lambda message: None)
        self._monotonic = time.monotonic

    # ----- plumbing --------------------------------------------------------------------------------
    def knowledge(self, user: str | None) -> InstanceKnowledge:
        return InstanceKnowledge.load(self.knowledge_dir, self.channel.instance_id, user or "root")

    @property
    def _timeouts(self) -> tuple:
        run = self.command_timeout + SCRIPT_GRACE
        return run, run + DELIVERY_GRACE

    def _run(self, script: str, user: str | None, marker: str, kind: str, known: InstanceKnowledge):
        """Run one script and read its report; ``kind`` (command, module, put, fetch, read) paces the polls:
        the first one comes about when such commands of this instance usually end."""
        if len(script.encode("utf-8")) > SCRIPT_LIMIT:   # would be CmdContent.ExceedLimit: a bug of ours
            raise CommandFailed(f"internal error: a {len(script)}-byte script exceeds the Cloud Assistant limit")
        timeout, wait = self._timeouts
        expected = known.expected(kind)
        started = self._monotonic()
        outcome = self.channel.run(script, user, timeout, wait, expected * PACE if expected else None)
        known.observed(kind, self._monotonic() - started)
        known.save()
        return self._report(outcome, user, marker)

    def _report(self, outcome, user, marker):
        problem = self.channel.explain(outcome, user)
        if problem is not None:
            raise problem
        try:
            return parse_report(outcome.output, marker)
        except ReportError as error:
            # Only what is not a report line (a shell error, say): report lines carry the command's output.
            lines = [line for line in outcome.output.split(b"\n") if not line.startswith(marker.encode())]
            shown = b"\n".join(lines).strip()[:400].decode("utf-8", errors="replace")
            raise CommandFailed(f"{error} on {self.channel.instance_id} (invocation {outcome.invoke_id}, "
                                f"status {outcome.status}, exit code {outcome.exit_code}): {shown!r}") from None

    def _seed(self, known: InstanceKnowledge, report) -> None:
        cache = " ".join(report.get("cache") or [])
        known.seed(cache, report.get("tools") or [], report.get("objects") or [])
        known.save()
        if "base64" not in known.tools or "sha256" not in known.tools:
            raise CommandFailed(f"{self.channel.instance_id} lacks base64 or sha256sum (coreutils), which this "
                                "connection needs")

    def _ensure_cache(self, known: InstanceKnowledge, user) -> None:
        """Learn the account's cache directory before sending it anything (one extra call, once a run)."""
        if not known.cache_dir:
            marker = new_marker()
            self._seed(known, self._run(self.shell.hello_script(marker), user, marker, "command", known))

    def _send_parts(self, known, stem: str, parts: list, inline_tail: bool, user) -> list:
        """SendFile the parts of a blob (all but the last when the script carries it), a few at a time, named
        ``<stem>.N`` (``Assembly.stem``: this upload's own names)."""
        target = f"{known.cache_dir}/parts"
        items = list(enumerate(parts[:-1] if inline_tail else parts))
        return self.channel.parallel(lambda item: self.channel.send(target, f"{stem}.{item[0]}", item[1], user),
                                     items)

    def _lost(self, sent: list, what: str) -> CommandFailed:
        problems = self.channel.send_failures(sent) if sent else []
        detail = "; ".join(problems) if problems else "the parts did not arrive in time"
        return CommandFailed(f"SendFile could not deliver {what} to {self.channel.instance_id}: {detail}")

    # ----- exec ------------------------------------------------------------------------------------
    def exec(self, command: str, in_data: bytes | None, user: str | None) -> tuple:
        """Run ``command`` with ``in_data`` on stdin as ``user``; returns ``(rc, stdout, stderr)``."""
        known = self.knowledge(user)
        home = self._known_home(command, in_data, user, known)
        if home is not None:
            self.log(f"answered from what this run knows: {home}")
            return 0, home.encode("utf-8") + b"\n", b""
        recipe = build_recipe(in_data) if in_data is not None else None
        for _attempt in range(MAX_TRIES):
            marker = new_marker()
            if recipe is not None:
                plan = self._recipe_plan(marker, command, recipe, known, user)
            else:
                plan = self._parts_plan(marker, command, in_data, known, user)
            report = self._run(plan["script"], user, marker, "module" if recipe is not None else "command", known)
            if plan["hello"]:
                self._seed(known, report)
            if report.all("lost"):
                raise self._lost(plan["sent"], "the command's input")
            missing = [values[0] for values in report.all("missing") if values]
            if missing:   # objects not (or no longer) cached on the instance: nothing ran, send them
                self.log(f"{len(missing)} module object(s) not cached on the instance; sending them")
                known.drop(missing)
                known.save()
                continue
            if plan["cached"]:
                known.remember(plan["cached"])
                known.save()
            if report.get("fail") is not None:
                raise CommandFailed(f"the command could not start on {self.channel.instance_id}: "
                                    f"{' '.join(report.get('fail'))}")
            stdout, stderr = self._streams(report, user, known)
            if report.get("timeout") is not None:
                raise CommandFailed(f"the command ran longer than {self.command_timeout} s on "
                                    f"{self.channel.instance_id} and was stopped (raise "
                                    "ansible_cloud_assistant_command_timeout, or run the task with async); its "
                                    f"last output: {_tail(stdout, stderr)}", "ExecutionTimeout")
            return report.rc, stdout, stderr
        raise CommandFailed(f"module objects kept disappearing from the cache of {self.channel.instance_id}")

    @staticmethod
    def _known_home(command, in_data, user, known) -> str | None:
        """The home of the account when ``command`` only prints it (``echo ~``) and this run already knows it."""
        asked = home_query(command) if in_data is None else None
        if asked is None or asked not in ("", user or "root") or not known.cache_dir.endswith(CACHE_SUBDIR):
            return None
        return known.cache_dir[:-len(CACHE_SUBDIR)] or "/"

    def _render(self, marker, command, hello, prepare="", feed=None, cleanup=()) -> str:
        return self.shell.exec_script(marker, command, hello=hello, timeout=self.command_timeout, prepare=prepare,
                                      feed=feed, cleanup=cleanup)

    def _recipe_plan(self, marker: str, command: str, recipe, known: InstanceKnowledge, user) -> dict:
        """A module payload: the objects the instance lacks go inline (smallest first) or in one SendFile
        bundle. A run that does not know the instance's cache yet assumes it holds every object (a miss
        costs one more run, a hit saves every transfer) and carries the small ones inline anyway."""
        drop = not self.cache_blobs
        if drop and not known.seeded:
            self._ensure_cache(known, user)
        hello = not known.seeded
        names = sorted(recipe.objects, key=lambda name: len(recipe.objects[name]))
        if drop:
            required = names
        else:
            required = [name for name in names if known.seeded and not known.has(name)]
        plan = {"hello": hello, "sent": [], "cached": [] if drop else names}
        inline, bundled = list(required), []
        while True:
            script, bundle, parts = self._recipe_script(marker, command, recipe, inline, bundled, known, hello, drop)
            if len(script.encode("utf-8")) <= SCRIPT_LIMIT:
                break
            if not inline:   # even the task's own part does not fit: the recipe itself travels as a blob
                return self._recipe_blob_plan(marker, command, recipe, known, user, plan, required, drop)
            bundled.append(inline.pop())   # the largest inline object joins the bundle
        if not known.seeded and not bundled:
            script, inline = self._free_riders(marker, command, recipe, script, inline, known, hello, drop)
        if bundle is not None:
            self._ensure_cache(known, user)
            plan["sent"] = self._send_parts(known, upload_stem(bundle.digest, marker), parts[0], False, user)
        if required or bundled:
            self.log(f"module: {len(required)} object(s) missing: {len(inline)} inline, {len(bundled)} in a bundle "
                     f"of {len(plan['sent'])} SendFile call(s)")
        plan["script"] = script
        return plan

    def _recipe_script(self, marker, command, recipe, inline, bundled, known, hello, drop) -> tuple:
        """``(script, bundle blob or None, its (parts, compressed))`` for these inline and bundled objects."""
        bundle = Blob(b"".join(recipe.objects[name] for name in bundled)) if bundled else None
        parts = bundle.parts(gzip_ok=known.can("gzip")) if bundle else None
        prepare = ""
        if bundle:
            prepare = self.shell.assemblies(marker, [Assembly(bundle.digest, len(parts[0]), parts[1],
                                                              tag=upload_tag(marker), private=True)])
        encoded = recipe.encode(inline, [(private_name(bundle.digest, marker), bundled)] if bundle else [], drop)
        feed = self.shell.feed_recipe(marker, recipe.interpreter, encoded)
        return self._render(marker, command, hello, prepare, feed), bundle, parts

    def _free_riders(self, marker, command, recipe, script, inline, known, hello, drop) -> tuple:
        """Add objects likely new to the instance while the script has room (no extra call for them)."""
        room = SCRIPT_LIMIT - len(script.encode("utf-8")) - 512
        extra = []
        for name in recipe.likely_new():
            if name in inline:
                continue
            cost = len(zlib.compress(recipe.objects[name], 1)) * 4 // 3 + 48
            if cost <= room:
                extra.append(name)
                room -= cost
        while extra:
            candidate = self._recipe_script(marker, command, recipe, inline + extra, [], known, hello, drop)[0]
            if len(candidate.encode("utf-8")) <= SCRIPT_LIMIT:
                return candidate, inline + extra
            extra.pop()
        return script, inline

    def _recipe_blob_plan(self, marker, command, recipe, known, user, plan, required, drop) -> dict:
        encoded = recipe.encode(required, [], drop).encode("ascii")
        blob = Blob(encoded)
        self._ensure_cache(known, user)
        chunks, compressed = blob.parts(gzip_ok=known.can("gzip"))
        plan["hello"] = False
        plan["sent"] = self._send_parts(known, upload_stem(blob.digest, marker), chunks, False, user)
        prepare = self.shell.assemblies(marker, [Assembly(blob.digest, len(chunks), compressed, tag=upload_tag(marker),
                                                          private=True)])
        own = private_name(blob.digest, marker)
        feed = self.shell.feed_recipe(marker, recipe.interpreter, None, source=own)
        plan["script"] = self._render(marker, command, False, prepare, feed, cleanup=[own])
        return plan

    def _parts_plan(self, marker: str, command: str, in_data, known: InstanceKnowledge, user) -> dict:
        """Any other stdin (or none): inline runs in the script, the rest in SendFile blobs."""
        hello = not known.seeded
        plan = {"hello": hello, "sent": [], "cached": []}
        if in_data is None:
            plan["script"] = self._render(marker, command, hello)
            return plan
        base = self._render(marker, command, hello, feed=self.shell.feed_parts(marker, []))
        budget = SCRIPT_LIMIT - len(base.encode("utf-8")) - len(self.shell.assemblies(marker, [Assembly("0", 1, False, tag=upload_tag(marker))]))
        parts = split_stdin(in_data, budget - 512)
        blobs = {p.digest: p for p in parts if isinstance(p, Blob)}
        if blobs:
            self._ensure_cache(known, user)
            hello = plan["hello"] = False
        split = {digest: blob.parts(gzip_ok=known.can("gzip")) for digest, blob in blobs.items()}
        inline_tails = set(split)
        feed = self.shell.feed_parts(marker, [private_name(p.digest, marker) if isinstance(p, Blob) else p for p in parts])

        def render():
            assemble = [Assembly(d, len(chunks), compressed, chunks[-1] if d in inline_tails else None,
                                 tag=upload_tag(marker), private=True)
                        for d, (chunks, compressed) in split.items()]
            return self._render(marker, command, hello, self.shell.assemblies(marker, assemble), feed,
                                [private_name(d, marker) for d in split])

        script = render()
        while len(script.encode("utf-8")) > SCRIPT_LIMIT and inline_tails:
            inline_tails.discard(max(inline_tails, key=lambda d: len(split[d][0][-1])))
            script = render()
        for digest, (chunks, _unused) in split.items():
            plan["sent"] += self._send_parts(known, upload_stem(digest, marker), chunks, digest in inline_tails, user)
        plan["script"] = script
        return plan

    def _streams(self, report, user, known) -> tuple:
        """stdout and stderr of an exec report, read back from the spool when they did not fit."""
        spooled, read = {}, {}
        for key, name in (("out", "o"), ("err", "e")):
            if report.get(name) is None:
                spooled[f"{name}.b"] = int(report.get(key)[2])
        if spooled:
            read = self._read_spool(" ".join(report.get("spool")), spooled, user, known)
        streams = []
        for key, name in (("out", "o"), ("err", "e")):
            kind, size, _unused = report.get(key)
            encoded = read[f"{name}.b"] if f"{name}.b" in spooled else "".join(report.get(name)).encode()
            streams.append(decode_stream(encoded, kind == "z", int(size)))
        return tuple(streams)

    def _read_spool(self, spool: str, files: dict, user, known) -> dict:
        """``{name: Base64 bytes}`` of spooled files, MAX_IN_FLIGHT reads at a time, the last one cleaning up."""
        chunk_size = READ_CHUNK_KB * 1024
        jobs = [(name, index) for name, size in files.items() for index in range(max(1, math.ceil(size / chunk_size)))]
        pieces = {}
        head, last = jobs[:-1], jobs[-1]
        timeout, wait = self._timeouts
        for start in range(0, len(head), MAX_IN_FLIGHT):
            batch = [(name, index, new_marker()) for name, index in head[start:start + MAX_IN_FLIGHT]]
            invoke_ids = self.channel.parallel(
                lambda job: self.channel.start(self.shell.read_script(job[2], f"{spool}/{job[0]}", job[1]), user,
                                               timeout), batch)
            started = dict(zip(invoke_ids, batch))
            expected = known.expected("read")
            for invoke_id, outcome in self.channel.wait(list(started), wait, expected and expected * PACE).items():
                name, index, marker = started[invoke_id]
                pieces[(name, index)] = self._piece(self._report(outcome, user, marker))
        marker = new_marker()
        name, index = last
        pieces[last] = self._piece(self._run(self.shell.read_script(marker, f"{spool}/{name}", index, cleanup=spool),
                                             user, marker, "read", known))
        return {name: b"".join(pieces[(name, i)] for i in range(max(1, math.ceil(size / chunk_size))))
                for name, size in files.items()}

    @staticmethod
    def _piece(report) -> bytes:
        return "".join(report.get("d") or []).encode()

    # ----- put -------------------------------------------------------------------------------------
    def put(self, data: bytes, destination: str, user: str | None) -> None:
        if build_recipe(data) is not None:
            # A module file (async tasks, or pipelining off): the module code comes from the instance's cache.
            rc, _unused, stderr = self.exec(f"umask 077 && cat > {shell_path(destination)}", data, user)
            if rc != 0:
                raise CommandFailed(f"cannot write {destination} on {self.channel.instance_id}: "
                                    f"{stderr.decode('utf-8', errors='replace').strip()}")
            return
        known = self.knowledge(user)
        if not known.seeded:
            self._ensure_cache(known, user)
        digest = sha256(data)
        payload, compressed = compress(data) if known.can("gzip") else (data, False)
        marker = new_marker()
        script = self.shell.put_inline_script(marker, destination, payload, compressed, digest)
        sent = []
        if len(script.encode("utf-8")) > SCRIPT_LIMIT:
            chunks = split_parts(payload)
            assembly = Assembly(digest, len(chunks), compressed, chunks[-1], tag=upload_tag(marker), private=True)
            script = self.shell.put_parts_script(marker, destination, assembly)
            if len(script.encode("utf-8")) > SCRIPT_LIMIT:
                assembly.tail = None
                script = self.shell.put_parts_script(marker, destination, assembly)
            sent = self._send_parts(known, assembly.stem, chunks, assembly.tail is not None, user)
            self.log(f"put: {len(data)} bytes ({len(payload)} sent) in {len(sent)} SendFile call(s)")
        report = self._run(script, user, marker, "put", known)
        if report.all("lost"):
            raise self._lost(sent, f"the file for {destination}")
        if report.get("put") is None:
            why = (report.get("fail") or ["unknown"])[0]
            raise CommandFailed(f"cannot write {destination} on {self.channel.instance_id}: "
                                f"{PUT_ERRORS.get(why, why)}")

    # ----- fetch -----------------------------------------------------------------------------------
    def fetch(self, source: str, user: str | None) -> bytes:
        marker = new_marker()
        known = self.knowledge(user)
        report = self._run(self.shell.fetch_script(marker, source), user, marker, "fetch", known)
        if report.get("fail") is not None:
            why = (report.get("fail") or ["unknown"])[0]
            raise CommandFailed(f"cannot fetch {source} from {self.channel.instance_id}: it "
                                f"{FETCH_ERRORS.get(why, why + ' failed')}", why)
        digest, size, kind, encoded_size = report.get("file")
        if report.get("d") is not None:
            encoded = "".join(report.get("d")).encode()
        else:
            encoded = self._read_spool(" ".join(report.get("spool")), {"f.b": int(encoded_size)}, user, known)["f.b"]
        data = decode_stream(encoded, kind == "z", int(size))
        if sha256(data) != digest:
            raise CommandFailed(f"{source} from {self.channel.instance_id} arrived damaged (SHA-256 mismatch)")
        return data


def _tail(stdout: bytes, stderr: bytes) -> str:
    text = (stderr or stdout).decode("utf-8", errors="replace").strip()
    return repr(text[-300:]) if text else "(none)"
