# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop what runs in the cloud before dying of ^C or SIGTERM.

ansible-playbook forwards ^C to its workers and follows it with SIGTERM; a worker's own handler kills its process
group at once, and so does the default SIGTERM of a module. While ``interruptible()`` is active, SIGINT and SIGTERM
raise :class:`Interrupted` instead, and are ignored from then on until the block ends, so the caller can stop the
remote command or execution first; ``die_of(interrupted)`` then re-raises the signal with the previous handlers.
"""
from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while waiting for something remote."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def interruptible():
    """SIGINT/SIGTERM raise Interrupted inside the block (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}

    def interrupt(signum, _frame):
        for number in SIGNALS:   # held until the block ends: the clean-up must not be cut short
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signum)
    for signum in SIGNALS:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:   # None: a handler set outside Python, which cannot be put back
                signal.signal(signum, handler)


def die_of(interrupted: Interrupted) -> None:
    """Deliver the signal again, now to the handlers that were there before (the process ends as it would have)."""
    signal.raise_signal(interrupted.signum)
