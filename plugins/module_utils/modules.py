# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``AlicloudModule``: the base of every module of the collection.

    module = AlicloudModule(argument_spec=dict(name=dict(type="str")), supports_check_mode=True)
    try:
        ecs = module.client("ecs")
        body = ecs.call("DescribeInstances", {...})
    except (AlicloudError, AlicloudInputError) as error:
        module.fail_from_error(error)
    module.exit_json(changed=False, ...)

or simply ``module.run(callable)`` which does the try/except and ``exit_json(**callable(module))``.

It wraps (does not subclass) ``AnsibleModule``: merges the common options of ``auth.AUTH_OPTIONS``
(doc fragment ``alicloud.oos.auth``), resolves them once into ``module.auth`` (an ``AuthSettings``),
and proxies ``params``, ``check_mode``, ``diff_mode``, ``exit_json``, ``fail_json``, ``warn``.
Failures never carry a traceback or a secret. ``module.secrets`` (a ``secrets.Secrets``, set by modules
whose parameters may hold secrets) is masked in everything the module returns, its invocation included,
instead of a blanket ``no_log`` that would mask short values inside ids.
"""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.alicloud.oos.plugins.module_utils.auth import auth_argument_spec, resolve_auth
from ansible_collections.alicloud.oos.plugins.module_utils.client import (
    HAS_SDK,
    SDK_IMPORT_ERROR,
    SDK_LIBRARY,
    AlicloudClient,
)
from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import Secrets, short_secret_warning


# Doc fragment alicloud.oos.secret_values. Masked by the module's Secrets rather than Ansible's no_log, which would
# mask a short value inside every id of the result.
SECRET_VALUES_SPEC = {"secret_values": {"type": "list", "elements": "str", "no_log": False, "default": []}}


class AlicloudModule:
    def __init__(self, argument_spec=None, **kwargs):
        spec = auth_argument_spec()
        spec.update(SECRET_VALUES_SPEC)
        spec.update(argument_spec or {})
        self._module = AnsibleModule(argument_spec=spec, **kwargs)
        if not HAS_SDK:
            self._module.fail_json(msg=missing_required_lib(SDK_LIBRARY), exception=str(SDK_IMPORT_ERROR))
        self._auth = None
        self._clients = []
        given = [str(value) for value in self._module.params.get("secret_values") or [] if value not in (None, "")]
        self._given = Secrets(names=("secret_values",), values=given) if given else Secrets()
        self._secrets = self._given

    @property
    def secrets(self) -> Secrets:
        return self._secrets

    @secrets.setter
    def secrets(self, secrets: Secrets):
        warning = short_secret_warning(secrets)
        if warning and warning != short_secret_warning(self._secrets):
            self.warn(warning)
        self._secrets = secrets.combined(self._given)

    def _masked(self, kwargs: dict) -> dict:
        if self._module.no_log and isinstance(kwargs.get("results"), list):
            # ansible-core 2.19 censors a no_log task's result but not the items of a `results` list that did not
            # come from a loop: each item says it is no_log too (a command's output may carry a secret).
            kwargs = dict(kwargs, results=[dict(item, _ansible_no_log=True) if isinstance(item, dict) else item
                                           for item in kwargs["results"]])
        if not self._secrets:
            return kwargs
        kwargs = dict(kwargs)
        kwargs.setdefault("invocation", {"module_args": self._module.params})
        # A value found under a secret key (an execution's DbPassword) is masked wherever else it appears.
        return self._secrets.with_values_in(kwargs).mask(kwargs)

    # Proxies to AnsibleModule
    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff_mode(self):
        return self._module._diff

    @property
    def ansible_module(self):
        return self._module

    def exit_json(self, **kwargs):
        self._module.exit_json(**self._masked(kwargs))

    def fail_json(self, **kwargs):
        self._module.fail_json(**self._masked(kwargs))

    def warn(self, warning):
        self._module.warn(warning)

    def debug(self, message):
        self._module.debug(message)

    @property
    def auth(self):
        """Resolved ``AuthSettings`` (raises ``AlicloudInputError`` on bad common options)."""
        if self._auth is None:
            self._auth = resolve_auth(self._module.params)
        return self._auth

    @property
    def region(self):
        return self.auth.region

    def client(self, product, version=None, endpoint=None, region=None, retry=None) -> AlicloudClient:
        """An ``AlicloudClient`` for ``product`` with the module's credentials (region override allowed)."""
        client = AlicloudClient(self.auth, product, region=region, version=version, endpoint=endpoint, retry=retry)
        self._clients.append(client)
        return client

    @property
    def request_ids(self) -> list:
        """Request ids of every successful call made through this module's clients."""
        return [rid for client in self._clients for rid in client.request_ids]

    def fail_from_error(self, error, msg=None, **extra):
        """``fail_json`` from an ``AlicloudError``/``AlicloudInputError`` (one clear message, no traceback)."""
        if isinstance(error, (AlicloudError, AlicloudInputError)):
            result = error.to_dict()
        else:
            result = {"msg": f"{type(error).__name__}: {error}"}
        if msg:
            result["msg"] = f"{msg}: {result['msg']}"
        result.update(extra)
        self.fail_json(**result)

    def run(self, handler):
        """Call ``handler(self)`` and ``exit_json`` with the dict it returns; failures go through ``fail_from_error``."""
        try:
            result = handler(self)
        except (AlicloudError, AlicloudInputError) as error:
            self.fail_from_error(error)
        self.exit_json(**result)
