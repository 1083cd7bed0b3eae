"""plugin_utils.base: plugins build the same AuthSettings and raise AnsibleError subclasses with module-style messages."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleError, AnsibleLookupError

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.plugin_utils.base import (
    AlicloudPluginBase,
    AlicloudPluginError,
    auth_settings_from_options,
    raise_as_ansible_error,
)


class FakePlugin(AlicloudPluginBase):
    def __init__(self, options):
        self.options = options

    def get_option(self, name):
        if name not in self.options:
            raise KeyError(name)
        return self.options[name]


def test_options_become_auth_settings_and_clients(monkeypatch):
    for name in ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_REGION", "ALICLOUD_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    plugin = FakePlugin({"access_key": "id", "secret_key": "s", "region": "cn-shanghai", "endpoint": "http://127.0.0.1:1"})
    auth = plugin.alicloud_auth()
    assert (auth.access_key, auth.region) == ("id", "cn-shanghai")
    client = plugin.alicloud_client("ecs")
    assert client.endpoint.host == "127.0.0.1:1" and client.region == "cn-shanghai"
    assert auth_settings_from_options(FakePlugin({}).get_option).validate_certs is True


def test_errors_become_ansible_errors_with_the_same_message():
    plugin = FakePlugin({"access_key": "id"})
    with pytest.raises(AlicloudPluginError) as info:
        with plugin.alicloud_errors():
            plugin.alicloud_auth()
    assert "secret_key" in str(info.value) and isinstance(info.value, AnsibleError)
    with pytest.raises(AnsibleLookupError) as info:
        raise_as_ansible_error(AlicloudError("boom", code="Throttling", product="ecs", action="DescribeInstances"),
                               AnsibleLookupError, prefix="alicloud.oos.oos_api")
    assert str(info.value).startswith("alicloud.oos.oos_api: ECS DescribeInstances failed [Throttling] boom")
    with pytest.raises(AlicloudPluginError) as info:
        raise_as_ansible_error(AlicloudInputError("query", "bad"))
    assert info.value.details["invalid_option"] == "query"
