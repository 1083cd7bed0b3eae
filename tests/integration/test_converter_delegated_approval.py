"""A task OOS runs for the playbook (delegated) that reaches an ACS::Approve is answered as a native gate is:
``-e oos_approval_decision``, else the prompt, else (no terminal) rejected at once, naming the execution, the
waiting task and how to approve; never a silent wait until ``wait_timeout``.

The approval sits in a template published in OOS and called by a computed TemplateName, so OOS runs it.
"""
from __future__ import annotations

import time

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import run_playbook
from tests.integration.test_converter_fail_closed import run_in_terminal

CHILD = """
FormatVersion: OOS-2019-06-01
Description: stop an instance after two approvals
Parameters:
  instanceId: {Type: String}
Tasks:
  - Name: firstGate
    Action: ACS::Approve
    Properties:
      NotifyType: WebHook
      WebHook: {URI: 'http://127.0.0.1:9/hook', Headers: {Content-Type: application/json}, Content: {text: 'stop?'}}
  - Name: secondGate
    Action: ACS::Approve
    Properties:
      NotifyType: WebHook
      WebHook: {URI: 'http://127.0.0.1:9/hook', Headers: {Content-Type: application/json}, Content: {text: 'sure?'}}
  - Name: stopIt
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: StopInstance
      Parameters: {InstanceId: '{{ instanceId }}'}
Outputs:
  stopped: {Type: String, Value: '{{ instanceId }}'}
"""

PARENT = """
FormatVersion: OOS-2019-06-01
Description: stop through a template OOS finds by name
Parameters:
  instanceId: {Type: String}
  procedure: {Type: String, Default: stop-with-approval}
Tasks:
  - Name: stopWithApproval
    Action: ACS::Template
    Properties:
      TemplateName: '{{ procedure }}'
      Parameters: {instanceId: '{{ instanceId }}'}
    Outputs:
      stopped: {Type: String, ValueSelector: .stopped}
Outputs:
  stopped: {Type: String, Value: '{{ stopWithApproval.stopped }}'}
"""

PUBLISH = """
- name: Publish the procedure
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Publish
      alicloud.oos.oos_template:
        name: stop-with-approval
        src: %s
"""


@pytest.fixture
def cloud(tmp_path, emulator_factory):
    emulator = emulator_factory("--instances", "3", "--seed", "6", "--transition-seconds", "0.1")
    child = tmp_path / "child.yml"
    child.write_text(CHILD)
    published = run_playbook(PUBLISH % child, emulator.env)
    assert published.rc == 0, published.output[-3000:]
    return emulator


@pytest.fixture
def converted(tmp_path, request):
    result = convert(content=PARENT)
    assert result.delegated, "the named template must be run by OOS"
    path = tmp_path / "parent.yml"
    path.write_text(result.playbook_yaml("parent"))
    return path


def executions(cloud) -> list:
    return [e for e in cloud.control("executions") if not e.get("ParentExecutionId")]


def stops(cloud) -> int:
    return len([m for m in cloud.control("mutations") if m["action"] == "StopInstance"])


@pytest.mark.heavy(30)
def test_without_a_decision_or_terminal_the_approval_is_rejected_at_once_saying_how_to_approve(cloud, converted):
    instance = cloud.instances()[0]["InstanceId"]
    started = time.monotonic()
    result = run_playbook(converted, cloud.env, extra_vars={"instanceId": instance}, timeout=180)
    took = time.monotonic() - started
    assert result.rc != 0 and took < 120, (took, result.output[-3000:])
    [execution] = executions(cloud)
    assert execution["Status"] == "Cancelled", execution   # nothing left waiting to be approved behind the run
    message = result.output
    assert f"the approval at firstGate (ACS::Approve) of OOS execution {execution['ExecutionId']} was rejected" \
           in message, message[-3000:]
    assert "no decision (no answer at the prompt, or no terminal)" in message
    assert "run again with -e oos_approval_decision=approve" in message
    assert stops(cloud) == 0 and cloud.instances()[0]["Status"] == "Running"


@pytest.mark.heavy(30)
def test_the_decision_variables_answer_every_approval_of_the_execution(cloud, converted):
    first, second = (i["InstanceId"] for i in cloud.instances()[:2])
    rejected = run_playbook(converted, cloud.env, extra_vars={"instanceId": first, "oos_approval_decision": "reject"},
                            timeout=180)
    assert rejected.rc != 0 and "OOS execution Cancelled: the approval at firstGate" in rejected.output, \
        rejected.output[-3000:]
    assert stops(cloud) == 0
    approved = run_playbook(converted, cloud.env, timeout=180, extra_vars={
        "instanceId": second, "oos_approval_decision": "approve", "oos_approval_approved_by": ["alice"]})
    assert approved.rc == 0, approved.output[-3000:]
    assert f'"stopped": "{second}"' in approved.stdout, approved.stdout[-3000:]
    assert stops(cloud) == 1 and {i["InstanceId"]: i["Status"] for i in cloud.instances()}[second] == "Stopped"
    # Each gate was answered once through NotifyExecution: the rejection, then the two approvals.
    notes = [r for r in cloud.control("requests") if r["action"] == "NotifyExecution"]
    assert len(notes) == 1 + 2, notes


@pytest.mark.heavy(40)
def test_at_a_prompt_the_operator_sees_the_execution_and_the_waiting_task(cloud, converted):
    instance = cloud.instances()[0]["InstanceId"]
    # The prompt names the waiting task (and the execution: tests/unit/plugins/plugin_utils/test_oos_template_coverage.py).
    code, output = run_in_terminal(converted, cloud.env, {"instanceId": instance},
                                   [(b"waits for an approval at firstGate (ACS::Approve): decide here", b"approve")])
    assert code == 0, output[-3000:]
    [execution] = executions(cloud)
    assert execution["Status"] == "Success" and stops(cloud) == 1


WAITING = """
- name: Answer two approvals one at a time
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start, and come back once it waits
      alicloud.oos.oos_execution:
        template_name: stop-with-approval
        parameters: {instanceId: "{{ instance_id }}"}
        wait_until: waiting
        poll_interval: 0.2
        wait_timeout: 60
      register: started
    - name: Approve the first gate, and come back once it waits again
      alicloud.oos.oos_execution:
        state: approved
        execution_id: "{{ started.execution_id }}"
        wait_until: waiting
        poll_interval: 0.2
        wait_timeout: 60
      register: first
    - name: Approve the second gate
      alicloud.oos.oos_execution:
        state: approved
        execution_id: "{{ started.execution_id }}"
        wait_until: waiting
        poll_interval: 0.2
        wait_timeout: 60
      register: second
    - name: Save what the test checks
      ansible.builtin.copy:
        dest: "{{ results_file }}"
        content: "{{ {'started': started, 'first': first, 'second': second} | to_json }}"
"""


@pytest.mark.heavy(20)
def test_after_an_approval_waiting_means_waiting_on_another_task(cloud):
    """OOS takes a moment to leave Waiting after NotifyExecution: wait_until=waiting must not return that stale
    Waiting (it did, and a second approval then answered nothing or the wrong gate)."""
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(WAITING, cloud.env, extra_vars={"instance_id": instance})
    assert result.rc == 0, result.output[-3000:]
    saved = result.results
    assert [t["task_name"] for t in saved["started"]["waiting_tasks"]] == ["firstGate"]
    assert saved["first"]["status"] == "Waiting" and saved["first"]["changed"] is True
    assert [t["task_name"] for t in saved["first"]["waiting_tasks"]] == ["secondGate"]
    assert saved["second"]["status"] == "Success" and stops(cloud) == 1


LOOPED_PARENT = """
FormatVersion: OOS-2019-06-01
Description: stop each instance through a template OOS finds by name, two at a time
Parameters:
  instanceIds: {Type: List}
  procedure: {Type: String, Default: stop-with-approval}
Tasks:
  - Name: stopEach
    Action: ACS::Template
    Properties:
      TemplateName: '{{ procedure }}'
      Parameters: {instanceId: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: '{{ instanceIds }}'
      RateControl: {Mode: Concurrency, MaxErrors: 0, Concurrency: 2}
"""


@pytest.mark.heavy(40)
def test_every_approval_of_a_looped_delegated_task_gets_the_decision(cloud, tmp_path):
    """Found by the attack on the natural writer (F3): OOS runs the loop, each item waits at its gates; the approvals
    of the loop's iterations were not seen, so the answered run waited for ever (and a rejection named no task)."""
    path = tmp_path / "looped.yml"
    path.write_text(convert(content=LOOPED_PARENT).playbook_yaml("looped"))
    first, second = (i["InstanceId"] for i in cloud.instances()[:2])
    approved = run_playbook(path, cloud.env, timeout=150, extra_vars={
        "instanceIds": [first, second], "oos_approval_decision": "approve", "oos_approval_approved_by": ["alice"]})
    assert approved.rc == 0, approved.output[-3000:]
    assert stops(cloud) == 2
    rejected = run_playbook(path, cloud.env, timeout=150, extra_vars={"instanceIds": [cloud.instances()[2]["InstanceId"]]})
    assert rejected.rc != 0 and "the approval at firstGate (ACS::Approve) of OOS execution" in rejected.output, \
        rejected.output[-3000:]
    assert stops(cloud) == 2


@pytest.mark.heavy(20)
def test_a_decision_that_cannot_be_read_leaves_nothing_waiting_in_oos(cloud, converted):
    """Found by the attack on the natural writer (F1): an invalid -e oos_approval_decision failed the run after the
    execution had started and left it Waiting, for anyone to approve later. It is rejected (so cancelled) instead."""
    instance = cloud.instances()[0]["InstanceId"]
    result = run_playbook(converted, cloud.env, timeout=120, extra_vars={"instanceId": instance,
                                                                         "oos_approval_decision": "APPROVE"})
    assert result.rc != 0 and "no decision on the approval OOS execution" in result.output, result.output[-3000:]
    [execution] = executions(cloud)
    assert execution["Status"] == "Cancelled", execution
    assert stops(cloud) == 0


PAUSED_ITEMS = """
FormatVersion: OOS-2019-06-01
Parameters:
  ids: {Type: List}
Tasks:
  - Name: eachOne
    Action: ACS::Template
    Properties:
      TemplateContent: |
        FormatVersion: OOS-2019-06-01
        Parameters:
          x: {Type: String}
        Tasks:
          - Name: gate
            Action: ACS::Pause
          - Name: stopIt
            Action: ACS::ExecuteAPI
            Properties:
              Service: ECS
              API: StopInstance
              Parameters: {InstanceId: '{{ x }}'}
      Parameters: {x: '{{ ACS::TaskLoopItem }}'}
    Loop:
      Items: '{{ ids }}'
      RateControl: {Mode: Batch, Batch: [2], ConcurrencyInBatches: [1], MaxErrors: 0}
"""


@pytest.mark.heavy(40)
def test_a_pause_inside_a_task_oos_runs_is_answered_and_never_left_waiting(cloud, tmp_path):
    """Found by the attack on the one-writer converter (H0): a looped child with an ACS::Pause, run by OOS (its
    ConcurrencyInBatches has no Ansible form), left the playbook polling a paused execution for 30 minutes. The
    execution is answered as an approval is: no decision, rejected and cancelled at once; approve resumes it."""
    result = convert(content=PAUSED_ITEMS)
    assert list(result.handed_over) == ["eachOne"]
    path = tmp_path / "paused.yml"
    path.write_text(result.playbook_yaml("paused"))
    ids = [i["InstanceId"] for i in cloud.instances()[:2]]
    started = time.monotonic()
    refused = run_playbook(path, cloud.env, timeout=300, extra_vars={"ids": ids})
    assert refused.rc != 0 and "Cancelled" in refused.output, refused.output[-3000:]
    assert time.monotonic() - started < 120 and stops(cloud) == 0
    assert {e["Status"] for e in executions(cloud)} == {"Cancelled"}
    resumed = run_playbook(path, cloud.env, timeout=300, extra_vars={"ids": ids, "oos_approval_decision": "approve",
                                                                     "oos_approval_approved_by": ["alice"]})
    assert resumed.rc == 0, resumed.output[-3000:]
    assert stops(cloud) == 2
