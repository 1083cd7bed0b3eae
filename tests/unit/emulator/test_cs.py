"""The emulator's ROA product (CS 2015-12-15) through the real SDK's ``call_api(style='ROA')``."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions

from tests.emulator.signing import V3_ALGORITHM, v3_canonical_request, v3_signature, v3_string_to_sign
from tests.unit.emulator.conftest import wait_until

CS_VERSION = "2015-12-15"


def roa(sdk, action, method, path, query=None, body=None):
    params = Params(action=action, version=CS_VERSION, protocol="HTTP", pathname=path, method=method,
                    auth_type="AK", style="ROA", req_body_type="json", body_type="json")
    return sdk.client.call_api(params, OpenApiRequest(query=query, body=body), RuntimeOptions())


def error_of(call):
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def hand_signed(emu, method, path, body=b"", *, signed_path=None, signed_body=None):
    """A V3-signed request built by hand, so the signed path or body can differ from what is sent."""
    signed_body = body if signed_body is None else signed_body
    headers = {"host": f"127.0.0.1:{emu.port}", "x-acs-action": "ModifyCluster", "x-acs-version": CS_VERSION,
               "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
               "content-type": "application/json; charset=utf-8"}
    names = sorted(headers)
    canonical = v3_canonical_request(method, signed_path or path, [], headers, names,
                                     hashlib.sha256(signed_body).hexdigest())
    signature = v3_signature(emu.access_key_secret, v3_string_to_sign(canonical))
    headers["authorization"] = (f"{V3_ALGORITHM} Credential={emu.access_key_id},SignedHeaders={';'.join(names)},"
                                f"Signature={signature}")
    request = urllib.request.Request(f"{emu.url}{path}", data=body or None, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_seeded_clusters_are_listed_and_described(sdk, emu):
    seeded = emu.control("clusters")
    assert [c["name"] for c in seeded] == ["ack-pro-web", "k8s-dedicated-db"]
    listed = roa(sdk, "DescribeClustersV1", "GET", "/api/v1/clusters")
    assert listed["statusCode"] == 200 and listed["headers"]["x-acs-request-id"]
    assert [c["cluster_id"] for c in listed["body"]["clusters"]] == [c["cluster_id"] for c in seeded]
    assert listed["body"]["page_info"] == {"page_number": 1, "page_size": 10, "total_count": 2}
    one = roa(sdk, "DescribeClustersV1", "GET", "/api/v1/clusters", query={"cluster_type": "Kubernetes"})["body"]
    assert [c["name"] for c in one["clusters"]] == ["k8s-dedicated-db"]
    page = roa(sdk, "DescribeClustersV1", "GET", "/api/v1/clusters", query={"page_size": "1", "page_number": "2"})
    assert [c["name"] for c in page["body"]["clusters"]] == ["k8s-dedicated-db"]
    detail = roa(sdk, "DescribeClusterDetail", "GET", f"/clusters/{seeded[0]['cluster_id']}")["body"]
    assert detail["state"] == "running" and detail["cluster_type"] == "ManagedKubernetes"
    assert "RequestId" not in detail  # ROA answers are the API's own document
    assert emu.stats()["calls_by_product"]["cs"] == {"DescribeClustersV1": 3, "DescribeClusterDetail": 1}


def test_unknown_cluster_is_a_cs_shaped_404(sdk):
    error = error_of(lambda: roa(sdk, "DescribeClusterDetail", "GET", "/clusters/cdoesnotexist"))
    assert error.status_code == 404 and error.code == "ErrorClusterNotFound"
    assert error.data["status"] == 404 and error.data["requestId"] and "cdoesnotexist" in error.data["message"]


def test_unknown_path_and_wrong_method_are_not_found(sdk, emu):
    cluster_id = emu.control("clusters")[0]["cluster_id"]
    for method, path in (("GET", "/clusters"), ("DELETE", f"/clusters/{cluster_id}")):
        error = error_of(lambda: roa(sdk, "DescribeClusterDetail", method, path))
        assert error.status_code == 404 and error.code == "InvalidAction.NotFound"


def test_modify_cluster_reads_the_signed_json_body(sdk, emu):
    cluster_id = emu.control("clusters")[0]["cluster_id"]
    answer = roa(sdk, "ModifyCluster", "PUT", f"/api/v2/clusters/{cluster_id}",
                 body={"deletion_protection": True, "cluster_name": "renamed"})["body"]
    assert answer["cluster_id"] == cluster_id and answer["task_id"].startswith("T-")
    after = emu.control("clusters")[0]
    assert after["deletion_protection"] is True and after["name"] == "renamed"
    error = error_of(lambda: roa(sdk, "ModifyCluster", "PUT", f"/api/v2/clusters/{cluster_id}",
                                 body={"deletion_protection": "yes"}))
    assert error.status_code == 400 and error.code == "ErrorParamsInvalid"


def test_signature_covers_the_path_and_the_body(emu):
    cluster_id = emu.control("clusters")[0]["cluster_id"]
    path = f"/api/v2/clusters/{cluster_id}"
    body = json.dumps({"deletion_protection": True}).encode()
    status, answer = hand_signed(emu, "PUT", path, body)
    assert status == 200 and answer["cluster_id"] == cluster_id
    status, answer = hand_signed(emu, "PUT", path, body, signed_path="/api/v2/clusters/cother")
    assert status == 400 and answer["Code"] == "SignatureDoesNotMatch"
    # The x-acs-content-sha256 header matches the body sent, but the signature was made over another body.
    tampered = json.dumps({"deletion_protection": False}).encode()
    status, answer = hand_signed(emu, "PUT", path, tampered, signed_body=body)
    assert status == 400 and answer["Code"] == "SignatureDoesNotMatch"
    assert emu.control("clusters")[0]["deletion_protection"] is True


ROA_TEMPLATE = """
FormatVersion: OOS-2019-06-01
Parameters:
  clusterId: {Type: String}
Tasks:
  - Name: protect
    Action: ACS::ExecuteAPI
    Properties:
      Service: CS
      API: ModifyCluster
      Method: PUT
      URI: /api/v2/clusters/{{ clusterId }}
      Parameters: null
      Body: '{"deletion_protection":true}'
    Outputs:
      taskId: {Type: String, ValueSelector: .task_id}
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties:
      Service: CS
      API: DescribeClusterDetail
      Method: GET
      Headers: {Content-Type: application/json}
      URI: '/clusters/{{ clusterId }}'
    Outputs:
      protected: {Type: Boolean, ValueSelector: .deletion_protection}
Outputs:
  protected: {Type: Boolean, Value: '{{ describe.protected }}'}
"""


def test_the_engine_runs_roa_execute_api_tasks(sdk, emu):
    cluster_id = emu.control("clusters")[0]["cluster_id"]

    def run(cluster):
        execution_id = sdk.oos("StartExecution", TemplateContent=ROA_TEMPLATE, SafetyCheck="Skip",
                               Parameters=json.dumps({"clusterId": cluster}))["Execution"]["ExecutionId"]

        def finished():
            found = sdk.oos("ListExecutions", ExecutionId=execution_id)["Executions"][0]
            return found if found["Status"] in ("Success", "Failed", "Cancelled") else None
        return wait_until(finished, timeout=30)

    execution = run(cluster_id)
    assert execution["Status"] == "Success", execution.get("StatusMessage")
    assert json.loads(execution["Outputs"]) == {"protected": True}
    assert emu.control("clusters")[0]["deletion_protection"] is True
    failed = run("cnothere")
    assert failed["Status"] == "Failed" and "ErrorClusterNotFound" in failed["StatusMessage"]
