# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: oos_api
short_description: Read-only Alibaba Cloud API calls inside expressions
version_added: 0.1.0
description:
  - Calls read-only API actions (C(Describe*), C(List*), C(Get*), C(Query*), C(Check*)) of any Alibaba Cloud product
    from the controller, with the options and selectors of M(alicloud.oos.oos_execute_api).
  - Returns, for each term, the value of O(value_selector) if set, else the result of O(query) if set, else the
    O(outputs) dict if set, else the whole response (every page merged).
  - Mutating actions are refused; use M(alicloud.oos.oos_execute_api) for them.
options:
  _terms:
    description: API action names, for example V(DescribeInstances).
    required: true
    type: list
    elements: str
  service:
    description: Product code, case-insensitive, for example V(ecs) or V(oos).
    type: str
    required: true
  parameters:
    description: API parameters (flattened like the SDK; see M(alicloud.oos.oos_execute_api)).
    type: dict
    default: {}
  version:
    description: API version (C(YYYY-MM-DD)); defaults to the product catalogue's version.
    type: str
  method:
    description: HTTP method.
    type: str
    choices: [POST, GET]
    default: POST
  auto_paging:
    description: Page through the results and merge every page.
    type: bool
    default: true
  list_path:
    description: Dotted path of the list to merge across pages (default every list of the first page).
    type: str
  value_selector:
    description:
      - jq program (OOS C(ValueSelector) syntax, leading dot optional) whose value is returned.
      - "The program sees only the document: builtins that read the controller (C(env), C($ENV), C(input), C(inputs),
        C(input_filename), C(import), C(include), C(debug), C(stderr), C(halt_error), C(localtime)...) are refused
        before anything is sent."
    type: str
  type:
    description: OOS output type of O(value_selector).
    type: str
    choices: [String, List, Json, Number, Boolean]
    default: String
  outputs:
    description: OOS outputs, a dict of name to C(value_selector) and C(type); the dict of their values is returned.
    type: dict
  query:
    description: JMESPath expression applied to the response; its result is returned.
    type: str
  wait_for:
    description: ACS::WaitFor spec, the suboptions of O(alicloud.oos.oos_execute_api#module:wait_for).
    type: dict
  check_for:
    description: ACS::CheckFor spec, the suboptions of O(alicloud.oos.oos_execute_api#module:check_for).
    type: dict
extends_documentation_fragment:
  - alicloud.oos.auth.plugins
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Ids of the running instances (jq, as in OOS templates)
  ansible.builtin.debug:
    msg: >-
      {{ lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ecs',
                parameters={'Status': 'Running'},
                value_selector='Instances.Instance[].InstanceId', type='List') }}

- name: The same with JMESPath
  ansible.builtin.set_fact:
    names: "{{ lookup('alicloud.oos.oos_api', 'DescribeInstances', service='ecs', query='Instances.Instance[].InstanceName') }}"
"""

RETURN = r"""
_raw:
  description: One value per term (see the description for which).
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.execute_api import execute, parse_request
from ansible_collections.alicloud.oos.plugins.module_utils.products import is_read_only
from ansible_collections.alicloud.oos.plugins.module_utils.selectors import compile_jq, select_output
from ansible_collections.alicloud.oos.plugins.plugin_utils.base import AlicloudPluginBase, set_options_strictly

REQUEST_OPTIONS = ("service", "parameters", "version", "method", "auto_paging", "list_path", "outputs", "query",
                   "wait_for", "check_for")


class LookupModule(AlicloudPluginBase, LookupBase):
    alicloud_error_class = AnsibleLookupError

    def run(self, terms, variables=None, **kwargs):
        set_options_strictly(self, AnsibleLookupError, variables, kwargs, terms=terms)
        results = []
        with self.alicloud_errors(prefix="alicloud.oos.oos_api"):
            auth = self.alicloud_auth()
            selector = self.get_option("value_selector")
            if selector is not None:
                compile_jq(selector, "value_selector")
            for term in terms:
                if not is_read_only(str(term)):
                    raise AlicloudInputError("_terms", f"{term!r} is not a read-only action (Describe*, List*, Get*, Query*, "
                                             "Check*); lookups never change resources, use alicloud.oos.oos_execute_api")
                options = {name: self.get_option(name) for name in REQUEST_OPTIONS}
                options["api"] = term
                request = parse_request(options, region=auth.region, endpoint=auth.endpoint)
                client = self.alicloud_client(request.service, version=request.version)
                result = execute(client, request)
                if selector is not None:
                    results.append(select_output(selector, result["response"], self.get_option("type"), "value_selector"))
                elif request.query is not None:
                    results.append(result["query_result"])
                elif request.outputs:
                    results.append(result["outputs"])
                else:
                    results.append(result["response"])
        return results
