"""alicloud.oos.oos_execute_api and the oos_api lookup against the emulator, through ansible-playbook."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import run_playbook, start_emulator

HERE = Path(__file__).resolve().parent / "execute_api"
FAST_RETRIES = {"ALICLOUD_API_RETRY_DELAY": "0.02", "ALICLOUD_API_RETRIES": "12"}


@pytest.fixture(scope="module")
def shared():
    """One small emulator for the read-only and bad-input tests (20 instances, one region)."""
    emu = start_emulator("--instances", "20", "--seed", "3", "--transition-seconds", "0.2")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(shared):
    shared.faults(throttle_rate=0, error_rate=0, reset_rate=0, latency_ms=0, failing_regions=[], actions=[])
    shared.control("stats/reset", {}, method="POST")
    return shared


def play(name, env, **kwargs):
    result = run_playbook(HERE / name, env, **kwargs)
    assert "Traceback" not in result.output, result.output[-3000:]
    return result


def ok(result):
    assert result.rc == 0, result.output[-3000:]
    return result.results


def hangzhou(emu):
    return [i for i in emu.instances() if i["RegionId"] == "cn-hangzhou"]


def running_instance(emu):
    return next(i["InstanceId"] for i in hangzhou(emu) if i["Status"] == "Running")


def test_describe_with_every_output_type_query_and_lookup(emu):
    results = ok(play("describe_outputs.yml", emu.env))
    truth = hangzhou(emu)
    described = results["described"]
    outputs = described["outputs"]
    assert described["changed"] is False
    assert outputs["ids"] == [i["InstanceId"] for i in truth]
    assert outputs["first_id"] == truth[0]["InstanceId"]
    assert outputs["first_status"] == truth[0]["Status"]
    assert outputs["total"] == len(truth) and outputs["total_text"] == str(len(truth))
    assert outputs["any_running"] is any(i["Status"] == "Running" for i in truth)
    assert outputs["first"] == {"id": truth[0]["InstanceId"], "status": truth[0]["Status"]}
    assert outputs["by_status"] == dict(Counter(i["Status"] for i in truth))
    assert described["query_result"] == [i["InstanceId"] for i in truth if i["Status"] == "Running"]
    assert described["request_ids"] and described["pages"] == 1 and described["attempts"] == 1
    assert results["lookup_ids"] == outputs["ids"]
    assert int(results["lookup_total"]) == len(truth)
    assert results["lookup_query"] == [i["Status"] for i in truth]
    assert emu.stats()["mutating_calls"] == 0


def test_paging_over_250_instances(emulator_factory):
    emu = emulator_factory("--instances", "250", "--seed", "5")
    results = ok(play("paging.yml", emu.env))
    truth = [i["InstanceId"] for i in emu.instances()]
    assert len(truth) == 250
    by_number, by_token, one_page = results["by_number"], results["by_token"], results["one_page"]
    assert sorted(by_number["outputs"]["ids"]) == sorted(truth)
    assert by_number["pages"] == 3 and len(by_number["request_ids"]) == 3
    assert sorted(by_token["outputs"]["ids"]) == sorted(truth)
    assert by_token["pages"] == 7  # ceil(250 / 40)
    assert one_page["pages"] == 1 and len(one_page["outputs"]["ids"]) == 10  # exactly what was asked: API default size
    assert emu.stats()["calls"]["DescribeInstances"] == 3 + 7 + 1


def test_stop_then_wait_for_stopped(emulator_factory):
    emu = emulator_factory("--instances", "4", "--seed", "2", "--transition-seconds", "4.0")
    instance_id = running_instance(emu)
    results = ok(play("stop_and_wait.yml", emu.env, extra_vars={"instance_id": instance_id}))
    assert results["stopped"]["changed"] is True
    waited = results["waited"]
    assert waited["outputs"]["status"] == "Stopped"
    assert waited["polls"] > 1  # the transition takes 4 s, so at least one poll saw Stopping
    assert waited["changed"] is False
    assert {i["InstanceId"]: i["Status"] for i in emu.instances()}[instance_id] == "Stopped"
    assert emu.stats()["calls"]["StopInstance"] == 1


def test_check_for_failure_names_the_values(emu):
    instance_id = running_instance(emu)
    result = play("check_for_failure.yml", emu.env, extra_vars={"instance_id": instance_id})
    checked = result.results["checked"]
    assert checked["failed"] is True
    assert "check failed" in checked["msg"]
    assert "Running" in checked["msg"] and "Stopped" in checked["msg"]
    assert checked["error"]["code"] == "CheckFailed"
    assert checked["wait"]["values"] == ["Running"]
    assert checked["request_ids"]


def test_check_mode_sends_no_mutating_request(emu):
    result = play("check_mode.yml", emu.env, args=("--check",))
    results = ok(result)
    assert results["stop"]["changed"] is True
    assert "not sent" in results["stop"]["msg"]
    assert results["described"]["outputs"]["ids"]
    assert results["waited"]["changed"] is False and "not waited for" in results["waited"]["msg"], results["waited"]
    assert results["waited"]["response"] is None and results["waited"]["polls"] == 0
    stats = emu.stats()
    assert stats["mutating_calls"] == 0 and "StopInstance" not in stats["calls"]
    assert stats["calls"]["DescribeInstances"] == 1


def test_throttling_30_percent_mutating_calls_are_never_duplicated(emulator_factory):
    emu = emulator_factory("--instances", "12", "--seed", "9", "--transition-seconds", "0.2")
    ids = all_running(emu)
    targets, command_targets = ids[:6], ids[6:9]
    emu.faults(throttle_rate=0.3, actions=["DescribeInstances", "StopInstance", "RunCommand"])
    env = dict(emu.env, **FAST_RETRIES)
    results = ok(play("fleet_under_faults.yml", env, extra_vars={"stop_ids": targets, "command_ids": command_targets}))
    stats = emu.stats()
    assert stats["throttled"] > 0, stats
    calls = stats["calls"]
    # Throttled requests were rejected before dispatch: every instance was stopped by exactly one applied call.
    applied = calls["StopInstance"] + calls["RunCommand"] + calls["DescribeInstances"] - stats["throttled"]
    assert applied == len(targets) + 3 + 1, stats
    assert all(r["changed"] for r in results["stops"]["results"])
    statuses = {i["InstanceId"]: i["Status"] for i in emu.instances()}
    assert all(statuses[t] in ("Stopping", "Stopped") for t in targets)
    assert sum(r["attempts"] for r in results["stops"]["results"]) == calls["StopInstance"]


def test_503_at_10_percent_retried_only_where_safe(emulator_factory):
    emu = emulator_factory("--instances", "12", "--seed", "4", "--transition-seconds", "0.2")
    targets = all_running(emu)
    # 503s at 10%, and connection resets (half of them after the change was applied) at 10%.
    emu.faults(error_rate=0.1, reset_rate=0.1, actions=["DescribeInstances", "RunCommand"])
    env = dict(emu.env, **FAST_RETRIES)
    results = ok(play("fleet_under_faults.yml", env, extra_vars={"stop_ids": [], "command_ids": targets}))
    stats = emu.stats()
    print("fault stats:", {k: v for k, v in stats.items() if k != "calls_by_product"})
    assert stats["failed"] > 0 and stats["reset"] > 0, stats  # seed 4 injects both kinds (fault RNG is seeded)
    assert sorted(results["described"]["outputs"]["ids"]) == sorted(i["InstanceId"] for i in emu.instances())
    invocations = emu.control("invocations")
    # Retried RunCommand requests carry the same ClientToken: one invocation per instance, never two.
    per_instance = Counter(inst for inv in invocations for inst in invocation_instances(inv))
    assert per_instance == Counter(targets), invocations
    assert len({r["response"]["InvokeId"] for r in results["commands"]["results"]}) == len(targets)


def all_running(emu):
    """Force every instance to Running (test setup) and return their ids."""
    ids = [i["InstanceId"] for i in emu.instances()]
    for instance_id in ids:
        emu.control(f"instances/{instance_id}/status", {"Status": "Running"}, method="POST")
    emu.control("stats/reset", {}, method="POST")
    return ids


def invocation_instances(invocation):
    if "InstanceIds" in invocation:
        return invocation["InstanceIds"]
    if "InvokeInstances" in invocation:
        return [i["InstanceId"] for i in invocation["InvokeInstances"]]
    return [i["InstanceId"] for i in invocation.get("Instances", [])]


def test_503_on_mutating_call_without_client_token_fails_instead_of_repeating(emulator_factory):
    emu = emulator_factory("--instances", "3", "--seed", "4")
    emu.faults(error_rate=1.0, actions=["RebootInstance"])
    env = dict(emu.env, **FAST_RETRIES)
    # RebootInstance takes no ClientToken and a repeat would reboot again: it is sent once, and the task says the
    # outcome is unknown (a 503 may come after the change was applied).
    call = {"service": "ecs", "api": "RebootInstance", "parameters": {"InstanceId": emu.instances()[0]["InstanceId"]}}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert result["error"]["http_status"] == 503 and result["error"]["code"] == "OutcomeUnknown"
    assert "ServiceUnavailable" in result["msg"] and "DescribeInstances" in result["msg"]
    assert emu.stats()["calls"]["RebootInstance"] == 1
    # Declared idempotent, the same call is retried (and still fails here because every request fails).
    call.update(idempotent=True, api_retries=4)
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True and result["attempts"] == 4
    assert emu.stats()["calls"]["RebootInstance"] == 1 + 4

    # A dropped connection may mean "applied": without ClientToken the call is not repeated either.
    emu.faults(error_rate=0, reset_rate=1.0, actions=["RebootInstance"])
    emu.control("stats/reset", {}, method="POST")
    call.pop("idempotent")
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True and result["error"]["code"] == "OutcomeUnknown"
    assert emu.stats()["calls"]["RebootInstance"] == 1

    # StopInstance is harmless to repeat (a stopping instance answers IncorrectInstanceStatus): it is repeated.
    emu.faults(reset_rate=0, error_rate=1.0, actions=["StopInstance"])
    call = {"service": "ecs", "api": "StopInstance", "parameters": {"InstanceId": emu.instances()[1]["InstanceId"]},
            "api_retries": 3}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True and result["error"]["code"] == "ServiceUnavailable"
    assert emu.stats()["calls"]["StopInstance"] == 3


def test_wrong_credentials_and_unknown_action_give_clear_errors(emu):
    env = dict(emu.env, ALICLOUD_SECRET_KEY="not-the-secret", **FAST_RETRIES)
    call = {"service": "ecs", "api": "DescribeInstances"}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert result["error"]["code"] == "SignatureDoesNotMatch" and result["error"]["http_status"] == 400
    assert result["error"]["request_id"] and result["error"]["action"] == "DescribeInstances"
    assert "SignatureDoesNotMatch" in result["msg"]
    assert result["attempts"] == 1  # a client error is never retried

    env = dict(emu.env, ALICLOUD_ACCESS_KEY="LTAI-unknown", **FAST_RETRIES)
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["error"]["code"].startswith("InvalidAccessKeyId")

    call = {"service": "ecs", "api": "DescribeNothingAtAll"}
    result = play("one_call.yml", emu.env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert result["error"]["code"] and result["error"]["http_status"] >= 400
    assert "DescribeNothingAtAll" in result["msg"]


def test_verbose_output_never_contains_the_secret(emu):
    secret = emu.access_key_secret
    env = dict(emu.env)
    call = {"service": "ecs", "api": "DescribeInstances", "secret_key": secret,
            "outputs": {"ids": {"value_selector": "Instances.Instance[].InstanceId", "type": "List"}}}
    result = play("one_call.yml", env, extra_vars={"call": call}, args=("-vvv",))
    assert result.rc == 0 and result.results["result"]["outputs"]["ids"]
    bad = dict(call, api="DescribeNothingAtAll")
    failed = play("one_call.yml", dict(env, ANSIBLE_DEBUG="0"), extra_vars={"call": bad}, args=("-vvv",))
    for output in (result.output, failed.output, json.dumps(result.results), json.dumps(failed.results)):
        assert secret not in output
    assert "DescribeNothingAtAll" in failed.output


def test_official_env_naming_scheme(emu):
    env = {k: v for k, v in emu.env.items() if not k.startswith("ALICLOUD_")}
    env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": emu.access_key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emu.access_key_secret,
                "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou", "ALICLOUD_ENDPOINT": emu.url})
    call = {"service": "ecs", "api": "DescribeInstances",
            "outputs": {"total": {"value_selector": "TotalCount", "type": "Number"}}}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result.get("failed") is not True, result
    assert result["outputs"]["total"] == len(hangzhou(emu))


def test_credentials_file_and_profile(emu, tmp_path):
    ini = tmp_path / "credentials.ini"
    ini.write_text(
        "[default]\ntype = access_key\n"
        f"access_key_id = {emu.access_key_id}\naccess_key_secret = {emu.access_key_secret}\n\n"
        "[stale]\ntype = access_key\naccess_key_id = LTAI-stale\naccess_key_secret = wrong\n")
    base = {k: v for k, v in emu.env.items() if k not in ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY")}
    env = dict(base, ALIBABA_CLOUD_CREDENTIALS_FILE=str(ini))
    call = {"service": "ecs", "api": "DescribeInstances",
            "outputs": {"total": {"value_selector": "TotalCount", "type": "Number"}}}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result.get("failed") is not True, result
    assert result["outputs"]["total"] == len(hangzhou(emu))

    # The profile option selects the section: the stale one is rejected by the service.
    result = play("one_call.yml", env, extra_vars={"call": dict(call, profile="stale")}).results["result"]
    assert result["failed"] is True and result["error"]["code"].startswith("InvalidAccessKeyId")

    # A profile that does not exist is an input error naming the option.
    result = play("one_call.yml", env, extra_vars={"call": dict(call, profile="nope")}).results["result"]
    assert result["failed"] is True and "profile" in result["msg"] and "nope" in result["msg"]


def test_bad_input_names_the_option_and_sends_nothing(emu):
    result = play("bad_input.yml", emu.env)
    results = ok(result)
    messages = results["bad"]
    assert all(results["failed"])
    expected_fields = ["parameters", "parameters", "version", "api", "outputs.ids.value_selector", "outputs.ids.type",
                       "query", "delay_type", "wait_for.property_selector", "check_for", "wait_for", "version",
                       "api_retries"]
    assert len(messages) == len(expected_fields)
    for message, field in zip(messages, expected_fields):
        assert field in message, (field, message)
        assert "Traceback" not in message
    assert "must be a dict" in messages[0]
    assert "Constant, Exponential, Linear" in messages[7]
    lookup = results["lookup"]
    assert lookup["failed"] is True and "read-only" in lookup["msg"]
    assert emu.stats()["total_calls"] == 0


def test_unknown_product_without_endpoint(emu):
    env = {k: v for k, v in emu.env.items() if k != "ALICLOUD_ENDPOINT"}
    call = {"service": "unlisted", "api": "ListThings", "version": "2019-09-10"}
    result = play("one_call.yml", env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert "endpoint" in result["msg"] and "unlisted" in result["msg"]
    assert emu.stats()["total_calls"] == 0


@pytest.mark.parametrize("service, api, product", [("KMS", "DescribeKey", "kms"), ("R-KVSTORE", "DescribeInstances", "r-kvstore"),
                                                   ("BssOpenApi", "GetOrderDetail", "bssopenapi")])
def test_products_outside_the_old_table_are_called_with_their_sdk_version(emu, service, api, product):
    """No version option: the catalogue gives it; the emulator, which does not emulate these products, answers
    as the product's gateway answers an action it lacks (404 InvalidAction.NotFound), and is not retried."""
    call = {"service": service, "api": api, "parameters": {"RegionId": "cn-hangzhou"}}
    result = play("one_call.yml", emu.env, extra_vars={"call": call}).results["result"]
    assert result["failed"] is True
    assert (result["error"]["code"], result["error"]["http_status"]) == ("InvalidAction.NotFound", 404)
    assert result["attempts"] == 1
    # The emulator names the product from the request's API version: the call carried the SDK's version.
    assert emu.stats()["calls_by_product"] == {product: {api: 1}}


def test_roa_calls_with_selectors_body_wait_and_not_found(emu):
    results = ok(play("roa.yml", emu.env))
    clusters = emu.control("clusters")
    listed, detail = results["listed"], results["detail"]
    assert listed["changed"] is False and listed["pages"] == 1
    assert listed["outputs"] == {"ids": [c["cluster_id"] for c in clusters], "total": len(clusters)}
    assert detail["changed"] is False
    assert detail["outputs"] == {"state": "running", "protected": False}
    assert detail["response"]["cluster_id"] == clusters[0]["cluster_id"]
    assert results["modify_check"]["changed"] is True and results["modify_check"]["request_ids"] == []
    modified = results["modified"]
    assert modified["changed"] is True and modified["outputs"]["task_id"].startswith("T-")
    assert clusters[0]["deletion_protection"] is True  # the signed PUT body reached the service
    assert results["waited"]["polls"] == 1 and results["waited"]["response"]["deletion_protection"] is True
    stopped = results["stopped"]
    assert stopped["failed"] is True and "stop_retry_values" in stopped["msg"] and "running" in stopped["msg"]
    assert stopped["wait"]["attempts"] == 1 and stopped["error"]["code"] == "StopRetryValue"
    missing = results["missing"]
    assert missing["failed"] is True
    assert "ErrorClusterNotFound" in missing["msg"] and "c0000000000000000000000000000dead" in missing["msg"]
    assert missing["error"]["http_status"] == 404 and missing["error"]["product"] == "cs"
    assert missing["error"]["request_id"]
    calls = emu.stats()["calls_by_product"]["cs"]
    assert calls == {"DescribeClustersV1": 1, "DescribeClusterDetail": 4, "ModifyCluster": 1}


def test_roa_bad_input_names_the_option_and_sends_nothing(emu):
    results = ok(play("roa_bad_input.yml", emu.env))
    messages = results["bad"]
    assert all(results["failed"])
    expected = [("uri", "must start with '/'"), ("service", "alicloud.oos.oos_execution"), ("uri", "CS APIs are ROA style"),
                ("uri", "ECS APIs are RPC style"), ("body", "only for ROA calls"), ("method", "only for ROA calls"),
                ("body", "not sent with GET"), ("body", "not JSON text"), ("headers.Authorization", "signed by the client"),
                ("list_path", "not paged"), ("wait_for", "PUT /api/v2/clusters/c1"), ("stop_retry_values", "")]
    assert len(messages) == len(expected)
    for message, (field, text) in zip(messages, expected):
        assert field in message and text in message, (field, text, message)
        assert "Traceback" not in message
    assert emu.stats()["total_calls"] == 0
