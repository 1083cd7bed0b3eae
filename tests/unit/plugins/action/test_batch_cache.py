"""Unit tests of the controller-side batch cache shared by forked workers (plugin_utils/batch_cache.py)."""
from __future__ import annotations

import json
import multiprocessing
import os
import time

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.batch_cache import BatchCache, BatchLeaderError, batch_key
from ansible_collections.alicloud.oos.plugins.plugin_utils.instance_addresses import looks_like_ip

HOSTS = [f"web{n}" for n in range(6)]


def _worker(root, key, host, log_path, queue, fail=False):
    calls = []

    def compute(hosts):
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"leader": host, "hosts": hosts}) + "\n")
        time.sleep(0.3)
        if fail:
            raise RuntimeError("API exploded")
        return {h: {"host": h, "computed_by": host} for h in hosts}

    try:
        result = BatchCache(root, key, timeout=30).obtain(host, HOSTS, compute)
        queue.put((host, result, calls))
    except BatchLeaderError as exc:
        queue.put((host, {"error": str(exc)}, calls))
    except RuntimeError as exc:
        queue.put((host, {"leader_error": str(exc)}, calls))


def run_workers(tmp_path, fail=False, key="k1"):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    log = tmp_path / "compute.log"
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), key, h, str(log), queue, fail)) for h in HOSTS]
    for proc in procs:
        proc.start()
    results = dict((host, result) for host, result, _unused in (queue.get(timeout=60) for _unused in procs))
    for proc in procs:
        proc.join(timeout=30)
    computes = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return results, computes


def test_one_leader_computes_for_all_forks(tmp_path):
    results, computes = run_workers(tmp_path)
    assert len(computes) == 1 and computes[0]["hosts"] == HOSTS
    leader = computes[0]["leader"]
    assert {h: r["host"] for h, r in results.items()} == {h: h for h in HOSTS}
    assert all(r["computed_by"] == leader for r in results.values())


def test_leader_failure_reaches_every_follower(tmp_path):
    results, computes = run_workers(tmp_path, fail=True)
    assert len(computes) == 1
    leader = computes[0]["leader"]
    assert results[leader] == {"leader_error": "API exploded"}
    for host in HOSTS:
        if host != leader:
            assert "failed for the whole batch: API exploded" in results[host]["error"]


def test_rerun_of_the_same_task_starts_a_new_generation(tmp_path):
    cache = BatchCache(str(tmp_path), "k2", timeout=5)
    counter = {"n": 0}

    def compute(hosts):
        counter["n"] += 1
        return {h: {"run": counter["n"]} for h in hosts}

    assert cache.obtain("web0", ["web0", "web1"], compute) == {"run": 1}
    assert cache.obtain("web1", ["web0", "web1"], compute) == {"run": 1}
    assert cache.obtain("web0", ["web0", "web1"], compute) == {"run": 2}


def test_host_left_out_by_the_leader_does_its_own_work(tmp_path):
    cache = BatchCache(str(tmp_path), "k3", timeout=5)
    seen = []

    def compute(hosts):
        seen.append(list(hosts))
        # web1's `when` could not be decided by the leader: it is left out of the batch answer.
        return {h: {"for": h} for h in hosts if h != "web1" or len(hosts) == 1}

    cache.obtain("web0", ["web0", "web1"], compute)
    assert cache.obtain("web1", ["web0", "web1"], compute) == {"for": "web1"}
    assert seen == [["web0", "web1"], ["web1"]]


def test_host_whose_variant_differs_from_the_leaders_does_its_own_work(tmp_path):
    cache = BatchCache(str(tmp_path), "k5", timeout=5)
    seen = []

    def compute(hosts):
        seen.append(list(hosts))
        return {h: {"for": h, "computed_with": len(hosts)} for h in hosts}

    # The leader (web0) computed every result for account A, but web2 runs with account B.
    cache.obtain("web0", ["web0", "web1", "web2"], compute, "A", lambda host: "A")
    assert cache.obtain("web1", ["web0", "web1", "web2"], compute, "A")["computed_with"] == 3
    assert cache.obtain("web2", ["web0", "web1", "web2"], compute, "B")["computed_with"] == 1
    assert seen == [["web0", "web1", "web2"], ["web2"]]


def test_dead_leader_is_reported_not_waited_on(tmp_path):
    cache = BatchCache(str(tmp_path), "k4", timeout=5)
    state = os.path.join(cache.dir, "state.json")
    with open(state, "w", encoding="utf-8") as handle:
        json.dump({"status": "running", "leader": "web0", "hosts": HOSTS, "generation": 1}, handle)
    with pytest.raises(BatchLeaderError, match="exited before storing results"):
        cache.obtain("web1", HOSTS, lambda hosts: {})


def test_batch_key_depends_on_task_and_batch():
    assert batch_key("u1", ["a", "b"]) == batch_key("u1", ["b", "a"])
    assert batch_key("u1", ["a", "b"]) != batch_key("u2", ["a", "b"])
    assert batch_key("u1", ["a", "b"]) != batch_key("u1", ["a"])


def test_looks_like_ip():
    assert looks_like_ip("10.0.0.1") and looks_like_ip("::1")
    assert not looks_like_ip("web1.example.com")
