"""The emulator additions the reliability suite relies on: the mutation log and --state-file."""
from __future__ import annotations

from tests.emulator import ECS_VERSION
from tests.emulator.server import Emulator


def test_mutation_log_and_state_file_survive_a_restart(tmp_path):
    state_file = str(tmp_path / "state.json")
    first = Emulator(instances=3, seed=2, transition_seconds=0.0, state_file=state_file)
    ids = sorted(first.world.instances)
    first.call(ECS_VERSION, "StopInstances", {"RegionId": "cn-hangzhou", "InstanceId.1": ids[0],
                                              "InstanceId.2": ids[1], "BatchOptimization": "SuccessFirst"})
    # A stop of an already stopped instance is refused, so it is not logged.
    first.call(ECS_VERSION, "StopInstances", {"RegionId": "cn-hangzhou", "InstanceId.1": ids[0],
                                              "BatchOptimization": "SuccessFirst"})
    assert [(m["action"], m["instance_id"]) for m in first.control("GET", "mutations", None)[1]] == [
        ("StopInstances", ids[0]), ("StopInstances", ids[1])]
    # No clean shutdown: the state file was written when the change was applied.
    second = Emulator(instances=3, seed=2, transition_seconds=0.0, state_file=state_file)
    try:
        assert {i: second.world.instances[i].status() for i in ids} == {ids[0]: "Stopped", ids[1]: "Stopped",
                                                                        ids[2]: "Running"}
        assert len(second.control("GET", "mutations", None)[1]) == 2
    finally:
        first.close()
        second.close()
