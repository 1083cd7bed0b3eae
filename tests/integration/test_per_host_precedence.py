"""The per-host pattern acts on exactly the hosts Ansible runs a task for, with each host's own arguments.

Every variable precedence level decides `when:` and the arguments of an instance task over six hosts;
the inventory holds decoys for the levels that override it. The emulator's logs (Cloud Assistant
invocations, applied mutations) must show, per instance, exactly what the play asked for.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_version

from tests.conftest import BIN, REPO_ROOT, start_emulator

HERE = Path(__file__).resolve().parent / "instance_workflows" / "precedence"
HOSTS = [f"web{n}" for n in range(6)]
LEVEL = re.compile(r"^echo L=(\S+)(?: (.*))?$")

# Levels that override the inventory carry a decoy there: true for every host, and a wrong message.
DECOYS = {f"pick_{level}": True for level in ("pv", "vf", "rv", "bv", "tv", "iv", "sf", "rp", "fr")}
DECOYS.update({f"msg_{level}": "decoy" for level in ("pv", "vf", "rv", "bv", "tv", "iv", "sf", "rp", "fr")})


def picked(*hosts, msg=None):
    """``{host: expected echo argument}`` for the hosts that run the level's task."""
    return {h: (msg(h) if callable(msg) else msg) for h in hosts}


EXPECTED = {
    "group_vars": picked("web1", "web3", "web5", msg="gv-odd"),
    "host_vars": picked("web0", "web2", msg=lambda h: f"hv-{h}"),
    "extra_vars": picked("web1", "web4", msg="ev"),
    "play_vars": picked("web0", "web5", msg=lambda h: f"pv-{h}"),
    "vars_prompt": picked("web2", "web5", msg=lambda h: h),
    "vars_files": picked("web2", "web3", msg=lambda h: f"vf-{h}"),
    "block_vars": picked("web1", "web2", msg=lambda h: f"bv-{h}"),
    "task_vars": picked("web3", "web4", msg="tv"),
    "include_vars": picked("web0", "web4", "web5", msg="iv"),
    "set_fact": picked("web1", "web5", msg=lambda h: f"sf-{h}"),
    "facts": picked("web0", "web2", msg="True"),
    "registered": picked("web3", "web5", msg="yes"),
    "shared": picked(*HOSTS),
    "include_tasks": picked("web1", "web3", msg=lambda h: h),
    "loop": {"web0": "a", "web4": "b"},
    "role_defaults": picked("web1", "web4", msg=lambda h: f"rd-{h}"),
    "role_vars": picked("web0", "web3", msg="rv"),
    "role_params": picked("web2", "web4", msg="rp"),
    "check_mode": picked("web1", "web2", "web3", "web4", "web5"),
    "import_tasks": picked("web2", "web4", "web5", msg="it"),
    "static_role_defaults": picked("web1", "web4", msg=lambda h: f"rd-{h}"),
    "static_role_vars": picked("web0", "web3", msg="rv"),
    "static_role_params": picked("web0", "web1", msg="srp"),
    "block_after_failure": picked("web0", "web2", "web3", "web5", msg=lambda h: h),
    "rescue": picked("web1", "web4", msg=lambda h: h),
    "after_failures": picked("web0", "web1", "web3", "web4"),
    "free": picked("web0", "web1", msg="fr"),
}


# Invocations per level: one per distinct argument where the leader can know every host's `when:` and
# arguments; one per host inside include_role/include_tasks, rescue blocks and the free strategy.
CALLS = {"group_vars": 1, "extra_vars": 1, "task_vars": 1, "include_vars": 1, "registered": 1, "shared": 1,
         "facts": 1, "role_vars": 2, "role_params": 2, "include_tasks": 2, "rescue": 2, "block_after_failure": 4,
         "after_failures": 1, "free": 2, "loop": 2, "block_vars": 2, "check_mode": 5, "import_tasks": 1,
         "static_role_defaults": 2, "static_role_vars": 1, "static_role_params": 1}


@pytest.fixture(scope="module")
def emu():
    emu = start_emulator("--instances", "10", "--seed", "11", "--transition-seconds", "0.2")
    emu.extra_env.update({"ALICLOUD_API_RETRY_DELAY": "0.02"})
    try:
        yield emu
    finally:
        emu.stop()


def write_inventory(tmp_path, emu) -> tuple[Path, dict]:
    instances = sorted((i for i in emu.instances() if i["Status"] == "Running"), key=lambda i: i["InstanceId"])
    ids = {host: instances[n]["InstanceId"] for n, host in enumerate(HOSTS)}
    hostvars = {host: {"instance_id": ids[host], "pick_hv": host in ("web0", "web2"), "msg_hv": f"hv-{host}"}
                for host in HOSTS}
    inventory = {"all": {"children": {"fleet": {
        "hosts": hostvars,
        "vars": dict(DECOYS, ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}",
                     pick_gv=False, msg_gv="gv-all"),
        "children": {"odd": {"hosts": {h: {} for h in ("web1", "web3", "web5")},
                             "vars": {"pick_gv": True, "msg_gv": "gv-odd"}}},
    }}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path, ids


def ansible_playbook(emu, playbook, inventory, *args):
    cmd = [str(BIN / "ansible-playbook"), str(HERE / playbook), "-i", str(inventory), *args]
    # No terminal: the prompt takes its default, as in AWX or cron.
    return subprocess.run(cmd, cwd=REPO_ROOT, env=emu.env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, check=False)


def runs_by_level(emu, ids) -> dict:
    """``{level: {host: echo argument}}`` from every command instance the emulator ran."""
    host_of = {iid: host for host, iid in ids.items()}
    seen = {}
    for invocation in emu.control("invocations"):
        match = LEVEL.match(invocation["CommandContent"].strip())
        assert match, invocation["CommandContent"]
        level, argument = match.group(1), match.group(2)
        for record in invocation["Instances"]:
            host = host_of[record["InstanceId"]]
            runs = seen.setdefault(level, {})
            assert host not in runs or level == "loop", f"{level}: {host} ran twice"
            if level == "loop":
                runs.setdefault(host, [])
                runs[host].append(argument)
            else:
                runs[host] = argument
    if "loop" in seen:
        seen["loop"] = {h: " ".join(v) for h, v in seen["loop"].items()}
    return seen


def test_every_precedence_level_acts_on_exactly_the_hosts_the_play_runs(emu, tmp_path):
    emu.reset(instances=10, seed=11)
    inventory, ids = write_inventory(tmp_path, emu)
    result = ansible_playbook(emu, "matrix.yml", inventory, "-e", json.dumps({"pick_ev": ["web1", "web4"],
                                                                              "msg_ev": "ev"}))
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-4000:]
    # web2 failed and web5 was unreachable on purpose in the second play.
    assert result.returncode in (2, 4), output[-4000:]
    assert "decoy" not in json.dumps(emu.control("invocations"))
    actual = runs_by_level(emu, ids)
    for level, expected in EXPECTED.items():
        assert actual.get(level, {}) == expected, (level, actual.get(level), output[-3000:])
    assert set(actual) == set(EXPECTED)
    invocations = {}
    for invocation in emu.control("invocations"):
        level = LEVEL.match(invocation["CommandContent"].strip()).group(1)
        invocations[level] = invocations.get(level, 0) + 1
    assert {level: invocations[level] for level in CALLS} == CALLS


@pytest.mark.skipif(tuple(int(p) for p in ansible_version.split(".")[:2]) < (2, 18),
                    reason="meta: end_role is new in ansible-core 2.18")
def test_hosts_that_ended_a_role_early_are_left_out(emu, tmp_path):
    emu.reset(instances=10, seed=11)
    inventory, ids = write_inventory(tmp_path, emu)
    result = ansible_playbook(emu, "end_role.yml", inventory)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output[-4000:]
    assert runs_by_level(emu, ids) == {"end_role": picked("web1", "web2", "web4", "web5")}


@pytest.mark.parametrize("args, stopped", [
    ((), {"web1", "web2", "web4"}),
    (("-e", "batch_size=2"), {"web1", "web2", "web4"}),
    (("--limit", "web0,web1,web5"), {"web1"}),
    (("--tags", "power"), {"web1", "web2", "web4"}),
])
def test_a_play_var_over_a_group_var_stops_only_the_hosts_it_picks(emu, tmp_path, args, stopped):
    emu.reset(instances=10, seed=11)
    inventory, ids = write_inventory(tmp_path, emu)
    inventory_text = yaml.safe_load(inventory.read_text())
    inventory_text["all"]["children"]["fleet"]["vars"]["stop_me"] = True  # the decoy the play overrides
    inventory.write_text(yaml.safe_dump(inventory_text))
    result = ansible_playbook(emu, "stop_by_play_var.yml", inventory, *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output[-4000:]
    host_of = {iid: host for host, iid in ids.items()}
    applied = emu.control("mutations")
    assert {host_of[m["instance_id"]] for m in applied if m["action"] == "StopInstances"} == stopped
    # The only other change is the untagged command (logged by invocation); --tags power leaves it out.
    others = {m["action"] for m in applied} - {"StopInstances"}
    assert others == (set() if "--tags" in args else {"RunCommand"}), applied
    skipped = set(re.findall(r"skipping: \[(web\d)\]", output))
    assert skipped.isdisjoint(stopped)
    if "--tags" in args:
        assert not emu.control("invocations")
