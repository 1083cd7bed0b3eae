# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Common options of every module and plugin, generated from ``module_utils.auth.AUTH_OPTIONS``.

``alicloud.oos.auth`` (modules: environment read through ``env_fallback``),
``alicloud.oos.auth.plugins`` (same options with ``env:`` entries for the plugin config system) and
``alicloud.oos.auth.connection`` (plugins fragment plus host variables ``ansible_cloud_assistant_<option>``;
the region also from ``region_id``, the host variable of the ``alicloud.oos.ecs`` inventory).
"""
from __future__ import annotations

import yaml

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS

_PRECEDENCE = [
    "Credentials are taken from the first of these that applies.",
    "1. O(access_key) and O(secret_key) (and O(security_token)).",
    "2. C(ALICLOUD_ACCESS_KEY), C(ALICLOUD_SECRET_KEY), C(ALICLOUD_SECURITY_TOKEN); "
    "then C(ALIBABA_CLOUD_ACCESS_KEY_ID), C(ALIBABA_CLOUD_ACCESS_KEY_SECRET), C(ALIBABA_CLOUD_SECURITY_TOKEN).",
    "3. O(profile) and/or O(credentials_file): the INI credentials file (default C(~/.alibabacloud/credentials.ini)), "
    "else the Aliyun CLI file C(~/.aliyun/config.json).",
    "4. The C(alibabacloud-credentials) default chain (OIDC, CLI config, credentials file, ECS RAM role, credentials URI).",
    "Then O(ram_role_arn), if set, is assumed with those credentials.",
    "For every option the explicit value wins over C(ALICLOUD_*) variables, which win over C(ALIBABA_CLOUD_*) variables.",
]


CONNECTION_VARS_PREFIX = "ansible_cloud_assistant_"
# Host variables read before the prefixed one (the last one set wins).
CONNECTION_EXTRA_VARS = {"region": ["region_id"]}


def _fragment(with_env: bool, vars_prefix: str | None = None) -> str:
    options = {}
    for name, spec in AUTH_OPTIONS.items():
        description = list(spec["description"])
        if spec.get("env") and not with_env:
            description.append("Environment: " + ", ".join(f"C({v})" for v in spec["env"]) + " (first one set wins).")
        doc = {"description": description, "type": spec["type"]}
        if spec.get("aliases"):
            doc["aliases"] = list(spec["aliases"])
        if "default" in spec:
            doc["default"] = spec["default"]
        if with_env and spec.get("env"):
            # Ansible's config system lets the LAST set variable win; modules let the first win.
            doc["env"] = [{"name": v} for v in reversed(spec["env"])]
        if vars_prefix:
            doc["vars"] = [{"name": v} for v in CONNECTION_EXTRA_VARS.get(name, []) + [f"{vars_prefix}{name}"]]
        options[name] = doc
    return yaml.safe_dump({"notes": _PRECEDENCE, "requirements": ["alibabacloud-tea-openapi >= 0.4.6",
                                                                  "alibabacloud-credentials >= 1.0.12"],
                           "options": options}, sort_keys=False, width=120)


class ModuleDocFragment:
    DOCUMENTATION = _fragment(with_env=False)
    MODULES = DOCUMENTATION
    PLUGINS = _fragment(with_env=True)
    CONNECTION = _fragment(with_env=True, vars_prefix=CONNECTION_VARS_PREFIX)
