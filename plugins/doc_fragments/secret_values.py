# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``alicloud.oos.secret_values``: values every module masks in what it returns (``module_utils.modules``)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  secret_values:
    description:
      - Secret values to mask (as C(********)) wherever they appear in what the task returns, its failure message
        included, for secrets that reach the module inside other options (a URI, a script, a selector, a header).
      - Playbooks converted from OOS templates pass the values of the template's NoEcho and secret parameters,
        as ansible-core 2.19 prints the message of a failed C(no_log) task.
      - A value shorter than 6 characters is masked only here (under O(secret_values)), not inside other text,
        where it would match inside identifiers.
    type: list
    elements: str
    default: []
"""
