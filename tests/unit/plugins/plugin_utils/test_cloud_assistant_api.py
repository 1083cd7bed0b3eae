"""InstanceChannel with a fake client and a fake clock: what it sends, how it polls, what it says."""
from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import FAILURE_UNKNOWN, AlicloudError
from ansible_collections.alicloud.oos.plugins.plugin_utils import cloud_assistant_api as api
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_api import (
    CommandFailed,
    InstanceChannel,
    Outcome,
    Unreachable,
)


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds

    def monotonic(self):
        return self.now


class FakeClient:
    """Answers from ``script``: {action: callable(params) -> body or raises}."""

    region = "cn-hangzhou"

    def __init__(self, script):
        self.script = script
        self.sent = []

    def call(self, action, params, **options):
        self.sent.append((action, params, options))
        return self.script[action](params)


def result(invoke_id, status="Success", output=b"", code="", **extra):
    return {"InvokeId": invoke_id, "InvocationStatus": status, "ExitCode": 0,
            "Output": base64.b64encode(output).decode(), "Dropped": 0, "ErrorCode": code, "ErrorInfo": "", **extra}


def results(*items):
    return {"Invocation": {"InvocationResults": {"InvocationResult": list(items)}}}


def channel(script, clock=None):
    clock = clock or Clock()
    client = FakeClient(script)
    return InstanceChannel(lambda: client, "i-1", sleep=clock.sleep, monotonic=clock.monotonic), client, clock


def test_run_command_sends_the_script_base64_with_a_token_free_call_and_polls_with_backoff():
    polls = iter([results(result("t-1", "Pending")), results(result("t-1", "Running")),
                  results(result("t-1", "Running")), results(result("t-1", output=b"done"))])
    chan, client, clock = channel({"RunCommand": lambda p: {"InvokeId": "t-1"},
                                   "DescribeInvocationResults": lambda p: next(polls)})
    outcome = chan.run("echo hi\n", "ecs-user", timeout=3, wait=100)
    assert outcome.output == b"done" and outcome.status == "Success"
    action, params, _unused = client.sent[0]
    assert action == "RunCommand" and base64.b64decode(params["CommandContent"]) == b"echo hi\n"
    assert params["ContentEncoding"] == "Base64" and params["Username"] == "ecs-user" and params["Timeout"] == 10
    assert clock.sleeps == [0.25, 0.375, 0.5625, 0.8438]   # backing off
    assert [p["InvokeId"] for a, p, _unused in client.sent[1:]] == ["t-1"] * 4


def test_several_invocations_are_polled_together_and_missing_ones_one_by_one():
    pages = []

    def describe(params):
        pages.append(params)
        if "InvokeId" in params:
            return results(result(params["InvokeId"]))
        return results(result("t-1"), result("t-0-someone-else"))

    chan, _unused, _unused = channel({"DescribeInvocationResults": describe})
    done = chan.wait(["t-1", "t-2"], timeout=60)
    assert set(done) == {"t-1", "t-2"}
    assert pages[0] == {"InstanceId": "i-1", "ContentEncoding": "Base64", "PageSize": 4}
    assert pages[1]["InvokeId"] == "t-2"


def test_an_invocation_that_never_appears_fails_fast_and_a_slow_one_is_stopped():
    chan, client, clock = channel({"DescribeInvocationResults": lambda p: results(),
                                   "StopInvocation": lambda p: {}})
    with pytest.raises(CommandFailed, match="no result for t-9") as failed:
        chan.wait(["t-9"], timeout=3600)
    assert failed.value.error_code == "InvocationNotFound" and clock.now < api.UNSEEN_GRACE + api.MAX_POLL + 1
    chan, client, clock = channel({"DescribeInvocationResults": lambda p: results(result("t-9", "Running")),
                                   "StopInvocation": lambda p: {}})
    with pytest.raises(CommandFailed, match="within 30 s; the invocation was stopped"):
        chan.wait(["t-9"], timeout=30)
    assert client.sent[-1][0] == "StopInvocation" and client.sent[-1][1]["InvokeId"] == "t-9"


@pytest.mark.parametrize("code,status,kind,words", [
    ("InstanceNotRunning", "Aborted", Unreachable, "is not running"),
    ("InstanceReleased", "Aborted", Unreachable, "no longer exists"),
    ("AccountNotExists", "Invalid", CommandFailed, "'deploy' does not exist"),
    ("ExecutionTimeout", "Timeout", CommandFailed, "ran past its timeout"),
    ("", "Terminated", CommandFailed, "was stopped (Terminated)"),
    ("ExecutionException", "Error", CommandFailed, "could not run the command"),
])
def test_what_a_failed_invocation_means(code, status, kind, words):
    chan, _unused, _unused = channel({})
    problem = chan.explain(Outcome("t-1", status, -1, b"", 0, code, "info"), "deploy")
    assert isinstance(problem, kind) and words in str(problem)


def test_agent_problems_are_told_from_the_agent_status():
    missing = {"CloudAssistantStatus": "false", "CloudAssistantVersion": ""}
    offline = {"CloudAssistantStatus": "false", "CloudAssistantVersion": "2.2.3.857"}
    for status, words in ((missing, "is not installed"), (offline, "is offline")):
        body = {"InstanceCloudAssistantStatusSet": {"InstanceCloudAssistantStatus": [status]}}
        chan, _unused, _unused = channel({"DescribeCloudAssistantStatus": lambda p, b=body: b})
        problem = chan.explain(Outcome("t-1", "Aborted", 0, b"", 0, "ClientNotRunning", ""), None)
        assert isinstance(problem, Unreachable) and words in str(problem)
    assert channel({})[0].explain(Outcome("t-1", "Failed", 3, b"", 0, "ExitCodeNonzero", ""), None) is None


@pytest.mark.parametrize("error,kind,words", [
    (AlicloudError("not found", code="InvalidInstance.NotFound", http_status=404), Unreachable, "was not found"),
    (AlicloudError("denied", code="Forbidden.RAM", http_status=403), Unreachable, "ecs:RunCommand"),
    (AlicloudError("slow down", code="Throttling.User", http_status=400), Unreachable, "could not be reached"),
    (AlicloudError("reset", code="NetworkError", failure=FAILURE_UNKNOWN), Unreachable, "could not be reached"),
    (AlicloudError("windows", code="InvalidInstance.NotMatch", http_status=400), CommandFailed, "does not run Linux"),
    (AlicloudError("too big", code="CmdContent.ExceedLimit", http_status=403), CommandFailed, "rejected"),
])
def test_api_errors_after_retries(error, kind, words):
    def fail(params):
        raise error
    chan, _unused, _unused = channel({"RunCommand": fail})
    with pytest.raises(kind, match=words):
        chan.start("true", None, 60)


def test_sendfile_parts_are_idempotent_and_owned_by_the_account():
    chan, client, _unused = channel({"SendFile": lambda p: {"InvokeId": "f-1"}})
    assert chan.send("/root/.ansible/cloud_assistant/parts", "abc.0", b"\x00\x01", "ecs-user") == "f-1"
    _unused, params, options = client.sent[0]
    assert options == {"idempotent": True} and params["FileOwner"] == "ecs-user" and params["FileMode"] == "0600"
    assert base64.b64decode(params["Content"]) == b"\x00\x01" and params["Overwrite"] == "true"


def test_a_forked_child_forgets_the_parents_http_pool():
    """The client registers an at-fork hook: a forked worker opens its own connections (plugins/module_utils/client.py)."""
    darabonba = pytest.importorskip("darabonba.core")
    from ansible_collections.alicloud.oos.plugins.module_utils import client  # noqa: F401 - registers the hook

    darabonba.DaraCore._sessions = {"http://127.0.0.1:1:pool=8": object()}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports how many sessions it inherited
        os.write(write, str(len(darabonba.DaraCore._sessions)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"0"
    assert len(darabonba.DaraCore._sessions) == 1   # the parent's pool is left alone
    darabonba.DaraCore._sessions = {}


def test_a_first_poll_paced_on_past_commands_then_the_usual_backoff():
    polls = iter([results(result("t-1", "Running")), results(result("t-1"))])
    chan, _unused, clock = channel({"DescribeInvocationResults": lambda p: next(polls)})
    chan.wait(["t-1"], timeout=60, first_poll=1.8)
    assert clock.sleeps == [1.8, 0.25]
    polls = iter([results(result("t-1"))])
    chan, _unused, clock = channel({"DescribeInvocationResults": lambda p: next(polls)})
    chan.wait(["t-1"], timeout=60, first_poll=0.01)
    assert clock.sleeps == [api.FIRST_POLL]   # never sooner than the usual first poll


def test_ansible_task_timeout_interrupting_the_wait_stops_the_command():
    class TaskTimeout(BaseException):
        pass

    def describe(params):
        raise TaskTimeout()

    chan, client, _unused = channel({"DescribeInvocationResults": describe, "StopInvocation": lambda p: {}})
    with pytest.raises(TaskTimeout):
        chan.wait(["t-5"], timeout=60)
    assert client.sent[-1][0] == "StopInvocation" and client.sent[-1][1]["InvokeId"] == "t-5"
