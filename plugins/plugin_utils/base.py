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


def set_options_strictly(plugin, error_class, variables=None, direct=None, terms=None) -> None:
    """``plugin.set_options`` that refuses keyword options the plugin does not document, and values
    (and lookup ``terms``) that are not of the documented type.

    ansible-core silently drops unknown ``direct`` keys, so a misspelt lookup option would be ignored
    and the call sent without it; and it turns a list given for a string option into its text.
    """
    known = C.config.get_configuration_definitions(plugin.plugin_type, plugin._load_name) or {}
    name = plugin._load_name.rsplit(".", 1)[-1]
    unknown = sorted(set(direct or {}) - set(known))
    if unknown:
        raise error_class(f"{name}: unknown option(s) {', '.join(unknown)}; "
                          f"supported: {', '.join(sorted(known))}")
    check_plugin_option_types(plugin, direct or {}, error_class)
    if terms is not None and "_terms" in known:
        check_plugin_option_types(plugin, {"_terms": list(terms)}, error_class)
    plugin.set_options(var_options=variables, direct=direct)


def check_plugin_option_types(plugin, values: dict, error_class) -> None:
    """:func:`check_option_types` against ``plugin``'s documented options (a lookup's keywords, an inventory
    file's keys)."""
    definitions = C.config.get_configuration_definitions(plugin.plugin_type, plugin._load_name) or {}
    check_option_types("alicloud.oos." + plugin._load_name.rsplit(".", 1)[-1], definitions, values, error_class)


_BOOLEAN_TEXT = frozenset(("yes", "no", "true", "false", "on", "off", "1", "0", "y", "n", "t", "f"))


def _is_int(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _is_bool(value) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1)
    return isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXT


def _is_float(value) -> bool:
    if _is_int(value) or (isinstance(value, float)):
        return True
    try:
        return isinstance(value, str) and float(value) == float(value)
    except ValueError:
        return False


# Documented type -> (check, what to write). Numbers and booleans may be given as text, as in YAML files.
_TYPE_CHECKS = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "path": (lambda v: isinstance(v, str), "a path (a string)"),
    "int": (_is_int, "a whole number"),
    "integer": (_is_int, "a whole number"),
    "float": (_is_float, "a number"),
    "bool": (_is_bool, "a boolean (true or false)"),
    "boolean": (_is_bool, "a boolean (true or false)"),
    # Ansible reads a string given for a list option as comma-separated items.
    "list": (lambda v: isinstance(v, (list, tuple, str)), "a list"),
    "dict": (lambda v: isinstance(v, dict) or (hasattr(v, "items") and not isinstance(v, str)), "a mapping"),
}


def type_name(value) -> str:
    """What a value is, with its article, in YAML words (tagged values of Ansible 2.19 included); never the
    value itself, which may be a secret."""
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
                       (dict, "a mapping"), ((list, tuple), "a list")):
        if isinstance(value, kind):
            return name
    if value is None:
        return "null"
    return "a mapping" if hasattr(value, "items") else "a " + type(value).__name__.lstrip("_")


def check_option_types(plugin_name, definitions, values, error_class) -> None:
    """One clear error naming the first option whose value is not of its documented type (None = unset)."""
    for name, value in values.items():
        spec = definitions.get(name) or {}
        kind = spec.get("type") or "str"
        if value is None or kind not in _TYPE_CHECKS:
            continue
        check, expected = _TYPE_CHECKS[kind]
        if not check(value):
            raise error_class(f"{plugin_name}: option {name} must be {expected}, got {type_name(value)}")
        element = spec.get("elements")
        if kind == "list" and element in _TYPE_CHECKS and not isinstance(value, str):
            check, expected = _TYPE_CHECKS[element]
            for index, item in enumerate(value):
                if item is None or not check(item):
                    raise error_class(f"{plugin_name}: option {name} must be a list whose items are each {expected}, "
                                      f"item {index} is {type_name(item)}")


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
