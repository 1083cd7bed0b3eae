"""The signature recipes against the published and captured test vectors (PROTOCOL.md §3-4)."""
from __future__ import annotations

import pytest

from tests.emulator.signing import (EMPTY_SHA256, canonical_query, parse_authorization, percent_encode, v2_signature,
                                    v2_string_to_sign, v3_canonical_request, v3_signature, v3_string_to_sign)


def test_published_v3_vector():
    headers = {"host": "ecs.cn-shanghai.aliyuncs.com", "x-acs-action": "RunInstances", "x-acs-version": "2014-05-26",
               "x-acs-date": "2023-10-26T10:22:32Z", "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
               "x-acs-content-sha256": EMPTY_SHA256}
    query = [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")]
    canonical = v3_canonical_request("POST", "/", query, headers, sorted(headers), EMPTY_SHA256)
    string_to_sign = v3_string_to_sign(canonical)
    assert string_to_sign.endswith("7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259")
    assert v3_signature("YourAccessKeySecret", string_to_sign) == \
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"


def test_captured_v3_sdk_request():
    signed = ["accept", "host", "user-agent", "x-acs-action", "x-acs-content-sha256", "x-acs-credentials-provider",
              "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]
    headers = {"accept": "application/json", "host": "127.0.0.1:18765",
               "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
               "x-acs-action": "DescribeInstances", "x-acs-content-sha256": EMPTY_SHA256,
               "x-acs-credentials-provider": "static_ak", "x-acs-date": "2025-01-01T00:00:00Z",
               "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d", "x-acs-version": "2014-05-26",
               "accept-encoding": "identity"}
    query = [("InstanceIds", '["i-bp1a","i-bp1b"]'), ("PageSize", "100"), ("RegionId", "cn-hangzhou"),
             ("Status", "Running"), ("Tag.1.Key", "env"), ("Tag.1.Value", "prod test")]
    canonical = v3_canonical_request("POST", "/", query, headers, signed, EMPTY_SHA256)
    assert canonical.splitlines()[2] == ("InstanceIds=%5B%22i-bp1a%22%2C%22i-bp1b%22%5D&PageSize=100&"
                                         "RegionId=cn-hangzhou&Status=Running&Tag.1.Key=env&Tag.1.Value=prod%20test")
    string_to_sign = v3_string_to_sign(canonical)
    assert string_to_sign == "ACS3-HMAC-SHA256\n9296b05e7f49d72132cb21ee4af332c3f373c5d473c1e34eab67070c2ca4e896"
    assert v3_signature("testAccessKeySecret", string_to_sign) == \
        "bc806d4310660a42fece69d3309f3509abfa18a4b59aa7ac5afceeaa323173d3"


def test_captured_v2_sdk_request():
    params = {"AccessKeyId": "testAccessKeyId", "Action": "DescribeInstances", "Format": "json",
              "InstanceIds": '["i-bp1a","i-bp1b"]', "PageSize": "100", "RegionId": "cn-hangzhou",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3156853299f313e23d1673dc12e1703d",
              "SignatureVersion": "1.0", "Status": "Running", "Tag.1.Key": "env", "Tag.1.Value": "prod test",
              "Timestamp": "2025-01-01T00:00:00Z", "Version": "2014-05-26", "Signature": "ignored"}
    string_to_sign = v2_string_to_sign("POST", params)
    assert string_to_sign.startswith("POST&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DDescribeInstances")
    assert "Tag.1.Value%3Dprod%2520test" in string_to_sign
    assert v2_signature("testAccessKeySecret", string_to_sign) == "UPGFBB1QUqsmJeXAnyZJcXx0o6c="


def test_classic_v2_documentation_vector():
    params = {"Action": "DescribeRegions", "Format": "XML", "Version": "2014-05-26", "AccessKeyId": "testid",
              "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Timestamp": "2016-02-23T12:46:24Z"}
    assert v2_signature("testsecret", v2_string_to_sign("GET", params)) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_is_rfc3986():
    assert percent_encode("a b*c~d-_.é/") == "a%20b%2Ac~d-_.%C3%A9%2F"
    assert canonical_query([("b", ""), ("a", "1")]) == "a=1&b="


def test_parse_authorization():
    parts = parse_authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=abc")
    assert parts == {"algorithm": "ACS3-HMAC-SHA256", "credential": "AK", "signed_headers": ["host", "x-acs-date"],
                     "signature": "abc"}
    with pytest.raises(ValueError, match="Signature"):
        parse_authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host")
