"""The roles' guardrails and error paths, run with ansible-playbook against the emulator as a user would
(the happy paths and idempotence run in the molecule scenarios, tests/integration/test_molecule.py)."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO_ROOT


def _dev(emulator):
    return sorted(i["InstanceId"] for i in emulator.instances() if i["Tags"].get("Env") == "dev")


def test_power_schedule_refuses_more_than_max_instances_and_sends_nothing_mutating(emulator, playbook):
    run = playbook(REPO_ROOT / "playbooks" / "stop_start.yml", emulator.env, extra_vars={
        "ecs_power_schedule_tags": {"Env": "dev"}, "ecs_power_schedule_confirm": True,
        "ecs_power_schedule_max_instances": 3})
    assert run.rc != 0
    assert "10 instances selected, more than ecs_power_schedule_max_instances (3)" in run.output
    assert "ecs_power_schedule_force=true" in run.output
    assert emulator.stats()["mutating_calls"] == 0
    assert {i["Status"] for i in emulator.instances()} == {"Running"}


def test_power_schedule_needs_exactly_one_selection_and_calls_nothing(emulator, playbook):
    run = playbook(REPO_ROOT / "playbooks" / "stop_start.yml", emulator.env)
    assert run.rc != 0
    assert "Set exactly one of ecs_power_schedule_tags" in run.output
    assert "Traceback" not in run.output
    assert emulator.stats()["total_calls"] == 0


def test_power_schedule_dry_run_by_default_changes_nothing(emulator, playbook):
    run = playbook(REPO_ROOT / "playbooks" / "stop_start.yml", emulator.env,
                   extra_vars={"ecs_power_schedule_tags": {"Env": "dev"}, "ecs_power_schedule_max_instances": 50})
    assert run.rc == 0, run.output
    assert "DRY RUN (set ecs_power_schedule_confirm=true to act): would stop 10 of 10" in run.output
    assert "changed=0" in run.output
    assert emulator.stats()["mutating_calls"] == 0


def test_power_schedule_by_inventory_group_honours_do_not_stop(emulator, playbook, tmp_path):
    protected = _dev(emulator)[:2]
    setup = playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_execute_api:
                service: ecs
                api: TagResources
                parameters: {ResourceType: instance, ResourceId: "{{ protected }}", Tag: [{Key: DoNotStop, Value: "true"}]}
        """, emulator.env, extra_vars={"protected": protected})
    assert setup.rc == 0, setup.output
    inventory = tmp_path / "fleet.ecs.yml"
    inventory.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
    run = playbook(REPO_ROOT / "playbooks" / "stop_start.yml", emulator.env, inventory=inventory, extra_vars={
        "ecs_power_schedule_group": "tag_Env_dev", "ecs_power_schedule_confirm": True})
    assert run.rc == 0, run.output
    status = {i["InstanceId"]: i["Status"] for i in emulator.instances()}
    assert {status[i] for i in protected} == {"Running"}
    assert {status[i] for i in _dev(emulator) if i not in protected} == {"Stopped"}
    assert {s for i, s in status.items() if i not in _dev(emulator)} == {"Running"}


def test_update_image_deletes_the_temporary_instance_when_the_script_fails(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "1", "--seed", "2", "--transition-seconds", "0.2")
    seeded = [i["InstanceId"] for i in emulator.instances()]
    run = playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Network of the seeded instance
              alicloud.oos.oos_execute_api:
                service: ecs
                api: DescribeInstances
                outputs:
                  sg: {value_selector: ".Instances.Instance[0].SecurityGroupIds.SecurityGroupId[0]"}
                  vsw: {value_selector: ".Instances.Instance[0].VpcAttributes.VSwitchId"}
              register: network
            - ansible.builtin.include_role:
                name: alicloud.oos.ecs_update_image
              vars:
                ecs_update_image_source_image_id: aliyun_3_x64_20G_alibase_20240101.vhd
                ecs_update_image_security_group_id: "{{ network.outputs.sg }}"
                ecs_update_image_vswitch_id: "{{ network.outputs.vsw }}"
                ecs_update_image_target_image_name: broken-update
                ecs_update_image_command_content: "echo patching; exit 3"
        """, emulator.env)
    assert run.rc != 0
    assert "Delete the temporary instance" in run.output
    calls = emulator.stats()["calls"]
    assert calls.get("RunInstances") == 1 and calls.get("DeleteInstance") == 1
    assert not calls.get("CreateImage")
    assert [i["InstanceId"] for i in emulator.instances()] == seeded
    assert not [i for i in emulator.control("images") if i.get("ImageName") == "broken-update"]


def test_update_image_rejects_a_bad_image_name_before_any_call(emulator, playbook):
    run = playbook("""
        - hosts: localhost
          gather_facts: false
          roles:
            - role: alicloud.oos.ecs_update_image
              vars:
                ecs_update_image_source_image_id: m-1
                ecs_update_image_security_group_id: sg-1
                ecs_update_image_vswitch_id: vsw-1
                ecs_update_image_target_image_name: "9 bad name"
                ecs_update_image_command_content: "true"
        """, emulator.env)
    assert run.rc != 0
    assert "ecs_update_image_target_image_name '9 bad name' is not a valid image name" in run.output
    assert emulator.stats()["total_calls"] == 0


def test_fleet_command_stops_after_max_errors_and_still_writes_the_report(emulator, playbook, tmp_path):
    inventory = tmp_path / "fleet.ecs.yml"
    inventory.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\n")
    report_dir = tmp_path / "reports"
    run = playbook(REPO_ROOT / "playbooks" / "run_command.yml", emulator.env, inventory=inventory, extra_vars={
        "ecs_fleet_command_group": "tag_App_db", "ecs_fleet_command_content": "echo failing; exit 4",
        "ecs_fleet_command_rate_control": {"Mode": "Concurrency", "Concurrency": 2, "MaxErrors": 1},
        "ecs_fleet_command_report_dir": str(report_dir), "ecs_fleet_command_report_name": "db"})
    assert run.rc != 0
    report = json.loads((report_dir / "db.json").read_text())
    db = sorted(i["InstanceId"] for i in emulator.instances() if i["Tags"].get("App") == "db")
    assert sorted(r["instance_id"] for r in report) == db
    failed = [r for r in report if r["status"] == "Failed"]
    # waves of 2; the run stops once more than MaxErrors=1 failed: after the first wave
    assert len(failed) == 2 and {r["exit_code"] for r in failed} == {4}
    assert all(r["output"] == ["failing"] for r in failed)
    assert all(r["status"] != "Success" for r in report)
    table = Path(report_dir / "db.txt").read_text()
    assert table.splitlines()[0].split() == ["HOST", "INSTANCE", "STATUS", "EXIT", "OUTPUT"]
    assert all(i in table for i in db)
