"""Ansible forks a worker per host after the main process used the SDK's HTTP keep-alive pool (the ECS inventory):
each worker must talk over its own connections, or two workers read each other's answers."""
from __future__ import annotations

from tests.conftest import run_playbook


def test_each_forked_worker_reads_its_own_answers(emulator_factory, tmp_path):
    emu = emulator_factory("--instances", "12", "--seed", "9")
    inventory = tmp_path / "fleet.ecs.yml"
    inventory.write_text("plugin: alicloud.oos.ecs\nregions: [cn-hangzhou]\ncompose:\n  ansible_connection: \"'local'\"\n")
    result = run_playbook("""
        - hosts: all
          gather_facts: false
          tasks:
            - name: Ask for this host's own instance, twelve workers at once, three times
              ansible.builtin.assert:
                that: >-
                  lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ECS',
                         parameters={'InstanceIds': [instance_id] | to_json},
                         query='Instances.Instance[0].InstanceId') == instance_id
              loop: [1, 2, 3]
    """, emu.env, inventory=inventory, args=("-f", "12"))
    assert result.rc == 0 and "Traceback" not in result.output, result.output[-4000:]
    assert result.output.count("ok: [") == 12 * 3
