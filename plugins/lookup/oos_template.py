# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup: convert an OOS template into a playbook (a list of plays), its YAML, survey or flowchart."""
from __future__ import annotations

DOCUMENTATION = r"""
name: oos_template
short_description: Convert an Alibaba Cloud OOS template into an Ansible playbook
version_added: 0.1.0
author: alicloud.oos contributors (!UNKNOWN)
description:
  - Reads an OOS template (FormatVersion OOS-2019-06-01, YAML or JSON) and returns the equivalent playbook
    as data (a list of plays), or as readable YAML, an AWX survey specification or a Mermaid flowchart.
  - The playbook is plain Ansible. Parameters are play variables checked by the first task, OOS C({{ }})
    references become Jinja over those variables and over the facts named after tasks, C(Fn::*) functions
    become Jinja expressions (C(alicloud.oos) filters where core has none), and each action becomes one
    module task; OnError, Choice and When become C(block)/C(rescue) and C(when).
  - Template text is data, never code, whatever it contains. Every string that comes from the template is
    written C(!unsafe) or quoted inside the Jinja the converter wrote; the only Jinja in the output is the
    converter's own.
  - A task OOS must run itself (an action with no Ansible counterpart, a product action with no local
    definition, a construct with no Ansible form, such as a Loop that pauses between batches) is delegated to
    OOS, a one-task execution through M(alicloud.oos.oos_execution), and the playbook header names it and why.
  - Templates larger than OOS's limit of 64 KB, or whose YAML aliases expand past 50,000 values, are refused.
  - An unsupported construct fails the lookup with one message listing every problem, each as
    C(unsupported <construct> at Tasks[i] (<task name>)).
  - See C(docs/converter.md) in the collection for the mapping of every OOS action and field.
options:
  _terms:
    description: Path of the template file. Leave empty and use O(content) to pass the template text.
    type: list
    elements: str
    required: false
  content:
    description: Template text (YAML or JSON) or an already-parsed template mapping, instead of a path.
    type: raw
  hosts:
    description:
      - Inventory pattern whose hosts are the template's targets. With it, C(ACS::SelectTargets) takes the
        instance ids of these hosts (from O(instance_id_var)) instead of calling DescribeInstances.
    type: str
  parameters:
    description: Parameter values baked into the playbook (extra vars still override them).
    type: dict
    default: {}
  action_templates_path:
    description:
      - Folder of cloud product action templates (C(ACS::<Product>::<Name>.yml)). A product action the converter
        does not map natively is inlined from its definition in this folder; without one, that task is delegated
        to OOS (a one-task execution through M(alicloud.oos.oos_execution)) and the playbook header names it.
    type: path
  template_paths:
    description: Folders searched for C(ACS::Template) C(TemplateName) as C(<name>.yml), C(.yaml) or C(.json).
    type: list
    elements: path
    default: []
  select_targets:
    description:
      - How C(ACS::SelectTargets) finds instances. V(auto) uses the inventory when O(hosts) is set, else the API.
    type: str
    choices: [auto, api, inventory]
    default: auto
  instance_id_var:
    description: Host variable that holds the ECS instance id of an inventory host (else the host name is used).
    type: str
    default: instance_id
  output:
    description:
      - V(plays) returns the list of plays; V(yaml) the playbook text (with the flowchart as a comment);
        V(survey) the AWX survey specification; V(mermaid) the flowchart; V(all) a mapping of the four.
    type: str
    choices: [plays, yaml, survey, mermaid, all]
    default: plays
  name:
    description: Name of the generated plays (default the template Description).
    type: str
  template_name:
    description:
      - OOS template name kept in the play variable C(oos_template_name), which the P(alicloud.oos.oos_audit#callback)
        callback records. Defaults to the file name without extension; unset for O(content) unless given.
    type: str
"""

EXAMPLES = r"""
- name: Convert a template and look at the plays
  ansible.builtin.debug:
    msg: "{{ lookup('alicloud.oos.oos_template', 'templates/reboot.yml', hosts='web',
                    parameters={'rateControl': {'Mode': 'Concurrency', 'Concurrency': 2, 'MaxErrors': 0}}) }}"

- name: Write the playbook, its survey and its flowchart
  ansible.builtin.copy:
    content: "{{ lookup('alicloud.oos.oos_template', 'templates/update-image.yml', output='yaml') }}"
    dest: update-image.yml
    mode: "0644"
"""

RETURN = r"""
_raw:
  description:
    - With O(output=plays) (the default), the list of plays. Otherwise the text, survey mapping or all four.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.alicloud.oos.plugins.plugin_utils.base import set_options_strictly, type_name
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.converter import ConversionError, convert
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import plain


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        set_options_strictly(self, AnsibleLookupError, variables, kwargs, terms=terms)
        content = self.get_option("content")
        if content is not None and not isinstance(content, str) and not hasattr(content, "items"):
            raise AnsibleLookupError(f"oos_template: option content must be the template text (a string) or a mapping, "
                                     f"got {type_name(content)}")
        paths = [str(t) for t in terms or []]
        if content is None and not paths:
            raise AnsibleLookupError("oos_template: give a template path or content=")
        if content is not None and paths:
            raise AnsibleLookupError("oos_template: give either a template path or content=, not both")
        sources = paths or [None]
        results = []
        for path in sources:
            if path is not None:
                found = self.find_file_in_search_path(variables or {}, "files", path, ignore_missing=True)
                path = found or path
            try:
                result = convert(
                    path=path, content=content, hosts=self.get_option("hosts"),
                    parameters=self.get_option("parameters"),
                    action_templates_path=self.get_option("action_templates_path"),
                    template_paths=self.get_option("template_paths"),
                    select_targets=self.get_option("select_targets"),
                    instance_id_var=self.get_option("instance_id_var"), name=self.get_option("name"),
                    template_name=self.get_option("template_name"))
                results.append(self._output(result, self.get_option("output"), path or ""))
            except ConversionError as error:
                raise AnsibleLookupError(f"oos_template: {path or 'content'}: {error}") from None
        return results

    @staticmethod
    def _output(result, output: str, source: str):
        # Data is returned without the converter's marks: Ansible treats lookup results as data already.
        if output == "plays":
            return result.data()
        if output == "yaml":
            return result.playbook_yaml(source)
        if output == "survey":
            return plain(result.survey)
        if output == "mermaid":
            return result.flowchart
        return {"plays": result.data(), "yaml": result.playbook_yaml(source), "survey": plain(result.survey),
                "mermaid": result.flowchart}
