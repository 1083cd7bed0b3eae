# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one poller: when to poll again, and when to give up.

Every wait of the collection polls through a ``PollClock``: instance power changes and Cloud Assistant results
(short first delays backing off, as transitions are fast), OOS executions (a fixed interval) and
``ACS::WaitFor``/``CheckFor`` (the template's DelayType schedule, ``waiter.next_delay``).
"""
from __future__ import annotations

import time


class PollClock:
    """Delays between polls, and a deadline ``timeout`` seconds after the clock was made.

    The delays back off from ``initial`` by ``factor`` up to ``maximum``, or come from ``schedule(n)`` (the pause
    after poll ``n``, from 0). By default the last pause is cut short at the deadline; with ``whole_pauses`` a pause
    that would end past the deadline is not started (OOS WaitFor gives up rather than poll late).
    """

    def __init__(self, timeout: float, initial: float = 0.25, maximum: float = 5.0, factor: float = 1.5,
                 sleep=time.sleep, monotonic=time.monotonic, schedule=None, whole_pauses: bool = False):
        self.started = monotonic()
        self.deadline = self.started + max(0.0, float(timeout))
        self.delay = initial
        self.maximum = maximum
        self.factor = factor
        self.schedule = schedule
        self.whole_pauses = whole_pauses
        self.pauses = 0
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def expired(self) -> bool:
        return self._monotonic() >= self.deadline

    def elapsed(self) -> float:
        return self._monotonic() - self.started

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._monotonic())

    def wait(self) -> bool:
        """Sleep before the next poll; False (without sleeping) when the deadline leaves no room for it."""
        remaining = self.remaining()
        pause = self.schedule(self.pauses) if self.schedule else self.delay
        if remaining <= 0 or (self.whole_pauses and pause > remaining):
            return False
        self._sleep(min(pause, remaining))
        self.pauses += 1
        if not self.schedule:
            self.delay = min(self.delay * self.factor, self.maximum)
        return True
