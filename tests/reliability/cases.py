"""The reliability cases: one table that drives the tests and renders ``docs/reliability.md``.

``python -m tests.reliability.cases`` prints the document; ``test_reliability_doc.py`` fails when the
committed file differs, so the documentation cannot drift from what the suite runs.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
from ansible_collections.alicloud.oos.plugins.module_utils import mutating_apis  # noqa: E402

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

# A power change whose answer is lost (test_lost_answers.py): 10 instances moved by one oos_instance task.


@dataclass(frozen=True)
class LostAnswerCase:
    id: str
    state: str             # oos_instance state
    start_from: str        # the instances' status before the task
    change: str            # the power change each instance must see exactly once
    fault: str
    settings: dict
    proves: str


def _lost_once(action: str, phase: str) -> dict:
    return {"actions": [action], "reset_rate": 1.0, "reset_phase": phase, "max_resets": 1}


LOST_POWER_ANSWERS = (
    LostAnswerCase("reboot-lost-after-the-change", "restarted", "Running", "reboot",
                   "the connection of `RebootInstances` is reset after the reboot was applied",
                   _lost_once("RebootInstances", "after"),
                   "no second reboot: the statuses are read back and every instance counts as rebooted (`changed`)"),
    LostAnswerCase("reboot-lost-before-the-change", "restarted", "Running", "reboot",
                   "the connection of `RebootInstances` is reset before the reboot was applied",
                   _lost_once("RebootInstances", "before"),
                   "the read-back shows an unchanged `StartTime`: the reboot is sent again, once"),
    LostAnswerCase("stop-lost-after-the-change", "stopped", "Running", "stop",
                   "the connection of `StopInstances` is reset after the stop was applied",
                   _lost_once("StopInstances", "after"),
                   "the task reports `changed`, its handler runs and the audit record says `changed`"),
    LostAnswerCase("start-lost-after-the-change", "running", "Stopped", "start",
                   "the connection of `StartInstances` is reset after the start was applied",
                   _lost_once("StartInstances", "after"), "same for a start"),
    LostAnswerCase("reboot-under-30-percent-resets", "restarted", "Running", "reboot",
                   "30% of all connections reset (reads before, changes before or after)", {"reset_rate": 0.3},
                   "one reboot per instance however many answers are lost (it was up to 5 before the fix)"),
)

# Other lost answers (test_lost_answers.py), each its own test; (test, fault, what it proves).
LOST_ANSWER_TESTS = (
    ("test_image_is_made_anew_after_it_was_deleted", "an image made by `oos_create_image` is deleted, then the "
     "same task runs again (with `wait: true`, then `wait: false`)", "a new image is made and reported, never the "
     "deleted one (the derived ClientToken is derived anew)"),
    ("test_image_calls_whose_answer_is_lost", "`CreateImage` and `DeleteImage` answers lost after the change",
     "one image made, one deleted, both tasks `changed`"),
    ("test_execution_is_started_anew_after_it_was_deleted", "an execution started by `oos_execution` is deleted "
     "(`DeleteExecutions`), then the same task runs again", "a new execution is started (`changed`); without the "
     "deletion the same task still returns the first execution"),
    ("test_approval_whose_answer_is_lost", "`NotifyExecution` (Approve) answer lost after it was applied",
     "no second Approve: the execution is read back and the task is `changed`"),
    ("test_run_command_whose_answer_is_lost", "`RunCommand` answer lost after the command started",
     "one invocation (same ClientToken), the task is `changed`"),
    ("test_execute_api_whose_answer_is_lost", "`oos_execute_api` calls whose answer is lost after the change: "
     "`TagResources` (not in the table), `RebootInstance` (not harmless), `DeleteInstance` (harmless), "
     "`RunInstances` (ClientToken)", "unknown and harmful repeats fail saying the outcome is unknown and how to "
     "check, with the change applied once; harmless ones succeed; nothing is applied twice"),
)


# Errors that cannot succeed (test_fast_failures.py): each through a module, a lookup and the inventory.
@dataclass(frozen=True)
class FastFailure:
    id: str
    cause: str             # what is wrong
    says: tuple            # what the message must contain
    retried: str           # retry policy, in words


FAST_FAILURES = (
    FastFailure("https-to-a-plain-http-port", "`https://` endpoint on a port that speaks plain HTTP",
                ("does not answer TLS", "Use http://"), "no (was retried for about 70 s)"),
    FastFailure("no-credentials", "no AccessKey, profile or role anywhere", ("no Alibaba Cloud credentials",),
                "no (was retried for about 65 s and reported as `NetworkError`)"),
    FastFailure("endpoint-not-a-url", "`ALICLOUD_ENDPOINT=not a url`", ("endpoint", "not a host name"),
                "nothing is sent: an input error (was retried for 11 s)"),
    FastFailure("wrong-accesskey-secret", "the secret does not match the AccessKey ID",
                ("AccessKeySecret is incorrect", "ALICLOUD_SECRET_KEY"), "no"),
    FastFailure("unknown-accesskey-id", "an AccessKey ID that does not exist", ("does not exist", "ALICLOUD_ACCESS_KEY"),
                "no"),
    FastFailure("expired-sts-token", "an STS token past its expiry", ("security token has expired",), "no"),
    FastFailure("unknown-host", "a real-looking endpoint whose name does not resolve "
                "(`ecs.cn-nowhere-9.aliyuncs.com`)", ("does not resolve", "ALICLOUD_REGION"),
                "no (a temporary DNS failure, `EAI_AGAIN`, is retried)"),
    FastFailure("tls-certificate-not-trusted", "an HTTPS endpoint with a self-signed certificate",
                ("could not be verified", "validate_certs"), "no; with `validate_certs: false` the same calls succeed"),
    FastFailure("connection-refused-on-loopback", "nothing listens on the loopback port", ("refused the connection",),
                "no on loopback; for 10 s elsewhere (a restarting gateway)"),
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
        "## Lost answers (`test_lost_answers.py`)",
        "",
        "An answer is lost when the request went out but no answer came back (connection reset, read timeout) or the",
        "service answered 5xx: the change may or may not have been applied. The fault `reset_phase: after` resets the",
        "connection after the emulator applied the change, `before` before it. A change is never repeated after a",
        "lost answer unless a repeat is harmless (the table below); `changed` reports what this run did.",
        "",
        "Power changes, on the 10 `Env=dev` instances of a 20-instance fleet (a handler and the audit callback watch "
        "`changed`):",
        "",
        "| case | fault | what it proves |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.id}` | {c.fault} | {c.proves} |" for c in LOST_POWER_ANSWERS]
    lines += ["", "| test | fault | what it proves |", "|---|---|---|"]
    lines += [f"| `{test}` | {fault} | {proves} |" for test, fault, proves in LOST_ANSWER_TESTS]
    lines += [
        "",
        "### Every mutating API the collection calls",
        "",
        "<!-- From plugins/module_utils/mutating_apis.py, the table the client's retry logic consults. -->",
        "",
        "An API outside this table (any action given to `oos_execute_api`, or an OOS template's `ACS::ExecuteAPI`",
        "task) is repeated after a lost answer only with a `ClientToken` or `idempotent: true`; otherwise the task",
        "fails saying that the outcome is unknown and how to check it.",
        "",
        mutating_apis.markdown_table(),
        "",
        "## Errors that cannot succeed (`test_fast_failures.py`)",
        "",
        "Each cause below is run through a module (`oos_execute_api`), a lookup (`oos_api`) and the inventory",
        "(`alicloud.oos.ecs`): each must fail in seconds, with a message that names the cause and the setting to fix,",
        "without a traceback and without any secret. Throttling, 5xx on reads, resets and connect timeouts are",
        "still retried (`api_retries`, `api_retry_max_time`).",
        "",
        "| case | cause | the message says | retried? |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{c.id}` | {c.cause} | {', '.join(f'`{w}`' for w in c.says)} | {c.retried} |" for c in FAST_FAILURES]
    lines += [
        "",
        "## Bad input (`test_bad_input.py`) and secrets (`test_secrets.py`)",
        "",
        "A table of bad values for every module, lookup, filter and the inventory (wrong types, missing",
        "required options, unknown keys, wrong choices, malformed jq/JMESPath and malformed OOS templates),",
        "and for every documented lookup option two values of other types (generated from the documentation):",
        "each must fail with one message naming the field, without a traceback and without any API request.",
        "Hostile jq selectors (`test_hostile_selectors.py`: `$ENV`, `env`, `input`, `import`, `~/.jq`, `debug`,",
        "`halt_error`, `localtime`...) are refused at every entry point before any request, and named secret",
        "parameters (`test_secret_masking.py`) are masked at `-vvvv` while ids and messages stay intact.",
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
    lines += hostile_template_section()
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """A table cell that shows ``text`` as it is (control characters escaped, pipes kept out of the table)."""
    text = text.replace("{M}", "MARKER")
    if len(text) > 90:
        text = text[:60] + " … " + text[-20:]
    shown = text.encode("unicode_escape").decode("ascii") if any(not ch.isprintable() for ch in text) else text
    shown = shown.replace("\\u2026", "…").replace("|", "\\|")
    return "``" + shown + "``" if "`" in shown else f"`{shown}`"


def hostile_template_section() -> list:
    """Hostile template text (tests/integration/converter/hostile.py), a section of its own."""
    from tests.integration.converter import hostile
    lines = [
        "",
        "## Hostile template text (`tests/integration/test_converter_hostile.py`)",
        "",
        "Template text is data, never code. Each string below is put in every position a template can hold",
        "text (second table), in two templates with a nested template, a template found by name and an inlined",
        "product action; they are converted with the `alicloud.oos.convert_template` playbook,",
        "`--syntax-check`-ed and run against the emulator. Each Jinja payload would create a marker file on the",
        "controller (`MARKER` below) if anything evaluated it.",
        "",
        f"What every string gets: {hostile.WHAT_EACH_GETS}.",
        "",
        "| string | what it is |",
        "|---|---|",
    ]
    lines += [f"| {_cell(s.text)} | {s.what} |" for s in hostile.STRINGS]
    lines += ["", "| position | how the test sees what became of the text |", "|---|---|"]
    lines += [f"| {p.where} | {p.seen} |" for p in hostile.POSITIONS]
    lines += [
        "",
        "Hostile documents (`test_hostile_documents_are_refused_at_conversion`, through the lookup; the unit test",
        "`test_hostile_documents_are_refused_well_under_a_second` times each refusal):",
        "",
        "| document | what the converter answers |",
        "|---|---|",
    ]
    lines += [f"| {d.what} | " + ("converted, the aliases expanded" if d.outcome == "converted" else
                                  f"refused: `{d.outcome}`") + " |" for d in hostile.DOCUMENTS]
    return lines


if __name__ == "__main__":
    print(render(), end="")
