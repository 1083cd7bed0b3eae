# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A result computed once for the hosts of a play batch, shared by Ansible's forked workers.

With ``hosts: web`` Ansible calls an action plugin once per host, in up to ``forks`` worker processes.
The first host to take the batch lock becomes the **leader**: it computes the results of every host it
may act for and stores them; the others wait on the lock, then read their own result. The files live in
Ansible's private per-run temp dir (removed at exit), keyed by task uuid and play batch, so ``serial``
batches, ``--limit`` and hosts removed after failures give different keys. A leader that fails stores its
error for the others; one that dies (lock released with no result) is reported, never waited on forever.
A host the leader left out does its own work when it arrives. A host that already consumed its result
starts a new generation (the same task run again).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError

LOCK_POLL_SECONDS = 0.02


class BatchLeaderError(Exception):
    """The leader of the batch failed; the message says why (shown to every follower)."""


def digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


@contextmanager
def file_lock(path: str, timeout: float):
    """Exclusive ``fcntl`` lock on ``path`` (works across the forked workers); TimeoutError after ``timeout``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"waited {timeout:.0f}s for the batch lock {path}") from None
                time.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_json(path: str, data) -> None:
    """Write ``data`` atomically (readers that do not hold the lock never see half a file)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, default=str))
    os.replace(tmp, path)


def read_json(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        return None


class BatchCache:
    """Results of one batched task for the hosts of one play batch.

    Layout under ``root/<key>/``: ``lock``, ``state.json`` (status, hosts, leader, error,
    generation), ``r-<host+variant digest>.json`` (one result per host), renamed ``c-<host digest>``
    once that host consumed it. Every file is read and written with the lock held.

    A *variant* says what a result was computed with (the action plugins: which account, endpoint
    and region): a host takes a stored result only if it was computed with its own variant, else it
    does its own work.
    """

    def __init__(self, root: str, key: str, timeout: float):
        self.dir = os.path.join(root, key)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.timeout = timeout

    def _consumed(self, host: str) -> str:
        return os.path.join(self.dir, f"c-{digest(host)}")

    def _result(self, host: str, variant: str) -> str:
        return os.path.join(self.dir, f"r-{digest(host, variant)}.json")

    def obtain(self, host: str, hosts: list, compute, variant: str = "", variant_of=None) -> dict:
        """This host's result: computed for every host of ``hosts`` by whoever comes first.

        ``compute(hosts) -> {host: result}`` runs in the leader's process with the lock held; hosts it
        leaves out of its answer do their own ``compute([host])`` when they arrive. ``variant`` is
        this host's variant; ``variant_of(other)``, asked after ``compute``, the one the leader
        computed another host's result with.
        """
        state_path = os.path.join(self.dir, "state.json")
        with file_lock(os.path.join(self.dir, "lock"), self.timeout):
            state = read_json(state_path)
            consumed = os.path.exists(self._consumed(host))
            if state is not None and not consumed:
                if state["status"] == "done":
                    result = read_json(self._result(host, variant))
                    if result is not None:
                        self._consume(host, variant)
                        return result
                    # Left out by the leader: do this host alone, without touching the batch state.
                    return compute([host])[host]
                if state["status"] == "running":
                    # We hold the lock, so the leader that wrote "running" is gone.
                    raise BatchLeaderError(f"the batch leader ({state['leader']}) exited before storing results; "
                                           "see its own error above")
                if host in state["hosts"]:
                    self._consume(host, variant)
                    raise BatchLeaderError(f"the batch leader ({state['leader']}) failed for the whole batch: "
                                           f"{state['error']}")
                return compute([host])[host]
            generation = (state or {}).get("generation", 0) + 1
            if consumed:
                for name in os.listdir(self.dir):
                    if name.startswith(("r-", "c-")):
                        os.unlink(os.path.join(self.dir, name))
            write_json(state_path, {"status": "running", "leader": host, "hosts": hosts, "generation": generation,
                                    "pid": os.getpid()})
            try:
                results = compute(hosts)
            except Exception as exc:
                message = exc.to_dict()["msg"] if isinstance(exc, (AlicloudError, AlicloudInputError)) else str(exc)
                write_json(state_path, {"status": "error", "leader": host, "hosts": hosts, "error": message,
                                        "generation": generation})
                self._consume(host, variant)
                raise
            for other, result in results.items():
                if other != host:
                    # Plain writes: followers read them only after the state says "done", under the lock.
                    path = self._result(other, variant_of(other) if variant_of else variant)
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(json.dumps(result, default=str))
            # No host list once done: every follower reads this file, and only its own result matters.
            write_json(state_path, {"status": "done", "leader": host, "generation": generation})
            self._consume(host, variant)
            return results[host]

    def _consume(self, host: str, variant: str) -> None:
        """Mark this host's result as taken (a later run of the same task starts a new generation)."""
        try:
            os.replace(self._result(host, variant), self._consumed(host))
        except FileNotFoundError:
            with open(self._consumed(host), "w", encoding="utf-8"):
                pass


def batch_key(task_uuid: str, play_batch: list, loop_marker=None) -> str:
    # Every host computes it over the whole batch: plain string hashing, no JSON of the host list.
    hosts = hashlib.sha256("\0".join(sorted(map(str, play_batch))).encode()).hexdigest()
    return digest(task_uuid, hosts, loop_marker)
