"""Unit tests of the logic behind oos_instance, oos_run_command and oos_create_image (module_utils)."""
from __future__ import annotations

import pytest

from fake_ecs import FakeEcs

from ansible_collections.alicloud.oos.plugins.module_utils.cloud_assistant import (
    command_spec,
    decode_output,
    failure_message,
    is_failure,
    run_command,
)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.images import client_token, validate_image_params
from ansible_collections.alicloud.oos.plugins.module_utils.instance_fleet import (
    selection_from_params,
    validate_rate_control,
    waves,
)
from ansible_collections.alicloud.oos.plugins.module_utils.instance_power import action_for, plan, set_power_state
from ansible_collections.alicloud.oos.plugins.module_utils.polling import PollClock


def fast_clock(timeout=5):
    return PollClock(timeout, initial=0, sleep=lambda s: None)


def instances(fake):
    return [{"instance_id": i, "status": s} for i, s in fake.status.items()]


# --- selection and rate control ------------------------------------------------------------------------

def test_selection_requires_exactly_one_option():
    assert selection_from_params({"instance_id": "i-1"}) == ("instance_id", ["i-1"])
    assert selection_from_params({"instance_ids": ["i-1", "i-1", "i-2"]}) == ("instance_ids", ["i-1", "i-2"])
    with pytest.raises(AlicloudInputError, match="set only one"):
        selection_from_params({"instance_id": "i-1", "targets": {"Type": "All"}})
    with pytest.raises(AlicloudInputError) as info:
        selection_from_params({"instance_ids": []})
    assert info.value.field == "instance_ids"
    with pytest.raises(AlicloudInputError, match="no instance selected"):
        selection_from_params({})


def test_waves_follow_rate_control():
    items = [f"i-{n}" for n in range(10)]
    assert waves(None, items) == [items]
    thirty = validate_rate_control({"Mode": "Concurrency", "Concurrency": "30%", "MaxErrors": 0})
    assert [len(w) for w in waves(thirty, items)] == [3, 3, 3, 1]
    batch = validate_rate_control({"Mode": "Batch", "Batch": [1, 4]})
    assert [len(w) for w in waves(batch, items)] == [1, 4, 4, 1]
    assert validate_rate_control(None) is None
    with pytest.raises(AlicloudInputError, match="rate_control"):
        validate_rate_control({"Mode": "Sometimes"})


# --- power ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status,state,expected", [
    ("Running", "running", None), ("Stopped", "running", "start"), ("Stopping", "running", "wait"),
    ("Running", "stopped", "stop"), ("Stopped", "stopped", None), ("Starting", "stopped", "wait"),
    ("Running", "restarted", "reboot"), ("Stopped", "restarted", "start"),
])
def test_action_for(status, state, expected):
    assert action_for(status, state) == expected


def test_plan_is_idempotent():
    statuses = {"i-1": "Running", "i-2": "Stopped"}
    assert plan(statuses, "running") == ["i-2"]
    assert plan(statuses, "present") == []
    assert plan(statuses, "restarted") == ["i-1", "i-2"]


def test_stop_uses_one_batch_call_and_polls_together():
    fake = FakeEcs({f"i-{n}": "Running" for n in range(150)} | {"i-x": "Stopped"}, lag=2)
    result = set_power_state(fake, instances(fake), "stopped", clock=fast_clock())
    assert fake.count("StopInstances") == 2          # 150 instances: ceil(150/100)
    assert result["counts"] == {"total": 151, "changed": 150, "failed": 0, "unchanged": 1}
    assert all(r["after"] == "Stopped" for r in result["instances"])
    stop_ids = [p["InstanceId"] for a, p in fake.calls if a == "StopInstances"]
    assert "i-x" not in stop_ids[0] + stop_ids[1]
    # second run: nothing to do, no mutating call
    fake.calls.clear()
    again = set_power_state(fake, instances(fake), "stopped", clock=fast_clock())
    assert not again["changed"] and fake.count("StopInstances") == 0


def test_check_mode_predicts_without_calls():
    fake = FakeEcs({"i-1": "Running", "i-2": "Stopped"})
    result = set_power_state(fake, instances(fake), "stopped", check_mode=True)
    assert fake.calls == []
    assert [(r["instance_id"], r["changed"], r["after"]) for r in result["instances"]] == [
        ("i-1", True, "Stopped"), ("i-2", False, "Stopped")]


def test_transitional_instance_is_awaited_before_acting():
    fake = FakeEcs({"i-1": "Stopping"}, lag=1)
    fake.moving["i-1"] = [2, "Stopped"]
    result = set_power_state(fake, instances(fake), "running", clock=fast_clock())
    assert result["instances"][0]["after"] == "Running" and result["instances"][0]["changed"]
    assert fake.count("StartInstances") == 1


def test_rate_control_waves_and_max_errors_stop_later_waves():
    fake = FakeEcs({f"i-{n}": "Running" for n in range(10)})
    rc = validate_rate_control({"Mode": "Concurrency", "Concurrency": "30%", "MaxErrors": 0})
    del fake.status["i-0"]  # vanished after selection: its call fails
    listed = [{"instance_id": f"i-{n}", "status": "Running"} for n in range(10)]
    result = set_power_state(fake, listed, "stopped", rate_control=rc, clock=fast_clock())
    assert fake.count("StopInstances") == 1          # first wave failed beyond MaxErrors 0
    codes = {r["instance_id"]: r["error_code"] for r in result["instances"]}
    assert codes["i-0"] == "InvalidInstanceId.NotFound"
    assert codes["i-5"] == "NotAttempted.MaxErrorsExceeded"


def test_restart_waits_for_running_again():
    fake = FakeEcs({"i-1": "Running"}, lag=2)
    result = set_power_state(fake, instances(fake), "restarted", clock=fast_clock())
    assert fake.count("RebootInstances") == 1
    assert result["instances"][0]["changed"] and result["instances"][0]["after"] == "Running"


def test_wait_timeout_is_reported_per_instance():
    fake = FakeEcs({"i-1": "Running"}, lag=10 ** 6)
    result = set_power_state(fake, instances(fake), "stopped", clock=PollClock(0.05, initial=0.01))
    assert result["instances"][0]["error_code"] == "WaitTimeout"


# --- run command ---------------------------------------------------------------------------------------

def params(**extra):
    base = {"command_content": "echo hi", "command_type": "RunShellScript", "timeout": 60,
            "content_encoding": "PlainText", "wait": True, "fail_on_nonzero": True}
    base.update(extra)
    return base


@pytest.mark.parametrize("bad,field", [
    ({"command_type": "RunRubyScript"}, "command_type"),
    ({"timeout": 9}, "timeout"),
    ({"timeout": 86401}, "timeout"),
    ({"command_content": "  "}, "command_content"),
    ({"content_encoding": "Base64", "command_content": "not base64!"}, "command_content"),
    ({"parameters": {"bad name": "x"}}, "parameters"),
])
def test_command_spec_rejects_bad_input(bad, field):
    with pytest.raises(AlicloudInputError) as info:
        command_spec(params(**bad))
    assert info.value.field == field


def test_command_spec_sends_parameters_as_json():
    spec = command_spec(params(parameters={"name": "x y"}, working_dir="/tmp", command_type="runshellscript"))
    assert spec["EnableParameter"] is True and spec["Parameters"] == '{"name":"x y"}'
    assert spec["WorkingDir"] == "/tmp" and spec["Type"] == "RunShellScript"


def test_decode_output():
    assert decode_output("aGVsbG8K") == "hello\n"
    assert decode_output("") == ""


def test_run_command_batches_and_counts_failures():
    statuses = {f"i-{n}": "Running" for n in range(120)} | {"i-off": "Stopped"}
    fake = FakeEcs(statuses, scripts={"i-7": (3, "boom\n")})
    result = run_command(fake, instances(fake), params(), clock_factory=fast_clock)
    assert fake.count("RunCommand") == 2                 # 120 running instances
    assert fake.count("DescribeInvocationResults") == 3  # 100 -> 2 pages, 20 -> 1 page
    by_id = {r["instance_id"]: r for r in result["results"]}
    assert by_id["i-0"]["output"] == "ok i-0\n" and by_id["i-0"]["exit_code"] == 0
    assert by_id["i-7"]["status"] == "Failed" and by_id["i-7"]["exit_code"] == 3
    assert by_id["i-off"]["error_code"] == "InstanceNotRunning"
    assert sorted(f["instance_id"] for f in result["failed_instances"]) == ["i-7", "i-off"]
    message = failure_message(result)
    assert "i-7" in message and "exit code 3" in message and "InstanceNotRunning" in message


def test_fail_on_nonzero_false_tolerates_exit_codes():
    failed = {"status": "Failed", "exit_code": 3, "error_code": "ExitCodeNonzero"}
    assert is_failure(failed, True) and not is_failure(failed, False)
    assert is_failure({"status": "Timeout", "exit_code": None, "error_code": "ExecutionTimeout"}, False)


def test_run_command_check_mode_runs_nothing():
    fake = FakeEcs({"i-1": "Running"})
    result = run_command(fake, instances(fake), params(), check_mode=True)
    assert fake.calls == [] and result["results"][0]["status"] == "Skipped" and not result["changed"]


def test_run_command_max_errors_skips_later_waves():
    fake = FakeEcs({f"i-{n}": "Running" for n in range(4)}, scripts={"i-0": (1, ""), "i-1": (1, "")})
    rc = validate_rate_control({"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 1})
    result = run_command(fake, instances(fake), params(), rate_control=rc, clock_factory=fast_clock)
    assert fake.count("RunCommand") == 1
    assert [r["status"] for r in result["results"]] == ["Failed", "Failed", "Skipped", "Skipped"]


# --- images --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad,field", [
    ({"state": "absent"}, "image_id"),
    ({"image_name": "web"}, "instance_id"),
    ({"instance_id": "i-1", "image_name": "1bad"}, "image_name"),
    ({"instance_id": "i-1", "image_name": "http://x"}, "image_name"),
    ({"snapshot_id": "s-1", "image_name": "web-1", "stop_instance": True}, "stop_instance"),
])
def test_image_validation(bad, field):
    with pytest.raises(AlicloudInputError) as info:
        validate_image_params(bad)
    assert info.value.field == field


def test_client_token_is_stable_and_input_specific():
    one = client_token({"instance_id": "i-1", "image_name": "web"}, "cn-hangzhou")
    assert one == client_token({"image_name": "web", "instance_id": "i-1"}, "cn-hangzhou")
    assert one != client_token({"instance_id": "i-2", "image_name": "web"}, "cn-hangzhou")
    assert len(one) <= 64
