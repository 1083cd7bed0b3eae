"""Temporary resources are removed even after an interruption.

ecs_update_image creates a builder instance. Ctrl-C (SIGINT), SIGTERM or SIGKILL to ansible-playbook ends the
run without its `always:` section; the role's watcher deletes the builder then. What a run leaves when even
the watcher is gone is deleted by the next run for the same image or by the cleanup playbook, which select
only the instances the role tagged. Everything here runs ansible-playbook against the emulator and reads the
emulator's state (GET /_emulator/instances, images, snapshots).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import BIN, REPO_ROOT
from tests.integration.roles.support import (
    ROLE_TAG,
    SOURCE_IMAGE,
    instance_ids,
    leftover_builder,
    network,
    run_instance,
)

UPDATE_IMAGE = REPO_ROOT / "playbooks" / "update_image.yml"
CLEANUP = REPO_ROOT / "playbooks" / "cleanup.yml"


@pytest.fixture
def slow(emulator_factory):
    """One seeded instance; transitions of 1 s, so there is time to interrupt each step."""
    return emulator_factory("--instances", "1", "--seed", "2", "--transition-seconds", "1")


def _update_image_vars(emulator, image_name: str, script: str = "echo patched") -> dict:
    return dict(network(emulator), ecs_update_image_source_image_id=SOURCE_IMAGE,
                ecs_update_image_target_image_name=image_name, ecs_update_image_command_content=script)


def _wait(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _own_images(emulator, name: str) -> list:
    return [i for i in emulator.control("images") if i["ImageName"] == name]


def _orphan_snapshots(emulator) -> list:
    """Snapshots made for an image that no longer exists."""
    used = {s for image in emulator.control("images") for s in image.get("SnapshotIds") or []}
    return [s["SnapshotId"] for s in emulator.control("snapshots") if s.get("Usage") == "image" and s["SnapshotId"] not in used]


# (signal, the call after which it is sent, the update script): while the builder starts, while the script
# runs, while the image is being created.
POINTS = [
    (signal.SIGINT, "RunInstances", "echo patched"),
    (signal.SIGTERM, "RunInstances", "echo patched"),
    (signal.SIGINT, "RunCommand", "sleep 3; echo patched"),
    (signal.SIGTERM, "RunCommand", "sleep 3; echo patched"),
    (signal.SIGKILL, "RunCommand", "sleep 3; echo patched"),
    (signal.SIGINT, "CreateImage", "echo patched"),
    (signal.SIGTERM, "CreateImage", "echo patched"),
]


@pytest.mark.heavy(30)
@pytest.mark.parametrize("signum,after,script", POINTS,
                         ids=[f"{signal.Signals(s).name}-after-{a}" for s, a, _script in POINTS])
def test_interrupted_run_deletes_its_builder(slow, playbook, tmp_path, signum, after, script):
    seeded = instance_ids(slow)
    extra_vars = _update_image_vars(slow, "interrupted-image", script)
    # The watcher keeps its log in the temporary directory: this test's own.
    env = dict(slow.env, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), str(UPDATE_IMAGE), "-e", json.dumps(extra_vars)],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(lambda: slow.stats()["calls"].get(after), what=f"the role to call {after}")
        assert instance_ids(slow) - seeded, "the builder exists when the run is interrupted"
        proc.send_signal(signum)
        output = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, output
    assert "Release the watcher" not in output            # interrupted before its always: section ended

    # The watcher deletes the builder (after the image being created from it is Available).
    _wait(lambda: instance_ids(slow) == seeded, what="the builder to be deleted")
    deleted = [m for m in slow.control("mutations") if m["action"] == "DeleteInstance"]
    assert len(deleted) == 1 and deleted[0]["instance_id"] not in seeded
    (log,) = (tmp_path / f"alicloud-oos-watch-{os.getuid()}").glob("*.log")
    # The watcher writes its result once the deletion call returned: the instance may be gone a moment before.
    done = f"done: {{'changed': True, 'instances': [{{'instance_id': '{deleted[0]['instance_id']}'"
    _wait(lambda: done in log.read_text(), what="the watcher to log what it deleted")
    assert done in log.read_text()
    assert slow.access_key_secret not in log.read_text()
    images = _own_images(slow, "interrupted-image")
    if after == "CreateImage":
        # The image was requested from a stopped, updated builder: it is the run's result and is kept whole.
        assert [i["Status"] for i in images] == ["Available"]
        assert images[0]["SnapshotIds"]
    else:
        assert images == []
    assert _orphan_snapshots(slow) == []

    # A rerun finishes the job: it reuses the image when there is one, and leaves no instance behind.
    if after != "CreateImage" and signum != signal.SIGKILL:
        return
    slow.control("stats/reset", {}, method="POST")
    rerun = playbook(UPDATE_IMAGE, slow.env, extra_vars=extra_vars)
    assert rerun.rc == 0, rerun.output[-3000:]
    assert instance_ids(slow) == seeded
    assert [i["Status"] for i in _own_images(slow, "interrupted-image")] == ["Available"]
    assert slow.stats()["calls"].get("RunInstances", 0) == (0 if after == "CreateImage" else 1)


def test_rerun_and_cleanup_playbook_delete_only_the_roles_leftovers(emulator, playbook):
    """Leftovers of runs killed together with their watcher: a rerun for the same image deletes its own; the
    cleanup playbook lists them under --check and deletes every one of the role's, and never a user's instance,
    even one with the same name or another role's tag."""
    seeded = instance_ids(emulator)
    same_image = leftover_builder(emulator, "golden", "run-a")
    other_image = leftover_builder(emulator, "silver", "run-b")
    users_twin = run_instance(emulator, "golden-builder", {"Owner": "alice"})
    other_role = run_instance(emulator, "helper", {ROLE_TAG: "someone_elses_role"})
    keep = seeded | {users_twin, other_role}

    rerun = playbook(UPDATE_IMAGE, emulator.env, extra_vars=_update_image_vars(emulator, "golden"))
    assert rerun.rc == 0, rerun.output[-3000:]
    assert f"Deleted temporary instance(s) of interrupted ecs_update_image runs: {same_image}" in rerun.output
    assert instance_ids(emulator) == keep | {other_image}

    emulator.control("stats/reset", {}, method="POST")
    listed = playbook(CLEANUP, emulator.env, args=("--check",))
    assert listed.rc == 0, listed.output
    assert f"Would delete temporary instance(s) of interrupted ecs_update_image runs: {other_image}" in listed.output
    assert emulator.stats()["mutating_calls"] == 0
    assert instance_ids(emulator) == keep | {other_image}

    cleaned = playbook(CLEANUP, emulator.env)
    assert cleaned.rc == 0, cleaned.output
    assert f"Deleted temporary instance(s) of interrupted ecs_update_image runs: {other_image}" in cleaned.output
    assert instance_ids(emulator) == keep

    again = playbook(CLEANUP, emulator.env)
    assert again.rc == 0 and "No temporary instance(s)" in again.output and "changed=0" in again.output


def test_temporary_instances_refuses_tags_without_the_role_tag(emulator, playbook):
    """The module cannot be pointed at a user's instances: the selecting tags must name alicloud.oos:role."""
    run = playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_temporary_instances:
                tags: {Env: dev}
        """, emulator.env)
    assert run.rc != 0
    assert "tags must include alicloud.oos:role" in run.output
    assert "Traceback" not in run.output
    assert emulator.stats()["total_calls"] == 0
    assert {i["Status"] for i in emulator.instances()} == {"Running"}
