"""OOS control flow (OnSuccess, OnError, Choice: forward jumps only) as the ``when:`` of each task.

OOS checks that every jump goes forward, so the tasks form a DAG in template order and a task runs when
some path reaches it. A path is written with the facts the branching tasks set: a Choice sets
``<choice>_next`` to the task it picked, a task with an OnError task records ``<task>_failed`` when it
fails. Tasks no jump leaves or skips need no condition at all; :func:`conditions` simplifies what it can
(the outcomes of one branching task together are always true).
"""
from __future__ import annotations

from dataclasses import dataclass

END = "ACS::END"


@dataclass
class Branch:
    fact: str          # the variable its atoms read
    outcomes: tuple    # every value the atom can take
    kind: str          # "choice" (fact == target) or "error" (ok / failed)


def _simplify(terms: set, branches: dict) -> set:
    """Drop terms implied by others; merge terms that differ only by every outcome of one branch."""
    changed = True
    while changed:
        changed = False
        if frozenset() in terms:
            return {frozenset()}
        for term in list(terms):
            for atom in term:
                branch, _outcome = atom
                rest = term - {atom}
                siblings = {frozenset(rest | {(branch, o)}) for o in branches[branch].outcomes}
                if siblings <= terms:
                    terms = (terms - siblings) | {frozenset(rest)}
                    changed = True
                    break
            if changed:
                break
        minimal = {t for t in terms if not any(other < t for other in terms)}
        if minimal != terms:
            terms, changed = minimal, True
    return terms


def conditions(edges: dict, count: int, branches: dict) -> list:
    """For tasks 0..count-1: the set of terms (each a frozenset of (branch index, outcome)) under which it runs.

    ``edges[i]`` lists (target index, atom or None) for task i: where the flow goes after it.
    """
    reach = [set() for _index in range(count)]
    reach[0] = {frozenset()}
    for index in range(count):
        reach[index] = _simplify(reach[index], branches)
        for target, atom in edges.get(index, []):
            if target is None or target >= count:
                continue
            for term in reach[index]:
                reach[target].add(frozenset(term | {atom}) if atom else term)
    return reach


def render(terms: set, branches: dict) -> str | None:
    """A Jinja test for ``when:`` (None when the task always runs, 'false' when nothing reaches it)."""
    if terms == {frozenset()}:
        return None
    if not terms:
        return "false"

    def atom_text(atom) -> str:
        branch, outcome = atom
        spec = branches[branch]
        if spec.kind == "error":
            return f"{spec.fact} is defined" if outcome == "failed" else f"{spec.fact} is not defined"
        return f"{spec.fact} | default('') == '{outcome}'"

    parts = []
    for term in sorted(terms, key=lambda t: sorted(map(str, t))):
        texts = [atom_text(a) for a in sorted(term, key=str)]
        parts.append(" and ".join(texts) if len(terms) == 1 or len(texts) == 1 else "(" + " and ".join(texts) + ")")
    return " or ".join(parts)
