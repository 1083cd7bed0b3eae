"""The alicloud.oos.cloud_assistant connection through ansible and ansible-playbook, against the emulator.

Hosts come from the alicloud.oos.ecs inventory with ``use_cloud_assistant: true``; every task runs as
an emulated Cloud Assistant command (a real subprocess in the instance's FileRoot tree), so the tests
read what arrived on an instance straight from that tree.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, run_playbook
from tests.integration.test_inventory import inventory_list

HERE = Path(__file__).resolve().parent / "cloud_assistant"
FAST_RETRIES = {"ALICLOUD_API_RETRY_DELAY": "0.02", "ALICLOUD_API_RETRIES": "15"}
INVENTORY = """\
plugin: alicloud.oos.ecs
regions: [cn-hangzhou]
hostnames: [instance_name]
use_cloud_assistant: true
"""


@pytest.fixture
def fleet(emulator_factory, tmp_path):
    """``(emulator, inventory path)`` for a fresh emulator with ``count`` instances."""
    def start(count):
        emu = emulator_factory("--instances", str(count), "--seed", "3", "--transition-seconds", "0.2")
        emu.extra_env.update(FAST_RETRIES)
        inventory = tmp_path / "fleet.ecs.yml"
        inventory.write_text(INVENTORY)
        return emu, inventory
    return start


def hosts(emu) -> dict:
    """Inventory name -> instance (with its FileRoot)."""
    return {i["InstanceName"]: emu.control(f"instances/{i['InstanceId']}") for i in emu.instances()}


def play(name, emu, inventory, *, expect_rc=0, **kwargs):
    result = run_playbook(HERE / name, emu.env, inventory=inventory, **kwargs)
    assert "Traceback" not in result.output, result.output[-4000:]
    assert result.rc == expect_rc, result.output[-4000:]
    return result


def ansible(emu, inventory, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ansible"), "-i", str(inventory), *args], cwd=REPO_ROOT, env=emu.env,
                          capture_output=True, text=True, timeout=300, check=False)


def calls(emu) -> dict:
    return emu.stats()["calls"]


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.heavy(30)
def test_modules_facts_files_and_outputs(fleet, tmp_path):
    emu, inventory = fleet(1)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(1024 * 1024))
    fetch_dir = tmp_path / "fetched"
    result = play("modules.yml", emu, inventory, extra_vars={"blob": str(blob), "fetch_dir": str(fetch_dir)})
    instances = hosts(emu)
    for name, host in result.results.items():
        root = Path(instances[name]["FileRoot"])
        home = root / "root"
        assert host["pong"]["ping"] == "pong"
        # Facts gathered on the instance, in its own tree.
        assert host["ansible_facts"]["env"]["HOME"] == str(home)
        assert host["ansible_facts"]["user_id"] == "root" and host["ansible_facts"]["system"] == "Linux"
        assert (host["cmd"]["rc"], host["cmd"]["stdout"], host["cmd"]["stderr"]) == (3, "to-out", "to-err")
        assert host["big"]["stdout"] == __import__("base64").b64encode((home / "rand.bin").read_bytes()).decode()
        assert host["big"]["stderr"] == "tail-marker" and host["big"]["rc"] == 0
        assert host["failing"]["failed"] is True and "absent" in host["failing"]["msg"]
        assert (home / "app.conf").read_text() == "name=shop\nport=8080\ndebug=true\n"
        assert oct((home / "app.conf").stat().st_mode & 0o777) == "0o640"
        assert (home / "data").is_dir() and oct((home / "data").stat().st_mode & 0o777) == "0o750"
        assert host["copied"]["changed"] is True and host["copied_again"]["changed"] is False
        assert sha256(home / "blob.bin") == sha256(blob) == sha256(fetch_dir / f"{name}.bin")
        assert oct((home / "blob.bin").stat().st_mode & 0o777) == "0o600"
        assert host["background"]["stdout"] == "async-done" and host["background"]["finished"] == 1
    # Nothing was left behind: no spool, no stdin file, no SendFile part, no Ansible temporary directory.
    for host in instances.values():
        root = Path(host["FileRoot"])
        assert not list((root / "tmp").glob("ansible-ca-*"))
        assert not list((root / "root/.ansible/cloud_assistant/parts").iterdir())
        # The async task's wrapper removes its own temporary directory in the background, after the job ended.
        deadline = time.monotonic() + 30
        while list((root / "root/.ansible/tmp").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not list((root / "root/.ansible/tmp").iterdir())
    counts = calls(emu)
    assert counts["SendFile"] >= 43 and counts["RunCommand"] > 0   # the 1 MiB file went in SendFile parts


@pytest.mark.heavy(15)
def test_ad_hoc_commands_and_api_calls_per_task(fleet):
    emu, inventory = fleet(3)
    setup = ansible(emu, inventory, "all", "-m", "ansible.builtin.setup", "-a", "gather_subset=min")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert setup.stdout.count("SUCCESS") == 3 and '"ansible_distribution"' in setup.stdout
    interpreter = json.loads(setup.stdout.split("SUCCESS => ", 1)[1].split("\n}\n", 1)[0] + "\n}")[
        "ansible_facts"]["discovered_interpreter_python"]
    # A module new to the instances, in a run that knows nothing of them yet: its few new objects go
    # inline, the shared ones are assumed cached (they are): one RunCommand per host.
    emu.control("stats/reset", {}, method="POST")
    pinged = "-e", f"ansible_python_interpreter={interpreter}"
    ping = ansible(emu, inventory, "all", "-m", "ansible.builtin.ping", *pinged)
    assert ping.returncode == 0 and ping.stdout.count('"ping": "pong"') == 3, ping.stdout + ping.stderr
    counts = calls(emu)
    assert counts.get("RunCommand") == 3 and "SendFile" not in counts, counts
    assert set(counts) <= {"RunCommand", "DescribeInvocationResults", "DescribeInstances", "DescribeRegions"}
    # Raw commands too, with their exit code.
    raw = ansible(emu, inventory, "all", "-m", "ansible.builtin.raw", "-a", "echo raw-out; exit 2")
    assert raw.returncode == 2 and raw.stdout.count("| FAILED | rc=2 >>\nraw-out\n") == 3, raw.stdout


@pytest.mark.heavy(12)
def test_become_user_and_sudo(fleet):
    emu, inventory = fleet(1)
    result = play("become.yml", emu, inventory)
    [(name, host)] = result.results.items()
    root = Path(hosts(emu)[name]["FileRoot"])
    assert host["as_user"]["stdout"] == f"ecs-user {root}/home/ecs-user"
    assert (root / "home/ecs-user/note.txt").read_text() == "written by ecs-user\n"
    assert host["sudo_root"]["stdout"] == "root"
    assert host["with_password"]["failed"] is True and "password" in host["with_password"]["msg"]
    assert "NOPASSWD" in host["with_password"]["msg"]
    assert host["unknown_user"]["failed"] is True and "'nobody-here' does not exist" in host["unknown_user"]["msg"]
    assert "not-sent-anywhere-4711" not in json.dumps(emu.control("invocations"))
    usernames = {i["InvokeId"]: i for i in emu.control("invocations")}
    assert usernames   # the invocations exist; their Username is checked through the API below
    from tests.unit.emulator.conftest import SdkClient
    sdk = SdkClient(emu)
    listed = sdk.ecs("DescribeInvocations", RegionId="cn-hangzhou", PageSize=50)["Invocations"]["Invocation"]
    assert {i["Username"] for i in listed} == {"ecs-user", "nobody-here"}   # the others ran as root, unnamed


@pytest.mark.heavy(15)
def test_stopped_instance_and_missing_agent_are_unreachable_others_go_on(fleet):
    emu, inventory = fleet(4)
    names = sorted(hosts(emu))
    victim, agentless, offline, healthy = names
    for name, agent in ((agentless, "false"), (offline, "offline")):
        emu.control(f"instances/{hosts(emu)[name]['InstanceId']}/status", {"CloudAssistantStatus": agent})
    result = play("unreachable.yml", emu, inventory, expect_rc=4, extra_vars={"victim": victim})
    assert list(result.results) == [healthy]
    assert result.results[healthy]["after"]["stdout"] == "still here"
    recap = {line.split()[0]: line for line in result.stdout.splitlines() if " : ok=" in line}
    assert "unreachable=1" in recap[victim] and "ok=2" in recap[victim]   # ping, then the stop
    for name in (agentless, offline):
        assert "unreachable=1" in recap[name] and "ok=0" in recap[name]
    assert "unreachable=0" in recap[healthy] and "failed=0" in recap[healthy]
    assert f"{hosts(emu)[victim]['InstanceId']} is not running" in result.stdout
    assert f"the Cloud Assistant agent is not installed on {hosts(emu)[agentless]['InstanceId']}" in result.stdout
    assert f"the Cloud Assistant agent of {hosts(emu)[offline]['InstanceId']} (version 2." in result.stdout
    assert "is offline" in result.stdout
    assert hosts(emu)[victim]["Status"] == "Stopped"


@pytest.mark.heavy(20)
def test_throttling_loses_nothing_and_runs_nothing_twice(fleet):
    emu, inventory = fleet(2)
    emu.faults(throttle_rate=0.3)
    result = play("faults.yml", emu, inventory)
    instances = hosts(emu)
    for name, host in result.results.items():
        assert host["runs"]["stdout_lines"] == ["run"]
        assert (Path(instances[name]["FileRoot"]) / "root/big.txt").read_text() == "x" * 50000
    stats = emu.stats()
    assert stats["throttled"] > 5 and stats["errors"].get("Throttling", 0) + stats["errors"].get(
        "Throttling.User", 0) > 0


def test_timeout_is_honoured(fleet):
    emu, inventory = fleet(1)
    slow = ansible(emu, inventory, "all", "-m", "ansible.builtin.shell", "-a", "echo started; sleep 30",
                   "-e", "ansible_cloud_assistant_command_timeout=2")
    assert slow.returncode == 2, slow.stdout + slow.stderr
    assert "ran longer than 2 s" in slow.stdout and "started" in slow.stdout
    assert all(i["InvocationStatus"] != "Running" for i in emu.control("invocations"))
    # The stopped module left nothing: AnsiballZ unpacked its code in the command's own spool.
    root = Path(next(iter(hosts(emu).values()))["FileRoot"])
    assert list((root / "tmp").iterdir()) == []
    # Ansible's own task timeout stops the command on the instance too.
    interrupted = ansible(emu, inventory, "all", "-m", "ansible.builtin.shell", "-a", "sleep 40", "--task-timeout", "4")
    assert interrupted.returncode == 2 and "Timed out after 4 second" in interrupted.stdout, interrupted.stdout
    last = emu.control("invocations")[-1]   # the module's invocation (its arguments are compressed in it)
    assert last["InvocationStatus"] in ("Stopped", "Stopping"), last


def test_secrets_never_in_verbose_output(fleet):
    emu, inventory = fleet(1)
    secret = "Sup3rSecretPassw0rd-for-the-uri-module"
    emu.extra_env["TEST_SECRET"] = secret
    result = play("secrets.yml", emu, inventory, args=("-vvvv",), extra_vars={"url": emu.url})
    assert "CLOUD ASSISTANT" in result.output and "EXEC as root" in result.output   # it was verbose
    for value in (secret, emu.access_key_secret):
        assert value not in result.output


def test_inventory_option_sets_the_connection(fleet):
    emu, inventory = fleet(1)
    [(name, variables)] = inventory_list(inventory, emu.env)["_meta"]["hostvars"].items()
    instance = hosts(emu)[name]
    assert variables["ansible_connection"] == "alicloud.oos.cloud_assistant"
    assert variables["ansible_cloud_assistant_instance_id"] == instance["InstanceId"]
    assert variables["ansible_cloud_assistant_region"] == instance["RegionId"]


@pytest.mark.heavy(20)
def test_one_instance_under_four_names_at_once_with_a_cold_cache(fleet, tmp_path):
    """Concurrent runs send the same module code and the same file to one instance: each upload joins only its
    own SendFile parts (an instance listed twice, parallel AWX jobs)."""
    emu, _inventory = fleet(1)
    [instance] = emu.instances()
    aliases = tmp_path / "aliases.ini"
    aliases.write_text("[a]\n" + "".join(f"a{n} instance_id={instance['InstanceId']}\n" for n in range(4))
                       + "[a:vars]\nansible_connection=alicloud.oos.cloud_assistant\nansible_python_interpreter=python3\n")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(100_000))
    facts = ansible(emu, aliases, "a", "-m", "ansible.builtin.setup", "-a", "gather_subset=min", "-f", "4", "-o")
    assert facts.returncode == 0 and facts.stdout.count("SUCCESS") == 4, (facts.stdout + facts.stderr)[-3000:]
    copied = ansible(emu, aliases, "a", "-m", "ansible.builtin.copy", "-f", "4", "-o",
                     "-a", f"src={source} dest=~/copy_{{{{ inventory_hostname }}}}.bin")
    assert copied.returncode == 0, (copied.stdout + copied.stderr)[-3000:]
    root = Path(emu.control(f"instances/{instance['InstanceId']}")["FileRoot"])
    for n in range(4):
        assert sha256(root / "root" / f"copy_a{n}.bin") == sha256(source)


@pytest.mark.heavy(20)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupting_ansible_stops_the_command_on_the_instance(fleet, signum):
    """As ssh with a terminal would: ^C (the whole foreground process group) or SIGTERM ends the remote command."""
    emu, inventory = fleet(1)
    proc = subprocess.Popen([str(BIN / "ansible"), "-i", str(inventory), "all", "-m", "ansible.builtin.raw",
                             "-a", "echo started; sleep 120"], cwd=REPO_ROOT, env=emu.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def statuses():
        return [i["InvocationStatus"] for i in emu.control("invocations") if "sleep 120" in i["CommandContent"]]
    try:
        deadline = time.monotonic() + 60
        while statuses() != ["Running"]:
            assert time.monotonic() < deadline and proc.poll() is None, "the command never started"
            time.sleep(0.2)
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        proc.communicate(timeout=60)
        # Ansible's workers lead their own process groups: the one running the command stops it as it goes.
        deadline = time.monotonic() + 15
        while statuses() == ["Running"] and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert statuses() in (["Stopped"], ["Stopping"]), statuses()
