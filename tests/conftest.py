"""Shared pytest fixtures: a running emulator and a way to run ansible-playbook against it as a user would."""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.emulator import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_REGION,
    READY_LINE_PREFIX,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project's reference material (../shared). Tests that read it skip when it is absent, as in a fresh clone;
# ALICLOUD_OOS_SHARED_DIR points elsewhere (a path that does not exist shows what a fresh clone runs).
SHARED = Path(os.environ.get("ALICLOUD_OOS_SHARED_DIR") or REPO_ROOT.parent / "shared")
BIN = Path(sys.executable).parent
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def clean_environment() -> dict:
    """The process environment without proxies or any real Alibaba Cloud credentials."""
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARS and not k.startswith(("ALICLOUD_", "ALIBABA_CLOUD_"))}
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    env["ANSIBLE_CONFIG"] = str(REPO_ROOT / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO_ROOT / ".collections")
    env["ANSIBLE_NOCOLOR"] = "1"
    # Emulated instances have addresses no one owns: a task that would connect to one must run
    # locally instead of reaching for the network.
    env["ANSIBLE_TRANSPORT"] = "local"
    env["ANSIBLE_LOCAL_TEMP"] = tempfile.gettempdir()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def committed_files() -> list[str] | None:
    """Paths (relative to the checkout) that git would commit: tracked, or new and not ignored, and present.
    None without git (a copy of the sources that is not a checkout)."""
    try:
        proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return sorted({p for p in proc.stdout.split("\0") if p and os.path.lexists(REPO_ROOT / p)})


@dataclass
class Emulator:
    process: subprocess.Popen
    url: str
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET
    region: str = DEFAULT_REGION
    extra_env: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def env(self) -> dict:
        """Environment a user would export to point the collection at this emulator."""
        env = clean_environment()
        env.update({
            "ALICLOUD_ENDPOINT": self.url,
            "ALICLOUD_ACCESS_KEY": self.access_key_id,
            "ALICLOUD_SECRET_KEY": self.access_key_secret,
            "ALICLOUD_REGION": self.region,
        })
        env.update(self.extra_env)
        return env

    def control(self, path: str, payload: dict | None = None, method: str | None = None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data,
                                     method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=30) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def stats(self) -> dict:
        return self.control("stats")

    def instances(self) -> list:
        return self.control("instances")

    def reset(self, **options):
        return self.control("reset", options or {}, method="POST")

    def faults(self, **rates):
        return self.control("faults", rates, method="POST")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(*args: str, timeout: float = 60.0) -> Emulator:
    """Start ``python -m tests.emulator --port 0 ARGS`` and wait for its ready line."""
    cmd = [sys.executable, "-m", "tests.emulator", "--port", "0", *args]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=clean_environment(), stdout=subprocess.PIPE,
                            stderr=None, text=True, bufsize=1)
    import select
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = select.select([proc.stdout], [], [], 0.5)[0]
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(READY_LINE_PREFIX):
                url = line[len(READY_LINE_PREFIX):].strip()
                # Keep draining stdout so the emulator never blocks on a full pipe.
                threading.Thread(target=collections.deque, args=(proc.stdout, 0), daemon=True).start()
                return Emulator(process=proc, url=url)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"emulator did not start: {' '.join(cmd)}")


@pytest.fixture
def emulator_factory():
    started = []

    def factory(*args, **kwargs):
        emu = start_emulator(*args, **kwargs)
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(emulator_factory):
    """A fresh emulator with a small deterministic fleet (20 instances) and fast transitions."""
    return emulator_factory("--instances", "20", "--seed", "1", "--transition-seconds", "0.2")


@pytest.fixture
def webhook():
    """A local HTTP receiver standing in for a webhook (DingTalk robot, approval URL): records every POST."""
    from tests.integration.converter.webhook import receiver

    with receiver() as server:
        yield server


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    results: dict

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_playbook(playbook: str | Path, env: dict, *, extra_vars: dict | None = None,
                 inventory: str | Path | None = None, args: tuple = (), cwd: Path | None = None,
                 timeout: float = 600) -> PlaybookResult:
    """Run ansible-playbook as a user would.

    ``playbook`` is a path or YAML text. Playbooks may save values for the test with
    ``alicloud_test_results`` (a JSON file path passed as the extra var ``results_file``).
    """
    workdir = Path(tempfile.mkdtemp(prefix="pb-"))
    if isinstance(playbook, Path) or (isinstance(playbook, str) and "\n" not in playbook and playbook.endswith((".yml", ".yaml"))):
        path = Path(playbook)
    else:
        path = workdir / "playbook.yml"
        path.write_text(textwrap.dedent(playbook))
    results_file = workdir / "results.json"
    evars = {"results_file": str(results_file)}
    evars.update(extra_vars or {})
    cmd = [str(BIN / "ansible-playbook"), str(path), "-e", json.dumps(evars)]
    if inventory is not None:
        # Without -i the play runs on the implicit localhost, with the controller's own Python.
        cmd += ["-i", str(inventory)]
    cmd += list(args)
    proc = subprocess.run(cmd, cwd=cwd or REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, results)


@pytest.fixture
def playbook():
    return run_playbook


# `make test-fast` (pytest --fast) leaves out the tests marked heavy above FAST_MAX_SECONDS, except those
# marked `fast_sample` (they check a sample instead of everything), and the tests below: each took 12 s or
# more with `pytest -n 3 --durations=0` on 2 cores shared with other work (about 4 s on idle cores): end-to-end
# runs that wait on emulated transitions, retries and faults. A node id, or the prefix of node ids.
FAST_MAX_SECONDS = 20
NOT_IN_FAST = (
    "tests/integration/managed_oos/test_differential.py",
    "tests/integration/test_converter_golden.py",
    "tests/integration/test_execute_api.py",
    "tests/integration/test_instance_workflows.py",
    "tests/integration/test_managed_oos.py",
    "tests/reliability/test_commands.py",
    "tests/reliability/test_faults.py",
    "tests/reliability/test_outages.py",
    "tests/reliability/test_secrets.py",
    "tests/reliability/test_update_image.py",
    "tests/integration/test_awx_runner.py::test_awx_job_with_injected_credentials_and_survey",
    "tests/integration/test_converter.py::test_bad_parameters_fail_once_naming_each",
    "tests/integration/test_converter.py::test_convert_template_writes_playbook_survey_and_flowchart",
    "tests/integration/test_converter.py::test_converted_playbook_runs_with_oos_semantics_and_never_evaluates",
    "tests/integration/test_inventory.py::test_default_groups_compose_and_keyed_groups",
    "tests/integration/test_inventory.py::test_file_options_win_over_environment",
    "tests/integration/test_inventory.py::test_graph",
    "tests/integration/test_inventory.py::test_list_every_instance_with_hostvars",
    "tests/integration/test_inventory.py::test_playbook_over_inventory_group",
    "tests/integration/test_inventory.py::test_targets_filters_select_the_same_hosts_as_the_inventory",
    "tests/integration/test_roles.py::test_fleet_command_stops_after_max_errors_and_still_writes_the_report",
    "tests/integration/test_roles.py::test_power_schedule_by_inventory_group_honours_do_not_stop",
    "tests/integration/test_roles.py::test_power_schedule_dry_run_by_default_changes_nothing",
    "tests/integration/test_roles.py::test_update_image_deletes_the_temporary_instance_when_the_script_fails",
    "tests/unit/plugins/callback/test_oos_audit.py::test_executions_playbook_lists_and_shows_records_without_recording",
)


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help="the inner loop (make test-fast): leave out the slow tests, sample the fast_sample ones")


def _heavy_seconds(item) -> float:
    marker = item.get_closest_marker("heavy")
    return marker.args[0] if marker and marker.args else 0


def _slow(item) -> bool:
    if item.get_closest_marker("fast_sample"):
        return False
    return _heavy_seconds(item) > FAST_MAX_SECONDS or item.nodeid.startswith(NOT_IN_FAST)


def pytest_collection_modifyitems(config, items):
    """Longest first: tests marked ``heavy(seconds)`` lead, the rest keep their order.

    pytest-xdist hands tests out in collection order, so a long test collected last would run alone at the
    end while the other worker idles. With ``--fast``, the slow tests are deselected.
    """
    if config.getoption("fast"):
        slow = [item for item in items if _slow(item)]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if item not in slow]
    items.sort(key=lambda item: -_heavy_seconds(item))
