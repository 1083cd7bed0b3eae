# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Known Alibaba Cloud products: API version, endpoint pattern, and per-action API facts.

Any product works with :class:`client.AlicloudClient` as long as a ``version`` and an endpoint are
known; this table only saves users from looking them up for common products.

* ``resolve_endpoint(product, region, version=None, endpoint=None)`` -> :class:`Endpoint`
  (``host``, ``protocol``, ``version``). ``endpoint`` is a URL (``http://127.0.0.1:8080``) or a
  bare host; it overrides the table (``ALICLOUD_ENDPOINT`` points every product at one gateway).
* ``is_read_only(action)``: Describe*/List*/Get*/Query*/Check* never change anything.
* ``api_style(product)``: ``"ROA"`` for products whose APIs are paths (CS), ``"RPC"`` for the table's
  other products, None for products outside the table.
* ``accepts_client_token(product, action)``, ``page_size_limit(product, action)``,
  ``json_parameters(product, action)`` and ``plural_repeat_list(product, action, name)``: generated from
  the API docs by ``tests/unit/plugins/module_utils/api_tables.py`` (never read at runtime).
"""
from __future__ import annotations

import re
from collections import namedtuple
from urllib.parse import urlsplit

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudInputError

Product = namedtuple("Product", "code version endpoint")
Endpoint = namedtuple("Endpoint", "host protocol version")

# code -> Product(canonical code, API version, endpoint pattern). ``{region}`` is replaced by the region
# id; patterns without it are global (central) endpoints.
PRODUCTS = {
    "ecs": Product("ecs", "2014-05-26", "ecs.{region}.aliyuncs.com"),
    "oos": Product("oos", "2019-06-01", "oos.{region}.aliyuncs.com"),
    "vpc": Product("vpc", "2016-04-28", "vpc.{region}.aliyuncs.com"),
    "slb": Product("slb", "2014-05-15", "slb.{region}.aliyuncs.com"),
    "alb": Product("alb", "2020-06-16", "alb.{region}.aliyuncs.com"),
    "rds": Product("rds", "2014-08-15", "rds.{region}.aliyuncs.com"),
    "ram": Product("ram", "2015-05-01", "ram.aliyuncs.com"),
    "sts": Product("sts", "2015-04-01", "sts.{region}.aliyuncs.com"),
    "ess": Product("ess", "2014-08-28", "ess.{region}.aliyuncs.com"),
    "cms": Product("cms", "2019-01-01", "metrics.{region}.aliyuncs.com"),
    "tag": Product("tag", "2018-08-28", "tag.{region}.aliyuncs.com"),
    "resourcemanager": Product("resourcemanager", "2020-03-31", "resourcemanager.aliyuncs.com"),
    "actiontrail": Product("actiontrail", "2020-07-06", "actiontrail.{region}.aliyuncs.com"),
    # ROA products (see ROA_PRODUCTS): OOS templates call them with URI/Method/Body.
    "cs": Product("cs", "2015-12-15", "cs.{region}.aliyuncs.com"),
}
# Products of the table whose APIs are ROA style (a method and a path per API, JSON bodies).
ROA_PRODUCTS = frozenset({"cs"})
# Spellings users and OOS templates use for the same products.
PRODUCT_ALIASES = {
    "resource-manager": "resourcemanager",
    "resource_manager": "resourcemanager",
    "cloudmonitor": "cms",
    "autoscaling": "ess",
    "ack": "cs",
    "container-service": "cs",
}

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Query", "Check")

_PRODUCT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# DNS labels (letters, digits, '-', '_' as some private zones use) or an IPv4 address; IPv6 in brackets.
_HOST_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$")


def normalize_product(product) -> str:
    """Lower-case product code (``ECS``/``Ecs`` -> ``ecs``), aliases resolved."""
    if not isinstance(product, str) or not _PRODUCT_CODE.match(product):
        raise AlicloudInputError("service", f"{product!r} is not a product code; use one like 'ecs' or 'oos'")
    code = product.lower()
    return PRODUCT_ALIASES.get(code, code)


def known_products() -> list:
    return sorted(PRODUCTS)


def api_style(product: str):
    """``"ROA"``, ``"RPC"``, or None when the product is not in the table (either style may be right)."""
    code = normalize_product(product)
    if code not in PRODUCTS:
        return None
    return "ROA" if code in ROA_PRODUCTS else "RPC"


def is_read_only(action: str) -> bool:
    """True for actions that never change state (Describe*, List*, Get*, Query*, Check*)."""
    return action.startswith(READ_ONLY_PREFIXES)


def accepts_client_token(product: str, action: str) -> bool:
    return action in CLIENT_TOKEN_ACTIONS.get(normalize_product(product), ())


def page_size_limit(product: str, action: str):
    """``(parameter, maximum)`` such as ``("PageSize", 100)`` when the docs give one, else None."""
    return PAGE_SIZE_LIMITS.get(normalize_product(product), {}).get(action)


def json_parameters(product: str, action: str) -> tuple:
    """Parameters of ``action`` that the API takes as one JSON string rather than ``Key.N`` flattening."""
    return JSON_PARAMETERS.get(normalize_product(product), {}).get(action, ())


def plural_repeat_list(product: str, action: str, name: str):
    """``InstanceId`` for RunCommand's ``InstanceIds``: the repeatList parameter (sent ``X.N``) that ``name`` is the
    plural of, as OOS templates and the classic SDK setters name it, else None."""
    if not name.endswith("s"):
        return None
    singular = name[:-1]
    return singular if singular in REPEAT_LIST_PLURALS.get(normalize_product(product), {}).get(action, ()) else None


def parse_endpoint_url(endpoint: str, field: str = "endpoint"):
    """``(host[:port], protocol)`` from ``http(s)://host[:port]`` or a bare ``host[:port]`` (HTTPS)."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise AlicloudInputError(field, "must be a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")
    text = endpoint.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise AlicloudInputError(field, f"{endpoint!r} is not a valid endpoint; use scheme://host[:port] with scheme http or https and no path")
    try:
        parts.port
    except ValueError:
        raise AlicloudInputError(field, f"{endpoint!r} has an invalid port")
    host = parts.hostname
    if not (_HOST_NAME.match(host) or (":" in host and _IPV6.match(host))):
        raise AlicloudInputError(field, f"{endpoint!r} is not a valid endpoint: {host!r} is not a host name; use "
                                 "scheme://host[:port], e.g. https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")
    return parts.netloc, parts.scheme


def resolve_endpoint(product: str, region=None, version=None, endpoint=None) -> Endpoint:
    """Where and with which API version to call ``product``.

    ``endpoint`` (option or ``ALICLOUD_ENDPOINT``) wins over the table; ``version`` wins over the
    table's version. Unknown products need both ``version`` and ``endpoint``.
    """
    code = normalize_product(product)
    known = PRODUCTS.get(code)
    if version is not None and not (isinstance(version, str) and _VERSION.match(version)):
        raise AlicloudInputError("version", f"{version!r} is not an API version; use the YYYY-MM-DD form, e.g. 2014-05-26")
    if known is None and not version:
        raise AlicloudInputError(
            "version", f"product {product!r} is not in the built-in table ({', '.join(known_products())}); "
            "set version (e.g. 2014-05-26) and endpoint for it")
    api_version = version or known.version
    if endpoint:
        host, protocol = parse_endpoint_url(endpoint)
        return Endpoint(host, protocol, api_version)
    if known is None:
        raise AlicloudInputError(
            "endpoint", f"product {product!r} is not in the built-in table; set endpoint "
            f"(e.g. https://{code}.cn-hangzhou.aliyuncs.com)")
    host = ENDPOINT_EXCEPTIONS.get(code, {}).get(region)
    if host is None:
        if "{region}" in known.endpoint:
            if not region:
                raise AlicloudInputError("region", f"product {code!r} is regional; set region (or ALICLOUD_REGION), e.g. cn-hangzhou")
            if not re.match(r"^[a-z0-9-]+$", region):
                raise AlicloudInputError("region", f"{region!r} is not a region id; use one like cn-hangzhou")
        host = known.endpoint.format(region=region)
    return Endpoint(host, "https", api_version)


# BEGIN GENERATED by tests/unit/plugins/module_utils/api_tables.py from ecs/oos API docs
CLIENT_TOKEN_ACTIONS = {'ecs': ('AddBandwidthPackageIps',
         'AllocateDedicatedHosts',
         'AllocateEipAddress',
         'AssignIpv6Addresses',
         'AssignPrivateIpAddresses',
         'AssociateHaVip',
         'AuthorizeSecurityGroup',
         'AuthorizeSecurityGroupEgress',
         'CancelPhysicalConnection',
         'CopySnapshot',
         'CreateAutoProvisioningGroup',
         'CreateCapacityReservation',
         'CreateDemand',
         'CreateDeploymentSet',
         'CreateDisk',
         'CreateElasticityAssurance',
         'CreateHaVip',
         'CreateHpcCluster',
         'CreateImage',
         'CreateImageComponent',
         'CreateImagePipeline',
         'CreateInstance',
         'CreateNatGateway',
         'CreateNetworkInterface',
         'CreatePhysicalConnection',
         'CreatePrefixList',
         'CreateRouteEntry',
         'CreateRouterInterface',
         'CreateSecurityGroup',
         'CreateSnapshot',
         'CreateSnapshotGroup',
         'CreateStorageSet',
         'CreateVSwitch',
         'CreateVirtualBorderRouter',
         'CreateVpc',
         'DeleteDemand',
         'DeleteHaVip',
         'DeleteHpcCluster',
         'DeleteInstances',
         'DeletePhysicalConnection',
         'DeleteRouterInterface',
         'DeleteStorageSet',
         'DeleteVirtualBorderRouter',
         'DescribeHpcClusters',
         'DescribePhysicalConnections',
         'DescribeStorageSetDetails',
         'DescribeStorageSets',
         'EipFillParams',
         'EipFillProduct',
         'EipNotifyPaid',
         'EnablePhysicalConnection',
         'InvokeCommand',
         'ModifyDedicatedHostsChargeType',
         'ModifyDemand',
         'ModifyDiskChargeType',
         'ModifyHaVipAttribute',
         'ModifyHpcClusterAttribute',
         'ModifyInstanceChargeType',
         'ModifyInstanceNetworkSpec',
         'ModifyInstanceSpec',
         'ModifyPhysicalConnectionAttribute',
         'ModifyPrepayInstanceSpec',
         'ModifyRouterInterfaceSpec',
         'ModifySecurityGroupEgressRule',
         'ModifySecurityGroupPolicy',
         'ModifySecurityGroupRule',
         'ModifyStorageSetAttribute',
         'ModifyVirtualBorderRouterAttribute',
         'PurchaseReservedInstancesOffering',
         'PurchaseStorageCapacityUnit',
         'RecoverVirtualBorderRouter',
         'RemoveBandwidthPackageIps',
         'RenewDedicatedHosts',
         'RenewInstance',
         'RenewReservedInstances',
         'ReplaceSystemDisk',
         'ResizeDisk',
         'RevokeSecurityGroup',
         'RevokeSecurityGroupEgress',
         'RunCommand',
         'RunInstances',
         'StartImagePipelineExecution',
         'TerminatePhysicalConnection',
         'TerminateVirtualBorderRouter',
         'UnassociateHaVip'),
 'oos': ('CreateApplication',
         'CreateApplicationGroup',
         'CreateOpsItem',
         'CreateParameter',
         'CreatePatchBaseline',
         'CreateSecretParameter',
         'CreateStateConfiguration',
         'DeleteStateConfigurations',
         'StartExecution',
         'TriggerExecution',
         'UpdateExecution',
         'UpdateOpsItem',
         'UpdatePatchBaseline',
         'UpdateStateConfiguration')}
PAGE_SIZE_LIMITS = {'ecs': {'DescribeAccessPoints': ('PageSize', 50),
         'DescribeAutoProvisioningGroupHistory': ('PageSize', 100),
         'DescribeAutoProvisioningGroupInstances': ('PageSize', 100),
         'DescribeAutoProvisioningGroups': ('PageSize', 100),
         'DescribeAutoSnapshotPolicyEx': ('PageSize', 100),
         'DescribeBandwidthPackages': ('PageSize', 50),
         'DescribeCapacityReservationInstances': ('MaxResults', 100),
         'DescribeCapacityReservations': ('MaxResults', 100),
         'DescribeDedicatedHostClusters': ('PageSize', 100),
         'DescribeDedicatedHosts': ('PageSize', 100),
         'DescribeDemands': ('PageSize', 100),
         'DescribeDeploymentSets': ('PageSize', 50),
         'DescribeDiagnosticMetricSets': ('MaxResults', 100),
         'DescribeDiagnosticMetrics': ('MaxResults', 100),
         'DescribeDiagnosticReports': ('MaxResults', 100),
         'DescribeDisks': ('PageSize', 100),
         'DescribeEipAddresses': ('PageSize', 100),
         'DescribeElasticityAssuranceInstances': ('MaxResults', 100),
         'DescribeElasticityAssurances': ('MaxResults', 100),
         'DescribeForwardTableEntries': ('PageSize', 50),
         'DescribeHaVips': ('PageSize', 50),
         'DescribeHpcClusters': ('PageSize', 100),
         'DescribeImageComponents': ('MaxResults', 500),
         'DescribeImagePipelineExecutions': ('MaxResults', 500),
         'DescribeImagePipelines': ('MaxResults', 500),
         'DescribeImageSharePermission': ('PageSize', 100),
         'DescribeImages': ('PageSize', 100),
         'DescribeInstanceAttachmentAttributes': ('PageSize', 100),
         'DescribeInstanceRamRole': ('PageSize', 50),
         'DescribeInstanceStatus': ('PageSize', 50),
         'DescribeInstanceTypes': ('MaxResults', 1600),
         'DescribeInstances': ('PageSize', 100),
         'DescribeKeyPairs': ('PageSize', 50),
         'DescribeNatGateways': ('PageSize', 50),
         'DescribePhysicalConnections': ('PageSize', 50),
         'DescribePrefixListAssociations': ('MaxResults', 100),
         'DescribePrefixLists': ('MaxResults', 100),
         'DescribeReservedInstances': ('PageSize', 100),
         'DescribeResourceByTags': ('PageSize', 100),
         'DescribeRouteTables': ('PageSize', 50),
         'DescribeRouterInterfaces': ('PageSize', 50),
         'DescribeSecurityGroupAttribute': ('MaxResults', 1000),
         'DescribeSecurityGroups': ('PageSize', 100),
         'DescribeSnapshotGroups': ('MaxResults', 500),
         'DescribeSnapshotLinks': ('PageSize', 100),
         'DescribeSnapshotPackage': ('PageSize', 100),
         'DescribeSnapshots': ('PageSize', 100),
         'DescribeStorageCapacityUnits': ('PageSize', 100),
         'DescribeStorageSetDetails': ('PageSize', 100),
         'DescribeStorageSets': ('PageSize', 100),
         'DescribeTags': ('PageSize', 100),
         'DescribeTasks': ('PageSize', 100),
         'DescribeVRouters': ('PageSize', 50),
         'DescribeVSwitches': ('PageSize', 50),
         'DescribeVirtualBorderRouters': ('PageSize', 50),
         'DescribeVirtualBorderRoutersForPhysicalConnection': ('PageSize', 50),
         'DescribeVpcs': ('PageSize', 50)},
 'oos': {'DescribeApplicationGroupBill': ('MaxResults', 50),
         'GetInventorySchema': ('MaxResults', 100),
         'GetParametersByPath': ('MaxResults', 100),
         'GetSecretParametersByPath': ('MaxResults', 100),
         'ListInventoryEntries': ('MaxResults', 100),
         'ListOpsItems': ('MaxResults', 100),
         'ListParameterVersions': ('MaxResults', 100),
         'ListParameters': ('MaxResults', 100),
         'ListResourceExecutionStatus': ('MaxResults', 100),
         'ListSecretParameterVersions': ('MaxResults', 100),
         'ListSecretParameters': ('MaxResults', 100),
         'SearchInventory': ('MaxResults', 100)}}
ENDPOINT_EXCEPTIONS = {'ecs': {'cn-hangzhou': 'ecs-cn-hangzhou.aliyuncs.com',
         'cn-hangzhou-finance': 'ecs.aliyuncs.com',
         'cn-shanghai-finance-1': 'ecs-cn-hangzhou.aliyuncs.com',
         'cn-shenzhen-finance-1': 'ecs-cn-hangzhou.aliyuncs.com'},
 'oos': {}}
JSON_PARAMETERS = {'ecs': {'ApplyAutoSnapshotPolicy': ('diskIds',),
         'AttachInstanceRamRole': ('InstanceIds', 'Policy'),
         'AttachKeyPair': ('InstanceIds',),
         'CancelAutoSnapshotPolicy': ('diskIds',),
         'CreateAutoSnapshotPolicy': ('TargetCopyRegions', 'repeatWeekdays', 'timePoints'),
         'DeleteKeyPairs': ('KeyPairNames',),
         'DescribeCapacityReservations': ('PrivatePoolOptions.Ids',),
         'DescribeDedicatedHostClusters': ('DedicatedHostClusterIds',),
         'DescribeDedicatedHosts': ('DedicatedHostIds',),
         'DescribeDeploymentSets': ('DeploymentSetIds',),
         'DescribeDisks': ('DiskIds',),
         'DescribeElasticityAssurances': ('PrivatePoolOptions.Ids',),
         'DescribeHpcClusters': ('HpcClusterIds',),
         'DescribeInstanceAttachmentAttributes': ('InstanceIds',),
         'DescribeInstanceRamRole': ('InstanceIds',),
         'DescribeInstanceTopology': ('InstanceIds',),
         'DescribeInstances': ('EipAddresses',
                               'InnerIpAddresses',
                               'InstanceIds',
                               'PrivateIpAddresses',
                               'PublicIpAddresses'),
         'DescribeSecurityGroups': ('SecurityGroupIds',),
         'DescribeSnapshotLinks': ('DiskIds', 'SnapshotLinkIds'),
         'DescribeSnapshots': ('SnapshotIds',),
         'DescribeStorageSetDetails': ('DiskIds',),
         'DescribeStorageSets': ('StorageSetIds',),
         'DetachInstanceRamRole': ('InstanceIds',),
         'DetachKeyPair': ('InstanceIds',),
         'InvokeCommand': ('Parameters',),
         'ModifyAutoSnapshotPolicyEx': ('TargetCopyRegions', 'repeatWeekdays', 'timePoints'),
         'ModifyCloudAssistantSettings': ('AgentUpgradeConfig', 'OssDeliveryConfig', 'SlsDeliveryConfig'),
         'ModifyDedicatedHostsChargeType': ('DedicatedHostIds',),
         'ModifyDiskChargeType': ('DiskIds',),
         'ModifyInstanceChargeType': ('InstanceIds',),
         'ModifyInvocationAttribute': ('Parameters',),
         'RunCommand': ('Parameters',)},
 'oos': {'ContinueDeployApplicationGroup': ('DeployParameters',),
         'CreateApplication': ('AlarmConfig', 'Tags'),
         'CreateOpsItem': ('Resources', 'Solutions', 'Tags'),
         'CreateParameter': ('Constraints', 'Tags'),
         'CreatePatchBaseline': ('ApprovalRules', 'ApprovedPatches', 'RejectedPatches', 'Sources', 'Tags'),
         'CreateSecretParameter': ('Tags',),
         'CreateStateConfiguration': ('Parameters', 'Tags', 'Targets'),
         'CreateTemplate': ('Content', 'Tags'),
         'DeleteExecutions': ('ExecutionIds',),
         'DeleteStateConfigurations': ('StateConfigurationIds',),
         'DeleteTemplates': ('TemplateNames',),
         'DeployApplicationGroup': ('DeployParameters',),
         'GenerateExecutionPolicy': ('TemplateContent',),
         'GetParameters': ('Names',),
         'GetSecretParameters': ('Names',),
         'ListApplications': ('Names', 'Tags'),
         'ListExecutions': ('Categories', 'Tags'),
         'ListInstancePatchStates': ('InstanceIds',),
         'ListOpsItems': ('ResourceTags', 'Tags'),
         'ListParameters': ('Tags',),
         'ListPatchBaselines': ('ApprovedPatches', 'Sources', 'Tags'),
         'ListSecretParameters': ('Tags',),
         'ListStateConfigurations': ('StateConfigurationIds', 'Tags'),
         'ListTagResources': ('ResourceIds', 'Tags'),
         'ListTemplates': ('Tags',),
         'NotifyExecution': ('Parameters', 'TaskExecutionIds'),
         'StartExecution': ('Parameters', 'Tags', 'TemplateContent'),
         'TagResources': ('ResourceIds', 'Tags'),
         'TriggerExecution': ('Content',),
         'UntagResources': ('ResourceIds', 'TagKeys'),
         'UpdateApplication': ('AlarmConfig', 'Tags'),
         'UpdateExecution': ('Parameters', 'Tags'),
         'UpdateOpsItem': ('Resources', 'Solutions', 'Tags'),
         'UpdateParameter': ('Tags',),
         'UpdatePatchBaseline': ('ApprovalRules', 'ApprovedPatches', 'RejectedPatches', 'Sources', 'Tags'),
         'UpdateSecretParameter': ('Tags',),
         'UpdateStateConfiguration': ('Parameters', 'Tags', 'Targets'),
         'UpdateTemplate': ('Content', 'Tags'),
         'ValidateTemplateContent': ('Content',)}}
REPEAT_LIST_PLURALS = {'ecs': {'AddTags': ('Tag',),
         'AllocateDedicatedHosts': ('Tag',),
         'AssignIpv6Addresses': ('Ipv6Prefix',),
         'AssignPrivateIpAddresses': ('Ipv4Prefix',),
         'CancelImagePipelineExecution': ('TemplateTag',),
         'CancelSimulatedSystemEvents': ('EventId',),
         'CopyImage': ('Tag',),
         'CopySnapshot': ('Arn', 'Tag'),
         'CreateActivation': ('Tag',),
         'CreateAutoProvisioningGroup': ('DataDiskConfig',
                                         'LaunchConfiguration.Arn',
                                         'LaunchConfiguration.DataDisk',
                                         'LaunchConfiguration.Tag',
                                         'LaunchTemplateConfig',
                                         'SystemDiskConfig',
                                         'Tag'),
         'CreateAutoSnapshotPolicy': ('Tag',),
         'CreateCapacityReservation': ('Tag', 'ZoneId'),
         'CreateCommand': ('Tag',),
         'CreateDedicatedHostCluster': ('Tag',),
         'CreateDisk': ('Arn', 'Tag'),
         'CreateElasticityAssurance': ('InstanceType', 'Tag', 'ZoneId'),
         'CreateImage': ('DiskDeviceMapping', 'Tag'),
         'CreateImageComponent': ('Tag',),
         'CreateImagePipeline': ('AddAccount', 'Tag', 'ToRegionId'),
         'CreateInstance': ('Arn', 'DataDisk', 'Tag'),
         'CreateKeyPair': ('Tag',),
         'CreateLaunchTemplate': ('DataDisk', 'NetworkInterface', 'Tag', 'TemplateTag'),
         'CreateLaunchTemplateVersion': ('DataDisk', 'NetworkInterface', 'Tag'),
         'CreateNatGateway': ('BandwidthPackage',),
         'CreateNetworkInterface': ('Ipv4Prefix', 'Ipv6Prefix', 'Tag'),
         'CreatePrefixList': ('Entry',),
         'CreateRouteEntry': ('NextHopList',),
         'CreateSecurityGroup': ('Tag',),
         'CreateSimulatedSystemEvents': ('InstanceId',),
         'CreateSnapshot': ('Tag',),
         'CreateSnapshotGroup': ('DiskId', 'ExcludeDiskId', 'Tag'),
         'DeleteInstances': ('InstanceId',),
         'DeleteLaunchTemplateVersion': ('DeleteVersion',),
         'DeleteRouteEntry': ('NextHopList',),
         'DescribeAccessPoints': ('Filter',),
         'DescribeAccountAttributes': ('AttributeName',),
         'DescribeActivations': ('Tag',),
         'DescribeAutoProvisioningGroups': ('AutoProvisioningGroupId', 'Tag'),
         'DescribeAutoSnapshotPolicyEx': ('Tag',),
         'DescribeCapacityReservations': ('Tag',),
         'DescribeCloudAssistantSettings': ('SettingType',),
         'DescribeCloudAssistantStatus': ('InstanceId',),
         'DescribeCommands': ('Tag',),
         'DescribeDedicatedHostClusters': ('Tag',),
         'DescribeDedicatedHosts': ('Tag',),
         'DescribeDemands': ('Tag',),
         'DescribeDisks': ('Tag',),
         'DescribeDisksFullStatus': ('DiskId', 'EventId', 'Tag'),
         'DescribeElasticityAssurances': ('Tag',),
         'DescribeHaVips': ('Filter',),
         'DescribeImageComponents': ('ImageComponentId', 'Tag'),
         'DescribeImagePipelineExecutions': ('Tag',),
         'DescribeImagePipelines': ('ImagePipelineId', 'Tag'),
         'DescribeImageSupportInstanceTypes': ('Filter',),
         'DescribeImages': ('Filter', 'Tag'),
         'DescribeInstanceHistoryEvents': ('EventId', 'InstanceEventType', 'ResourceId', 'Tag'),
         'DescribeInstanceMaintenanceAttributes': ('InstanceId',),
         'DescribeInstanceModificationPrice': ('DataDisk',),
         'DescribeInstanceStatus': ('InstanceId',),
         'DescribeInstances': ('Tag',),
         'DescribeInstancesFullStatus': ('EventId', 'InstanceEventType', 'InstanceId'),
         'DescribeInvocationResults': ('Tag',),
         'DescribeInvocations': ('Tag',),
         'DescribeKeyPairs': ('Tag',),
         'DescribeLaunchTemplateVersions': ('LaunchTemplateVersion',),
         'DescribeLaunchTemplates': ('LaunchTemplateId', 'LaunchTemplateName', 'TemplateTag'),
         'DescribeManagedInstances': ('InstanceId', 'Tag'),
         'DescribeNetworkInterfaceAttribute': ('Tag',),
         'DescribeNetworkInterfacePermissions': ('NetworkInterfacePermissionId',),
         'DescribeNetworkInterfaces': ('NetworkInterfaceId', 'Tag'),
         'DescribePhysicalConnections': ('Filter',),
         'DescribePrefixLists': ('PrefixListId',),
         'DescribePrice': ('DataDisk', 'InstanceTypeList'),
         'DescribeRecommendInstanceType': ('InstanceTypeFamily',),
         'DescribeReservedInstanceAutoRenewAttribute': ('ReservedInstanceId',),
         'DescribeReservedInstances': ('ReservedInstanceId', 'Tag'),
         'DescribeResourceByTags': ('Tag',),
         'DescribeRouterInterfaces': ('Filter',),
         'DescribeSecurityGroupReferences': ('SecurityGroupId',),
         'DescribeSecurityGroups': ('Tag',),
         'DescribeSendFileResults': ('Tag',),
         'DescribeSnapshotGroups': ('SnapshotGroupId', 'Tag'),
         'DescribeSnapshots': ('Tag',),
         'DescribeStorageCapacityUnits': ('StorageCapacityUnitId', 'Tag'),
         'DescribeTags': ('Tag',),
         'DescribeVirtualBorderRouters': ('Filter',),
         'DescribeVirtualBorderRoutersForPhysicalConnection': ('Filter',),
         'ImportImage': ('DiskDeviceMapping', 'Tag'),
         'ImportKeyPair': ('Tag',),
         'InstallCloudAssistant': ('InstanceId',),
         'InvokeCommand': ('InstanceId', 'ResourceTag', 'Tag'),
         'ListPluginStatus': ('InstanceId',),
         'ListTagResources': ('ResourceId', 'Tag', 'TagFilter'),
         'ModifyAutoProvisioningGroup': ('LaunchTemplateConfig',),
         'ModifyImageSharePermission': ('AddAccount', 'RemoveAccount'),
         'ModifyInstanceMaintenanceAttributes': ('InstanceId', 'MaintenanceWindow'),
         'ModifyInstanceSpec': ('Disk',),
         'ModifyInstanceVpcAttribute': ('SecurityGroupId',),
         'ModifyInvocationAttribute': ('InstanceId',),
         'ModifyNetworkInterfaceAttribute': ('SecurityGroupId',),
         'ModifyPrefixList': ('AddEntry', 'RemoveEntry'),
         'ModifyPrepayInstanceSpec': ('Disk',),
         'ModifyReservedInstanceAutoRenewAttribute': ('ReservedInstanceId',),
         'ModifyReservedInstances': ('Configuration', 'ReservedInstanceId'),
         'PurchaseReservedInstancesOffering': ('Tag',),
         'PurchaseStorageCapacityUnit': ('Tag',),
         'RebootInstances': ('InstanceId',),
         'RemoveTags': ('Tag',),
         'RenewReservedInstances': ('ReservedInstanceId',),
         'ReplaceSystemDisk': ('Arn',),
         'ReportInstancesStatus': ('Device', 'DiskId', 'InstanceId'),
         'ResetDisks': ('Disk',),
         'RevokeSecurityGroup': ('SecurityGroupRuleId',),
         'RevokeSecurityGroupEgress': ('SecurityGroupRuleId',),
         'RunCommand': ('InstanceId', 'ResourceTag', 'Tag'),
         'RunInstances': ('Arn', 'DataDisk', 'NetworkInterface', 'Tag'),
         'SendFile': ('InstanceId', 'Tag'),
         'StartImagePipelineExecution': ('TemplateTag',),
         'StartInstances': ('InstanceId',),
         'StartTerminalSession': ('InstanceId',),
         'StopInstances': ('InstanceId',),
         'StopInvocation': ('InstanceId',),
         'TagResources': ('ResourceId', 'Tag'),
         'UnassignIpv6Addresses': ('Ipv6Prefix',),
         'UnassignPrivateIpAddresses': ('Ipv4Prefix',),
         'UntagResources': ('ResourceId', 'TagKey')},
 'oos': {'ListInventoryEntries': ('Filter',),
         'ListOpsItems': ('Filter',),
         'SearchInventory': ('Aggregator', 'Filter')}}


# END GENERATED
