"""Differential test (issue #9): each template runs (a) as an OOS execution in the emulator's reference engine and
(b) as the playbook the converter (``alicloud.oos`` oos_template) generates, on the same fresh fleet. The final
status, the template outputs and the final instance and image state must match, except for the differences listed
in docs/fidelity.md ("Known differences" table, by case name). A listed case that agrees fails, so the table cannot
go stale. Core cases (the project's own templates) run in any clone; shared cases need ``../shared``.

One emulator per case: the engine run, then a reset to the same seed (the same fleet, the same ids), then the
converted playbook. The execution is started and answered through the collection's own client, as
``alicloud.oos.oos_execution`` does; the playbook runs with ``ansible-playbook``, and its status and outputs are read
from the ``alicloud.oos.oos_audit`` record (they are published before a Failed or Cancelled run fails).
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_playbook, start_emulator
from tests.integration.managed_oos.differential_cases import CASES, resolve

from ansible_collections.alicloud.oos.plugins.module_utils.auth import resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.errors import ConversionError

FIDELITY = REPO_ROOT / "docs" / "fidelity.md"
FLEET = {"instances": 12, "seed": 5}
EMULATOR_ARGS = ("--instances", "12", "--seed", "5", "--transition-seconds", "0.1")
TERMINAL = ("Success", "Failed", "Cancelled")
# Ids that differ between two runs on identical fleets (generated ids, names derived from them, times).
VOLATILE = re.compile(r"(?<![0-9A-Za-z])(?:exec|task-exec|m|s|t|c|d|i)-[0-9a-z]{8,}(?![0-9a-z])"
                      r"|\d{4}-\d\d-\d\d(?:T[\d:]+Z)?")


def known_differences() -> dict:
    """Case name -> reason, from the Known differences table of docs/fidelity.md."""
    known, in_table = {}, False
    for line in FIDELITY.read_text().splitlines():
        if line.startswith("## "):
            in_table = line.strip() == "## Known differences"
        elif in_table and line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            known[cells[0].strip("`")] = cells[-1]
    return known


def client(emu, product: str) -> AlicloudClient:
    auth = resolve_auth({"access_key": emu.access_key_id, "secret_key": emu.access_key_secret,
                         "region": emu.region, "endpoint": emu.url}, environ={})
    return AlicloudClient(auth, product)


def fleet_with_network(emu) -> list:
    """The control API's instance list plus each instance's security group (read with the collection's client)."""
    body, _unused = client(emu, "ecs").paginate("DescribeInstances", {"RegionId": emu.region})
    groups = {i["InstanceId"]: i["SecurityGroupIds"]["SecurityGroupId"] for i in body["Instances"]["Instance"]}
    fleet = sorted(emu.instances(), key=lambda i: i["InstanceName"])
    for instance in fleet:
        instance["SecurityGroupIds"] = groups.get(instance["InstanceId"], [])
    return fleet


def prepare(emu, case) -> None:
    if case.stop_first:
        key, value = case.stop_first.split("=")
        for instance in emu.instances():
            if instance["Tags"].get(key) == value:
                emu.control(f"instances/{instance['InstanceId']}/status", {"Status": "Stopped"}, method="POST")


def snapshot(emu) -> dict:
    # Tag values may hold generated ids (a snapshot id): each run draws its own.
    instances = sorted((i["InstanceName"], i["Status"], VOLATILE.sub("<id>", json.dumps(i["Tags"], sort_keys=True)))
                       for i in emu.instances())
    images = sorted((VOLATILE.sub("<id>", i["ImageName"]), i["Status"]) for i in emu.control("images"))
    return {"instances": instances, "images": images}


def normalise(value):
    return json.loads(VOLATILE.sub("<id>", json.dumps(value, sort_keys=True)))


def run_in_engine(emu, case, parameters: dict) -> dict:
    """StartExecution with the template content; answer its approval; poll until it ends."""
    oos = client(emu, "oos")
    try:
        execution_id = oos.call("StartExecution", {
            "TemplateContent": case.content(), "Parameters": parameters, "SafetyCheck": "Skip"})["Execution"][
            "ExecutionId"]
    except AlicloudError as error:
        return {"status": "Rejected", "outputs": {}, "msg": str(error)}
    deadline, answered = time.monotonic() + 240, False
    while True:
        execution = oos.call("ListExecutions", {"ExecutionId": execution_id})["Executions"][0]
        if execution["Status"] in TERMINAL:
            return {"status": execution["Status"], "outputs": json.loads(execution.get("Outputs") or "{}"),
                    "msg": execution.get("StatusMessage", "")}
        if execution["Status"] == "Waiting" and case.approval and not answered:
            oos.call("NotifyExecution", {"ExecutionId": execution_id, "NotifyType": case.approval.capitalize()})
            answered = True
        if time.monotonic() > deadline:
            return {"status": f"still {execution['Status']}", "outputs": {}, "msg": "timed out"}
        time.sleep(0.1)


def convert_case(case):
    actions = str(case.action_templates) if case.action_templates else None
    return convert(content=case.content(), action_templates_path=actions)


def run_converted(emu, case, parameters: dict, workdir: Path) -> dict:
    """Convert in process (what the lookup returns), then run the playbook as a user would."""
    try:
        result = convert_case(case)
    except ConversionError as error:
        return {"status": "Rejected", "outputs": {}, "msg": str(error)}
    playbook = workdir / "generated.yml"
    playbook.write_text(result.playbook_yaml(case.name))
    audit = workdir / "audit"
    env = emu.env | {"ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit", "ALICLOUD_OOS_AUDIT_DIR": str(audit)}
    extra = dict(parameters)
    if case.approval:
        extra["oos_approval_decision"] = case.approval
    # Parameters go in as extra vars, as a user runs a converted playbook.
    run = run_playbook(playbook, env, extra_vars=extra)
    (record,) = [json.loads(path.read_text()) for path in audit.glob("exec-*.json")]
    published = record["outputs"]
    if "oos_execution_status" in published:
        return {"status": published["oos_execution_status"], "outputs": published.get("oos_outputs") or {},
                "msg": run.output[-2000:]}
    # No status: either the parameter check refused the values before anything ran (OOS refuses such an execution
    # at StartExecution), or the playbook stopped without ending the execution, which OOS never does.
    failed = [task["name"] for task in record["tasks"] if task["status"] == "failed"]
    refused = failed == ["Check the template parameters"]
    return {"status": "Rejected" if refused else f"no status (ansible-playbook rc {run.rc})", "outputs": {},
            "msg": run.output[-2000:]}


class ConverterGap(AssertionError):
    """The difference a case's ``converter_change`` names: expected until the converter changes."""


def case_params():
    for case in CASES:
        marks = []
        if not case.available():
            marks.append(pytest.mark.skip(reason="../shared/oos-templates or ../shared/seeds absent (shared case)"))
        if case.converter_change:
            marks.append(pytest.mark.xfail(strict=True, raises=ConverterGap,
                                           reason=f"converter change needed: {case.converter_change[0]}"))
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(case_params()))
def test_engine_and_converter_agree(case, tmp_path, webhook):
    compare(case, tmp_path, webhook)


def compare(case, tmp_path, webhook):
    emu = start_emulator(*EMULATOR_ARGS, *(("--action-templates", str(case.action_templates))
                                           if case.action_templates else ()))
    try:
        parameters = resolve(case.parameters, fleet_with_network(emu), webhook.url)
        prepare(emu, case)
        engine_result = run_in_engine(emu, case, parameters)
        engine_state = snapshot(emu)
        emu.reset(**FLEET)
        prepare(emu, case)
        playbook_result = run_converted(emu, case, parameters, tmp_path)
        playbook_state = snapshot(emu)
    finally:
        emu.stop()

    # The engine itself must do what the template says, whatever the converter does.
    assert engine_result.get("status") == case.expect, (
        f"engine ended {engine_result.get('status')}, expected {case.expect}: {engine_result.get('msg', '')[:500]}")
    differences = []
    if engine_result.get("status") != playbook_result.get("status"):
        differences.append(f"status: engine {engine_result.get('status')}, playbook {playbook_result.get('status')}"
                           f" ({playbook_result.get('msg', '')[-800:]})")
    if normalise(engine_result.get("outputs")) != normalise(playbook_result.get("outputs")):
        differences.append(f"outputs: engine {engine_result.get('outputs')}, playbook {playbook_result.get('outputs')}")
    if engine_state != playbook_state:
        differences.append(f"state: engine {engine_state}, playbook {playbook_state}")
    reason = known_differences().get(case.name)
    if reason and not differences:
        pytest.fail(f"{case.name} agrees now but docs/fidelity.md lists it under Known differences: remove its row")
    if differences and reason:
        pytest.xfail(f"known difference (docs/fidelity.md): {reason}")
    if differences and case.converter_change and re.search(case.converter_change[1], playbook_result.get("msg", "")):
        raise ConverterGap("\n".join(differences))
    assert not differences, "\n".join(differences)
