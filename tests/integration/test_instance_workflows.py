"""oos_run_command, oos_instance and oos_create_image against the emulator, through ansible-playbook.

Covers the module path (localhost), the per-host action plugin pattern over an inventory (hosts
known by instance_id or only by IP address) and the run_once fleet pattern with the per_host filter,
the request ids of every result (and in the audit record), and credentials given by `environment:`.
"""
from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import pytest

from tests.conftest import clean_environment, run_playbook, start_emulator

HERE = Path(__file__).resolve().parent / "instance_workflows"
FAST_RETRIES = {"ALICLOUD_API_RETRY_DELAY": "0.02", "ALICLOUD_API_RETRIES": "12"}


@pytest.fixture(scope="module")
def shared():
    """One small emulator (12 instances, one region, fast transitions) reset before each test."""
    emu = start_emulator("--instances", "12", "--seed", "7", "--transition-seconds", "0.2")
    emu.extra_env.update(FAST_RETRIES)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(shared):
    shared.reset(instances=12, seed=7)
    shared.faults(throttle_rate=0, error_rate=0, reset_rate=0, latency_ms=0, failing_regions=[], actions=[])
    return shared


def play(name, emu, **kwargs):
    result = run_playbook(HERE / name, emu.env, **kwargs)
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.rc == 0, result.output[-3000:]
    return result.results


def running(emu, count):
    ids = [i["InstanceId"] for i in emu.instances() if i["Status"] == "Running"]
    assert len(ids) >= count, emu.instances()
    return ids[:count]


def status_of(emu):
    return {i["InstanceId"]: i["Status"] for i in emu.instances()}


def mutating(emu):
    return emu.stats()["mutating_calls"]


def calls(emu, action):
    return emu.stats()["calls"].get(action, 0)


def set_status(emu, instance_id, status):
    emu.control(f"instances/{instance_id}/status", {"Status": status}, method="POST")


# --------------------------------------------------------------------------------------------------
# oos_run_command

def test_run_command_on_one_and_three_instances_with_outputs_and_exit_codes(emu):
    one = running(emu, 1)[0]
    out = play("run_command.yml", emu, extra_vars={"instance_id": one, "content": "echo hello; echo err >&2"})["out"]
    assert out["changed"] is True and not out.get("failed")
    [result] = out["results"]
    assert result["instance_id"] == one and result["status"] == "Success" and result["exit_code"] == 0
    assert "hello" in result["output"] and result["invoke_id"] == out["invoke_ids"][0]

    three = running(emu, 3)
    emu.control("stats/reset", {}, method="POST")
    script = "x=$((6*7)); echo value=$x; exit 0"
    out = play("run_command.yml", emu, extra_vars={"instance_ids": three, "content": script})["out"]
    assert [r["instance_id"] for r in out["results"]] == three
    assert all(r["output"].strip() == "value=42" for r in out["results"])
    assert calls(emu, "RunCommand") == 1 and len(out["invoke_ids"]) == 1
    assert out["counts"]["by_status"] == {"Success": 3}


def test_failing_host_within_and_beyond_max_errors_and_a_stopped_instance(emu):
    ids = running(emu, 4)
    # The script fails only on the instance whose id ends like the second one.
    failing = ids[1]
    # Extra vars are templated like playbook text: raw keeps the Cloud Assistant built-in parameter.
    script = f'if [ "{{% raw %}}{{{{ACS::InstanceId}}}}{{% endraw %}}" = "{failing}" ]; then exit 3; fi; echo good'
    within = play("run_command.yml", emu, extra_vars={
        "instance_ids": ids[:3], "content": script,
        "rate_control": {"Mode": "Concurrency", "Concurrency": 3, "MaxErrors": 1}})["out"]
    assert not within.get("failed"), within
    by_id = {r["instance_id"]: r for r in within["results"]}
    assert by_id[failing]["status"] == "Failed" and by_id[failing]["exit_code"] == 3
    assert [f["instance_id"] for f in within["failed_instances"]] == [failing]

    beyond = play("run_command.yml", emu, extra_vars={"instance_ids": ids[:3], "content": script})["out"]
    assert beyond["failed"] is True
    assert failing in beyond["msg"] and "exit code 3" in beyond["msg"] and "MaxErrors (0)" in beyond["msg"]

    set_status(emu, ids[3], "Stopped")
    stopped = play("run_command.yml", emu, extra_vars={"instance_ids": [ids[0], ids[3]], "content": "echo hi"})["out"]
    assert stopped["failed"] is True and ids[3] in stopped["msg"] and "InstanceNotRunning" in stopped["msg"]
    by_id = {r["instance_id"]: r for r in stopped["results"]}
    assert by_id[ids[0]]["status"] == "Success"
    assert by_id[ids[3]]["status"] == "Aborted" and by_id[ids[3]]["error_code"] == "InstanceNotRunning"


def test_command_timeout_and_parameters(emu):
    one = running(emu, 1)[0]
    out = play("run_command.yml", emu, extra_vars={"instance_id": one, "content": "echo start; sleep 30",
                                                   "timeout": 10, "fail_on_nonzero": False})["out"]
    assert out["failed"] is True
    assert out["results"][0]["status"] == "Timeout" and "start" in out["results"][0]["output"]

    secret = "s3cr3t-value"
    out = play("run_command.yml", emu, extra_vars={"instance_id": one, "content": "echo '{% raw %}{{greeting}}{% endraw %}' | rev",
                                                   "parameters": {"greeting": secret}})["out"]
    assert out["results"][0]["output"].strip() == secret[::-1]


def test_run_command_on_250_instances_in_three_calls(emulator_factory):
    emu = emulator_factory("--instances", "250", "--seed", "2", "--transition-seconds", "0.2")
    emu.extra_env.update(FAST_RETRIES)
    out = play("run_command.yml", emu, extra_vars={"targets": {"Type": "All"}, "content": "echo ok"})["out"]
    assert not out.get("failed"), out.get("msg")
    assert out["counts"]["total"] == 250 and out["counts"]["by_status"] == {"Success": 250}
    assert calls(emu, "RunCommand") == 3 and len(set(out["invoke_ids"])) == 3
    assert all(r["output"].strip() == "ok" for r in out["results"])


@pytest.mark.parametrize("extra,field", [
    ({"instance_ids": ["i-doesnotexist0000001"], "content": "echo"}, "instance_ids"),
    ({"instance_ids": [], "content": "echo"}, "instance_ids"),
    ({"targets": {}, "content": "echo"}, "targets"),
    # A Tags target that matches nothing is nothing to do (tests/integration/test_instance_selection.py).
    ({"instance_id": "__ANY__", "content": "echo", "command_type": "RunRubyScript"}, "command_type"),
    ({"instance_id": "__ANY__", "content": "echo", "timeout": 5}, "timeout"),
    ({"instance_id": "__ANY__", "content": "echo", "timeout": 86401}, "timeout"),
])
def test_bad_input_is_one_clear_error_and_sends_nothing(emu, extra, field):
    if extra.get("instance_id") == "__ANY__":
        extra = dict(extra, instance_id=running(emu, 1)[0])
    emu.control("stats/reset", {}, method="POST")
    out = play("run_command.yml", emu, extra_vars=extra)["out"]
    assert out["failed"] is True and field in out["msg"], out["msg"]
    assert "Traceback" not in out["msg"]
    assert mutating(emu) == 0


# --------------------------------------------------------------------------------------------------
# oos_instance

def test_stop_start_restart_idempotence_check_mode_and_diff(emu):
    ids = running(emu, 3)
    emu.control("stats/reset", {}, method="POST")
    result = run_playbook(HERE / "instance.yml", emu.env, extra_vars={"instance_ids": ids, "states": ["stopped"]},
                          args=("--check", "--diff"))
    assert result.rc == 0, result.output[-2000:]
    [checked] = result.results["out"]
    assert checked["changed"] is True and mutating(emu) == 0
    assert all(status_of(emu)[i] == "Running" for i in ids)
    assert all(r["after"] == "Stopped" for r in checked["instances"])
    assert checked["diff"]["before"] == {i: "Running" for i in ids}

    stop, stop_again = play("instance.yml", emu, extra_vars={"instance_ids": ids, "states": ["stopped", "stopped"]})["out"]
    assert stop["changed"] is True and stop["counts"]["changed"] == 3
    assert all(status_of(emu)[i] == "Stopped" for i in ids)
    assert stop_again["changed"] is False
    assert calls(emu, "StopInstances") == 1

    emu.control("stats/reset", {}, method="POST")
    again = play("instance.yml", emu, extra_vars={"instance_ids": ids, "states": ["stopped"]})["out"][0]
    assert again["changed"] is False and mutating(emu) == 0

    start, restart, present = play("instance.yml", emu, extra_vars={
        "instance_ids": ids, "states": ["running", "restarted", "present"]})["out"]
    assert start["changed"] and all(r["action"] == "start" for r in start["instances"])
    assert restart["changed"] and all(r["action"] == "reboot" and r["after"] == "Running" for r in restart["instances"])
    assert present["changed"] is False and [r["before"] for r in present["instances"]] == ["Running"] * 3
    assert all(status_of(emu)[i] == "Running" for i in ids)


def test_rate_control_and_api_throttling_still_reach_the_desired_state(emu):
    ids = [i["InstanceId"] for i in emu.instances()]
    for iid in ids:
        set_status(emu, iid, "Running")
    emu.faults(throttle_rate=0.3)
    out = play("instance.yml", emu, extra_vars={
        "instance_ids": ids, "states": ["stopped", "running"],
        "rate_control": {"Mode": "Concurrency", "Concurrency": "30%", "MaxErrors": 0}})["out"]
    stop, start = out
    assert not stop.get("failed") and not start.get("failed"), (stop.get("msg"), start.get("msg"))
    assert emu.stats()["throttled"] > 0
    assert all(r["after"] == "Running" for r in start["instances"])
    assert set(status_of(emu).values()) == {"Running"}
    emu.faults(throttle_rate=0)
    # 12 instances at 30% -> waves of 3: four StopInstances and four StartInstances accepted calls
    accepted = emu.stats()["calls"]
    assert accepted["StopInstances"] >= 4 and accepted["StartInstances"] >= 4


def test_instance_bad_input(emu):
    emu.control("stats/reset", {}, method="POST")
    out = play("instance.yml", emu, extra_vars={"instance_ids": ["i-missing000000000001"], "states": ["stopped"]})["out"]
    assert out[0]["failed"] and "instance_ids" in out[0]["msg"] and "i-missing000000000001" in out[0]["msg"]
    assert mutating(emu) == 0


# --------------------------------------------------------------------------------------------------
# oos_create_image

def test_create_image_with_stop_twice_and_concurrent_duplicate(emu):
    one = running(emu, 1)[0]
    extra = {"instance_id": one, "image_name": "web-golden-1", "stop_instance": True, "tags": {"Role": "web"}}
    first = play("image.yml", emu, extra_vars=extra)["out"]
    assert first["changed"] is True and first["status"] == "Available" and first["stopped_instance"] is True
    assert status_of(emu)[one] == "Stopped"
    second = play("image.yml", emu, extra_vars=extra)["out"]
    assert second["changed"] is False and second["image_id"] == first["image_id"]

    other = running(emu, 1)[0]
    extra = {"instance_id": other, "image_name": "web-golden-2"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_playbook(HERE / "image.yml", emu.env, extra_vars=extra), range(2)))
    outs = [r.results["out"] for r in runs]
    assert all(r.rc == 0 and not o.get("failed") for r, o in zip(runs, outs)), [o.get("msg") for o in outs]
    assert outs[0]["image_id"] == outs[1]["image_id"]
    named = [i for i in emu.control("images") if i.get("ImageName") == "web-golden-2"]
    assert len(named) == 1

    emu.control("stats/reset", {}, method="POST")
    bad = play("image.yml", emu, extra_vars={"image_state": "absent"})["out"]
    assert bad["failed"] and "image_id" in bad["msg"] and mutating(emu) == 0
    gone = play("image.yml", emu, extra_vars={"image_state": "absent", "image_id": first["image_id"]})["out"]
    assert gone["changed"] is True
    gone_again = play("image.yml", emu, extra_vars={"image_state": "absent", "image_id": first["image_id"]})["out"]
    assert gone_again["changed"] is False


# --------------------------------------------------------------------------------------------------
# Inventory-driven patterns

def write_inventory(tmp_path, hosts: dict) -> Path:
    lines = ["[fleet]"] + [f"{name} {' '.join(f'{k}={v}' for k, v in hostvars.items())}".strip()
                           for name, hostvars in hosts.items()]
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_static_inventory_of_ip_addresses_drives_all_three_modules(emu, tmp_path):
    fleet = [i for i in emu.instances() if i["Status"] == "Running"][:5]
    inventory = write_inventory(tmp_path, {i["PrivateIpAddress"]: {} for i in fleet})
    emu.control("stats/reset", {}, method="POST")
    skip = fleet[4]["PrivateIpAddress"]
    results = play("inventory_hosts.yml", emu, inventory=inventory, extra_vars={"skip_host": skip, "make_images": True})
    stats = emu.stats()["calls"]
    by_ip = {i["PrivateIpAddress"]: i["InstanceId"] for i in fleet}
    for ip, mine in results.items():
        if ip == skip:
            assert mine["stopped"].get("skipped")
        else:
            assert mine["stopped"]["instances"][0]["instance_id"] == by_ip[ip]
            assert mine["stopped"]["changed"] and not mine["stopped_again"]["changed"]
        assert mine["started"]["instances"][0]["after"] == "Running"
        assert mine["ran"]["results"][0]["instance_id"] == by_ip[ip]
        assert mine["ran"]["results"][0]["output"].strip() == "hello-42"
        assert mine["ran_templated"]["results"][0]["output"].strip() == f"from-{ip}"
        assert mine["image"]["image_name"] == "img-" + ip.replace(".", "-") and mine["image"]["changed"]
    # The host whose `when` was false was never touched; all others share one call per step.
    assert stats["StopInstances"] == 1 and stats["StartInstances"] == 1
    assert stats["RunCommand"] == 1 + 5          # shared call + one per host for the per-host template
    assert stats["CreateImage"] == 5
    assert set(status_of(emu)[i["InstanceId"]] for i in fleet) == {"Running"}


def test_instance_id_hostvars_and_run_once_fleet_pattern(emu, tmp_path):
    fleet = running(emu, 4)
    inventory = write_inventory(tmp_path, {f"web{n}": {"instance_id": iid} for n, iid in enumerate(fleet)})
    emu.control("stats/reset", {}, method="POST")
    results = play("fleet_run_once.yml", emu, inventory=inventory)
    assert len(results["fleet_invoke_ids"]) == 1 and calls(emu, "RunCommand") == 1
    for n, iid in enumerate(fleet):
        mine = results["per_host"][f"web{n}"]
        assert mine["instance_id"] == iid and mine["output"].strip() == "fleet-42"


def test_per_host_check_mode_diff_and_limit(emu, tmp_path):
    fleet = running(emu, 3)
    inventory = write_inventory(tmp_path, {f"web{n}": {"instance_id": iid} for n, iid in enumerate(fleet)})
    emu.control("stats/reset", {}, method="POST")
    checked = play("per_host_stop.yml", emu, inventory=inventory, args=("--check", "--diff"))
    assert mutating(emu) == 0 and all(status_of(emu)[i] == "Running" for i in fleet)
    for n, iid in enumerate(fleet):
        mine = checked[f"web{n}"]
        assert mine["changed"] and mine["diff"] == {"before": {iid: "Running"}, "after": {iid: "Stopped"}}

    limited = play("per_host_stop.yml", emu, inventory=inventory, args=("--limit", "web0,web2"))
    assert sorted(limited) == ["web0", "web2"] and limited["web0"]["batch"]["hosts"] == 2
    assert calls(emu, "StopInstances") == 1
    assert [status_of(emu)[i] for i in fleet] == ["Stopped", "Running", "Stopped"]


# --------------------------------------------------------------------------------------------------
# Request ids and the task environment

def test_request_ids_in_module_and_per_host_results_and_in_the_audit_record(emu, tmp_path):
    one = running(emu, 1)[0]
    emu.control("stats/reset", {}, method="POST")
    out = play("run_command.yml", emu, extra_vars={"instance_id": one, "content": "echo hi"})["out"]
    # DescribeInstances, RunCommand and at least one DescribeInvocationResults: one id per request.
    assert len(out["request_ids"]) == emu.stats()["total_calls"] >= 3
    assert len(set(out["request_ids"])) == len(out["request_ids"])

    fleet = running(emu, 3)
    inventory = write_inventory(tmp_path, {f"web{n}": {"instance_id": iid} for n, iid in enumerate(fleet)})
    audit_dir = tmp_path / "executions"
    env = dict(emu.env, ANSIBLE_CALLBACKS_ENABLED="alicloud.oos.oos_audit", ALICLOUD_OOS_AUDIT_DIR=str(audit_dir))
    emu.control("stats/reset", {}, method="POST")
    result = run_playbook(HERE / "per_host_stop.yml", env, inventory=inventory)
    assert result.rc == 0 and "Traceback" not in result.output, result.output[-3000:]
    per_host = {host: set(mine["request_ids"]) for host, mine in result.results.items()}
    assert sorted(per_host) == ["web0", "web1", "web2"]
    every_request = set().union(*per_host.values())
    assert len(every_request) == emu.stats()["total_calls"]
    # The batched StopInstances (and status polls) served every host: their ids are in each result.
    assert set.intersection(*per_host.values())
    [record] = [json.loads(path.read_text()) for path in audit_dir.glob("exec-*.json")]
    assert every_request <= set(record["request_ids"])


def test_credentials_only_from_environment_work_in_both_patterns(emulator_factory, tmp_path):
    emu = emulator_factory("--instances", "4", "--seed", "3", "--regions", "cn-hangzhou,cn-shanghai",
                           "--transition-seconds", "0.2")
    fleet = emu.instances()
    inventory = write_inventory(tmp_path, {f"web{n}": {"instance_id": i["InstanceId"], "alicloud_region": i["RegionId"]}
                                           for n, i in enumerate(fleet)})
    env = clean_environment()  # no ALICLOUD_* / ALIBABA_CLOUD_* variable at all
    result = run_playbook(HERE / "environment.yml", env, inventory=inventory, extra_vars={
        "alicloud_endpoint": emu.url, "alicloud_access_key": emu.access_key_id,
        "alicloud_secret_key": emu.access_key_secret, "fleet_region": "cn-shanghai"})
    assert result.rc == 0 and "Traceback" not in result.output, result.output[-3000:]
    assert emu.access_key_secret not in result.output
    for n, instance in enumerate(fleet):
        [entry] = result.results["per_host"][f"web{n}"]["instances"]
        assert (entry["instance_id"], entry["before"]) == (instance["InstanceId"], instance["Status"])
    shanghai = [i["InstanceId"] for i in fleet if i["RegionId"] == "cn-shanghai"]
    assert shanghai and result.results["fleet"]["instance_ids"] == shanghai
    # The batch leader templated each host's environment: one lookup per region, plus the fleet task's.
    assert calls(emu, "DescribeInstances") == 3
