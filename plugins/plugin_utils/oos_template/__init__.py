"""Convert Alibaba Cloud OOS templates (FormatVersion OOS-2019-06-01) into Ansible playbooks.

Two halves share this package:

* conversion (``loader``, ``validation``, ``generator``, ``actions``, ``survey``, ``mermaid``, ``dumper``):
  pure Python that turns template text into a list of plays. It never evaluates template text.
* run time (``runtime``, ``functions``, ``parameters``): what the generated playbooks call through the
  ``alicloud.oos`` filter plugins to resolve ``{{ }}`` references and ``Fn::*`` functions the way OOS does.
"""
