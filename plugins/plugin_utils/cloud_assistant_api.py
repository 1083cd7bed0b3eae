# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud Assistant calls for one instance, through the collection's client: start scripts
(RunCommand), wait for them (DescribeInvocationResults, polled with a backing-off clock; several
invocations of the instance in one call), send files (SendFile), and tell why an instance cannot
be reached (DescribeCloudAssistantStatus, DescribeSendFileResults) in words a user can act on.

Throttling and transient errors are retried by the client (RunCommand carries a ClientToken, so a
retried call never runs a script twice; a SendFile part is idempotent: same name, same content).

Exceptions: :class:`Unreachable` (the instance cannot run anything now: not running, agent missing
or offline, unknown instance, refused credentials, the API out of reach) and :class:`CommandFailed`
(Cloud Assistant took the script but it did not complete: timeout, invalid account, stopped...).
"""
from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible_collections.alicloud.oos.plugins.module_utils.cloud_assistant import FINAL_STATUSES, MIN_TIMEOUT
from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_API,
    FAILURE_CREDENTIALS,
    AlicloudError,
)
from ansible_collections.alicloud.oos.plugins.module_utils.interruption import Interrupted, die_of, interruptible
from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock

COMMAND_NAME = "ansible-cloud-assistant"
FIRST_POLL = 0.25          # seconds before the first poll; then x1.5 up to MAX_POLL
MAX_POLL = 5.0
MAX_FIRST_POLL = 10.0
POLL_FACTOR = 1.5
PAGE_SIZE = 50             # DescribeInvocationResults maximum
UNSEEN_GRACE = 60          # seconds an invocation may stay absent from DescribeInvocationResults
PAGE_SLACK = 2             # results beyond ours on the page of the instance's latest results
WORKERS = 4                # concurrent calls (SendFile parts, read invocations), one client each
AGENT_ERRORS = ("ClientNotRunning", "ClientNotResponse", "ClientIsUpgrading", "ClientNeedUpgrade", "DeliveryTimeout",
                "SecurityGroupRuleDenied")
GONE_ERRORS = ("InstanceNotExists", "InstanceReleased")
# API error codes (after the client's retries) that mean the instance cannot be reached at all.
NOT_FOUND_CODES = ("InvalidInstance.NotFound", "InvalidInstanceId.NotFound", "InvalidInstanceId.Malformed",
                   "InvalidRegionId.NotFound", "InvalidRegionId")


class Unreachable(Exception):
    """The instance cannot run commands now."""


class CommandFailed(Exception):
    """Cloud Assistant took the script, but it did not run to its end."""

    def __init__(self, message, error_code=None):
        super().__init__(message)
        self.error_code = error_code


@dataclass
class Outcome:
    """One instance's result of one invocation."""
    invoke_id: str
    status: str
    exit_code: int | None
    output: bytes
    dropped: int
    error_code: str
    error_info: str

    @classmethod
    def from_api(cls, item: dict) -> "Outcome":
        try:
            output = base64.b64decode(item.get("Output") or "")
        except (binascii.Error, ValueError):
            output = (item.get("Output") or "").encode()
        return cls(invoke_id=item.get("InvokeId") or "", status=item.get("InvocationStatus") or "",
                   exit_code=item.get("ExitCode"), output=output, dropped=int(item.get("Dropped") or 0),
                   error_code=item.get("ErrorCode") or "", error_info=item.get("ErrorInfo") or "")


def api_failure(error: AlicloudError, instance_id: str, region: str):
    """An API error (retries exhausted) as Unreachable or CommandFailed, with what to do about it."""
    code = error.code or ""
    if code in NOT_FOUND_CODES or code.startswith("InvalidRegionId"):
        return Unreachable(f"instance {instance_id} was not found in region {region}: {error}. Check the host's "
                           "instance_id and region_id (ansible_cloud_assistant_instance_id / _region)")
    if error.failure == FAILURE_CREDENTIALS or code.startswith(("InvalidAccessKeyId", "SignatureDoesNotMatch",
                                                                "Forbidden", "InvalidSecurityToken", "NoPermission")):
        return Unreachable(f"Cloud Assistant refused the credentials for {instance_id}: {error}. The RAM identity needs "
                           "ecs:RunCommand, ecs:DescribeInvocationResults, ecs:SendFile, ecs:DescribeSendFileResults, "
                           "ecs:DescribeCloudAssistantStatus and ecs:StopInvocation")
    if code == "InvalidInstance.NotMatch":
        return CommandFailed(f"{instance_id} does not run Linux ({error}); this connection runs shell scripts "
                             "(RunShellScript) only", code)
    if error.failure != FAILURE_API or code.startswith(("Throttling", "ServiceUnavailable")) \
            or (error.http_status or 0) >= 500:
        return Unreachable(f"the Cloud Assistant API could not be reached for {instance_id}: {error}")
    return CommandFailed(f"Cloud Assistant rejected the call for {instance_id}: {error}", code)


class InstanceChannel:
    """Cloud Assistant of one instance. ``new_client()`` makes an ECS AlicloudClient for the instance's
    region (one for the calling thread, one more for each concurrent worker)."""

    def __init__(self, new_client, instance_id: str, command_type: str = "RunShellScript", log=None,
                 sleep=time.sleep, monotonic=time.monotonic):
        self.new_client = new_client
        self.client = new_client()
        self.instance_id = instance_id
        self.command_type = command_type
        self.log = log or (lambda message: None)
        self.calls = Counter()
        self._sleep = sleep
        self._monotonic = monotonic
        self._local = threading.local()
        self._lock = threading.Lock()
        self._main = threading.get_ident()

    # ----- calls -----------------------------------------------------------------------------------
    def _thread_client(self):
        if threading.get_ident() == self._main:
            return self.client
        if getattr(self._local, "client", None) is None:
            self._local.client = self.new_client()
        return self._local.client

    def _call(self, action: str, params: dict, **options) -> dict:
        with self._lock:
            self.calls[action] += 1
        try:
            return self._thread_client().call(action, params, **options) or {}
        except AlicloudError as error:
            raise api_failure(error, self.instance_id, self.client.region) from None

    def parallel(self, function, items: list) -> list:
        """``[function(item) ...]`` with up to WORKERS calls at a time; the first exception is raised."""
        if len(items) <= 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(items)), thread_name_prefix="cloud-assistant") as pool:
            return list(pool.map(function, items))

    def start(self, script: str, username: str | None, timeout: int) -> str:
        """RunCommand of ``script`` (as ``username``, None: the default, root); returns the InvokeId."""
        params = {"Type": self.command_type, "Name": COMMAND_NAME, "InstanceId": [self.instance_id],
                  "CommandContent": base64.b64encode(script.encode("utf-8")).decode("ascii"),
                  "ContentEncoding": "Base64", "Timeout": max(MIN_TIMEOUT, int(timeout))}
        if username:
            params["Username"] = username
        invoke_id = self._call("RunCommand", params).get("InvokeId")
        if not invoke_id:
            raise CommandFailed(f"RunCommand on {self.instance_id} answered without an InvokeId")
        self.log(f"RunCommand {invoke_id}: {len(script)} bytes of script as {username or 'root'}")
        return invoke_id

    def wait(self, invoke_ids: list, timeout: float, first_poll: float | None = None) -> dict:
        """``{invoke_id: Outcome}`` once every invocation is final; stops them and raises after ``timeout``,
        or after UNSEEN_GRACE seconds for an invocation that no result ever mentions.

        Polls back off from FIRST_POLL (x1.5 up to MAX_POLL); ``first_poll``: a first wait that is expected
        to cover most of the run (what such commands took on this instance), then the usual back-off.
        """
        clock = PollClock(timeout, initial=FIRST_POLL, maximum=MAX_POLL, factor=POLL_FACTOR, sleep=self._sleep,
                          monotonic=self._monotonic)
        pending = list(invoke_ids)
        try:
            with interruptible():
                try:
                    return self._wait(pending, clock, first_poll, timeout)
                except Interrupted:
                    # ^C or SIGTERM to ansible-playbook (which follows ^C with SIGTERM to its workers): the signals
                    # stay ignored until the command on the instance is stopped.
                    for invoke_id in pending:
                        self.stop(invoke_id)
                    raise
        except Interrupted as interrupted:
            die_of(interrupted)   # the worker's own handler again: die of it as it would have
            raise
        except Exception:
            raise
        except BaseException:
            # Ansible's task timeout (TaskTimeoutError) interrupts the wait: stop the command too.
            for invoke_id in pending:
                self.stop(invoke_id)
            raise

    def _wait(self, pending: list, clock: PollClock, first_poll: float | None, timeout: float) -> dict:
        if first_poll:
            self._sleep(min(max(first_poll, FIRST_POLL), MAX_FIRST_POLL, clock.remaining()))
        unseen_until = self._monotonic() + UNSEEN_GRACE
        done, seen = {}, set()
        while pending and (first_poll or clock.wait()):
            first_poll = None
            for outcome in self._poll(pending):
                seen.add(outcome.invoke_id)
                if outcome.invoke_id in pending and outcome.status in FINAL_STATUSES:
                    done[outcome.invoke_id] = outcome
                    pending.remove(outcome.invoke_id)
            unknown = [i for i in pending if i not in seen]
            if unknown and self._monotonic() > unseen_until:
                raise CommandFailed(f"Cloud Assistant has no result for {', '.join(unknown)} on {self.instance_id} "
                                    f"{UNSEEN_GRACE} s after it was started", "InvocationNotFound")
        if pending:
            for invoke_id in pending:
                self.stop(invoke_id)
            raise CommandFailed(f"Cloud Assistant gave no result for {', '.join(pending)} on {self.instance_id} within "
                                f"{int(timeout)} s; the invocation was stopped", "WaitTimeout")
        return done

    def _poll(self, pending: list) -> list:
        base = {"InstanceId": self.instance_id, "ContentEncoding": "Base64"}
        if len(pending) == 1:
            body = self._call("DescribeInvocationResults", dict(base, InvokeId=pending[0]))
            return self._outcomes(body)
        # Several invocations of this instance: a page of its latest results usually holds them all (the page
        # stays small: every result on it carries its output); the others are asked one by one.
        size = min(PAGE_SIZE, len(pending) + PAGE_SLACK)
        outcomes = self._outcomes(self._call("DescribeInvocationResults", dict(base, PageSize=size)))
        seen = {o.invoke_id for o in outcomes}
        for invoke_id in pending:
            if invoke_id not in seen:
                outcomes += self._outcomes(self._call("DescribeInvocationResults", dict(base, InvokeId=invoke_id)))
        return outcomes

    @staticmethod
    def _outcomes(body: dict) -> list:
        invocation = body.get("Invocation") or {}
        items = (invocation.get("InvocationResults") or {}).get("InvocationResult") or []
        return [Outcome.from_api(item) for item in items]

    def run(self, script: str, username: str | None, timeout: int, wait: float, first_poll: float | None = None):
        invoke_id = self.start(script, username, timeout)
        return self.wait([invoke_id], wait, first_poll)[invoke_id]

    def stop(self, invoke_id: str) -> None:
        """StopInvocation, best effort (the invocation may have ended meanwhile)."""
        try:
            self._call("StopInvocation", {"InvokeId": invoke_id, "InstanceId": [self.instance_id]})
        except (Unreachable, CommandFailed):
            pass

    def send(self, target_dir: str, name: str, data: bytes, owner: str | None) -> str:
        """SendFile of ``data`` as ``target_dir/name`` (mode 0600, owned by ``owner``); returns the InvokeId."""
        params = {"InstanceId": [self.instance_id], "Name": name, "TargetDir": target_dir, "ContentType": "Base64",
                  "Content": base64.b64encode(data).decode("ascii"), "FileMode": "0600", "Overwrite": "true"}
        if owner and owner != "root":
            params["FileOwner"] = owner
        invoke_id = self._call("SendFile", params, idempotent=True).get("InvokeId") or ""
        self.log(f"SendFile {invoke_id}: {name} ({len(data)} bytes)")
        return invoke_id

    def send_failures(self, invoke_ids: list) -> list:
        """Why some SendFile deliveries did not land: ``["f-...: Invalid AccountNotExists (...)", ...]``."""
        problems = []
        for invoke_id in invoke_ids:
            body = self._call("DescribeSendFileResults", {"InvokeId": invoke_id, "InstanceId": self.instance_id})
            for invocation in (body.get("Invocations") or {}).get("Invocation") or []:
                for item in (invocation.get("InvokeInstances") or {}).get("InvokeInstance") or []:
                    if item.get("InvocationStatus") != "Success":
                        detail = " ".join(filter(None, (item.get("ErrorCode"), item.get("ErrorInfo"))))
                        problems.append(f"{invoke_id}: {item.get('InvocationStatus')}" + (f" ({detail})" if detail else ""))
        return problems

    def agent_status(self) -> dict:
        """The instance's DescribeCloudAssistantStatus entry (``{}`` when it cannot be read)."""
        try:
            body = self._call("DescribeCloudAssistantStatus", {"InstanceId": [self.instance_id]})
        except (Unreachable, CommandFailed):
            return {}
        items = (body.get("InstanceCloudAssistantStatusSet") or {}).get("InstanceCloudAssistantStatus") or []
        return items[0] if items else {}

    # ----- what went wrong --------------------------------------------------------------------------
    def explain(self, outcome: Outcome, username: str | None):
        """The exception for an invocation that did not complete (None when it did)."""
        code, where = outcome.error_code, f"{self.instance_id} (invocation {outcome.invoke_id})"
        if outcome.status in ("Success", "Failed") and code in ("", "ExitCodeNonzero"):
            return None
        if code == "InstanceNotRunning":
            return Unreachable(f"{self.instance_id} is not running: Cloud Assistant runs commands on Running instances "
                               "only. Start it (alicloud.oos.oos_instance state=running) or leave it out of the play")
        if code in GONE_ERRORS:
            return Unreachable(f"{self.instance_id} no longer exists ({code})")
        if code in AGENT_ERRORS or outcome.status == "Aborted":
            return Unreachable(self.agent_problem(code, outcome.error_info))
        if code == "AccountNotExists":
            return CommandFailed(f"the account {username or 'root'!r} does not exist on {where}: create it, or run as "
                                 "another user (ansible_user / become_user)", code)
        if outcome.status == "Timeout" or code == "ExecutionTimeout":
            return CommandFailed(f"Cloud Assistant stopped the command on {where}: it ran past its timeout", code)
        if outcome.status in ("Terminated", "Cancelled", "Stopped"):
            return CommandFailed(f"the command on {where} was stopped ({outcome.status}) before it finished", code)
        detail = " ".join(filter(None, (code, outcome.error_info)))
        return CommandFailed(f"Cloud Assistant could not run the command on {where}: {outcome.status}"
                             + (f" ({detail})" if detail else ""), code or outcome.status)

    def agent_problem(self, code: str, info: str) -> str:
        status = self.agent_status()
        seen = f" ({code}: {info})" if code else ""
        if status and not status.get("CloudAssistantVersion"):
            return (f"the Cloud Assistant agent is not installed on {self.instance_id}{seen}. Install it (ECS "
                    "InstallCloudAssistant, then reboot the instance, or install the aliyun-assist package); public "
                    "images have it")
        if status and status.get("CloudAssistantStatus") != "true":
            return (f"the Cloud Assistant agent of {self.instance_id} (version {status.get('CloudAssistantVersion')}) "
                    f"is offline{seen}. Check that its service (aliyun.service) runs and that the instance reaches the "
                    "Cloud Assistant server (security group and routes)")
        return f"Cloud Assistant could not deliver the command to {self.instance_id}{seen or ''}"
