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
    start = lambda **p: sdk.oos("StartExecution", TemplateContent=TEMPLATE, **p)  # noqa: E731
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
