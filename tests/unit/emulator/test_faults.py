"""Fault injection, stats and the control API."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from darabonba.exceptions import UnretryableException

REGION = "cn-hangzhou"


def test_throttling_is_throttling_user(emu, sdk):
    emu.faults(throttle_rate=1.0)
    with pytest.raises(ClientException) as caught:
        sdk.ecs("DescribeRegions")
    assert (caught.value.code, caught.value.status_code) == ("Throttling.User", 400)
    emu.faults(retry_after_ms=250)
    with pytest.raises(ThrottlingException) as caught:
        sdk.ecs("DescribeRegions")
    assert caught.value.retry_after == 250
    stats = emu.stats()
    assert stats["throttled"] == 2 and stats["calls"]["DescribeRegions"] == 2
    assert stats["errors"]["Throttling.User"] == 2


def test_error_rate_answers_503(emu, sdk):
    emu.faults(error_rate=1.0)
    with pytest.raises(ServerException) as caught:
        sdk.ecs("DescribeInstances", RegionId=REGION)
    assert (caught.value.code, caught.value.status_code) == ("ServiceUnavailable", 503)
    assert emu.stats()["failed"] == 1


def test_partial_rates_hit_roughly_that_fraction(emu, sdk):
    emu.faults(error_rate=0.5)
    outcomes = []
    for _unused in range(60):
        try:
            sdk.ecs("DescribeRegions")
            outcomes.append(True)
        except ServerException:
            outcomes.append(False)
    assert 10 <= outcomes.count(False) <= 50
    assert emu.stats()["failed"] == outcomes.count(False)


def test_failing_regions_and_action_filter(emu, sdk):
    emu.faults(failing_regions=["cn-shanghai"])
    assert sdk.ecs("DescribeInstances", RegionId=REGION)["TotalCount"] == 20
    with pytest.raises(ServerException):
        sdk.ecs("DescribeInstances", RegionId="cn-shanghai")
    emu.faults(failing_regions=[], throttle_rate=1.0, actions=["StopInstance"])
    assert sdk.ecs("DescribeRegions")["Regions"]
    with pytest.raises(ClientException) as caught:
        sdk.ecs("StopInstance", InstanceId=emu.instances()[0]["InstanceId"])
    assert caught.value.code == "Throttling.User"


def test_reset_rate_drops_the_connection(emu, sdk):
    emu.faults(reset_rate=1.0, actions=["StopInstance"])
    instances = [i["InstanceId"] for i in emu.instances()[:12]]
    for instance in instances:
        with pytest.raises(UnretryableException):
            sdk.ecs("StopInstance", InstanceId=instance)
    stopped = [i for i in instances if emu.control(f"instances/{i}")["Status"] != "Running"]
    # Half of the resets happen after the change was applied: clients must use ClientToken to retry safely.
    assert 0 < len(stopped) < len(instances)
    assert emu.stats()["reset"] == 12


def test_latency_delays_answers(emu, sdk):
    emu.faults(latency_ms=300)
    started = time.monotonic()
    sdk.ecs("DescribeRegions")
    assert time.monotonic() - started >= 0.3


def test_control_api_is_never_faulted(emu):
    emu.faults(throttle_rate=1.0, error_rate=1.0, reset_rate=1.0, latency_ms=2000)
    started = time.monotonic()
    assert len(emu.instances()) == 20
    assert emu.stats()["total_calls"] == 0
    assert time.monotonic() - started < 1.5


def test_stats_count_per_action_and_product(emu, sdk):
    sdk.ecs("DescribeInstances", RegionId=REGION)
    sdk.ecs("StopInstance", InstanceId=emu.instances()[0]["InstanceId"])
    sdk.oos("ListExecutions")
    with pytest.raises(ClientException):
        sdk.ecs("StartInstance", InstanceId="i-missing")
    stats = emu.stats()
    assert stats["calls"] == {"DescribeInstances": 1, "StopInstance": 1, "ListExecutions": 1, "StartInstance": 1}
    assert stats["calls_by_product"] == {"ecs": {"DescribeInstances": 1, "StopInstance": 1, "StartInstance": 1},
                                         "oos": {"ListExecutions": 1}}
    assert (stats["total_calls"], stats["mutating_calls"]) == (4, 2)
    assert stats["errors"] == {"InvalidInstanceId.NotFound": 1}
    assert emu.control("stats/reset", {}, method="POST")["total_calls"] == 0


def test_request_log_keeps_the_parameters_each_call_carried(emu, sdk):
    emu.control("stats/reset", {}, method="POST")
    text = "{{ lookup('pipe', 'id') }} 中文 \u2028 'quoted'"
    sdk.ecs("DescribeRegions", RegionId=REGION, Note=text)
    with pytest.raises(ClientException):
        sdk.ecs("StartInstance", InstanceId="i-missing")
    log = emu.control("requests")
    assert log == [{"product": "ecs", "version": "2014-05-26", "action": "DescribeRegions",
                    "params": {"RegionId": REGION, "Note": text}},
                   {"product": "ecs", "version": "2014-05-26", "action": "StartInstance",
                    "params": {"InstanceId": "i-missing"}}]
    assert not any("Signature" in k or "AccessKey" in k for entry in log for k in entry["params"])
    emu.control("stats/reset", {}, method="POST")
    assert emu.control("requests") == []


def test_reset_restores_the_start_state(emu, sdk):
    instance = emu.instances()[0]["InstanceId"]
    sdk.ecs("StopInstance", InstanceId=instance)
    emu.faults(error_rate=1.0)
    emu.reset()
    assert emu.control(f"instances/{instance}")["Status"] == "Running"
    assert emu.stats()["total_calls"] == 0 and emu.control("faults")["error_rate"] == 0.0
    assert emu.reset(instances=3, seed=9) == {"instances": 3, "regions": ["cn-hangzhou"]}


def test_control_api_rejects_bad_input(emu):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path, payload in (("faults", {"throttle_rate": 2}), ("faults", {"nonsense": 1}),
                          (f"instances/{emu.instances()[0]['InstanceId']}/status", {"Status": "Flying"}),
                          ("reset", {"colour": "red"})):
        request = urllib.request.Request(f"{emu.url}/_emulator/{path}", data=json.dumps(payload).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(request, timeout=10)
        assert caught.value.code == 400 and "error" in json.loads(caught.value.read())


def test_cli_flags_set_initial_faults(emulator_factory):
    emu = emulator_factory("--throttle-rate", "1", "--latency-ms", "5")
    assert emu.control("faults")["throttle_rate"] == 1.0 and emu.control("faults")["latency_ms"] == 5.0


def test_cli_rejects_bad_rates():
    import subprocess
    import sys
    from tests.conftest import REPO_ROOT
    result = subprocess.run([sys.executable, "-m", "tests.emulator", "--error-rate", "1.5"], capture_output=True,
                            text=True, timeout=30, cwd=REPO_ROOT, check=False)
    assert result.returncode == 2 and "--error-rate" in result.stderr


@pytest.mark.parametrize("phase, applied", [("before", False), ("after", True)])
def test_reset_phase_and_max_resets(emu, sdk, phase, applied):
    instances = [i["InstanceId"] for i in emu.instances()[:2]]
    emu.faults(reset_rate=1.0, actions=["StopInstance"], reset_phase=phase, max_resets=1)
    with pytest.raises(UnretryableException):
        sdk.ecs("StopInstance", InstanceId=instances[0])
    assert (emu.control(f"instances/{instances[0]}")["Status"] != "Running") is applied
    sdk.ecs("StopInstance", InstanceId=instances[1])   # the one reset is spent: answered normally
    assert emu.stats()["reset"] == 1 and emu.control("faults")["max_resets"] == 0
    assert [m["instance_id"] for m in emu.control("mutations")] == instances[:1] * applied + instances[1:]


def test_mutation_log_lists_every_applied_change_once(emu, sdk):
    source = emu.instances()[0]["InstanceId"]
    image = sdk.ecs("CreateImage", RegionId=REGION, InstanceId=source, ImageName="logged", ClientToken="t-1")["ImageId"]
    sdk.ecs("CreateImage", RegionId=REGION, InstanceId=source, ImageName="logged", ClientToken="t-1")  # a replay
    sdk.ecs("TagResources", RegionId=REGION, ResourceType="instance", ResourceId=[source],
            Tag=[{"Key": "Owner", "Value": "ops"}])
    sdk.ecs("DeleteImage", RegionId=REGION, ImageId=image)
    # Refused everywhere: nothing applied, nothing logged.
    sdk.ecs("StartInstances", RegionId=REGION, InstanceId=[source], BatchOptimization="SuccessFirst")
    assert [m["action"] for m in emu.control("mutations")] == ["CreateImage", "TagResources", "DeleteImage"]
    assert emu.control("mutations")[2]["instance_id"] == image


def test_cli_rejects_bad_reset_settings(emu):
    for bad in ({"reset_phase": "during"}, {"max_resets": -1}):
        request = urllib.request.Request(f"{emu.url}/_emulator/faults", data=json.dumps(bad).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)
        assert caught.value.code == 400
