"""docs/reliability.md is generated from the case tables the suite runs and from the mutating-API table the
client consults: it cannot drift."""
from __future__ import annotations

from tests.reliability import cases, test_commands, test_lost_answers, test_outages, test_update_image


def test_doc_matches_the_case_table():
    expected = cases.render()
    assert cases.DOC.read_text() == expected, (
        "docs/reliability.md is stale: regenerate it with python -m tests.reliability.cases > docs/reliability.md")


def test_every_documented_case_is_a_test():
    tests = {name for module in (test_commands, test_outages, test_update_image) for name in dir(module)
             if name.startswith("test_")}
    assert {test for test, _unused, _unused in cases.OTHER_CASES} == tests
    lost = {name for name in dir(test_lost_answers) if name.startswith("test_")}
    assert {test for test, _unused, _unused in cases.LOST_ANSWER_TESTS} == lost - {"test_power_change_whose_answer_is_lost"}


def test_the_doc_shows_the_table_the_client_consults():
    from ansible_collections.alicloud.oos.plugins.module_utils import mutating_apis

    text = cases.DOC.read_text()
    assert mutating_apis.markdown_table() in text
    assert all(f"`{api.action}`" in text for api in mutating_apis.MUTATING_APIS)
