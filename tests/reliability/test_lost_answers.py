"""Lost answers: a change whose answer never arrives is not applied twice, and ``changed`` says what the run did.

The emulator's reset fault with ``reset_phase: after`` applies the change and then resets the connection, so
the client sees no answer; ``before`` resets it before anything is applied. ``max_resets: 1`` makes it happen
exactly once. What was applied is read from ``GET /_emulator/mutations``.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.conftest import REPO_ROOT
from tests.reliability.cases import LOST_POWER_ANSWERS
from tests.reliability.support import ids_tagged, power_changes, statuses

POWER = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Bring the dev fleet to {{ wanted }}
      alicloud.oos.oos_instance: {instance_ids: "{{ fleet }}", state: "{{ wanted }}"}
      register: moved
      notify: Note the change
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ moved | to_json }}"}
  handlers:
    - name: Note the change
      ansible.builtin.copy: {dest: "{{ handler_file }}", mode: "0600", content: fired}
"""
DESIRED = {"restarted": "Running", "running": "Running", "stopped": "Stopped"}


def mutations(emulator, action: str) -> list:
    return [m for m in emulator.control("mutations") if m["action"] == action]


@pytest.mark.heavy(10)
@pytest.mark.parametrize("case", LOST_POWER_ANSWERS, ids=[c.id for c in LOST_POWER_ANSWERS])
def test_power_change_whose_answer_is_lost(case, emulator_factory, playbook, tmp_path):
    # Transitions of 2 s: long enough that a read-back right after the lost answer sees the change under way.
    emulator = emulator_factory("--instances", "20", "--seed", "11", "--transition-seconds", "2")
    dev, prod = ids_tagged(emulator, "Env", "dev"), ids_tagged(emulator, "Env", "prod")
    for instance_id in dev if case.start_from != "Running" else ():
        emulator.control(f"instances/{instance_id}/status", {"Status": case.start_from}, method="POST")
    emulator.faults(**case.settings)
    audit_dir, handler_file = tmp_path / "audit", tmp_path / "handler"
    env = emulator.env | {"ANSIBLE_CALLBACKS_ENABLED": "alicloud.oos.oos_audit", "ALICLOUD_OOS_AUDIT_DIR": str(audit_dir)}

    run = playbook(POWER, env, extra_vars={"fleet": dev, "wanted": case.state, "handler_file": str(handler_file)})
    assert run.rc == 0, run.output[-3000:]
    assert emulator.stats()["reset"] >= 1  # the answer really was lost

    # Applied exactly once per instance, never to the others.
    assert power_changes(emulator) == {i: [case.change] for i in dev}
    assert statuses(emulator, dev + prod) == dict.fromkeys(dev, DESIRED[case.state]) | dict.fromkeys(prod, "Running")
    # changed is the truth: the module, the handler and the audit record all say so.
    assert run.results["changed"] is True
    assert {r["instance_id"]: r["changed"] for r in run.results["instances"]} == dict.fromkeys(dev, True)
    assert run.results["counts"]["changed"] == len(dev) and run.results["counts"]["unchanged"] == 0
    assert handler_file.read_text() == "fired"
    record = json.loads(next(audit_dir.glob("*.json")).read_text())
    assert [t["status"] for t in record["tasks"] if t["name"].startswith("Bring the dev fleet")] == ["changed"]


IMAGE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Make the golden image
      alicloud.oos.oos_create_image: {instance_id: "{{ source }}", image_name: golden-web, wait: "{{ wait }}"}
      register: made
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ made | to_json }}"}
"""
DELETE_IMAGE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete the image
      alicloud.oos.oos_create_image: {image_id: "{{ image_id }}", state: absent}
      register: deleted
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ deleted | to_json }}"}
"""


def images(emulator) -> dict:
    return {i["ImageId"]: i for i in emulator.control("images")}


def test_image_is_made_anew_after_it_was_deleted(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "2", "--seed", "3", "--transition-seconds", "0.3")
    source = emulator.instances()[0]["InstanceId"]
    first = playbook(IMAGE, emulator.env, extra_vars={"source": source, "wait": True})
    assert first.rc == 0, first.output[-3000:]
    again = playbook(IMAGE, emulator.env, extra_vars={"source": source, "wait": True})
    assert (again.results["changed"], again.results["image_id"]) == (False, first.results["image_id"])

    seen = {first.results["image_id"]}
    for wait in (True, False):
        gone = playbook(DELETE_IMAGE, emulator.env, extra_vars={"image_id": sorted(images(emulator))[0]})
        assert gone.rc == 0 and gone.results["changed"] is True, gone.output[-3000:]
        assert images(emulator) == {}
        made = playbook(IMAGE, emulator.env, extra_vars={"source": source, "wait": wait})
        # A new image, reported as made; never the id of the deleted one.
        assert made.rc == 0, made.output[-3000:]
        assert made.results["changed"] is True
        assert made.results["image_id"] not in seen and list(images(emulator)) == [made.results["image_id"]]
        assert made.results["status"] == ("Available" if wait else "Creating")
        seen.add(made.results["image_id"])
    assert len(mutations(emulator, "CreateImage")) == 3


def test_image_calls_whose_answer_is_lost(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "2", "--seed", "3", "--transition-seconds", "0.3")
    source = emulator.instances()[0]["InstanceId"]
    emulator.faults(actions=["CreateImage"], reset_rate=1.0, reset_phase="after", max_resets=1)
    made = playbook(IMAGE, emulator.env, extra_vars={"source": source, "wait": True})
    assert made.rc == 0 and made.results["changed"] is True, made.output[-3000:]
    assert list(images(emulator)) == [made.results["image_id"]] and len(mutations(emulator, "CreateImage")) == 1

    emulator.faults(actions=["DeleteImage"], reset_rate=1.0, reset_phase="after", max_resets=1)
    gone = playbook(DELETE_IMAGE, emulator.env, extra_vars={"image_id": made.results["image_id"]})
    assert gone.rc == 0 and gone.results["changed"] is True, gone.output[-3000:]
    assert images(emulator) == {} and len(mutations(emulator, "DeleteImage")) == 1
    assert emulator.stats()["reset"] == 2


EXECUTION = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the template
      alicloud.oos.oos_execution:
        template_content: {FormatVersion: OOS-2019-06-01, Tasks: [{Name: regions, Action: ACS::ExecuteAPI,
                           Properties: {Service: ECS, API: DescribeRegions}}]}
        poll_interval: 0.2
      register: ran
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ ran | to_json }}"}
"""
DELETE_EXECUTION = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete the execution
      alicloud.oos.oos_execute_api:
        service: oos
        api: DeleteExecutions
        parameters: {ExecutionIds: "{{ [execution_id] | to_json }}"}
"""


def test_execution_is_started_anew_after_it_was_deleted(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "1", "--seed", "3")
    first = playbook(EXECUTION, emulator.env)
    assert first.rc == 0 and first.results["changed"] is True, first.output[-3000:]
    # The documented idempotence: the same inputs return the execution they started.
    again = playbook(EXECUTION, emulator.env)
    assert (again.results["changed"], again.results["execution_id"]) == (False, first.results["execution_id"])

    deleted = playbook(DELETE_EXECUTION, emulator.env, extra_vars={"execution_id": first.results["execution_id"]})
    assert deleted.rc == 0, deleted.output[-3000:]
    anew = playbook(EXECUTION, emulator.env)
    assert anew.rc == 0, anew.output[-3000:]
    assert anew.results["changed"] is True and anew.results["status"] == "Success"
    assert anew.results["execution_id"] != first.results["execution_id"]
    assert [e["ExecutionId"] for e in emulator.control("executions")] == [anew.results["execution_id"]]


APPROVAL = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Start, and come back once it waits for approval
      alicloud.oos.oos_execution:
        template_content: "{{ lookup('ansible.builtin.file', template) }}"
        parameters: {instanceId: "{{ instance_id }}"}
        wait_until: waiting
        poll_interval: 0.2
      register: pending
    - name: Lose the answer of the next NotifyExecution, once
      ansible.builtin.uri:
        url: "{{ emulator_url }}/_emulator/faults"
        method: POST
        body_format: json
        body: {actions: [NotifyExecution], reset_rate: 1.0, reset_phase: after, max_resets: 1}
    - name: Approve it
      alicloud.oos.oos_execution: {state: approved, execution_id: "{{ pending.execution_id }}", poll_interval: 0.2}
      register: approved
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ approved | to_json }}"}
"""


def test_approval_whose_answer_is_lost(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "1", "--seed", "3", "--transition-seconds", "0.2")
    instance_id = emulator.instances()[0]["InstanceId"]
    template = REPO_ROOT / "tests" / "integration" / "managed_oos" / "templates" / "approval.yml"
    run = playbook(APPROVAL, emulator.env, extra_vars={"template": str(template), "instance_id": instance_id,
                                                       "emulator_url": emulator.url})
    assert run.rc == 0, run.output[-3000:]
    assert run.results["changed"] is True and run.results["status"] == "Success"
    assert emulator.stats()["reset"] == 1
    assert len(mutations(emulator, "NotifyExecution")) == 1
    assert power_changes(emulator) == {instance_id: ["reboot"]}


COMMAND = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Run a command
      alicloud.oos.oos_run_command: {instance_ids: "{{ fleet }}", command_content: "echo lost-answer-run"}
      register: ran
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ ran | to_json }}"}
"""


def test_run_command_whose_answer_is_lost(emulator_factory, playbook):
    emulator = emulator_factory("--instances", "4", "--seed", "3")
    fleet = sorted(i["InstanceId"] for i in emulator.instances())
    emulator.faults(actions=["RunCommand"], reset_rate=1.0, reset_phase="after", max_resets=1)
    run = playbook(COMMAND, emulator.env, extra_vars={"fleet": fleet})
    assert run.rc == 0, run.output[-3000:]
    assert run.results["changed"] is True and {r["status"] for r in run.results["results"]} == {"Success"}
    invocations = [i for i in emulator.control("invocations") if "lost-answer-run" in i["CommandContent"]]
    assert len(invocations) == 1 and len(mutations(emulator, "RunCommand")) == 1
    assert emulator.stats()["reset"] == 1


EXECUTE_API = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Call {{ api }}
      alicloud.oos.oos_execute_api: {service: ecs, api: "{{ api }}", parameters: "{{ parameters }}"}
      register: called
      ignore_errors: true
    - name: Save for the test
      ansible.builtin.copy: {dest: "{{ results_file }}", mode: "0600", content: "{{ called | to_json }}"}
"""


@pytest.mark.parametrize("api, outcome", [
    ("TagResources", "unknown"),     # not in the table, no ClientToken
    ("RebootInstance", "unknown"),   # in the table: a repeat would reboot again
    ("DeleteInstance", "ok"),        # a repeat answers InvalidInstanceId.NotFound: the first call did it
    ("StopInstance", "ok"),          # a repeat answers IncorrectInstanceStatus (Stopping): the first call did it
    ("RunInstances", "ok"),          # ClientToken
])
def test_execute_api_whose_answer_is_lost(api, outcome, emulator_factory, playbook):
    emulator = emulator_factory("--instances", "2", "--seed", "3", "--transition-seconds", "0.2")
    target = emulator.instances()[0]["InstanceId"]
    parameters = {
        "TagResources": {"ResourceType": "instance", "ResourceId": [target], "Tag": [{"Key": "Owner", "Value": "ops"}]},
        "RebootInstance": {"InstanceId": target},
        "DeleteInstance": {"InstanceId": target, "Force": True},
        "StopInstance": {"InstanceId": target},
        "RunInstances": {"ImageId": "aliyun_3_x64_20G_alibase_20240101.vhd", "InstanceType": "ecs.g7.large"},
    }[api]
    emulator.faults(actions=[api], reset_rate=1.0, reset_phase="after", max_resets=1)
    run = playbook(EXECUTE_API, emulator.env, extra_vars={"api": api, "parameters": parameters})
    assert run.rc == 0, run.output[-3000:]
    assert emulator.stats()["reset"] == 1
    assert Counter(m["action"] for m in emulator.control("mutations")) == {api: 1}  # applied once, whatever happened
    called = run.results
    if outcome == "unknown":
        assert called["failed"] is True
        assert "may or may not have been applied" in called["msg"] and "Check with" in called["msg"], called["msg"]
        assert called["error"]["code"] == "OutcomeUnknown"
        assert emulator.stats()["calls"][api] == 1  # not sent again
    else:
        assert not called.get("failed"), called
        assert called["changed"] is True
