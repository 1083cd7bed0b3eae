# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's data as plain Python.

ansible-core 2.19 hands plugins tagged and lazy containers (``_AnsibleTaggedStr``, lazy dicts, ``!unsafe``
markers): JSON files, hashing, validators and libraries such as libyaml and jq want ordinary ``str``,
``int``, ``dict`` and ``list``. Anything else (a date, a custom object) becomes its text.
"""
from __future__ import annotations

from collections.abc import Mapping


def plain(value):
    """``value`` with every container and string made a plain ``dict``/``list``/``str``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping) or hasattr(value, "items"):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return str(value)
