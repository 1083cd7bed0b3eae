"""docs/reliability.md is generated from the case table the suite runs: it cannot drift."""
from __future__ import annotations

from tests.reliability import cases, test_commands, test_outages, test_update_image


def test_doc_matches_the_case_table():
    expected = cases.render()
    assert cases.DOC.read_text() == expected, (
        "docs/reliability.md is stale: regenerate it with python -m tests.reliability.cases > docs/reliability.md")


def test_every_documented_case_is_a_test():
    tests = {name for module in (test_commands, test_outages, test_update_image) for name in dir(module)
             if name.startswith("test_")}
    assert {test for test, _, _ in cases.OTHER_CASES} == tests
