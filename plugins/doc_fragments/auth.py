# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Common options of every module and plugin: credentials, region, endpoint and API retries.

``alicloud.oos.auth`` is for modules (the environment is read through ``env_fallback``, so the
descriptions name the variables); ``alicloud.oos.auth.plugins`` has the same options with ``env:``
entries for the plugin configuration system. Both are literal YAML, as ansible-doc and the sanity
tests read them without importing the collection; tests/unit/plugins/doc_fragments checks them
against ``module_utils.auth.AUTH_OPTIONS``, the table the code uses.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
notes:
  - Credentials are taken from the first of these that applies.
  - 1. O(access_key) and O(secret_key) (and O(security_token)).
  - 2. C(ALICLOUD_ACCESS_KEY), C(ALICLOUD_SECRET_KEY), C(ALICLOUD_SECURITY_TOKEN); then C(ALIBABA_CLOUD_ACCESS_KEY_ID),
    C(ALIBABA_CLOUD_ACCESS_KEY_SECRET), C(ALIBABA_CLOUD_SECURITY_TOKEN).
  - '3. O(profile) and/or O(credentials_file): the INI credentials file (default C(~/.alibabacloud/credentials.ini)),
    else the Aliyun CLI file C(~/.aliyun/config.json).'
  - 4. The C(alibabacloud-credentials) default chain (OIDC, CLI config, credentials file, ECS RAM role, credentials
    URI).
  - Then O(ram_role_arn), if set, is assumed with those credentials.
  - For every option the explicit value wins over C(ALICLOUD_*) variables, which win over C(ALIBABA_CLOUD_*) variables.
requirements:
  - alibabacloud-tea-openapi >= 0.4.6
  - alibabacloud-credentials >= 1.0.12
options:
  access_key:
    description:
      - AccessKey ID. Needs O(secret_key).
      - 'Environment: C(ALICLOUD_ACCESS_KEY), C(ALIBABA_CLOUD_ACCESS_KEY_ID) (first one set wins).'
    type: str
    aliases:
      - access_key_id
      - alicloud_access_key
  secret_key:
    description:
      - AccessKey secret. Never logged.
      - 'Environment: C(ALICLOUD_SECRET_KEY), C(ALIBABA_CLOUD_ACCESS_KEY_SECRET) (first one set wins).'
    type: str
    aliases:
      - access_key_secret
      - alicloud_secret_key
  security_token:
    description:
      - STS security token that goes with temporary AccessKeys. Never logged.
      - 'Environment: C(ALICLOUD_SECURITY_TOKEN), C(ALIBABA_CLOUD_SECURITY_TOKEN) (first one set wins).'
    type: str
    aliases:
      - alicloud_security_token
  region:
    description:
      - Region id, for example V(cn-hangzhou). Selects the product endpoint and is sent as C(RegionId) when the
        call does not set one.
      - 'Environment: C(ALICLOUD_REGION), C(ALIBABA_CLOUD_REGION_ID) (first one set wins).'
    type: str
    aliases:
      - region_id
      - alicloud_region
  endpoint:
    description:
      - One URL (V(https://host) or V(http://127.0.0.1:PORT)) that overrides the endpoint of B(every) product, for
        a private gateway or a local emulator.
      - Without it the endpoint comes from the built-in product table and O(region).
      - 'Environment: C(ALICLOUD_ENDPOINT) (first one set wins).'
    type: str
    aliases:
      - endpoint_url
  profile:
    description:
      - Profile (section) of the credentials file O(credentials_file), or of the Aliyun CLI C(~/.aliyun/config.json)
        when the credentials file has no such section.
      - Used only when no AccessKey pair is given.
      - 'Environment: C(ALICLOUD_PROFILE), C(ALIBABA_CLOUD_PROFILE) (first one set wins).'
    type: str
    aliases:
      - alicloud_profile
  credentials_file:
    description:
      - INI credentials file of C(alibabacloud-credentials) (sections with C(type = access_key), C(ram_role_arn),
        C(ecs_ram_role), ...). Defaults to C(~/.alibabacloud/credentials.ini).
      - 'Environment: C(ALICLOUD_CREDENTIALS_FILE), C(ALIBABA_CLOUD_CREDENTIALS_FILE) (first one set wins).'
    type: path
  ram_role_arn:
    description:
      - RAM role to assume (STS AssumeRole) with the credentials found, e.g. V(acs:ram::123456789012:role/ops).
      - 'Environment: C(ALICLOUD_ASSUME_ROLE_ARN) (first one set wins).'
    type: str
    aliases:
      - assume_role_arn
  role_session_name:
    description:
      - Session name for O(ram_role_arn). Defaults to V(ansible-alicloud-oos).
      - 'Environment: C(ALICLOUD_ASSUME_ROLE_SESSION_NAME) (first one set wins).'
    type: str
    aliases:
      - assume_role_session_name
  validate_certs:
    description:
      - Verify TLS certificates of HTTPS endpoints. Turn off only for a private gateway with a self-signed certificate.
    type: bool
    default: true
  api_retries:
    description:
      - Total tries of one API call on throttling, HTTP 5xx and connection errors (jittered exponential backoff).
        Defaults to V(10).
      - A mutating call whose answer is lost (reset, timeout, 5xx) is repeated only when a repeat is harmless (the API
        takes a C(ClientToken) (set automatically) or is a no-op in the state the first call leaves). Otherwise the
        module reads the state back, or fails saying the outcome is unknown and how to check it. The table of every
        API is in C(docs/reliability.md).
      - Causes that retrying cannot change are not retried (rejected credentials, no credentials, an endpoint that
        does not speak TLS or whose certificate does not verify, a host name that does not resolve). A refused
        connection is retried for 10 seconds at most, not at all on loopback.
      - 'Environment: C(ALICLOUD_API_RETRIES) (first one set wins).'
    type: int
  api_retry_max_time:
    description:
      - Time budget in seconds for one API call and its retries. Defaults to V(180).
      - 'Environment: C(ALICLOUD_API_RETRY_MAX_TIME) (first one set wins).'
    type: float
  api_retry_delay:
    description:
      - First backoff delay in seconds; doubles on each retry up to 20 seconds. Defaults to V(0.5).
      - 'Environment: C(ALICLOUD_API_RETRY_DELAY) (first one set wins).'
    type: float
"""

    # alicloud.oos.auth.plugins: Ansible's config system lets the LAST variable set win, so the
    # variables are listed in reverse order of precedence.
    PLUGINS = r"""
notes:
  - Credentials are taken from the first of these that applies.
  - 1. O(access_key) and O(secret_key) (and O(security_token)).
  - 2. C(ALICLOUD_ACCESS_KEY), C(ALICLOUD_SECRET_KEY), C(ALICLOUD_SECURITY_TOKEN); then C(ALIBABA_CLOUD_ACCESS_KEY_ID),
    C(ALIBABA_CLOUD_ACCESS_KEY_SECRET), C(ALIBABA_CLOUD_SECURITY_TOKEN).
  - '3. O(profile) and/or O(credentials_file): the INI credentials file (default C(~/.alibabacloud/credentials.ini)),
    else the Aliyun CLI file C(~/.aliyun/config.json).'
  - 4. The C(alibabacloud-credentials) default chain (OIDC, CLI config, credentials file, ECS RAM role, credentials
    URI).
  - Then O(ram_role_arn), if set, is assumed with those credentials.
  - For every option the explicit value wins over C(ALICLOUD_*) variables, which win over C(ALIBABA_CLOUD_*) variables.
requirements:
  - alibabacloud-tea-openapi >= 0.4.6
  - alibabacloud-credentials >= 1.0.12
options:
  access_key:
    description:
      - AccessKey ID. Needs O(secret_key).
    type: str
    aliases:
      - access_key_id
      - alicloud_access_key
    env:
      - name: ALIBABA_CLOUD_ACCESS_KEY_ID
      - name: ALICLOUD_ACCESS_KEY
  secret_key:
    description:
      - AccessKey secret. Never logged.
    type: str
    aliases:
      - access_key_secret
      - alicloud_secret_key
    env:
      - name: ALIBABA_CLOUD_ACCESS_KEY_SECRET
      - name: ALICLOUD_SECRET_KEY
  security_token:
    description:
      - STS security token that goes with temporary AccessKeys. Never logged.
    type: str
    aliases:
      - alicloud_security_token
    env:
      - name: ALIBABA_CLOUD_SECURITY_TOKEN
      - name: ALICLOUD_SECURITY_TOKEN
  region:
    description:
      - Region id, for example V(cn-hangzhou). Selects the product endpoint and is sent as C(RegionId) when the
        call does not set one.
    type: str
    aliases:
      - region_id
      - alicloud_region
    env:
      - name: ALIBABA_CLOUD_REGION_ID
      - name: ALICLOUD_REGION
  endpoint:
    description:
      - One URL (V(https://host) or V(http://127.0.0.1:PORT)) that overrides the endpoint of B(every) product, for
        a private gateway or a local emulator.
      - Without it the endpoint comes from the built-in product table and O(region).
    type: str
    aliases:
      - endpoint_url
    env:
      - name: ALICLOUD_ENDPOINT
  profile:
    description:
      - Profile (section) of the credentials file O(credentials_file), or of the Aliyun CLI C(~/.aliyun/config.json)
        when the credentials file has no such section.
      - Used only when no AccessKey pair is given.
    type: str
    aliases:
      - alicloud_profile
    env:
      - name: ALIBABA_CLOUD_PROFILE
      - name: ALICLOUD_PROFILE
  credentials_file:
    description:
      - INI credentials file of C(alibabacloud-credentials) (sections with C(type = access_key), C(ram_role_arn),
        C(ecs_ram_role), ...). Defaults to C(~/.alibabacloud/credentials.ini).
    type: path
    env:
      - name: ALIBABA_CLOUD_CREDENTIALS_FILE
      - name: ALICLOUD_CREDENTIALS_FILE
  ram_role_arn:
    description:
      - RAM role to assume (STS AssumeRole) with the credentials found, e.g. V(acs:ram::123456789012:role/ops).
    type: str
    aliases:
      - assume_role_arn
    env:
      - name: ALICLOUD_ASSUME_ROLE_ARN
  role_session_name:
    description:
      - Session name for O(ram_role_arn). Defaults to V(ansible-alicloud-oos).
    type: str
    aliases:
      - assume_role_session_name
    env:
      - name: ALICLOUD_ASSUME_ROLE_SESSION_NAME
  validate_certs:
    description:
      - Verify TLS certificates of HTTPS endpoints. Turn off only for a private gateway with a self-signed certificate.
    type: bool
    default: true
  api_retries:
    description:
      - Total tries of one API call on throttling, HTTP 5xx and connection errors (jittered exponential backoff).
        Defaults to V(10).
      - A mutating call whose answer is lost (reset, timeout, 5xx) is repeated only when a repeat is harmless (the API
        takes a C(ClientToken) (set automatically) or is a no-op in the state the first call leaves). Otherwise the
        module reads the state back, or fails saying the outcome is unknown and how to check it. The table of every
        API is in C(docs/reliability.md).
      - Causes that retrying cannot change are not retried (rejected credentials, no credentials, an endpoint that
        does not speak TLS or whose certificate does not verify, a host name that does not resolve). A refused
        connection is retried for 10 seconds at most, not at all on loopback.
    type: int
    env:
      - name: ALICLOUD_API_RETRIES
  api_retry_max_time:
    description:
      - Time budget in seconds for one API call and its retries. Defaults to V(180).
    type: float
    env:
      - name: ALICLOUD_API_RETRY_MAX_TIME
  api_retry_delay:
    description:
      - First backoff delay in seconds; doubles on each retry up to 20 seconds. Defaults to V(0.5).
    type: float
    env:
      - name: ALICLOUD_API_RETRY_DELAY
"""

    # alicloud.oos.auth.connection: the plugin options with per-host variables (ansible_cloud_assistant_<option>,
    # and region_id from the inventory) for the cloud_assistant connection.
    CONNECTION = r"""
notes:
- Credentials are taken from the first of these that applies.
- 1. O(access_key) and O(secret_key) (and O(security_token)).
- 2. C(ALICLOUD_ACCESS_KEY), C(ALICLOUD_SECRET_KEY), C(ALICLOUD_SECURITY_TOKEN); then C(ALIBABA_CLOUD_ACCESS_KEY_ID), C(ALIBABA_CLOUD_ACCESS_KEY_SECRET),
  C(ALIBABA_CLOUD_SECURITY_TOKEN).
- '3. O(profile) and/or O(credentials_file): the INI credentials file (default C(~/.alibabacloud/credentials.ini)), else the
  Aliyun CLI file C(~/.aliyun/config.json).'
- 4. The C(alibabacloud-credentials) default chain (OIDC, CLI config, credentials file, ECS RAM role, credentials URI).
- Then O(ram_role_arn), if set, is assumed with those credentials.
- For every option the explicit value wins over C(ALICLOUD_*) variables, which win over C(ALIBABA_CLOUD_*) variables.
requirements:
- alibabacloud-tea-openapi >= 0.4.6
- alibabacloud-credentials >= 1.0.12
options:
  access_key:
    description:
    - AccessKey ID. Needs O(secret_key).
    type: str
    aliases:
    - access_key_id
    - alicloud_access_key
    env:
    - name: ALIBABA_CLOUD_ACCESS_KEY_ID
    - name: ALICLOUD_ACCESS_KEY
    vars:
    - name: ansible_cloud_assistant_access_key
  secret_key:
    description:
    - AccessKey secret. Never logged.
    type: str
    aliases:
    - access_key_secret
    - alicloud_secret_key
    env:
    - name: ALIBABA_CLOUD_ACCESS_KEY_SECRET
    - name: ALICLOUD_SECRET_KEY
    vars:
    - name: ansible_cloud_assistant_secret_key
  security_token:
    description:
    - STS security token that goes with temporary AccessKeys. Never logged.
    type: str
    aliases:
    - alicloud_security_token
    env:
    - name: ALIBABA_CLOUD_SECURITY_TOKEN
    - name: ALICLOUD_SECURITY_TOKEN
    vars:
    - name: ansible_cloud_assistant_security_token
  region:
    description:
    - Region id, for example V(cn-hangzhou). Selects the product endpoint and is sent as C(RegionId) when the call does not
      set one.
    type: str
    aliases:
    - region_id
    - alicloud_region
    env:
    - name: ALIBABA_CLOUD_REGION_ID
    - name: ALICLOUD_REGION
    vars:
    - name: region_id
    - name: ansible_cloud_assistant_region
  endpoint:
    description:
    - One URL (V(https://host) or V(http://127.0.0.1:PORT)) that overrides the endpoint of B(every) product, for a private
      gateway or a local emulator.
    - Without it the endpoint comes from the built-in product table and O(region).
    type: str
    aliases:
    - endpoint_url
    env:
    - name: ALICLOUD_ENDPOINT
    vars:
    - name: ansible_cloud_assistant_endpoint
  profile:
    description:
    - Profile (section) of the credentials file O(credentials_file), or of the Aliyun CLI C(~/.aliyun/config.json) when the
      credentials file has no such section.
    - Used only when no AccessKey pair is given.
    type: str
    aliases:
    - alicloud_profile
    env:
    - name: ALIBABA_CLOUD_PROFILE
    - name: ALICLOUD_PROFILE
    vars:
    - name: ansible_cloud_assistant_profile
  credentials_file:
    description:
    - INI credentials file of C(alibabacloud-credentials) (sections with C(type = access_key), C(ram_role_arn), C(ecs_ram_role),
      ...). Defaults to C(~/.alibabacloud/credentials.ini).
    type: path
    env:
    - name: ALIBABA_CLOUD_CREDENTIALS_FILE
    - name: ALICLOUD_CREDENTIALS_FILE
    vars:
    - name: ansible_cloud_assistant_credentials_file
  ram_role_arn:
    description:
    - RAM role to assume (STS AssumeRole) with the credentials found, e.g. V(acs:ram::123456789012:role/ops).
    type: str
    aliases:
    - assume_role_arn
    env:
    - name: ALICLOUD_ASSUME_ROLE_ARN
    vars:
    - name: ansible_cloud_assistant_ram_role_arn
  role_session_name:
    description:
    - Session name for O(ram_role_arn). Defaults to V(ansible-alicloud-oos).
    type: str
    aliases:
    - assume_role_session_name
    env:
    - name: ALICLOUD_ASSUME_ROLE_SESSION_NAME
    vars:
    - name: ansible_cloud_assistant_role_session_name
  validate_certs:
    description:
    - Verify TLS certificates of HTTPS endpoints. Turn off only for a private gateway with a self-signed certificate.
    type: bool
    default: true
    vars:
    - name: ansible_cloud_assistant_validate_certs
  api_retries:
    description:
    - Total tries of one API call on throttling, HTTP 5xx and connection errors (jittered exponential backoff). Defaults to
      V(10).
    - A mutating call whose answer is lost (reset, timeout, 5xx) is repeated only when a repeat is harmless (the API takes
      a C(ClientToken) (set automatically) or is a no-op in the state the first call leaves). Otherwise the module reads the
      state back, or fails saying the outcome is unknown and how to check it. The table of every API is in C(docs/reliability.md).
    - Causes that retrying cannot change are not retried (rejected credentials, no credentials, an endpoint that does not
      speak TLS or whose certificate does not verify, a host name that does not resolve). A refused connection is retried
      for 10 seconds at most, not at all on loopback.
    type: int
    env:
    - name: ALICLOUD_API_RETRIES
    vars:
    - name: ansible_cloud_assistant_api_retries
  api_retry_max_time:
    description:
    - Time budget in seconds for one API call and its retries. Defaults to V(180).
    type: float
    env:
    - name: ALICLOUD_API_RETRY_MAX_TIME
    vars:
    - name: ansible_cloud_assistant_api_retry_max_time
  api_retry_delay:
    description:
    - First backoff delay in seconds; doubles on each retry up to 20 seconds. Defaults to V(0.5).
    type: float
    env:
    - name: ALICLOUD_API_RETRY_DELAY
    vars:
    - name: ansible_cloud_assistant_api_retry_delay
"""
