"""The reliability cases: one table that drives the tests and renders ``docs/reliability.md``.

``python -m tests.reliability.cases`` prints the document; ``test_reliability_doc.py`` fails when the
committed file differs, so the documentation cannot drift from what the suite runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


@dataclass(frozen=True)
class FaultCase:
    id: str                # the pytest id
    fault: str             # what the emulator does
    settings: dict         # POST /_emulator/faults body
    proves: str            # what the passing test shows
    env: tuple = ()        # extra environment of the run, as (name, value) pairs


# Fleet workflow under injected faults (test_faults.py): stop, start, then a command on 10 of 20 instances.
FLEET_FAULTS = (
    FaultCase("throttle-10", "10% of requests answered `400 Throttling.User`", {"throttle_rate": 0.1},
              "throttled calls are retried with backoff; the fleet ends as asked, one transition per instance"),
    FaultCase("throttle-30", "30% of requests throttled", {"throttle_rate": 0.3},
              "same, with most batches retried at least once"),
    FaultCase("throttle-60", "60% of requests throttled, with `x-acs-retry-after: 200`",
              {"throttle_rate": 0.6, "retry_after_ms": 200},
              "same under sustained throttling (with `ALICLOUD_API_RETRIES=20`); the server's retry-after is honoured",
              env=(("ALICLOUD_API_RETRIES", "20"),)),
    FaultCase("error-503-10", "10% of requests answered `503 ServiceUnavailable`", {"error_rate": 0.1},
              "reads are retried; power changes are repeated only where repeating cannot apply them twice"),
    FaultCase("latency-2s", "2 s added to every answer", {"latency_ms": 2000},
              "slow answers delay the run but lose nothing (waits are measured in time, not poll counts)"),
    FaultCase("reset-10", "10% of connections reset mid-request (half of the mutating ones after the change)",
              {"reset_rate": 0.1},
              "an answer lost after the change is applied never leads to a second change or a second command"),
)

# The other cases, each its own test; (test, fault, what it proves).
OTHER_CASES = (
    ("test_emulator_killed_and_restarted_mid_stop", "the emulator is killed (SIGKILL) after the first "
     "StopInstances of a fleet stop in waves, and restarted on the same port 3 s later (cloud-side state persists)",
     "the run either resumes or fails naming the unreachable endpoint; a re-run converges; no instance is "
     "stopped twice"),
    ("test_two_playbooks_on_the_same_instances", "two ansible-playbook runs stop, then start, the same 10 "
     "instances at the same moment", "no crash on `IncorrectInstanceStatus`; both runs succeed; each instance "
     "changes exactly once per direction"),
    ("test_command_that_hangs_past_its_timeout", "a Cloud Assistant script sleeps past its 10 s timeout",
     "the task fails naming every instance with status `Timeout`; no invocation is left running"),
    ("test_command_that_prints_one_megabyte", "a script prints 1 MiB", "the output is truncated as Cloud "
     "Assistant does and the loss is reported in `dropped` (1 MiB minus the kept bytes)"),
    ("test_command_that_fails_on_some_hosts", "a script exits 3 on the `db` instances only",
     "exactly the failing instances are named, with their exit code; the others succeed"),
    ("test_update_image_fails_at_each_step", "the update-image role fails at each step in turn (an API that "
     "keeps failing, a wait that times out, or a script that exits non-zero)", "the temporary instance is always deleted, no image "
     "is left half-made, and the failure names the step"),
)


def render() -> str:
    lines = [
        "# Reliability",
        "",
        "<!-- Generated from tests/reliability/cases.py (python -m tests.reliability.cases > docs/reliability.md);",
        "     tests/reliability/test_reliability_doc.py fails when this file differs. -->",
        "",
        "The reliability suite (`tests/reliability/`, part of `make test`) runs the collection the way a user",
        "would, with `ansible-playbook` against the local emulator, while the emulator injects faults. Every",
        "case checks that nothing is lost: each targeted instance ends in the desired state, no change is",
        "applied twice (counted from the emulator's log of applied changes, `GET /_emulator/mutations`), and no",
        "temporary resource is left behind. Loopback only; the suite takes a few minutes on 2 cores.",
        "",
        "## Fleet workflow under faults (`test_faults.py`)",
        "",
        "Stop, start, then run a command on the 10 `Env=dev` instances of a 20-instance fleet, in one playbook.",
        "",
        "| case | fault | what it proves |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.id}` | {c.fault} | {c.proves} |" for c in FLEET_FAULTS]
    lines += ["", "## Other cases", "", "| test | fault | what it proves |", "|---|---|---|"]
    lines += [f"| `{test}` | {fault} | {proves} |" for test, fault, proves in OTHER_CASES]
    lines += [
        "",
        "## Bad input (`test_bad_input.py`) and secrets (`test_secrets.py`)",
        "",
        "A table of bad values for every module, lookup, filter and the inventory (wrong types, missing",
        "required options, unknown keys, wrong choices, malformed jq/JMESPath and malformed OOS templates):",
        "each must fail with one message naming the field, without a traceback and without any API request.",
        "A workflow run through ansible-runner at `-vvvv` with the audit callback must not show the",
        "secret key or the security token anywhere: stdout, stderr, audit records, runner artifacts. Not",
        "scanned: ansible-runner's own copies of the job input (`env/` and `artifacts/<id>/command`, which holds",
        "the job environment, owner-only); AWX removes that directory after the job.",
        "",
        "Cases that show a known defect are expected to fail, with the defect named; the test fails as soon as",
        "one of them passes, so the note is removed when the plugin is fixed.",
        "",
    ]
    from tests.reliability.test_bad_input import KINDS, case_id
    defects = [f"| `{case_id(kind, case)}` | {case.defect} |" for kind, cases in KINDS.items() for case in cases
               if case.defect]
    lines += ["Known defects:", "", "| case | defect |", "|---|---|", *defects] if defects else ["Known defects: none."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
