"""Common options: one table, env precedence, validation, and the generated doc fragments."""
from __future__ import annotations

import yaml
import pytest

from ansible_collections.alicloud.oos.plugins.doc_fragments.auth import ModuleDocFragment
from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS, auth_argument_spec, resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError


def test_both_env_naming_schemes_and_their_precedence():
    official = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id-b", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sec-b",
                "ALIBABA_CLOUD_SECURITY_TOKEN": "tok-b", "ALIBABA_CLOUD_REGION_ID": "cn-shanghai",
                "ALIBABA_CLOUD_PROFILE": "p-b"}
    auth = resolve_auth({}, official)
    assert (auth.access_key, auth.secret_key, auth.security_token, auth.region, auth.profile) == \
        ("id-b", "sec-b", "tok-b", "cn-shanghai", "p-b")
    legacy = dict(official, ALICLOUD_ACCESS_KEY="id-a", ALICLOUD_SECRET_KEY="sec-a", ALICLOUD_SECURITY_TOKEN="tok-a",
                  ALICLOUD_REGION="cn-beijing", ALICLOUD_PROFILE="p-a", ALICLOUD_ENDPOINT="http://127.0.0.1:9")
    auth = resolve_auth({}, legacy)
    assert (auth.access_key, auth.secret_key, auth.region, auth.profile, auth.endpoint) == \
        ("id-a", "sec-a", "cn-beijing", "p-a", "http://127.0.0.1:9")
    auth = resolve_auth({"access_key": "id-o", "secret_key": "sec-o", "region_id": "cn-qingdao"}, legacy)
    assert (auth.access_key, auth.secret_key, auth.region) == ("id-o", "sec-o", "cn-qingdao")


def test_secrets_are_hidden_from_repr_and_listed_for_redaction():
    auth = resolve_auth({"access_key": "AKID", "secret_key": "TOPSECRET", "security_token": "STSTOKEN"}, {})
    assert "TOPSECRET" not in repr(auth) and "STSTOKEN" not in repr(auth)
    assert set(auth.secrets) == {"TOPSECRET", "STSTOKEN"}


@pytest.mark.parametrize("options, field", [
    ({"access_key": "AKID"}, "secret_key"),
    ({"secret_key": "x"}, "access_key"),
    ({"security_token": "t"}, "security_token"),
    ({"endpoint": "ftp://host"}, "endpoint"),
    ({"endpoint": "http://host/path"}, "endpoint"),
    ({"api_retries": 0}, "api_retries"),
    ({"api_retries": "many"}, "api_retries"),
    ({"validate_certs": "perhaps"}, "validate_certs"),
    ({"credentials_file": "/nonexistent/credentials.ini"}, "credentials_file"),
])
def test_bad_common_options_name_the_option(options, field):
    with pytest.raises(AlicloudInputError) as info:
        resolve_auth(options, {})
    assert info.value.field == field


def test_retry_options_build_the_policy():
    auth = resolve_auth({}, {"ALICLOUD_API_RETRIES": "3", "ALICLOUD_API_RETRY_DELAY": "0.01"})
    assert auth.retry.attempts == 3 and auth.retry.base_delay == 0.01


def test_argument_spec_uses_env_fallback_and_no_log():
    spec = auth_argument_spec()
    assert spec["secret_key"]["no_log"] is True and spec["security_token"]["no_log"] is True
    assert spec["access_key"]["no_log"] is False
    assert spec["access_key"]["fallback"][1] == ["ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID"]
    assert set(spec) == set(AUTH_OPTIONS)


def test_doc_fragments_are_generated_from_the_table():
    modules = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    plugins = yaml.safe_load(ModuleDocFragment.PLUGINS)["options"]
    assert set(modules) == set(plugins) == set(AUTH_OPTIONS)
    for name, option in AUTH_OPTIONS.items():
        assert modules[name]["type"] == plugins[name]["type"] == option["type"]
        assert "env" not in modules[name]
        # Ansible's config system lets the LAST set variable win: listed reversed, ALICLOUD_* still wins.
        assert [e["name"] for e in plugins[name].get("env", [])] == list(reversed(option.get("env", [])))
