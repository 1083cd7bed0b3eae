"""The documented options of oos_execute_api are exactly its argument spec (names, types, defaults, choices)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.alicloud.oos.plugins.module_utils.auth import auth_argument_spec
from ansible_collections.alicloud.oos.plugins.module_utils.modules import SECRET_VALUES_SPEC
from ansible_collections.alicloud.oos.plugins.module_utils.execute_api import execute_api_argument_spec

REPO = Path(__file__).resolve().parents[4]


def ansible_doc(plugin_type, name):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", plugin_type, "--json", name],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[name]["doc"]


def compare(spec, documented, where):
    assert set(spec) == set(documented), where
    for name, entry in spec.items():
        doc = documented[name]
        assert doc.get("type", "str") == entry.get("type", "str"), f"{where}.{name} type"
        assert doc.get("default") == entry.get("default"), f"{where}.{name} default"
        assert doc.get("choices") == entry.get("choices"), f"{where}.{name} choices"
        assert bool(doc.get("required")) == bool(entry.get("required")), f"{where}.{name} required"
        assert sorted(doc.get("aliases", [])) == sorted(entry.get("aliases", [])), f"{where}.{name} aliases"
        if "options" in entry:
            compare(entry["options"], doc["suboptions"], f"{where}.{name}")


def test_module_docs_match_the_argument_spec():
    spec = auth_argument_spec()
    spec.update(SECRET_VALUES_SPEC)
    spec.update(execute_api_argument_spec())
    doc = ansible_doc("module", "alicloud.oos.oos_execute_api")
    compare(spec, doc["options"], "oos_execute_api")


def test_lookup_docs_render_with_env_entries():
    doc = ansible_doc("lookup", "alicloud.oos.oos_api")
    # The last variable set wins in Ansible's config system, so ALICLOUD_SECRET_KEY (listed last) has precedence.
    assert [e["name"] for e in doc["options"]["secret_key"]["env"]] == ["ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"]
    assert doc["options"]["service"]["required"] is True
