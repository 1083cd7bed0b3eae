"""Instance selection a user reaches for: tags and filters on every instance module, "nothing matched" as
nothing to do, oos_instance_info, and the command output as `stdout`/`stdout_lines`/`rc`."""
from __future__ import annotations

import pytest

from tests.conftest import run_playbook, start_emulator


@pytest.fixture(scope="module")
def shared():
    emu = start_emulator("--instances", "12", "--seed", "7", "--transition-seconds", "0.2")
    emu.extra_env.update({"ALICLOUD_API_RETRY_DELAY": "0.02"})
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(shared):
    shared.reset(instances=12, seed=7)
    for instance in shared.instances():
        if instance["Status"] != "Running":
            shared.control(f"instances/{instance['InstanceId']}/status", {"Status": "Running"}, method="POST")
    return shared


def play(emu, text, **kwargs):
    result = run_playbook(text, emu.env, **kwargs)
    assert "Traceback" not in result.output, result.output[-3000:]
    return result


def tagged(emu, **tags):
    return sorted(i["InstanceId"] for i in emu.instances()
                  if all(i["Tags"].get(k) == v for k, v in tags.items()))


def test_tags_and_filters_select_what_they_say_and_nothing_matched_is_ok(emu):
    dev_web = tagged(emu, Env="dev", App="web")
    assert dev_web and len(dev_web) < 12
    result = play(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Stop the dev web servers
              alicloud.oos.oos_instance: {tags: {Env: dev, App: web}, filters: {Status: Running}, state: stopped}
              register: stopped
            - name: A tag nobody carries
              alicloud.oos.oos_instance: {tags: {Env: nowhere}, state: stopped}
              register: nothing
            - name: Nobody, run a command
              alicloud.oos.oos_run_command: {tags: {Env: nowhere}, command_content: echo hi}
              register: nothing_run
            - name: An OOS Tags target nobody matches
              alicloud.oos.oos_run_command:
                targets: {Type: Tags, Tags: [{Key: nobody, Value: matches}]}
                command_content: echo hi
              register: nothing_target
            - ansible.builtin.copy:
                content: "{{ {'stopped': stopped, 'nothing': nothing, 'nothing_run': nothing_run,
                              'nothing_target': nothing_target} | to_json }}"
                dest: "{{ results_file }}"
    """)
    assert result.rc == 0, result.output[-3000:]
    out = result.results
    assert sorted(out["stopped"]["instance_ids"]) == dev_web and out["stopped"]["changed"] is True
    assert sorted(m["instance_id"] for m in emu.control("mutations")) == dev_web
    for key in ("nothing", "nothing_run", "nothing_target"):
        assert out[key]["changed"] is False and not out[key].get("failed")
        assert "no instance matched" in out[key]["msg"]
    assert "Env" in out["nothing"]["msg"] and "nobody" in out["nothing_target"]["msg"]
    assert {i["InstanceId"]: i["Status"] for i in emu.instances() if i["InstanceId"] in dev_web} == \
        {iid: "Stopped" for iid in dev_web}


def test_fail_on_no_match_and_bad_filters_name_the_option(emu):
    before = emu.stats()["total_calls"]
    result = play(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance: {tags: {Env: nowhere}, state: stopped, fail_on_no_match: true}
    """)
    assert result.rc == 2 and "filters match no instance" in result.output and "tag Env=nowhere" in result.output
    result = play(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance: {filters: {Colour: blue}, state: stopped}
    """)
    assert result.rc == 2 and "filters.Colour" in result.output and "valid keys are" in result.output
    result = play(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance: {filters: {tags: {App: web}}, tags: {Env: dev}, state: stopped}
    """)
    assert result.rc == 2 and "tags either in filters.tags or in tags" in result.output
    for empty in ("tags: {}", "filters: {tags: {}}", "filters: {}", "tags: {Env: ''}"):
        result = play(emu, f"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - alicloud.oos.oos_instance: {{{empty}, state: stopped}}
                - alicloud.oos.oos_instance_info: {{{empty}}}
        """)
        # An empty query would select the whole region: refused, naming the option.
        assert result.rc == 2 and ("is empty" in result.output or "empty string" in result.output), result.output[-2000:]
    assert emu.control("mutations") == []
    # The bad inputs sent nothing; the no-match query sent only its DescribeInstances.
    assert emu.stats()["mutating_calls"] == 0 and emu.stats()["total_calls"] - before <= 2


def test_instance_info_by_tags_filters_ids_and_all(emu):
    prod = tagged(emu, Env="prod")
    one = prod[0]
    result = play(emu, f"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance_info: {{tags: {{Env: prod}}}}
              register: by_tag
            - alicloud.oos.oos_instance_info: {{filters: {{InstanceIds: ['{one}']}}}}
              register: by_filter
            - alicloud.oos.oos_instance_info: {{instance_ids: ['{one}']}}
              register: by_id
            - alicloud.oos.oos_instance_info: {{}}
              register: everything
            - alicloud.oos.oos_instance_info: {{tags: {{Env: nowhere}}}}
              register: nothing
              check_mode: true
            - ansible.builtin.copy:
                content: "{{{{ dict(by_tag=by_tag, by_filter=by_filter, by_id=by_id, everything=everything,
                                    nothing=nothing) | to_json }}}}"
                dest: "{{{{ results_file }}}}"
    """)
    assert result.rc == 0, result.output[-3000:]
    out = result.results
    assert sorted(out["by_tag"]["instance_ids"]) == prod
    assert all(i["tags"]["Env"] == "prod" for i in out["by_tag"]["instances"])
    assert out["by_filter"]["instance_ids"] == [one] == out["by_id"]["instance_ids"]
    assert out["by_id"]["instances"][0]["status"] == "Running" and out["by_id"]["instances"][0]["private_ip"]
    assert len(out["everything"]["instances"]) == 12 and not out["everything"]["changed"]
    assert out["nothing"]["instances"] == [] and not out["nothing"].get("failed")
    unknown = play(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - alicloud.oos.oos_instance_info: {instance_ids: [i-doesnotexist000000]}
    """)
    assert unknown.rc == 2 and "instance_ids" in unknown.output and "i-doesnotexist000000" in unknown.output


def test_run_command_returns_stdout_stdout_lines_and_rc(emu, tmp_path):
    one, two = tagged(emu, Env="dev")[:2]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"[web]\nw1 instance_id={one}\nw2 instance_id={two}\n\n[web:vars]\nansible_connection=local\n")
    result = play(emu, f"""
        - hosts: web
          gather_facts: false
          tasks:
            - alicloud.oos.oos_run_command:
                command_content: "echo first-{{{{ inventory_hostname }}}}; echo second >&2; exit 3"
                fail_on_nonzero: false
              register: ran
            - alicloud.oos.oos_run_command:
                instance_id: '{one}'
                command_content: printf 'a\\nb\\n'
              register: single
              delegate_to: localhost
              run_once: true
            - ansible.builtin.copy:
                content: "{{{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ran')))
                              | combine({{'single': single}}) | to_json }}}}"
                dest: "{{{{ results_file }}}}"
              delegate_to: localhost
              run_once: true
    """, inventory=inventory)
    assert result.rc == 0, result.output[-3000:]
    for host in ("w1", "w2"):
        ran = result.results[host]
        assert ran["rc"] == 3 and ran["stdout_lines"] == [f"first-{host}", "second"]
        assert ran["results"][0]["rc"] == 3 and ran["results"][0]["stdout"] == ran["stdout"]
    single = result.results["single"]
    assert single["stdout"] == "a\nb\n" and single["stdout_lines"] == ["a", "b"] and single["rc"] == 0
