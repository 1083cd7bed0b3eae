#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: oos_execute_api
short_description: Call any Alibaba Cloud API action (RPC or ROA), the way OOS ACS::ExecuteAPI does
version_added: 0.1.0
description:
  - Calls one API action of any Alibaba Cloud product (ECS, OOS, VPC, SLB, ALB, RDS, RAM, STS, ESS, CMS, Tag,
    ResourceManager, ActionTrail and CS are built in; any other with O(version) and O(endpoint)).
  - RPC-style APIs (most products) take O(parameters). ROA-style APIs (CS, the Container Service for Kubernetes, and
    other products whose APIs are paths) are called with O(uri), O(method), O(body) and O(headers), as the C(URI),
    C(Method), C(Body) and C(Headers) properties of an OOS C(ACS::ExecuteAPI) task.
  - Read-only RPC actions (C(Describe*), C(List*), C(Get*), C(Query*), C(Check*)) are paged through automatically
    (C(PageNumber)/C(PageSize) or C(NextToken)/C(MaxResults)), merging wrapped lists such as C(Instances.Instance)
    like OOS C(AutoPaging).
  - Selects values from the response with OOS C(ValueSelector) jq programs (O(outputs)) or JMESPath (O(query)),
    waits for a state like C(ACS::WaitFor) (O(wait_for)) and checks it like C(ACS::CheckFor) (O(check_for)).
  - Throttling, HTTP 5xx and connection errors are retried with jittered exponential backoff. A mutating call whose
    answer is lost (reset, timeout, 5xx) is repeated only when a repeat is harmless - the API takes a C(ClientToken)
    (set automatically), it is a no-op in the state the first call leaves (the table of the collection's APIs is in
    C(docs/reliability.md)), or O(idempotent=true). Otherwise the task fails saying that the outcome is unknown and
    how to check it; it never guesses.
  - Errors that retrying cannot change fail at once and name the cause, for example a wrong AccessKey secret, an
    expired STS token, an endpoint that does not speak TLS or whose host name does not resolve.
  - Invalid options fail before any request is sent, with a message that names the option.
options:
  service:
    description:
      - Product code, case-insensitive, as OOS templates name it, for example V(ecs), V(oos), V(R-KVSTORE), V(KMS),
        V(BssOpenApi).
      - The collection knows the API version (the product's default one, which OOS uses), style and endpoint of every
        product with an official Alibaba Cloud SDK package C(alibabacloud-<product><YYYYMMDD>) (about 500, see
        C(plugins/module_utils/product_catalog.py), generated from the SDK). Any other product needs O(version) and
        O(endpoint).
      - V(FC) (Function Compute 2.0) endpoints name the account id, so FC needs O(endpoint).
      - V(OSS), V(SLS) (also V(log)) and the few other products whose SDK signs requests its own way are refused before
        anything is sent. Run such calls in OOS (M(alicloud.oos.oos_execution) with a one-task template), as converted
        templates do.
    type: str
    required: true
    aliases: [product]
  api:
    description:
      - API action name, for example V(DescribeInstances) or V(StopInstance).
      - C(Describe*), C(List*), C(Get*), C(Query*) and C(Check*) are read-only (RV(changed=false)); any other action
        reports RV(changed=true).
    type: str
    required: true
    aliases: [action]
  parameters:
    description:
      - API parameters as a dict. Lists become C(Key.1), C(Key.2); dicts become C(Key.Sub); lists of dicts
        become C(Key.1.Sub), exactly as the Alibaba Cloud SDK sends them.
      - Parameters that the API takes as a JSON string (for example OOS C(StartExecution) C(Parameters) and C(Tags),
        ECS C(DescribeInstances) C(InstanceIds), ECS C(RunCommand) C(Parameters)) are JSON-encoded when given as a
        list or dict.
      - C(RegionId) defaults to O(region). A C(ClientToken) is generated for mutating actions that accept one.
      - For ROA calls (O(uri) set) they are query parameters, flattened the same way; no C(RegionId) is added (the
        region is the endpoint's).
    type: raw
    default: {}
  version:
    description:
      - API version (C(YYYY-MM-DD)). Defaults to the catalogue's version for the product (the version OOS uses).
    type: str
  method:
    description:
      - HTTP method. RPC actions take V(POST) (the default) or V(GET); a few (for example OOS C(GetServiceSettings))
        want V(GET).
      - ROA calls take the method of the API (default V(GET)). A ROA V(GET) is read-only (RV(changed=false)); any other
        method reports RV(changed=true).
    type: str
    choices: [GET, POST, PUT, DELETE, PATCH]
  uri:
    description:
      - Path of a ROA-style API, for example V(/clusters/c82e6987e2961451182edacd74faf****) for CS
        C(DescribeClusterDetail). Setting it makes the call ROA style; O(api) still names the action.
      - Must start with V(/). Characters outside C(A-Za-z0-9-_.~/) are percent-encoded; a C(?name=value) part is added
        to the query. OSS-style sub-resources (V(?acl)) are not supported.
      - Required for the catalogue's ROA products (for example CS, SAE, FC); refused for its RPC products.
    type: str
  body:
    description:
      - Request body of a ROA call, sent as JSON (C(Content-Type application/json)) and covered by the signature.
      - "A dict or a list, or JSON text such as V({\"deletion_protection\":true}). Not sent with V(GET)."
    type: raw
  headers:
    description:
      - Extra HTTP headers of a ROA call, for example C(Content-Type). Header names are case-insensitive. Headers the
        client signs itself (C(Host), C(Authorization), C(x-acs-date)...) are refused.
    type: dict
  auto_paging:
    description:
      - Page through read-only actions and merge every page into RV(response). The page size is raised to the
        API maximum when the API documents one and O(parameters) does not set it.
      - Mutating actions and ROA calls are sent once, never paged.
    type: bool
    default: true
  list_path:
    description:
      - Dotted path of the list to merge across pages, for example V(Instances.Instance). By default every list
        of the first page is merged.
    type: str
  outputs:
    description:
      - "OOS task outputs: a dict of output name to C(value_selector) (jq) and C(type) (V(String), V(List), V(Json),
        V(Number) or V(Boolean), default V(String)), returned in RV(outputs)."
      - "C(value_selector) is a jq program; the leading dot is optional as in OOS (V(Instances.Instance[].InstanceId));
        the program sees only the document: builtins that read the controller (C(env), C($ENV), C(input), C(inputs),
        C(input_filename), C(import), C(include), C(debug), C(stderr), C(halt_error),
        C(localtime)...) are refused before anything is sent."
      - C(List) collects every value the program emits (or takes a single emitted list as is); the other types take the
        first value. C(String) turns numbers, booleans and objects into their JSON text; C(Number) and C(Boolean)
        parse strings; C(Json) parses JSON text. A selector that emits nothing gives V(null) (V([]) for C(List)).
    type: raw
  query:
    description:
      - JMESPath expression (as the C(json_query) filter takes) applied to the response; the result is RV(query_result).
    type: str
  idempotent:
    description:
      - Declare that repeating this mutating action is harmless (for example an API that sets a value), so it is
        repeated after a lost answer (the request may have been applied) and O(wait_for) may repeat it.
      - Without it, an action outside the collection's table that takes no C(ClientToken) is never repeated after a
        lost answer.
    type: bool
    default: false
  secret_parameters:
    description:
      - Names of O(parameters), O(headers) or O(body) keys whose values are secret. Their values are masked in
        everything the task returns (the invocation, the response, outputs, error messages), and nothing else is.
      - Keys named like secrets are masked without being listed (V(Password), V(DbPassword), V(SecurityToken),
        V(AccessKeySecret), an V(Authorization) header), in the input and in the response; V(NextToken) and
        V(ClientToken) are not secrets.
      - A secret value shorter than 6 characters is masked where it stands as a value but not inside other text,
        where it would match inside ids and words; the task warns about it.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - alicloud.oos.auth
  - alicloud.oos.secret_values
  - alicloud.oos.wait
attributes:
  check_mode:
    support: partial
    details: >-
      Read-only actions run; mutating actions are not sent and report RV(changed=true). A O(wait_for) is not
      polled (what it waits for comes from changes check mode does not make); its RV(response) is empty.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - O(wait_for) polls by repeating the call, so it is meant for read-only actions (a C(Describe*) after a
    C(Stop*) task, or a ROA V(GET)), as C(ACS::WaitFor) is.
  - ROA requests are signed with C(ACS3-HMAC-SHA256) over the method, the encoded path, the query, the headers and
    the SHA-256 of the JSON body.
  - Order of work - call (or poll with O(wait_for)), then O(check_for), then O(outputs) and O(query) on the last response.
author:
  - alicloud.oos contributors (!UNKNOWN)
"""

EXAMPLES = r"""
# Credentials come from ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY / ALICLOUD_REGION (or the other sources documented).
- name: Find the running web servers
  alicloud.oos.oos_execute_api:
    service: ecs
    api: DescribeInstances
    parameters:
      Status: Running
      Tag:
        - Key: role
          Value: web
    outputs:
      instance_ids:
        value_selector: Instances.Instance[].InstanceId
        type: List
      first_name:
        value_selector: Instances.Instance[0].InstanceName
        type: String
  register: web

- name: Stop one of them
  alicloud.oos.oos_execute_api:
    service: ecs
    api: StopInstance
    parameters:
      InstanceId: "{{ web.outputs.instance_ids[0] }}"

- name: Wait until it is Stopped (ACS::WaitFor)
  alicloud.oos.oos_execute_api:
    service: ecs
    api: DescribeInstances
    parameters:
      InstanceIds: ["{{ web.outputs.instance_ids[0] }}"]
    wait_for:
      property_selector: Instances.Instance[].Status
      desired_values: [Stopped]
      delay_type: Constant
      delay: 5
      retries: 60

- name: Make sure every instance is Running (ACS::CheckFor)
  alicloud.oos.oos_execute_api:
    service: ecs
    api: DescribeInstanceStatus
    check_for:
      property_selector: InstanceStatuses.InstanceStatus[].Status
      desired_values: [Running]

- name: JMESPath instead of jq
  alicloud.oos.oos_execute_api:
    service: oos
    api: ListExecutions
    parameters:
      Status: Running
    query: "Executions[].ExecutionId"
  register: running

- name: Read a Kubernetes cluster (CS is a ROA product - its APIs are paths)
  alicloud.oos.oos_execute_api:
    service: cs
    api: DescribeClusterDetail
    method: GET
    uri: "/clusters/{{ cluster_id }}"
    outputs:
      state:
        value_selector: .state
        type: String
  register: cluster

- name: Turn on deletion protection (ROA PUT with a JSON body)
  alicloud.oos.oos_execute_api:
    service: cs
    api: ModifyCluster
    method: PUT
    uri: "/api/v2/clusters/{{ cluster_id }}"
    body:
      deletion_protection: true

- name: Wait for a CS task, failing at once when it fails (StopRetryValues)
  alicloud.oos.oos_execute_api:
    service: cs
    api: DescribeTaskInfo
    method: GET
    uri: "/tasks/{{ task_id }}"
    wait_for:
      property_selector: .state
      desired_values: [success]
      stop_retry_values: [fail]

- name: Any product of the catalogue, with its API version and endpoint from the SDK
  alicloud.oos.oos_execute_api:
    service: dysmsapi
    api: QuerySendStatistics
    parameters:
      IsGlobe: 1
      StartDate: "20240101"
      EndDate: "20240107"
"""

RETURN = r"""
changed:
  description: V(false) for read-only actions, V(true) for any other action (also in check mode, where it is not sent).
  returned: always
  type: bool
response:
  description:
    - The response body (every page merged when paged). V(null) in check mode for a request not sent (a mutating
      action, or a wait).
    - For ROA calls, the decoded JSON answer as the API gives it (a list for the few APIs that answer a JSON array,
      V({}) for an empty answer).
  returned: always
  type: raw
  sample: {"RequestId": "4C6B9E1A-...", "TotalCount": 1, "Instances": {"Instance": [{"InstanceId": "i-bp1...", "Status": "Running"}]}}
outputs:
  description: Values of O(outputs), by name, converted to their OOS type.
  returned: always
  type: dict
  sample: {"instance_ids": ["i-bp1...", "i-bp2..."], "first_name": "web-1"}
query_result:
  description: Result of O(query).
  returned: when O(query) is set
  type: raw
request_ids:
  description: Request ids of every successful request (one per page and per poll).
  returned: always
  type: list
  elements: str
pages:
  description: Pages fetched for the last response (0 when nothing was sent).
  returned: always
  type: int
  sample: 3
attempts:
  description: HTTP requests sent, retries included.
  returned: always
  type: int
  sample: 4
polls:
  description: Times the call was made for O(wait_for) (1 without it, 0 when nothing was sent).
  returned: always
  type: int
error:
  description: On failure, the API error (C(code), C(message), C(request_id), C(http_status), C(product), C(action)).
  returned: on API failure
  type: dict
  sample: {"code": "InvalidInstanceId.NotFound", "message": "The specified InstanceId does not exist.",
           "request_id": "4C6B9E1A-...", "http_status": 404, "product": "ecs", "action": "StopInstance"}
"""

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.execute_api import (
    execute,
    execute_api_argument_spec,
    parse_request,
    request_secrets,
)
from ansible_collections.alicloud.oos.plugins.module_utils.modules import AlicloudModule


def main():
    module = AlicloudModule(argument_spec=execute_api_argument_spec(), supports_check_mode=True)
    try:
        module.secrets = request_secrets(module.params)
        request = parse_request(module.params, region=module.region, endpoint=module.auth.endpoint)
        client = module.client(request.service, version=request.version)
        module.exit_json(**execute(client, request, check_mode=module.check_mode))
    except (AlicloudError, AlicloudInputError) as error:
        module.fail_from_error(error)


if __name__ == "__main__":
    main()
