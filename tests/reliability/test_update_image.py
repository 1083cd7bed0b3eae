"""The update-image role failing at each step in turn: the temporary instance is always deleted."""
from __future__ import annotations

import pytest

from tests.reliability.support import failed_task

IMAGE = "reliability-image"
ROLE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Network of a seeded instance
      alicloud.oos.oos_execute_api:
        service: ecs
        api: DescribeInstances
        outputs:
          sg: {value_selector: ".Instances.Instance[0].SecurityGroupIds.SecurityGroupId[0]"}
          vsw: {value_selector: ".Instances.Instance[0].VpcAttributes.VSwitchId"}
      register: network
    - name: Break one step (test setup, through the emulator's control API)
      ansible.builtin.uri:
        url: "{{ emulator_url }}/_emulator/faults"
        method: POST
        body_format: json
        body: "{{ faults }}"
      when: faults | length > 0
    - name: Build the image
      ansible.builtin.include_role:
        name: alicloud.oos.ecs_update_image
      vars:
        ecs_update_image_source_image_id: aliyun_3_x64_20G_alibase_20240101.vhd
        ecs_update_image_security_group_id: "{{ network.outputs.sg }}"
        ecs_update_image_vswitch_id: "{{ network.outputs.vsw }}"
        ecs_update_image_target_image_name: %s
        ecs_update_image_command_content: "{{ script }}"
        ecs_update_image_wait_timeout: "{{ wait_timeout }}"
""" % IMAGE

ALWAYS_FAILING = {"error_rate": 1.0}
# The first step: DescribeInstances down from the start fails the search for leftovers of earlier runs, and
# nothing is created. The wait for the builder is made to fail by a wait timeout shorter than the emulated
# start-up (4 s of transitions, 1 s of wait): the builder is then still starting when it must be deleted.
SLOW_START = {"transition_seconds": "4", "wait_timeout": 1}
# (step of the role, how it is made to fail: faults on some actions, or the update script; other settings)
STEPS = (
    ("Delete temporary instances left by interrupted runs", ALWAYS_FAILING | {"actions": ["DescribeInstances"]},
     "echo ok", {}),
    ("Create the temporary instance", ALWAYS_FAILING | {"actions": ["RunInstances"]}, "echo ok", {}),
    ("Wait for the temporary instance to run", {}, "echo ok", SLOW_START),
    ("Check Cloud Assistant on the temporary instance",
     ALWAYS_FAILING | {"actions": ["DescribeCloudAssistantStatus"]}, "echo ok", {}),
    ("Run the update script", {}, "echo patching; exit 3", {}),
    ("Stop the temporary instance", ALWAYS_FAILING | {"actions": ["StopInstances", "StopInstance"]}, "echo ok", {}),
    ("Create the image", ALWAYS_FAILING | {"actions": ["CreateImage"]}, "echo ok", {}),
    (None, {}, "echo ok", {}),  # control case: nothing breaks
)
NOTHING_CREATED = ("Delete temporary instances left by interrupted runs", "Create the temporary instance")


@pytest.mark.heavy(15)
@pytest.mark.parametrize("step, faults, script, options", STEPS, ids=[s[0] or "no-failure" for s in STEPS])
def test_update_image_fails_at_each_step(step, faults, script, options, emulator_factory, playbook):
    emulator = emulator_factory("--instances", "1", "--seed", "3", "--transition-seconds",
                                options.get("transition_seconds", "0.2"))
    seeded = [i["InstanceId"] for i in emulator.instances()]
    # Two tries per call keep the failing cases short; the retry logic itself is covered by test_faults.py.
    env = emulator.env | {"ALICLOUD_API_RETRIES": "2", "ALICLOUD_API_RETRY_DELAY": "0.1"}
    run = playbook(ROLE, env, extra_vars={"emulator_url": emulator.url, "faults": faults, "script": script,
                                          "wait_timeout": options.get("wait_timeout", 60)})
    assert "Traceback" not in run.output, run.output[-3000:]
    images = [i for i in emulator.control("images") if i["ImageName"] == IMAGE]
    # No temporary instance is ever left behind.
    assert [i["InstanceId"] for i in emulator.instances()] == seeded
    if step is None:
        assert run.rc == 0, run.output[-3000:]
        assert [i["Status"] for i in images] == ["Available"]
        return
    assert run.rc != 0
    assert failed_task(run.output).endswith(f" : {step}"), (failed_task(run.output), run.output[-3000:])
    assert not images
    if step == NOTHING_CREATED[0]:
        assert emulator.control("mutations") == []
    if step not in NOTHING_CREATED:
        mutations = [m["action"] for m in emulator.control("mutations")]
        assert mutations.count("RunInstances") == 1 and mutations.count("DeleteInstance") == 1, mutations
        assert "TASK [alicloud.oos.ecs_update_image : Delete the temporary instance]" in run.output
