# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clients for controller-side plugins (lookups, inventory, action plugins).

Plugins document the common options with ``extends_documentation_fragment: alicloud.oos.auth.plugins``
(same names as modules, with ``env:`` entries so the config system reads the same variables), then:

    class LookupModule(AlicloudPluginBase, LookupBase):
        def run(self, terms, variables=None, **kwargs):
            self.set_options(var_options=variables, direct=kwargs)
            with self.alicloud_errors():           # AlicloudError/InputError -> AnsibleLookupError
                ecs = self.alicloud_client("ecs")
                ...

``alicloud_auth()`` builds the ``AuthSettings`` from ``get_option()`` values via
``auth.resolve_auth`` (env fallbacks apply again, so plugins that cannot declare ``env:`` still work).
``auth_settings_from_options(get_option)`` and ``raise_as_ansible_error(error, error_class)`` are the
same steps as plain functions for plugins that cannot use the mixin.
"""
from __future__ import annotations

import contextlib

from ansible import constants as C
from ansible.errors import AnsibleError

from ansible_collections.alicloud.oos.plugins.module_utils.auth import AUTH_OPTIONS, resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import AlicloudClient
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError


class AlicloudPluginError(AnsibleError):
    """A failed call or bad option in a controller-side plugin, with the same clear message as modules."""

    def __init__(self, message, error=None):
        super().__init__(message)
        self.error = error
        self.details = error.to_dict() if error is not None else {}


def auth_settings_from_options(get_option):
    """``AuthSettings`` from a plugin's ``get_option`` (options that the plugin does not declare are skipped)."""
    options = {}
    for name in AUTH_OPTIONS:
        try:
            options[name] = get_option(name)
        except KeyError:
            options[name] = None
        except AnsibleError as exc:
            # Unknown option for this plugin's config definition.
            if "Requested entry" in str(exc) or "not found" in str(exc):
                options[name] = None
            else:
                raise
    return resolve_auth(options)


def raise_as_ansible_error(error, error_class=AlicloudPluginError, prefix=None):
    """Raise ``error`` (AlicloudError/AlicloudInputError) as ``error_class`` with the module-style message."""
    message = error.to_dict()["msg"] if isinstance(error, (AlicloudError, AlicloudInputError)) else str(error)
    if prefix:
        message = f"{prefix}: {message}"
    if issubclass(error_class, AlicloudPluginError):
        raise error_class(message, error if isinstance(error, (AlicloudError, AlicloudInputError)) else None) from None
    raise error_class(message) from None


def set_options_strictly(plugin, error_class, variables=None, direct=None) -> None:
    """``plugin.set_options`` that refuses keyword options the plugin does not document.

    ansible-core silently drops unknown ``direct`` keys, so a misspelt lookup option would be ignored
    and the call sent without it.
    """
    known = C.config.get_configuration_definitions(plugin.plugin_type, plugin._load_name) or {}
    unknown = sorted(set(direct or {}) - set(known))
    if unknown:
        raise error_class(f"{plugin._load_name}: unknown option(s) {', '.join(unknown)}; "
                          f"supported: {', '.join(sorted(known))}")
    plugin.set_options(var_options=variables, direct=direct)


class AlicloudPluginBase:
    """Mixin for plugins that have ``get_option`` (LookupBase, BaseInventoryPlugin, ActionBase with options)."""

    alicloud_error_class = AlicloudPluginError
    _alicloud_auth = None

    def alicloud_auth(self, refresh=False):
        if self._alicloud_auth is None or refresh:
            self._alicloud_auth = auth_settings_from_options(self.get_option)
        return self._alicloud_auth

    def alicloud_client(self, product, region=None, version=None, endpoint=None, retry=None) -> AlicloudClient:
        return AlicloudClient(self.alicloud_auth(), product, region=region, version=version, endpoint=endpoint,
                              retry=retry)

    @contextlib.contextmanager
    def alicloud_errors(self, prefix=None):
        """Turn ``AlicloudError``/``AlicloudInputError`` into ``alicloud_error_class`` (no traceback)."""
        try:
            yield
        except (AlicloudError, AlicloudInputError) as error:
            raise_as_ansible_error(error, self.alicloud_error_class, prefix)
