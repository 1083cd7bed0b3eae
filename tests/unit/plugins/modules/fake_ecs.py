"""A tiny in-memory ECS API for unit tests of the instance workflow logic (not used by integration tests)."""
from __future__ import annotations

import base64
import json


class FakeEcs:
    """Answers the handful of actions the instance workflows send. Transitions finish after ``lag`` polls."""

    region = "cn-hangzhou"

    def __init__(self, statuses: dict, lag: int = 1, scripts: dict | None = None):
        self.status = dict(statuses)
        self.moving = {}          # id -> [polls left, final status]
        self.lag = lag
        self.calls = []
        self.scripts = scripts or {}   # instance id -> (exit code, output)
        self.invocations = {}

    def _tick(self, ids):
        for iid in ids:
            if iid in self.moving:
                self.moving[iid][0] -= 1
                if self.moving[iid][0] <= 0:
                    self.status[iid] = self.moving.pop(iid)[1]

    def call(self, action, params=None, method="POST", client_token=None, idempotent=None, read_back=False):
        params = params or {}
        self.calls.append((action, params))
        if action == "DescribeInstances":
            ids = json.loads(params.get("InstanceIds", "[]"))
            self._tick(ids)
            page = [{"InstanceId": i, "Status": self.status[i]} for i in ids if i in self.status]
            return {"TotalCount": len(page), "Instances": {"Instance": page}}
        if action in ("StartInstances", "StopInstances", "RebootInstances"):
            allowed = {"StartInstances": "Stopped", "StopInstances": "Running", "RebootInstances": "Running"}[action]
            moving = {"StartInstances": ("Starting", "Running"), "StopInstances": ("Stopping", "Stopped"),
                      "RebootInstances": ("Starting", "Running")}[action]
            responses = []
            for iid in params["InstanceId"]:
                if iid not in self.status:
                    responses.append({"InstanceId": iid, "Code": "InvalidInstanceId.NotFound", "Message": "gone"})
                elif self.status[iid] != allowed:
                    responses.append({"InstanceId": iid, "Code": "IncorrectInstanceStatus", "Message": "bad state"})
                else:
                    self.status[iid] = moving[0]
                    self.moving[iid] = [self.lag, moving[1]]
                    responses.append({"InstanceId": iid, "Code": "200", "Message": "success"})
            return {"InstanceResponses": {"InstanceResponse": responses}}
        if action == "RunCommand":
            invoke_id = f"t-{len(self.invocations)}"
            self.invocations[invoke_id] = list(params["InstanceId"])
            return {"InvokeId": invoke_id, "CommandId": "c-1"}
        if action == "DescribeInvocationResults":
            ids = self.invocations[params["InvokeId"]]
            start = (params["PageNumber"] - 1) * params["PageSize"]
            items = []
            for iid in ids[start:start + params["PageSize"]]:
                code, output = self.scripts.get(iid, (0, f"ok {iid}\n"))
                items.append({"InstanceId": iid, "InvokeId": params["InvokeId"],
                              "InvocationStatus": "Success" if code == 0 else "Failed", "ExitCode": code,
                              "Output": base64.b64encode(output.encode()).decode(), "Dropped": 0,
                              "ErrorCode": "" if code == 0 else "ExitCodeNonzero"})
            return {"Invocation": {"TotalCount": len(ids), "InvocationResults": {"InvocationResult": items}}}
        raise AssertionError(f"unexpected action {action}")

    def count(self, action):
        return sum(1 for a, _unused in self.calls if a == action)
