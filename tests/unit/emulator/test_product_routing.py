"""Requests for real products the emulator does not emulate get the product's own not-found answer."""
from __future__ import annotations

import json

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions

from tests.unit.emulator.conftest import wait_until

KMS_VERSION = "2016-01-20"


def error_of(call):
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value


def test_rpc_action_of_a_product_not_emulated_is_not_found(sdk, emu):
    error = error_of(lambda: sdk.call("DescribeKey", {"KeyId": "k-1"}, version=KMS_VERSION))
    assert (error.code, error.status_code) == ("InvalidAction.NotFound", 404)
    # A version no product has stays InvalidVersion.
    assert error_of(lambda: sdk.call("DescribeKey", {}, version="2099-01-01")).code == "InvalidVersion"
    assert emu.stats()["calls_by_product"]["kms"] == {"DescribeKey": 1}


def test_roa_path_of_a_product_not_emulated_is_not_found(sdk):
    params = Params(action="GetService", version="2021-04-06", protocol="HTTP", pathname="/2021-04-06/services/s1",
                    method="GET", auth_type="AK", style="ROA", req_body_type="json", body_type="json")
    error = error_of(lambda: sdk.client.call_api(params, OpenApiRequest(), RuntimeOptions()))
    assert (error.code, error.status_code) == ("InvalidAction.NotFound", 404)


def test_an_oos_execute_api_on_a_product_not_emulated_fails_with_not_found(sdk):
    content = json.dumps({"FormatVersion": "OOS-2019-06-01", "Tasks": [
        {"Name": "describeKey", "Action": "ACS::ExecuteAPI",
         "Properties": {"Service": "KMS", "API": "DescribeKey", "Parameters": {"KeyId": "k-1"}}}]})
    execution_id = sdk.oos("StartExecution", TemplateContent=content, RegionId="cn-hangzhou")["Execution"]["ExecutionId"]

    def finished():
        record = sdk.oos("ListExecutions", ExecutionId=execution_id)["Executions"][0]
        return record if record["Status"] in ("Success", "Failed") else None

    record = wait_until(finished)
    assert record["Status"] == "Failed"
    assert "KMS DescribeKey failed: InvalidAction.NotFound" in record["StatusMessage"], record["StatusMessage"]
