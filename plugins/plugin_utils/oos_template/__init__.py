"""Convert Alibaba Cloud OOS templates (FormatVersion OOS-2019-06-01) into Ansible playbooks.

Two halves share this package:

* conversion (``loader``, ``checks``, ``generator``, ``natural`` and its ``natural_*`` parts, ``flow``,
  ``delegation``, ``actions``, ``product_actions``, ``survey``, ``mermaid``, ``text``, ``dumper``): pure Python that
  turns template text into a list of plays. It never evaluates template text.
* run time (``filters``, ``runtime``, ``functions``, ``parameters``): what the converted playbooks call through the
  ``alicloud.oos`` filter plugins where core Ansible has nothing (jq selectors, OOS functions, parameter checks,
  typed outputs, OOS's failure wording, masking).
"""
