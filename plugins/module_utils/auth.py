# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Common connection options (credentials, region, endpoint, API retries): one table, three users.

* ``AUTH_OPTIONS``: option name -> spec (``type``, ``aliases``, ``no_log``, ``default``, ``env``
  (environment variables, first match wins) and ``description``). The doc fragment
  ``alicloud.oos.auth`` is generated from it, so docs and code cannot drift.
* ``auth_argument_spec()``: the AnsibleModule argument spec (``env_fallback`` on ``env``).
* ``resolve_auth(options, environ=os.environ)``: the same fallbacks for controller-side plugins,
  validation, and the resulting :class:`AuthSettings`.
* ``build_credentials(settings)``: the ``alibabacloud-credentials`` client for those settings.

Credential precedence (first that applies):

1. ``access_key`` + ``secret_key`` (+ ``security_token``) options;
2. the same from ``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``/``ALICLOUD_SECURITY_TOKEN``, then
   ``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET``/``ALIBABA_CLOUD_SECURITY_TOKEN``;
3. ``profile`` / ``credentials_file`` (options, then ``ALICLOUD_PROFILE``/``ALIBABA_CLOUD_PROFILE`` and
   ``ALICLOUD_CREDENTIALS_FILE``/``ALIBABA_CLOUD_CREDENTIALS_FILE``): the INI credentials file
   (default ``~/.alibabacloud/credentials.ini``), else the Aliyun CLI ``~/.aliyun/config.json``;
4. the ``alibabacloud-credentials`` default chain (OIDC, CLI config, credentials file, ECS RAM role,
   credentials URI).

``ram_role_arn`` then assumes that role (STS AssumeRole) with the credentials found above.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.products import parse_endpoint_url
from ansible_collections.alicloud.oos.plugins.module_utils.retries import RetryPolicy

DEFAULT_ROLE_SESSION_NAME = "ansible-alicloud-oos"

AUTH_OPTIONS = {
    "access_key": {
        "type": "str", "aliases": ["access_key_id", "alicloud_access_key"], "no_log": False,
        "env": ["ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_ACCESS_KEY_ID"],
        "description": ["AccessKey ID. Needs O(secret_key)."],
    },
    "secret_key": {
        "type": "str", "aliases": ["access_key_secret", "alicloud_secret_key"], "no_log": True,
        "env": ["ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        "description": ["AccessKey secret. Never logged."],
    },
    "security_token": {
        "type": "str", "aliases": ["alicloud_security_token"], "no_log": True,
        "env": ["ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"],
        "description": ["STS security token that goes with temporary AccessKeys. Never logged."],
    },
    "region": {
        "type": "str", "aliases": ["region_id", "alicloud_region"],
        "env": ["ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID"],
        "description": ["Region id, for example V(cn-hangzhou). Selects the product endpoint and is sent as C(RegionId) "
                        "when the call does not set one."],
    },
    "endpoint": {
        "type": "str", "aliases": ["endpoint_url"],
        "env": ["ALICLOUD_ENDPOINT"],
        "description": ["One URL (V(https://host) or V(http://127.0.0.1:PORT)) that overrides the endpoint of B(every) product, "
                        "for a private gateway or a local emulator.",
                        "Without it the endpoint comes from the built-in product table and O(region)."],
    },
    "profile": {
        "type": "str", "aliases": ["alicloud_profile"],
        "env": ["ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"],
        "description": ["Profile (section) of the credentials file O(credentials_file), or of the Aliyun CLI "
                        "C(~/.aliyun/config.json) when the credentials file has no such section.",
                        "Used only when no AccessKey pair is given."],
    },
    "credentials_file": {
        "type": "path",
        "env": ["ALICLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE"],
        "description": ["INI credentials file of C(alibabacloud-credentials) (sections with C(type = access_key), "
                        "C(ram_role_arn), C(ecs_ram_role), ...). Defaults to C(~/.alibabacloud/credentials.ini)."],
    },
    "ram_role_arn": {
        "type": "str", "aliases": ["assume_role_arn"],
        "env": ["ALICLOUD_ASSUME_ROLE_ARN"],
        "description": ["RAM role to assume (STS AssumeRole) with the credentials found, e.g. "
                        "V(acs:ram::123456789012:role/ops)."],
    },
    "role_session_name": {
        "type": "str", "aliases": ["assume_role_session_name"],
        "env": ["ALICLOUD_ASSUME_ROLE_SESSION_NAME"],
        "description": [f"Session name for O(ram_role_arn). Defaults to V({DEFAULT_ROLE_SESSION_NAME})."],
    },
    "validate_certs": {
        "type": "bool", "default": True,
        "description": ["Verify TLS certificates of HTTPS endpoints. Turn off only for a private gateway with a "
                        "self-signed certificate."],
    },
    "api_retries": {
        "type": "int",
        "env": ["ALICLOUD_API_RETRIES"],
        "description": ["Total tries of one API call on throttling, HTTP 5xx and connection errors "
                        "(jittered exponential backoff). Defaults to V(10).",
                        "A mutating call whose answer is lost (reset, timeout, 5xx) is repeated only when a repeat is "
                        "harmless (the API takes a C(ClientToken) (set automatically) or is a no-op in the state the "
                        "first call leaves). Otherwise the module reads the state back, or fails saying the outcome is "
                        "unknown and how to check it. The table of every API is in C(docs/reliability.md).",
                        "Causes that retrying cannot change are not retried (rejected credentials, no credentials, an "
                        "endpoint that does not speak TLS or whose certificate does not verify, a host name that does "
                        "not resolve). A refused connection is retried for 10 seconds at most, not at all on loopback."],
    },
    "api_retry_max_time": {
        "type": "float",
        "env": ["ALICLOUD_API_RETRY_MAX_TIME"],
        "description": ["Time budget in seconds for one API call and its retries. Defaults to V(180)."],
    },
    "api_retry_delay": {
        "type": "float",
        "env": ["ALICLOUD_API_RETRY_DELAY"],
        "description": ["First backoff delay in seconds; doubles on each retry up to 20 seconds. Defaults to V(0.5)."],
    },
}


@dataclass
class AuthSettings:
    """Resolved connection settings. ``repr`` hides the secrets."""
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint: str | None = None
    profile: str | None = None
    credentials_file: str | None = None
    ram_role_arn: str | None = None
    role_session_name: str = DEFAULT_ROLE_SESSION_NAME
    validate_certs: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def secrets(self) -> tuple:
        """Values that must never appear in any output."""
        return tuple(s for s in (self.secret_key, self.security_token) if s)


def auth_argument_spec() -> dict:
    """AnsibleModule argument spec of the common options (fresh copy each call)."""
    from ansible.module_utils.basic import env_fallback

    spec = {}
    for name, option in AUTH_OPTIONS.items():
        entry = {"type": option["type"]}
        if option.get("aliases"):
            entry["aliases"] = list(option["aliases"])
        if "no_log" in option:
            entry["no_log"] = option["no_log"]
        if "default" in option:
            entry["default"] = option["default"]
        if option.get("env"):
            entry["fallback"] = (env_fallback, list(option["env"]))
        spec[name] = entry
    return spec


def _from_env(names, environ):
    for name in names or ():
        value = environ.get(name)
        if value not in (None, ""):
            return value
    return None


def _coerce(name, kind, value):
    if value is None:
        return None
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on", "y"):
                return True
            if text in ("0", "false", "no", "off", "n"):
                return False
            raise ValueError(value)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "path":
            return os.path.expanduser(str(value))
    except (TypeError, ValueError):
        raise AlicloudInputError(name, f"{value!r} is not a valid {kind}")
    return str(value)


def resolve_auth(options: dict, environ=None) -> AuthSettings:
    """Apply env fallbacks (explicit option > ALICLOUD_* > ALIBABA_CLOUD_*), validate, build settings.

    ``options`` may use aliases and may omit keys. Raises :class:`AlicloudInputError` naming the option.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for name, option in AUTH_OPTIONS.items():
        value = options.get(name)
        if value in (None, ""):
            for alias in option.get("aliases", ()):
                if options.get(alias) not in (None, ""):
                    value = options[alias]
                    break
        if value in (None, ""):
            value = _from_env(option.get("env"), environ)
        if value in (None, ""):
            value = option.get("default")
        values[name] = _coerce(name, option["type"], value)

    if bool(values["access_key"]) != bool(values["secret_key"]):
        missing, given = ("secret_key", "access_key") if values["access_key"] else ("access_key", "secret_key")
        raise AlicloudInputError(missing, f"{given} is set but {missing} is not; set both (or neither, to use a profile or the default credential chain)")
    if values["security_token"] and not values["access_key"]:
        raise AlicloudInputError("security_token", "an STS token needs access_key and secret_key too")
    if values["endpoint"]:
        parse_endpoint_url(values["endpoint"])
    if values["credentials_file"] and not values["access_key"] and not os.path.isfile(values["credentials_file"]):
        raise AlicloudInputError("credentials_file", f"{values['credentials_file']} does not exist; point it at an INI credentials file")
    for name, minimum in (("api_retries", 1), ("api_retry_max_time", 0), ("api_retry_delay", 0)):
        if values[name] is not None and values[name] < minimum:
            raise AlicloudInputError(name, f"must be at least {minimum}")

    retry = RetryPolicy.from_options(attempts=values.pop("api_retries"), max_time=values.pop("api_retry_max_time"),
                                     base_delay=values.pop("api_retry_delay"))
    values["role_session_name"] = values["role_session_name"] or DEFAULT_ROLE_SESSION_NAME
    return AuthSettings(retry=retry, **values)


def _profile_provider(settings: AuthSettings):
    import configparser
    import json

    from alibabacloud_credentials.provider import CLIProfileCredentialsProvider, ProfileCredentialsProvider

    profile = settings.profile or "default"
    ini_path = settings.credentials_file or os.path.join(os.path.expanduser("~"), ".alibabacloud", "credentials.ini")
    if os.path.isfile(ini_path):
        parser = configparser.ConfigParser()
        try:
            parser.read(ini_path, encoding="utf-8")
        except configparser.Error as exc:
            raise AlicloudInputError("credentials_file", f"{ini_path} is not a valid INI file: {exc.__class__.__name__}")
        if parser.has_section(profile):
            return ProfileCredentialsProvider(profile_file=ini_path, profile_name=profile)
    cli_path = os.path.join(os.path.expanduser("~"), ".aliyun", "config.json")
    if not settings.credentials_file and os.path.isfile(cli_path):
        try:
            with open(cli_path, encoding="utf-8") as handle:
                names = [p.get("name") for p in json.load(handle).get("profiles", [])]
        except (OSError, ValueError):
            names = []
        if profile in names:
            return CLIProfileCredentialsProvider(profile_name=profile, profile_file=cli_path)
    where = ini_path if settings.credentials_file else f"{ini_path} or {cli_path}"
    raise AlicloudInputError("profile", f"profile {profile!r} not found in {where}; add the section or set access_key/secret_key")


def build_credentials(settings: AuthSettings):
    """``alibabacloud_credentials.client.Client`` for ``settings`` (see the module docstring for the order)."""
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import (
        RamRoleArnCredentialsProvider,
        StaticAKCredentialsProvider,
        StaticSTSCredentialsProvider,
    )

    if settings.access_key and settings.security_token:
        provider = StaticSTSCredentialsProvider(access_key_id=settings.access_key, access_key_secret=settings.secret_key,
                                                security_token=settings.security_token)
    elif settings.access_key:
        provider = StaticAKCredentialsProvider(access_key_id=settings.access_key, access_key_secret=settings.secret_key)
    elif settings.profile or settings.credentials_file:
        provider = _profile_provider(settings)
    else:
        provider = None
    if settings.ram_role_arn:
        if provider is None:
            from alibabacloud_credentials.provider import DefaultCredentialsProvider
            provider = DefaultCredentialsProvider()
        try:
            provider = RamRoleArnCredentialsProvider(credentials_provider=provider, role_arn=settings.ram_role_arn,
                                                     role_session_name=settings.role_session_name)
        except Exception as exc:  # the provider validates the ARN eagerly
            raise AlicloudInputError("ram_role_arn", f"{exc}; use the form acs:ram::ACCOUNT_ID:role/NAME")
    try:
        return CredentialClient(provider=provider) if provider is not None else CredentialClient()
    except Exception as exc:
        raise AlicloudError(f"no usable credentials: {exc}", code="InvalidCredentials", failure="credentials")
