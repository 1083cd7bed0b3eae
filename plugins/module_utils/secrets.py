# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret values among a task's parameters, and masking them - them only - in what the task returns.

Ansible's ``no_log`` on an option masks each of its values as text everywhere in the task's output: a
``parameters`` dict marked ``no_log`` with a value ``"1"`` turned ``i-bptlzcv91fq6i`` into
``i-bptlzcv9********fq6i`` and broke the next task. Here the user names the secret parameters
(``secret_parameters``), and so does an OOS template (``NoEcho: true`` or the
``ALIYUN::OOS::SecretParameter::Value`` association); a ``{{ oos-secret:name }}`` reference is resolved by
OOS and names a secret, so the parameter that holds it is secret too. Modules that pass free-form API
input (oos_execute_api) also treat every key named like a secret (``Password``, ``SecurityToken``, an
``Authorization`` header: :func:`is_secret_name`) as one. A ``Secrets`` then masks:

* the value under a secret parameter's name, wherever a mapping has that key (``parameters.DbPassword``,
  ``invocation.module_args.parameters.DbPassword``), whatever its length;
* a secret value inside any other text (command output, error messages) when it is at least
  ``MIN_TEXT_LENGTH`` characters long. Shorter values would match inside ids and words: they are masked
  under their key only, and ``short_names`` lists them so that the module can say so.
"""
from __future__ import annotations

import re

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError

MASK = "********"
MIN_TEXT_LENGTH = 6
# Key names whose values are secrets: passwords, tokens, private keys, Authorization headers (CamelCase and
# kebab-case keys are read as snake_case). Pagination and idempotency tokens are not secrets.
SECRET_NAME_PATTERN = re.compile(
    r"secret|passw|(?<!client_)(?<!next_)token|private_key|credential|signature|authorization",
    re.IGNORECASE,
)
SECRET_REFERENCE = re.compile(r"\{\{\s*oos-secret:", re.IGNORECASE)
SECRET_ASSOCIATION = "ALIYUN::OOS::SecretParameter::Value"


def snake_name(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


# Options that name secrets rather than hold them: their values are parameter names (masking them would mask
# those words in every message, as "[Invalid********.NotFound]").
NAMES_OF_SECRETS = ("secret_parameters",)


def is_secret_name(name) -> bool:
    """Does a key name say its value is a secret (``DbPassword``, ``SecurityToken``, ``Authorization``)?"""
    return isinstance(name, str) and snake_name(name) not in NAMES_OF_SECRETS and \
        bool(SECRET_NAME_PATTERN.search(snake_name(name)))


class Secrets:
    """``names``: keys whose values are masked; ``values``: masked inside text too; ``secret_keys``: also
    mask the value of every key that :func:`is_secret_name` (and that value wherever else it appears)."""

    def __init__(self, names=(), values=(), secret_keys: bool = False):
        self.names = frozenset(names)
        self.secret_keys = secret_keys
        values = {v for v in values if v}
        # Longest first, so that a secret containing another is masked whole.
        self.text_values = sorted((v for v in values if len(v) >= MIN_TEXT_LENGTH), key=len, reverse=True)
        self.short_names = ()

    def __bool__(self) -> bool:
        return bool(self.names or self.text_values or self.secret_keys)

    def _is_masked_key(self, key) -> bool:
        return key in self.names or (self.secret_keys and is_secret_name(key))

    def with_values_in(self, data) -> "Secrets":
        """These secrets plus the values found under secret keys of ``data`` (an API response)."""
        found = []

        def walk(value, secret=False):
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(item, secret or self._is_masked_key(key))
            elif isinstance(value, (list, tuple)):
                for item in value:
                    walk(item, secret)
            elif secret and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                found.append(str(value))
        walk(data)
        if not found:
            return self
        combined = Secrets(self.names, list(self.text_values) + found, self.secret_keys)
        combined.short_names = self.short_names
        return combined

    def combined(self, other: "Secrets") -> "Secrets":
        """These secrets and ``other``'s (names, values; secret keys if either masks them)."""
        if not other:
            return self
        combined = Secrets(self.names | other.names, list(self.text_values) + list(other.text_values),
                           self.secret_keys or other.secret_keys)
        combined.short_names = self.short_names
        return combined

    def mask_text(self, text: str) -> str:
        for value in self.text_values:
            text = text.replace(value, MASK)
        return text

    def mask_error(self, error):
        """``error`` (AlicloudError or AlicloudInputError) with the secrets masked in its message."""
        if self:
            error.message = self.mask_text(error.message)
            error.args = tuple(self.mask(arg) for arg in error.args)
            if getattr(error, "details", None):
                error.details = self.mask(error.details)
        return error

    def mask(self, data, identifier: bool = False):
        """A copy of ``data`` (JSON-like) with the secrets masked; everything else untouched.

        Under identifier keys (``instance_id``, ``InstanceIds``, ``RequestId`` ...) only a value that is a secret as
        a whole is masked: the cloud generates those values, so a secret found inside one is a coincidence, and
        masking it there would break the next task that uses the id."""
        if not self:
            return data
        if isinstance(data, str):
            if identifier:
                return MASK if data in self.text_values else data
            return self.mask_text(data)
        if isinstance(data, dict):
            return {key: MASK if self._is_masked_key(key) and data[key] not in (None, "")
                    else self.mask(value, is_identifier_key(key)) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.mask(item, identifier) for item in data]
        return data


SNAKE_IDENTIFIER = re.compile(r"(^|_)ids?$", re.IGNORECASE)
CAMEL_IDENTIFIER = re.compile(r"[a-z0-9]Ids?$")


def is_identifier_key(key) -> bool:
    """``instance_id``, ``InstanceIds``, ``invoke_ids``, ``RequestId`` ...: names of cloud-generated identifiers."""
    return isinstance(key, str) and bool(SNAKE_IDENTIFIER.search(key) or CAMEL_IDENTIFIER.search(key))


def secret_parameter_names(names, parameters, field: str = "secret_parameters", must_be_given: bool = True) -> list:
    """``secret_parameters`` validated: a list of names of ``parameters`` entries (``must_be_given``)."""
    if names is None:
        return []
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise AlicloudInputError(field, f"must be a list of parameter names such as [DbPassword], got {names!r}")
    unknown = [n for n in names if n not in (parameters or {})] if must_be_given else []
    if unknown:
        known = ", ".join(sorted(parameters or {})) or "none"
        raise AlicloudInputError(field, f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in parameters "
                                 f"(parameters given: {known})")
    return list(names)


def template_secret_names(template: dict | None) -> set:
    """Parameters an OOS template declares secret (``NoEcho: true``, the SecretParameter association)."""
    specs = (template or {}).get("Parameters") if isinstance(template, dict) else None
    if not isinstance(specs, dict):
        return set()
    return {name for name, spec in specs.items() if isinstance(spec, dict) and (
        str(spec.get("NoEcho")).lower() == "true" or spec.get("AssociationProperty") == SECRET_ASSOCIATION)}


def parameter_secrets(parameters, names=(), field: str = "secret_parameters", template=None,
                      must_be_given: bool = True) -> Secrets:
    """The ``Secrets`` of a task's ``parameters``: the names given (validated), the template's secret
    parameters, and the parameters holding a ``{{ oos-secret:... }}`` reference."""
    parameters = parameters if isinstance(parameters, dict) else {}
    chosen = set(secret_parameter_names(names, parameters, field, must_be_given)) | template_secret_names(template)
    chosen |= {name for name, value in parameters.items() if isinstance(value, str) and SECRET_REFERENCE.search(value)}
    values = {name: _text(parameters[name]) for name in chosen if name in parameters}
    # A reference is the name of a secret, not the secret: OOS resolves it; keep it readable inside text.
    text_values = [v for v in values.values() if not SECRET_REFERENCE.search(v)]
    secrets = Secrets(chosen, text_values)
    secrets.short_names = tuple(sorted(n for n, v in values.items() if 0 < len(v) < MIN_TEXT_LENGTH))
    return secrets


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def short_secret_warning(secrets: Secrets) -> str | None:
    if not secrets.short_names:
        return None
    return (f"secret parameter(s) {', '.join(secrets.short_names)} shorter than {MIN_TEXT_LENGTH} characters are masked "
            "where they stand as a parameter value, not inside other text (they would match inside ids and words)")
