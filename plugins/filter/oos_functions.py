# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OOS intrinsic functions and the run time of converted OOS templates, as filters."""
from __future__ import annotations

DOCUMENTATION = r"""
name: oos_functions
short_description: OOS intrinsic functions (Fn::*), jq selectors and the run time of converted templates
version_added: 0.1.0
author: alicloud.oos contributors
description:
  - C(alicloud.oos.jq) runs a jq program the way OOS ValueSelectors do (leading dot optional) and returns
    every result as a list; C(alicloud.oos.jq_first) returns the first result.
  - "One filter per OOS intrinsic function, named C(fn_<function>) in lower case, taking the function's
    argument as its input: C([a, b] | alicloud.oos.fn_equals), C(['-', items] | alicloud.oos.fn_join),
    C(['First', '.a', data] | alicloud.oos.fn_jq). Available: fn_equals, fn_not, fn_and, fn_or, fn_if, fn_jq,
    fn_select, fn_join, fn_split, fn_replace, fn_base64encode, fn_base64decode, fn_mergelist, fn_mergemap,
    fn_mergemaptolist, fn_convertmaptolist, fn_listjoin, fn_min, fn_max, fn_sum, fn_first, fn_last,
    fn_intersection, fn_union, fn_difference, fn_calculatebatch, fn_formatutctime, fn_addhour,
    fn_durationbetween, fn_sub, fn_containssubstring, fn_rangeselect, fn_mapjoin, fn_eval."
  - C(alicloud.oos.oos_fn) is the dispatcher, C({'Fn::Join': ['-', items]} | alicloud.oos.oos_fn), and accepts
    nested functions.
  - C(alicloud.oos.oos_render) resolves OOS C({{ name }}) references and C(Fn::*) functions in a template
    fragment against an execution context, in Python; the fragment is never evaluated as Jinja. The
    other C(oos_*) filters are the run time used by playbooks that M(alicloud.oos.oos_template) lookup
    generates; see docs/converter.md.
positional: _input
options:
  _input:
    description: The function argument, or the value to filter.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Join and select like an OOS template
  ansible.builtin.debug:
    msg:
      - "{{ ['-', ['a', 'b']] | alicloud.oos.fn_join }}"                     # a-b
      - "{{ ['type', {'type': 'cron'}] | alicloud.oos.fn_select }}"           # cron
      - "{{ response | alicloud.oos.jq('Instances.Instance[].InstanceId') }}" # a list
      - "{{ {'Fn::If': [true, 'yes', 'no']} | alicloud.oos.oos_fn }}"        # yes

- name: Resolve OOS references against your own context
  ansible.builtin.debug:
    msg: "{{ 'Snapshot-{{ name }}' | alicloud.oos.oos_render({'parameters': {'name': 'web'}}) }}"
"""

RETURN = r"""
_value:
  description: The function result (any type), or for the run-time filters the new execution context.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import filters as impl


class FilterModule:
    """alicloud.oos intrinsic functions and converted-template run time."""

    def filters(self):
        return impl.all_filters(AnsibleFilterError)
