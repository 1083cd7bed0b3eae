"""OOS through the real SDK: template CRUD and execution records (executions stay Queued: no engine yet)."""
from __future__ import annotations

import json

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.conftest import start_emulator


TEMPLATE = """
FormatVersion: OOS-2019-06-01
Description: Stop instances
Parameters:
  instanceId:
    Type: String
  mode:
    Type: String
    AllowedValues: [Soft, Hard]
    Default: Soft
Tasks:
  - Name: stop
    Action: ACS::ECS::StopInstance
    Properties:
      instanceId: '{{ instanceId }}'
Outputs: {}
"""


@pytest.fixture(scope="module")
def shared_emulator():
    """The record layer on its own: ``--oos-engine queued`` keeps any execution engine out."""
    emu = start_emulator("--instances", "2", "--oos-engine", "queued")
    yield emu
    emu.stop()


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientException) as caught:
        call(*args, **kwargs)
    return caught.value


def test_template_lifecycle(sdk):
    created = sdk.oos("CreateTemplate", TemplateName="my-stop", Content=TEMPLATE, Tags=json.dumps({"team": "ops"}))
    template = created["Template"]
    assert (template["TemplateVersion"], template["TemplateFormat"], template["ShareType"]) == ("v1", "YAML", "Private")
    assert template["Tags"] == {"team": "ops"} and template["TemplateId"].startswith("t-")
    assert error_of(sdk.oos, "CreateTemplate", TemplateName="my-stop", Content=TEMPLATE).code == \
        "EntityAlreadyExists.Template"
    assert error_of(sdk.oos, "CreateTemplate", TemplateName="ACS-Mine", Content=TEMPLATE).code == "InvalidParameter"
    assert error_of(sdk.oos, "CreateTemplate", TemplateName="bad", Content="Tasks: [").code == "InvalidTemplate"
    unchanged = sdk.oos("UpdateTemplate", TemplateName="my-stop", Content=TEMPLATE)["Template"]
    assert unchanged["TemplateVersion"] == "v1"
    updated = sdk.oos("UpdateTemplate", TemplateName="my-stop", Content=TEMPLATE + "# v2\n")["Template"]
    assert updated["TemplateVersion"] == "v2" and updated["Hash"] != template["Hash"]
    first = sdk.oos("GetTemplate", TemplateName="my-stop", TemplateVersion="v1")
    assert first["Content"] == TEMPLATE and first["Template"]["TemplateVersion"] == "v1"
    assert sdk.oos("GetTemplate", TemplateName="my-stop")["Template"]["TemplateVersion"] == "v2"
    listed = sdk.oos("ListTemplates", ShareType="Private", Tags=json.dumps({"team": "ops"}))["Templates"]
    assert [t["TemplateName"] for t in listed] == ["my-stop"]
    sdk.oos("DeleteTemplate", TemplateName="my-stop")
    error = error_of(sdk.oos, "GetTemplate", TemplateName="my-stop")
    assert (error.code, error.status_code) == ("EntityNotExists.Template", 404)


def test_validate_template_content(sdk):
    answer = sdk.oos("ValidateTemplateContent", Content=TEMPLATE)
    assert json.loads(answer["Parameters"])["instanceId"] == {"Type": "String"}
    assert [(t["Name"], t["Type"]) for t in answer["Tasks"]] == [("stop", "ACS::ECS::StopInstance")]


def test_executions_are_queued_records(emu, sdk):
    sdk.oos("CreateTemplate", TemplateName="my-stop", Content=TEMPLATE)
    execution = sdk.oos("StartExecution", TemplateName="my-stop", Parameters=json.dumps({"instanceId": "i-1"}),
                        SafetyCheck="Skip", Tags=json.dumps({"run": "a"}), ClientToken="tok")["Execution"]
    assert execution["ExecutionId"].startswith("exec-") and execution["Status"] == "Queued"
    assert json.loads(execution["Parameters"]) == {"instanceId": "i-1", "mode": "Soft"}
    again = sdk.oos("StartExecution", TemplateName="my-stop", Parameters=json.dumps({"instanceId": "i-1"}),
                    SafetyCheck="Skip", Tags=json.dumps({"run": "a"}), ClientToken="tok")["Execution"]
    assert again["ExecutionId"] == execution["ExecutionId"]
    listed = sdk.oos("ListExecutions", ExecutionId=execution["ExecutionId"])["Executions"]
    assert listed[0]["Parameters"] == {"instanceId": "i-1", "mode": "Soft"}   # an object here, a string above
    assert listed[0]["TemplateVersion"] == "v1" and listed[0]["Tags"] == {"run": "a"}
    assert sdk.oos("ListTaskExecutions", ExecutionId=execution["ExecutionId"])["TaskExecutions"] == []
    sdk.oos("CancelExecution", ExecutionId=execution["ExecutionId"])
    assert sdk.oos("ListExecutions", Status="Cancelled")["Executions"][0]["ExecutionId"] == execution["ExecutionId"]
    assert error_of(sdk.oos, "NotifyExecution", ExecutionId=execution["ExecutionId"],
                    NotifyType="Approve").code == "InvalidExecution.Status"
    assert len(emu.control("executions")) == 1


def test_execution_parameter_checks_and_notify(sdk):
    def start(**p):
        return sdk.oos("StartExecution", TemplateContent=TEMPLATE, **p)
    assert error_of(start).code == "InvalidParameter"                                            # instanceId missing
    assert error_of(start, Parameters=json.dumps({"instanceId": "i", "extra": 1})).code == "InvalidParameter"
    assert error_of(start, Parameters=json.dumps({"instanceId": "i", "mode": "Odd"})).code == "InvalidParameter"
    assert error_of(start, Parameters=json.dumps({"instanceId": "i"}), Mode="Fast").code == "InvalidParameter"
    execution = start(Parameters=json.dumps({"instanceId": "i"}))["Execution"]
    sdk.oos("NotifyExecution", ExecutionId=execution["ExecutionId"], NotifyType="CompleteExecution",
            ExecutionStatus="Success")
    assert sdk.oos("ListExecutions", ExecutionId=execution["ExecutionId"])["Executions"][0]["Status"] == "Success"
    assert error_of(sdk.oos, "NotifyExecution", ExecutionId="exec-missing",
                    NotifyType="Approve").code == "EntityNotExists.Execution"
    template = sdk.oos("GetExecutionTemplate", ExecutionId=execution["ExecutionId"])
    assert template["Content"] == TEMPLATE
    sdk.oos("DeleteExecutions", ExecutionIds=json.dumps([execution["ExecutionId"]]))
    assert sdk.oos("ListExecutions")["Executions"] == []
    assert error_of(sdk.oos, "ListExecutionLogs", ExecutionId="exec-missing").code == "EntityNotExists.Execution"


def test_list_executions_paging(sdk):
    for n in range(12):
        sdk.oos("StartExecution", TemplateContent=TEMPLATE, Parameters=json.dumps({"instanceId": f"i-{n}"}))
    first = sdk.oos("ListExecutions", MaxResults=10)
    second = sdk.oos("ListExecutions", MaxResults=10, NextToken=first["NextToken"])
    ids = [e["ExecutionId"] for e in first["Executions"] + second["Executions"]]
    assert len(ids) == len(set(ids)) == 12 and second["NextToken"] == ""
    assert error_of(sdk.oos, "ListExecutions", MaxResults=5).code == "InvalidParameter"


@pytest.mark.parametrize("tasks, reason", [
    ("[{Name: a, Action: ACS::Sleep, OnSuccess: nowhere, Properties: {Duration: PT1S}}]", "'nowhere'"),
    ("[{Name: a, Action: ACS::Sleep}, {Name: a, Action: ACS::Sleep}]", "more than one task"),
    ("[{Name: a, Action: ACS::Choice, Properties: {DefaultTask: gone, Choices: []}}]", "'gone'"),
])
def test_validation_reports_jump_targets_and_duplicate_names(sdk, tasks, reason):
    content = f"FormatVersion: OOS-2019-06-01\nTasks: {tasks}\n"
    for call in (lambda: sdk.oos("ValidateTemplateContent", Content=content),
                 lambda: sdk.oos("CreateTemplate", TemplateName="bad-jump", Content=content)):
        error = error_of(call)
        assert error.code == "InvalidTemplate" and reason in error.message, error.message
    bad_type = "FormatVersion: OOS-2019-06-01\nParameters: {n: {Type: Integer}}\nTasks: [{Name: a, Action: ACS::Sleep}]\n"
    error = error_of(sdk.oos, "ValidateTemplateContent", Content=bad_type)
    assert error.code == "InvalidTemplate" and "Parameters.n.Type" in error.message


def test_defaults_are_rendered_when_the_execution_starts(sdk):
    content = TEMPLATE.replace("Tasks:", "  region:\n    Type: String\n    Default: '{{ ACS::RegionId }}'\nTasks:")
    execution = sdk.oos("StartExecution", TemplateContent=content, RegionId="cn-hangzhou",
                        Parameters=json.dumps({"instanceId": "i-1"}))["Execution"]
    expected = {"instanceId": "i-1", "mode": "Soft", "region": "cn-hangzhou"}
    assert json.loads(execution["Parameters"]) == expected
    listed = sdk.oos("ListExecutions", ExecutionId=execution["ExecutionId"])["Executions"][0]
    assert listed["Parameters"] == expected


def test_an_engine_refusal_stores_and_counts_nothing():
    """oos.py's StartExecution contract, in process: the engine is asked before the execution is stored."""
    from tests.emulator import OOS_VERSION
    from tests.emulator.errors import ApiError
    from tests.emulator.oos import ExecutionEngine
    from tests.emulator.server import Emulator

    class RefusingEngine(ExecutionEngine):
        def start(self, execution):
            raise ApiError("InvalidParameter", "refused by the engine", 400)

    emulator = Emulator(oos_engine="queued")
    try:
        emulator.call(OOS_VERSION, "CreateTemplate", {"TemplateName": "my-stop", "Content": TEMPLATE})
        emulator.oos.engine = RefusingEngine(emulator.oos)
        with pytest.raises(ApiError, match="refused by the engine"):
            emulator.call(OOS_VERSION, "StartExecution", {"TemplateName": "my-stop",
                                                          "Parameters": json.dumps({"instanceId": "i-1"})})
        assert emulator.oos.executions == {}
        assert emulator.oos.find_template("cn-hangzhou", "my-stop").total_execution_count == 0
        emulator.oos.engine = ExecutionEngine(emulator.oos)
        emulator.call(OOS_VERSION, "StartExecution", {"TemplateName": "my-stop",
                                                      "Parameters": json.dumps({"instanceId": "i-1"})})
        assert len(emulator.oos.executions) == 1
        assert emulator.oos.find_template("cn-hangzhou", "my-stop").total_execution_count == 1
    finally:
        emulator.close()
