"""alicloud.oos.ecs inventory against the emulator, run as a user would: ansible-inventory / ansible-playbook."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT, start_emulator

HERE = Path(__file__).resolve().parent
DEMO = HERE / "inventory" / "demo.ecs.yml"
REGIONS = ("cn-hangzhou", "cn-shanghai")
FLEET_SIZE = 1000
FAST_RETRIES = "api_retries: 2\napi_retry_delay: 0.05\n"


@pytest.fixture(scope="module")
def fleet():
    """One emulator for the module: 1,000 instances over two regions (500 each)."""
    emu = start_emulator("--instances", str(FLEET_SIZE), "--regions", ",".join(REGIONS), "--seed", "7",
                         "--transition-seconds", "0.2")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(fleet):
    """The shared emulator with zeroed counters and no faults."""
    fleet.faults(failing_regions=[], error_rate=0, throttle_rate=0, reset_rate=0, latency_ms=0)
    fleet.control("stats/reset", {}, method="POST")
    return fleet


def write_config(tmp_path: Path, body: str, name: str = "test.ecs.yml") -> Path:
    """An inventory file; a failing region is retried only briefly so the tests stay quick."""
    path = tmp_path / name
    path.write_text("plugin: alicloud.oos.ecs\n" + textwrap.dedent(body).rstrip("\n") + "\n" + FAST_RETRIES)
    return path


def inventory(source: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    # A source that fails to parse must fail the command, not give an empty inventory.
    env = dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")
    return subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _unwrap_unsafe(obj: dict):
    """ansible-inventory marks values from inventory plugins as {"__ansible_unsafe": value}."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def load_listing(text: str) -> dict:
    return json.loads(text, object_hook=_unwrap_unsafe)


def inventory_list(source: Path, env: dict) -> dict:
    proc = inventory(source, env, "--list")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return load_listing(proc.stdout)


def hosts_of(data: dict, group: str) -> set:
    """Every host of ``group`` and of its children."""
    entry = data.get(group, {})
    hosts = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts |= hosts_of(data, child)
    return hosts


def instances_by_id(emu) -> dict:
    return {i["InstanceId"]: i for i in emu.instances()}


def test_list_every_instance_with_hostvars(emu):
    data = inventory_list(DEMO, emu.env)
    truth = instances_by_id(emu)
    hostvars = data["_meta"]["hostvars"]
    assert len(truth) == FLEET_SIZE
    assert set(hostvars) == set(truth)
    for instance_id, instance in truth.items():
        hv = hostvars[instance_id]
        assert hv["instance_id"] == instance_id
        assert hv["instance_name"] == instance["InstanceName"]
        assert hv["region_id"] == instance["RegionId"]            # the region, not the zone
        assert hv["zone_id"] == instance["ZoneId"] and hv["zone_id"] != hv["region_id"]
        assert hv["status"] == instance["Status"]
        assert hv["ecs_tags"] == instance["Tags"]
        assert "tags" not in hv                                    # reserved by ansible-core
        assert hv["private_ip"] == instance["PrivateIpAddress"]
        assert hv["ansible_host"] == (instance["PublicIpAddress"] or instance["PrivateIpAddress"])
        assert isinstance(hv["security_group_ids"], list) and hv["security_group_ids"]
        assert hv["vpc_id"].startswith("vpc-") and hv["vswitch_id"].startswith("vsw-")
    # ceil(N/100) DescribeInstances per region and one DescribeRegions (checks the regions option).
    calls = emu.stats()["calls"]
    per_region = Counter(i["RegionId"] for i in truth.values())
    assert calls.get("DescribeInstances") == sum(math.ceil(n / 100) for n in per_region.values())
    assert calls.get("DescribeRegions", 0) <= 1


def test_default_groups_compose_and_keyed_groups(emu):
    data = inventory_list(DEMO, emu.env)
    truth = instances_by_id(emu).values()
    hostvars = data["_meta"]["hostvars"]

    def ids(predicate):
        return {i["InstanceId"] for i in truth if predicate(i)}

    assert hosts_of(data, "tag_Env_dev") == ids(lambda i: i["Tags"].get("Env") == "dev")
    assert hosts_of(data, "tag_App_db") == ids(lambda i: i["Tags"].get("App") == "db")
    assert hosts_of(data, "status_Running") == ids(lambda i: i["Status"] == "Running")
    for region in REGIONS:
        assert hosts_of(data, "region_" + region.replace("-", "_")) == ids(lambda i, r=region: i["RegionId"] == r)
    zones = {i["ZoneId"] for i in truth}
    for zone in zones:
        assert hosts_of(data, "zone_" + zone.replace("-", "_")) == ids(lambda i, z=zone: i["ZoneId"] == z)
    # groups / keyed_groups / compose from the config file
    assert hosts_of(data, "dev_running") == ids(lambda i: i["Tags"]["Env"] == "dev" and i["Status"] == "Running")
    assert hosts_of(data, "app_web") == ids(lambda i: i["Tags"]["App"] == "web")
    for instance_type in {i["InstanceType"] for i in truth}:
        group = "type_" + instance_type.replace(".", "_").replace("-", "_")
        assert hosts_of(data, group) == ids(lambda i, t=instance_type: i["InstanceType"] == t)
    assert all(hv["ansible_user"] == "ecs-user" for hv in hostvars.values())
    assert {h for h, hv in hostvars.items() if hv["dev_web"]} == ids(
        lambda i: i["Tags"] == {"Env": "dev", "App": "web"})


def test_graph(emu):
    proc = inventory(DEMO, emu.env, "--graph", "tag_Env_prod")
    assert proc.returncode == 0, proc.stderr
    listed = {line.strip(" |-") for line in proc.stdout.splitlines()[1:]}
    assert listed == {i["InstanceId"] for i in emu.instances() if i["Tags"]["Env"] == "prod"}


def test_filters_and_hostnames_preference(emu, tmp_path):
    source = write_config(tmp_path, """\
        regions: [cn-hangzhou, cn-shanghai]
        filters:
          tags: {Env: dev}
        include_filters:
          - InstanceName: 'web-prod-000*'
        exclude_filters:
          - InstanceName: 'db-*'
        hostnames: ['tag:Name', public_ip, instance_name]
        ansible_host: [private_ip]
        hostvars_prefix: ecs_""")
    data = inventory_list(source, emu.env)
    hostvars = data["_meta"]["hostvars"]
    expected = {i["InstanceId"]: i for i in emu.instances()
                if (i["Tags"]["Env"] == "dev" or i["InstanceName"].startswith("web-prod-000"))
                and not i["InstanceName"].startswith("db-")}
    assert any(i["Tags"]["Env"] == "prod" for i in expected.values())   # include_filters added some
    assert len(hostvars) == len(expected)
    for instance in expected.values():
        # No Name tag: public_ip when there is one (web), else the instance name.
        name = instance["PublicIpAddress"] or instance["InstanceName"]
        hv = hostvars[name]
        assert hv["ecs_instance_id"] == instance["InstanceId"]
        assert hv["ecs_tags"] == instance["Tags"]                  # the prefix makes "tags" free: not ecs_ecs_tags
        assert hv["ansible_host"] == instance["PrivateIpAddress"]
        assert "instance_id" not in hv and "ecs_ecs_tags" not in hv and "tags" not in hv


def test_hostnames_mappings_and_hostvars_suffix_as_in_aws_ec2(emu, tmp_path):
    """hostnames entries may be {name, prefix, separator} (prefix: a variable, tag:KEY or literal text), and
    hostvars_suffix names the variables <prefix><name><suffix>; compose/keyed_groups read the renamed variables."""
    source = write_config(tmp_path, """\
        regions: [cn-hangzhou]
        filters: {tags: {App: web}}
        hostnames:
          - {name: public_ip, prefix: 'tag:Env', separator: '-'}
          - {name: instance_name, prefix: hz}
        hostvars_prefix: ali_
        hostvars_suffix: _ecs
        keyed_groups:
          - {key: ali_tags_ecs.Env, prefix: env}
        compose:
          zone_of_host: ali_zone_id_ecs""")
    data = inventory_list(source, emu.env)
    hostvars = data["_meta"]["hostvars"]
    web = [i for i in emu.instances() if i["RegionId"] == "cn-hangzhou" and i["Tags"]["App"] == "web"]
    assert web and all(i["PublicIpAddress"] for i in web)
    expected = {f"{i['Tags']['Env']}-{i['PublicIpAddress']}": i for i in web}
    assert set(hostvars) == set(expected)
    for name, instance in expected.items():
        hv = hostvars[name]
        assert hv["ali_instance_id_ecs"] == instance["InstanceId"] and hv["ali_tags_ecs"] == instance["Tags"]
        assert hv["zone_of_host"] == instance["ZoneId"]
        assert not [k for k in hv if k.startswith("ali_") and not k.endswith("_ecs")]
    for env in ("dev", "prod"):
        assert hosts_of(data, f"env_{env}") == {n for n, i in expected.items() if i["Tags"]["Env"] == env}

    # Without a public IP the first entry has no value: the second names the host "hz_<instance name>".
    source = write_config(tmp_path, """\
        regions: [cn-hangzhou]
        filters: {tags: {App: db}}
        hostnames:
          - {name: public_ip, prefix: 'tag:Env'}
          - {name: instance_name, prefix: hz}""", "db.ecs.yml")
    db = {i["InstanceName"]: i["InstanceId"] for i in emu.instances() if i["RegionId"] == "cn-hangzhou" and i["Tags"]["App"] == "db"}
    listed = inventory_list(source, emu.env)["_meta"]["hostvars"]
    assert {h: hv["instance_id"] for h, hv in listed.items()} == {f"hz_{n}": i for n, i in db.items()}


def test_constructed_entries_evaluate_per_host_and_bad_ones_follow_strict(emu, tmp_path):
    """Each expression is compiled once per load (it was compiled again for every host): the values still differ
    per host, a bad entry is skipped unless strict: true, and then it is one clear error."""
    body = """\
        regions: [cn-hangzhou]
        filters: {tags: {App: db}}
        compose:
          name_upper: instance_name | upper
          broken: no_such_variable.attribute
        groups:
          odd_ip: (private_ip.split('.')[-1] | int) % 2 == 1
        keyed_groups:
          - {key: zone_id, prefix: az}"""
    data = inventory_list(write_config(tmp_path, body), emu.env)
    db = [i for i in emu.instances() if i["RegionId"] == "cn-hangzhou" and i["Tags"]["App"] == "db"]
    hostvars = data["_meta"]["hostvars"]
    assert {h: hv["name_upper"] for h, hv in hostvars.items()} == {i["InstanceId"]: i["InstanceName"].upper() for i in db}
    assert not any("broken" in hv for hv in hostvars.values())
    assert hosts_of(data, "odd_ip") == {i["InstanceId"] for i in db if int(i["PrivateIpAddress"].split(".")[-1]) % 2}
    for zone in {i["ZoneId"] for i in db}:
        assert hosts_of(data, "az_" + zone.replace("-", "_")) == {i["InstanceId"] for i in db if i["ZoneId"] == zone}

    proc = inventory(write_config(tmp_path, body + "\n        strict: true", "strict.ecs.yml"), emu.env, "--list")
    assert proc.returncode != 0 and "Could not set broken" in proc.stderr and "Traceback" not in proc.stderr


def test_hostnames_fall_through_to_instance_name(emu, tmp_path):
    source = write_config(tmp_path, """\
        regions: [cn-hangzhou]
        filters: {tags: {App: db}}
        hostnames: ['tag:Name', public_ip, instance_name]""")
    hostvars = inventory_list(source, emu.env)["_meta"]["hostvars"]
    expected = {i["InstanceName"]: i["InstanceId"] for i in emu.instances()
                if i["RegionId"] == "cn-hangzhou" and i["Tags"]["App"] == "db"}
    assert expected and {h: hv["instance_id"] for h, hv in hostvars.items()} == expected


def test_playbook_over_inventory_has_ecs_tags_and_no_reserved_name_warning(emu, playbook, tmp_path):
    """``tags`` is a reserved name in ansible-core: as a host variable it made every playbook run warn
    "Found variable using reserved name 'tags'". The tags are ``ecs_tags``, usable in plays and in
    compose/groups/keyed_groups, and ``tags`` is not a host variable at all."""
    chosen = sorted((i for i in emu.instances() if i["RegionId"] == "cn-hangzhou"), key=lambda i: i["InstanceId"])[:3]
    source = write_config(tmp_path, f"""\
        regions: [cn-hangzhou]
        filters: {{InstanceIds: {json.dumps([i["InstanceId"] for i in chosen])}}}
        keyed_groups:
          - {{key: ecs_tags.Env, prefix: env}}
        compose:
          env_from_tags: ecs_tags.Env""")
    result = playbook("""
        - hosts: all
          gather_facts: false
          tasks:
            - name: Read the tags on every host
              ansible.builtin.debug:
                msg: "{{ inventory_hostname }} {{ ecs_tags.Env }} {{ env_from_tags }}"
            - name: Keep what the test checks
              ansible.builtin.copy:
                dest: "{{ results_file }}"
                content: >-
                  {%- set out = {'hosts': {}, 'with_tags': [], 'env_groups': {}} -%}
                  {%- for host in ansible_play_hosts_all -%}
                  {%- set _ = out.hosts.update({host: hostvars[host].ecs_tags}) -%}
                  {%- if 'tags' in hostvars[host] -%}{%- set _ = out.with_tags.append(host) -%}{%- endif -%}
                  {%- endfor -%}
                  {%- for group in groups if group.startswith('env_') -%}
                  {%- set _ = out.env_groups.update({group: groups[group]}) -%}
                  {%- endfor -%}
                  {{ out | to_json }}
              run_once: true
              delegate_to: localhost
        """, emu.env, inventory=source)
    assert result.rc == 0, result.output
    assert "reserved name" not in result.output, result.output
    assert result.results["hosts"] == {i["InstanceId"]: i["Tags"] for i in chosen}
    assert result.results["with_tags"] == []
    envs = {i["Tags"]["Env"] for i in chosen}
    assert {group: sorted(hosts) for group, hosts in result.results["env_groups"].items()} == {
        f"env_{env}": sorted(i["InstanceId"] for i in chosen if i["Tags"]["Env"] == env) for env in envs}


def test_a_failing_region_fails_the_inventory_unless_strict_regions_is_false(emu, tmp_path):
    """An incomplete inventory is not trusted by default (a scheduled run or an AWX update with overwrite would
    act on it as if the missing hosts were gone); strict_regions: false loads the other regions and warns."""
    emu.faults(failing_regions=["cn-shanghai"])
    source = write_config(tmp_path, "regions: [cn-hangzhou, cn-shanghai]\n")
    proc = inventory(source, emu.env, "--list")
    assert proc.returncode != 0
    assert "1 of 2 region(s) failed to load: cn-shanghai" in proc.stderr and "ServiceUnavailable" in proc.stderr
    assert "strict_regions: false" in proc.stderr
    assert "Traceback" not in proc.stderr

    lenient = write_config(tmp_path, "regions: [cn-hangzhou, cn-shanghai]\nstrict_regions: false\n", "lenient.ecs.yml")
    proc = inventory(lenient, emu.env, "--list")
    assert proc.returncode == 0, proc.stderr
    assert "region cn-shanghai skipped (strict_regions is false)" in proc.stderr and "ServiceUnavailable" in proc.stderr
    hostvars = load_listing(proc.stdout)["_meta"]["hostvars"]
    assert set(hostvars) == {i["InstanceId"] for i in emu.instances() if i["RegionId"] == "cn-hangzhou"}


@pytest.mark.parametrize("strict_regions", [True, False])
def test_an_inventory_that_read_no_region_fails(emu, tmp_path, strict_regions):
    """Every region failing is never an empty inventory with warnings, whatever strict_regions says."""
    emu.faults(failing_regions=list(REGIONS))
    source = write_config(tmp_path, f"regions: [cn-hangzhou, cn-shanghai]\nstrict_regions: {str(strict_regions).lower()}\n")
    proc = inventory(source, emu.env, "--list")
    assert proc.returncode != 0
    assert "could not read any region (2 of 2 failed)" in proc.stderr
    assert "cn-hangzhou: ECS DescribeInstances failed [ServiceUnavailable]" in proc.stderr
    assert "Traceback" not in proc.stderr


WRONG_CREDENTIALS = {
    "wrong secret": {"ALICLOUD_SECRET_KEY": "NotTheSecret0123456789abcdefXYZ"},
    "unknown key": {"ALICLOUD_ACCESS_KEY": "LTAI5tNoSuchKeyAnywhere"},
}


@pytest.mark.parametrize("case", sorted(WRONG_CREDENTIALS))
def test_refused_credentials_fail_the_inventory_and_the_scheduled_playbook(emu, playbook, tmp_path, case):
    env = dict(emu.env, **WRONG_CREDENTIALS[case])
    source = write_config(tmp_path, "regions: [cn-hangzhou, cn-shanghai]\nstrict_regions: false\n")
    proc = inventory(source, env, "--list")
    assert proc.returncode != 0
    assert "the credentials were refused, no region can be read" in proc.stderr
    assert "Check access_key and secret_key" in proc.stderr
    assert "Traceback" not in proc.stderr and emu.access_key_secret not in proc.stderr
    # A scheduled stop by inventory group fails instead of "skipping: no hosts matched" with rc 0 ...
    scheduled = playbook(REPO_ROOT / "playbooks" / "stop_start.yml", env, inventory=source, extra_vars={
        "ecs_power_schedule_group": "tag_Env_dev", "ecs_power_schedule_confirm": True})
    assert scheduled.rc != 0
    assert "the credentials were refused" in scheduled.output
    # ... and so does any playbook when failed sources are fatal (AWX sets this for inventory updates).
    user_play = playbook("""
        - hosts: tag_Env_dev
          gather_facts: false
          tasks:
            - ansible.builtin.debug: {msg: hello}
        """, dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true"), inventory=source)
    assert user_play.rc != 0 and "no hosts matched" not in user_play.output
    assert {i["Status"] for i in emu.instances()} == {"Running"}
    assert emu.stats()["mutating_calls"] == 0


def test_cache_second_run_makes_no_api_call(emu, tmp_path):
    cache_dir = tmp_path / "cache"
    source = write_config(tmp_path, f"""\
        regions: [cn-hangzhou, cn-shanghai]
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: {cache_dir}
        cache_timeout: 3600""")
    first = inventory_list(source, emu.env)
    assert emu.stats()["total_calls"] > 0
    emu.control("stats/reset", {}, method="POST")
    second = inventory_list(source, emu.env)
    assert emu.stats()["total_calls"] == 0
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    assert len(second["_meta"]["hostvars"]) == FLEET_SIZE


def test_failed_region_is_not_cached(emu, tmp_path):
    cache_dir = tmp_path / "cache"
    source = write_config(tmp_path, f"""\
        regions: [cn-hangzhou, cn-shanghai]
        strict_regions: false
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: {cache_dir}""")
    emu.faults(failing_regions=["cn-shanghai"])
    assert len(inventory_list(source, emu.env)["_meta"]["hostvars"]) == FLEET_SIZE // 2
    emu.faults(failing_regions=[])
    assert len(inventory_list(source, emu.env)["_meta"]["hostvars"]) == FLEET_SIZE


VALID_RECORD = {"instance_id": "i-cached", "instance_name": "cached", "host_name": None, "region_id": "cn-hangzhou",
                "zone_id": None, "status": "Running", "instance_type": None, "os_type": None, "os_name": None,
                "private_ip": None, "public_ip": None, "eip": None, "vpc_id": None, "vswitch_id": None,
                "security_group_ids": [], "resource_group_id": None, "tags": {}, "image_id": None, "creation_time": None}
# Cache entries that are valid JSON but not a fleet, and two that are not JSON at all.
WRONG_CACHE_ENTRIES = {
    "mapping": '{"instances": []}',
    "string": '"cached"',
    "null": "null",
    "list of numbers": "[1, 2]",
    "record without keys": '[{"instance_id": "i-1"}]',
    "tags as a list": json.dumps([dict(VALID_RECORD, tags=[{"Key": "Env", "Value": "dev"}])]),
    "id as a number": json.dumps([dict(VALID_RECORD, instance_id=7)]),
    "corrupt payload": '[{"instance_id": ',
    "corrupt file": None,
}


def write_cache_entry(entry: Path, payload: str | None) -> None:
    """Replace the value of a jsonfile cache entry, in the envelope this ansible-core writes (2.19 wraps the value
    in {"__payload__": "<JSON text>"}; earlier versions store the JSON itself)."""
    if payload is None:
        entry.write_text('{"__payload__": ')
    elif "__payload__" in json.loads(entry.read_text()):
        entry.write_text(json.dumps({"__payload__": payload}))
    else:
        entry.write_text(payload)


@pytest.mark.parametrize("case", sorted(WRONG_CACHE_ENTRIES))
def test_a_cache_entry_of_the_wrong_shape_is_discarded_and_reloaded(emu, tmp_path, case):
    """Valid JSON of another shape used to raise a raw TypeError on every run until the entry expired."""
    cache_dir = tmp_path / "cache"
    source = write_config(tmp_path, f"""\
        regions: [cn-hangzhou]
        filters: {{InstanceName: 'db-dev-*'}}
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: {cache_dir}
        cache_timeout: 3600""")
    expected = inventory_list(source, emu.env)["_meta"]["hostvars"]
    assert expected
    (entry,) = list(cache_dir.iterdir())
    write_cache_entry(entry, WRONG_CACHE_ENTRIES[case])
    emu.control("stats/reset", {}, method="POST")

    proc = inventory(source, emu.env, "--list")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "TypeError" not in proc.stderr
    assert "loading the instances again" in proc.stderr
    assert load_listing(proc.stdout)["_meta"]["hostvars"] == expected
    assert emu.stats()["calls"].get("DescribeInstances")
    # The entry was written again: the next run is served from the cache, silently.
    emu.control("stats/reset", {}, method="POST")
    again = inventory(source, emu.env, "--list")
    assert again.returncode == 0 and "loading the instances again" not in again.stderr
    assert load_listing(again.stdout)["_meta"]["hostvars"] == expected
    assert emu.stats()["total_calls"] == 0


def test_every_region_when_regions_is_empty(emu, tmp_path):
    source = write_config(tmp_path, "filters: {Status: Running}\n")
    data = inventory_list(source, emu.env)
    running = {i["InstanceId"] for i in emu.instances() if i["Status"] == "Running"}
    assert set(data["_meta"]["hostvars"]) == running
    calls = emu.stats()["calls"]
    assert calls["DescribeRegions"] == 1


def test_file_options_win_over_environment(emu, tmp_path):
    """The file's credentials and region are used even when the environment says otherwise."""
    env = dict(emu.env, ALICLOUD_ACCESS_KEY="LTAIwrongwrongwrong", ALICLOUD_SECRET_KEY="wrong-secret",
               ALICLOUD_REGION="cn-beijing")
    source = write_config(tmp_path, f"""\
        access_key: {emu.access_key_id}
        secret_key: {emu.access_key_secret}
        region: cn-hangzhou
        regions: [cn-hangzhou]""")
    data = inventory_list(source, env)
    assert len(data["_meta"]["hostvars"]) == FLEET_SIZE // 2
    # and the environment alone works too (the AWX credential-type way)
    data = inventory_list(DEMO, emu.env)
    assert len(data["_meta"]["hostvars"]) == FLEET_SIZE


@pytest.mark.parametrize("body,words", [
    ("regions: [cn-hangzhou]\nfilter: {Status: Running}\n", ["invalid option filter", "did you mean filters"]),
    ("regions: [cn-hangzhou]\nfilters: {Colour: red}\n", ["invalid option filters.Colour", "valid keys are"]),
    ("regions: [cn-hangzhou]\nfilters: {Status: Sleeping}\n", ["invalid option filters.Status", "Running"]),
    ("regions: [cn-hangzhou]\nhostnames: [nickname]\n", ["invalid option hostnames", "'nickname' is unknown"]),
    ("regions: [cn-hangzhou]\nhostnames: [{name: instance_name, sep: '-'}]\n",
     ["invalid option hostnames", "hostnames[0] has unknown key(s) sep", "name, prefix, separator"]),
    ("regions: [cn-hangzhou]\nhostnames: [{prefix: 'tag:Env'}]\n", ["invalid option hostnames", "needs a name"]),
    ("regions: [cn-hangzhou]\nansible_host: [{name: private_ip}]\n", ["option ansible_host", "string"]),
    ("regions: [cn_hangzhou]\n", ["invalid option regions", "not a region id"]),
    ("regions: [cn-atlantis]\n", ["invalid option regions", "cn-atlantis do not exist", "cn-hangzhou"]),
    ("regions: [cn-hangzhou]\naccess_key: LTAIonlyhalf\n", ["invalid option", "secret_key"]),
])
def test_bad_configuration_is_one_clear_error(emu, tmp_path, body, words):
    source = write_config(tmp_path, body)
    env = dict(emu.env)
    if "access_key" in body:
        env.pop("ALICLOUD_SECRET_KEY")
    proc = inventory(source, env, "--list")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert emu.access_key_secret not in proc.stderr + proc.stdout
    stats = emu.stats()
    if "cn-atlantis" in body:
        assert stats["calls"] == {"DescribeRegions": 1}      # found with one read-only call
    else:
        assert stats["total_calls"] == 0                        # nothing sent


@pytest.mark.parametrize("content,words", [
    (None, ["does not exist"]),
    ("[default\ngarbage", ["is not a valid INI file"]),
])
def test_unreadable_credentials_file(emu, tmp_path, content, words):
    env = {k: v for k, v in emu.env.items() if k not in ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY")}
    credentials = tmp_path / "credentials.ini"
    if content is not None:
        credentials.write_text(content)
    source = write_config(tmp_path, f"regions: [cn-hangzhou]\ncredentials_file: {credentials}\n")
    proc = inventory(source, env, "--list")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "invalid option credentials_file" in proc.stderr and str(credentials) in proc.stderr
    for word in words:
        assert word in proc.stderr
    assert emu.stats()["total_calls"] == 0


MODULES = REPO_ROOT / "plugins" / "modules"


def test_targets_filters_select_the_same_hosts_as_the_inventory(emu, playbook):
    """An OOS Targets value as a play's host pattern, back to Targets, and as inventory filters."""
    targets = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "db"}], "RegionId": "cn-shanghai"}
    result = playbook("""
        - hosts: "{{ targets | alicloud.oos.targets_to_pattern }}"
          gather_facts: false
          tasks:
            - name: Keep what the test checks
              ansible.builtin.copy:
                dest: "{{ results_file }}"
                content: "{{ {'hosts': ansible_play_hosts_all,
                              'targets': ansible_play_hosts_all | map('extract', hostvars) | alicloud.oos.hosts_to_targets,
                              'filters': targets | alicloud.oos.targets_to_filters} | to_json }}"
              run_once: true
              delegate_to: localhost
        """, emu.env, extra_vars={"targets": targets}, inventory=DEMO)
    assert result.rc == 0, result.output
    expected = [i["InstanceId"] for i in emu.instances() if i["RegionId"] == "cn-shanghai" and i["Tags"]["App"] == "db"]
    assert expected and sorted(result.results["hosts"]) == sorted(expected)
    assert result.results["targets"]["Type"] == "ResourceIds" and result.results["targets"]["RegionId"] == "cn-shanghai"
    assert sorted(result.results["targets"]["ResourceIds"]) == sorted(expected)
    assert result.results["filters"] == {"tags": {"App": "db"}}


@pytest.mark.skipif(not ((MODULES / "oos_instance.py").exists() and (MODULES / "oos_run_command.py").exists()),
                    reason="needs the instance modules oos_instance and oos_run_command (instance-workflow issue)")
def test_playbook_over_inventory_group(emulator_factory, playbook, tmp_path):
    """A play over tag_Env_dev (one region) from the inventory runs a command on exactly those
    instances and stops them; serial and max_fail_percentage come from an OOS RateControl."""
    # Three regions so that cn-hangzhou holds both dev and prod instances.
    emu = emulator_factory("--instances", "24", "--regions", "cn-hangzhou,cn-shanghai,cn-beijing", "--seed", "3",
                           "--transition-seconds", "0.2")
    source = tmp_path / "fleet.ecs.yml"
    shutil.copy(DEMO, source)
    source.write_text(source.read_text().replace("[cn-hangzhou, cn-shanghai]", "[cn-hangzhou, cn-shanghai, cn-beijing]"))
    result = playbook("""
        - hosts: tag_Env_dev:&region_cn_hangzhou
          gather_facts: false
          vars:
            rate_control: {Mode: Concurrency, Concurrency: '50%', MaxErrors: 0}
            fleet_size: "{{ groups['tag_Env_dev'] | intersect(groups['region_cn_hangzhou']) | length }}"
            batch_ids: "{{ ansible_play_batch | map('extract', hostvars, 'instance_id') | list }}"
          serial: "{{ rate_control | alicloud.oos.rate_control_to_serial(fleet_size | int) }}"
          max_fail_percentage: "{{ rate_control | alicloud.oos.max_errors_to_fail_percentage(fleet_size | int) }}"
          tasks:
            - name: Run a command on the instances of this batch
              alicloud.oos.oos_run_command:
                instance_ids: "{{ batch_ids }}"
                command_content: echo hello
                region: "{{ region_id }}"
              run_once: true
              delegate_to: localhost
            - name: Stop them
              alicloud.oos.oos_instance:
                instance_ids: "{{ batch_ids }}"
                state: stopped
                region: "{{ region_id }}"
              run_once: true
              delegate_to: localhost
        """, emu.env, inventory=source)
    assert result.rc == 0, result.output
    truth = emu.instances()
    dev_hz = {i["InstanceId"] for i in truth if i["Tags"]["Env"] == "dev" and i["RegionId"] == "cn-hangzhou"}
    assert len(dev_hz) == 4
    assert {i["InstanceId"] for i in truth if i["Status"] == "Stopped"} == dev_hz
    invocations = emu.control("invocations")
    # serial '50%' of 4 hosts: two batches of 2, so two invocations of 2 instances each.
    assert sorted(len(inv["Instances"]) for inv in invocations) == [2, 2]
    assert {r["InstanceId"] for inv in invocations for r in inv["Instances"]} == dev_hz
    assert all(r["InvocationStatus"] == "Success" for inv in invocations for r in inv["Instances"])


@pytest.mark.skipif(not (MODULES / "oos_instance.py").exists(),
                    reason="needs the instance module oos_instance (instance-workflow issue)")
def test_module_targets_option_means_the_same_instances_as_the_inventory(emu, playbook, tmp_path):
    targets = {"Type": "Tags", "Tags": {"Env": "prod", "App": "web"}, "RegionId": "cn-shanghai"}
    result = playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance:
                targets: "{{ targets }}"
                region: "{{ targets.RegionId }}"
                state: present
              register: described
            - ansible.builtin.copy:
                dest: "{{ results_file }}"
                content: "{{ {'ids': described.instance_ids, 'filters': targets | alicloud.oos.targets_to_filters} | to_json }}"
        """, emu.env, extra_vars={"targets": targets})
    assert result.rc == 0, result.output
    source = write_config(tmp_path, f"regions: [cn-shanghai]\nfilters: {json.dumps(result.results['filters'])}\n")
    listed = inventory_list(source, emu.env)["_meta"]["hostvars"]
    assert listed and sorted(result.results["ids"]) == sorted(listed)
