"""module_utils/polling.py: the one poller's delays and deadline, for each kind of wait that uses it."""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def monotonic(self):
        return self.now


def test_backoff_to_the_maximum_and_the_last_pause_cut_at_the_deadline():
    t = FakeTime()
    clock = PollClock(10, initial=1, maximum=3, factor=2, sleep=t.sleep, monotonic=t.monotonic)
    while clock.wait():
        pass
    assert t.sleeps == [1, 2, 3, 3, 1] and clock.expired


def test_a_schedule_with_whole_pauses_gives_up_rather_than_poll_late():
    t = FakeTime()
    clock = PollClock(10, schedule=lambda n: 4, whole_pauses=True, sleep=t.sleep, monotonic=t.monotonic)
    assert clock.wait() and clock.wait() and not clock.wait()
    assert t.sleeps == [4, 4] and clock.elapsed() == 8 and not clock.expired
