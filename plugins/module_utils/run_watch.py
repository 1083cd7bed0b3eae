# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a cleanup when the Ansible run that started it ends without releasing it (Ctrl-C, kill, crash).

Ctrl-C or SIGTERM stops ``ansible-playbook`` at once: ``always:`` sections do not run, and a resource
created for the run stays behind. ``start_watch`` leaves a small process that outlives the run: it
watches the controller (the ``ansible-playbook`` or ``ansible`` process) and runs ``action`` once the
controller has ended, unless ``release_watch`` was called first (the normal end of the role).

How the controller is found: Ansible runs every task in a worker process that it forks from the
controller and that leads its own session (``os.setsid``); a module that runs on the controller
(connection ``local``) belongs to that session. So the controller is the parent of the session
leader, and, being forked from it, has the same command line: anything else (a module run over SSH
on another host) has no controller to watch, and ``start_watch`` says so instead of watching.

The watcher is a double-forked process in its own session, with its standard streams on
``/dev/null`` (the module's output pipe must reach end-of-file when the module returns), so neither
Ctrl-C in the terminal nor the signals Ansible forwards to its workers reach it. A marker file
``<tmp>/alicloud-oos-watch-<uid>/<controller pid>-<key>`` holds its pid; removing it (release) makes
the watcher exit without acting. What it does goes to ``<marker>.log``, kept when it acted.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

POLL_SECONDS = 0.5
MAX_WATCH_SECONDS = 7 * 24 * 3600
NO_CONTROLLER = ("this task does not run on the Ansible controller (it needs connection local or delegate_to: "
                 "localhost), so nothing watches for an interrupted run: what an interrupted run leaves behind is "
                 "removed by the next run or by the cleanup entry point")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    state: str
    started: str
    command: str


def _from_proc(pid: int) -> Process | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("utf-8", "replace")
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return None
    # "pid (comm) state ppid ... starttime(22nd)": comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2:].split()
    return Process(pid, int(fields[1]), fields[0], fields[19], command)


def _from_ps(pid: int) -> Process | None:
    """Where there is no /proc (macOS, BSD): POSIX ps, one column per call (lstart holds spaces)."""
    values = []
    for column in ("ppid", "state", "lstart", "command"):
        try:
            out = subprocess.run(["ps", "-o", f"{column}=", "-p", str(pid)], capture_output=True, text=True,
                                 timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if not out:
            return None
        values.append(out)
    return Process(pid, int(values[0]), values[1][:1], values[2], values[3])


def process(pid: int) -> Process | None:
    """The process ``pid``, or None when it does not exist."""
    if os.path.isdir("/proc/self"):
        return _from_proc(pid)
    return _from_ps(pid)


def is_running(expected: Process) -> bool:
    """``expected`` still runs: same pid, same start time (the pid was not reused), not a zombie."""
    current = process(expected.pid)
    return current is not None and current.started == expected.started and current.state not in ("Z", "X")


def controller_process() -> Process | None:
    """The Ansible controller that runs this task, or None when the task runs elsewhere."""
    worker = process(os.getsid(0))
    if worker is None or worker.pid == os.getpid():
        return None
    controller = process(worker.ppid)
    if controller is None or controller.command != worker.command or "ansible" not in controller.command:
        return None
    return controller


def _directory() -> str:
    directory = os.path.join(tempfile.gettempdir(), f"alicloud-oos-watch-{os.getuid()}")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.lstat(directory)
    # A shared temporary directory: never trust a folder someone else made (or a link to one).
    if info.st_uid != os.getuid() or (info.st_mode & 0o077) or not os.path.isdir(directory) or os.path.islink(directory):
        raise OSError(f"{directory} is not a private directory of this user")
    return directory


def _marker(controller: Process, key: str) -> str:
    return os.path.join(_directory(), f"{controller.pid}-{key}")


def _log(path: str, message: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {message}\n")


def _watch(controller: Process, marker: str, action, description: str) -> None:
    """The watcher's life: wait, then act unless released."""
    log = marker + ".log"
    started = time.monotonic()
    while os.path.exists(marker) and is_running(controller):
        if time.monotonic() - started > MAX_WATCH_SECONDS:
            _log(log, f"stopped watching after {MAX_WATCH_SECONDS} s; {description} are left as they are")
            os.unlink(marker)
            return
        time.sleep(POLL_SECONDS)
    if not os.path.exists(marker):
        return
    _log(log, f"the Ansible run (pid {controller.pid}) ended without releasing: removing {description}")
    try:
        outcome = action()
        _log(log, f"done: {outcome}")
    except Exception as error:  # the watcher has no one to report to but its log
        _log(log, f"failed: {type(error).__name__}: {error}")
    finally:
        try:
            os.unlink(marker)
        except OSError:
            pass


def _detach() -> None:
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, 65536)
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_IGN)


def start_watch(key: str, action, description: str) -> dict:
    """Start the watcher that calls ``action()`` when this Ansible run ends unreleased.

    Returns ``{"pid", "controller_pid", "marker", "log"}``, or ``{"pid": None, "warning": ...}`` when
    there is no controller to watch. Starting it again for the same key in the same run keeps the first.
    """
    controller = controller_process()
    if controller is None:
        return {"pid": None, "warning": NO_CONTROLLER}
    try:
        marker = _marker(controller, key)
    except OSError as error:
        return {"pid": None, "warning": f"cannot watch for an interrupted run: {error}"}
    result = {"controller_pid": controller.pid, "marker": marker, "log": marker + ".log"}
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            pid = handle.read().strip()
        if pid.isdigit() and process(int(pid)) is not None:
            return dict(result, pid=int(pid))
    with open(marker, "w", encoding="utf-8"):
        pass
    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        os.waitpid(child, 0)
        with os.fdopen(read_end) as pipe:
            pid = int(pipe.read() or 0)
        return dict(result, pid=pid)
    try:
        os.close(read_end)
        os.setsid()
        if os.fork():
            os._exit(0)
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        os.write(write_end, str(os.getpid()).encode())
        os.close(write_end)
        _detach()
        _watch(controller, marker, action, description)
    finally:
        os._exit(0)


def release_watch(key: str) -> bool:
    """Tell the watcher of ``key`` started in this run to exit without acting; False when there is none."""
    controller = controller_process()
    if controller is None:
        return False
    try:
        os.unlink(_marker(controller, key))
    except FileNotFoundError:
        return False
    return True
