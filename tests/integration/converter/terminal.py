"""Drive ansible-playbook through a pseudo-terminal, as an operator at a prompt would."""
from __future__ import annotations

import fcntl
import os
import select
import termios
import time


def controlling_terminal():
    """In the child: a new session whose controlling terminal is the pty on stdin (as a login shell has)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def read_until(fd: int, pattern: bytes, deadline: float, seen: bytearray) -> bool:
    """Read the terminal into ``seen`` until ``pattern`` shows up or ``deadline`` (time.monotonic) passes."""
    while time.monotonic() < deadline:
        ready, _unused, _unused = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return pattern in seen
            if not chunk:
                return pattern in seen
            seen.extend(chunk)
            if pattern in seen:
                return True
    return False
