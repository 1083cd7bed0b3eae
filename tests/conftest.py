"""Shared pytest fixtures: a running emulator and a way to run ansible-playbook against it as a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(READY_LINE_PREFIX):
                url = line[len(READY_LINE_PREFIX):].strip()
                # Keep draining stdout so the emulator never blocks on a full pipe.
                import threading
                threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
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


class _Receiver(BaseHTTPRequestHandler):
    posts: list

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body or b"null")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A local HTTP receiver standing in for a webhook (DingTalk robot, approval URL): records every POST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=test"
    yield server
    server.shutdown()
    server.server_close()


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
    proc = subprocess.run(cmd, cwd=cwd or REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, results)


@pytest.fixture
def playbook():
    return run_playbook


def pytest_collection_modifyitems(items):
    """Longest first: tests marked ``heavy(seconds)`` lead, the rest keep their order.

    pytest-xdist hands tests out in collection order, so a long test collected last would run alone at the
    end while the other worker idles.
    """
    def weight(item):
        marker = item.get_closest_marker("heavy")
        return -(marker.args[0] if marker and marker.args else 0)
    items.sort(key=weight)
