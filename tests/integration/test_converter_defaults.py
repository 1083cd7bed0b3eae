"""A parameter Default OOS would refuse is refused as OOS refuses it: at conversion when it is written in the
template, before anything is sent when the run computes it (``{{ ACS::RegionId }}``)."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import convert
from tests.conftest import run_playbook
from tests.integration.test_converter import convert_with_playbook

STATIC = """
FormatVersion: OOS-2019-06-01
Parameters:
  language: {Type: String, Default: x, AllowedValues: [en-US, zh-CN]}
  name: {Type: String, Default: web, AllowedPattern: '(['}
Tasks:
- Name: describe
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: DescribeRegions, Parameters: {AcceptLanguage: '{{ language }}'}}
"""

COMPUTED = """
FormatVersion: OOS-2019-06-01
Parameters:
  region: {Type: String, Default: '{{ ACS::RegionId }}', AllowedValues: [cn-beijing, cn-shanghai]}
Tasks:
- Name: describe
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: DescribeRegions, Parameters: {AcceptLanguage: en-US}}
  Outputs:
    asked: {Type: String, Value: '{{ region }}'}
Outputs:
  asked: {Type: String, Value: '{{ describe.asked }}'}
"""


def test_a_default_outside_its_constraints_is_refused_at_conversion(tmp_path):
    src, dest = tmp_path / "template.yml", tmp_path / "playbook.yml"
    src.write_text(STATIC)
    proc = convert_with_playbook(src, dest)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Parameters.language.Default: 'x' is not one of en-US, zh-CN" in output, output[-3000:]
    assert "Parameters.name.AllowedPattern '([' is not a regular expression" in output, output[-3000:]
    assert "Traceback" not in output and not dest.exists()


@pytest.mark.heavy(20)
def test_a_computed_default_outside_its_constraints_stops_the_run_before_any_call(tmp_path, emulator):
    converted = convert(content=COMPUTED)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(converted.playbook_yaml("computed"))
    refused = run_playbook(playbook, emulator.env)   # ACS::RegionId is the emulator's cn-hangzhou
    assert refused.rc != 0, refused.output[-3000:]
    assert "parameter region: 'cn-hangzhou' is not one of cn-beijing, cn-shanghai" in refused.output, refused.output[-3000:]
    assert "DescribeRegions" not in [r["action"] for r in emulator.control("requests")]
    given = run_playbook(playbook, emulator.env, extra_vars={"region": "cn-beijing"})
    assert given.rc == 0, given.output[-3000:]
    assert "DescribeRegions" in [r["action"] for r in emulator.control("requests")]
    assert "Traceback" not in refused.output + given.output
