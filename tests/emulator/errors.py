"""API errors as Alibaba Cloud returns them: a code, a message and an HTTP status.

Codes, statuses and messages come from the per-API error tables in
``ECS_OOS_ERRORS_AND_DEMOS.md`` and the gateway table in ``ECS_OOS_SHAPES.md`` §6.
"""
from __future__ import annotations


class ApiError(Exception):
    """An error answer: ``{"RequestId", "HostId", "Code", "Message", "Recommend"}`` with ``status``."""

    def __init__(self, code: str, message: str, status: int = 400, headers: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


# code -> (HTTP status, message). Messages are verbatim from the docs, typos included.
CATALOG: dict[str, tuple[int, str]] = {
    # gateway
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (500, "The request processing has failed due to some unknown error."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidSecurityToken.Malformed": (400, "Specified SecurityToken is malformed."),
    "InvalidSecurityToken.MismatchWithAccessKey": (400, "Specified SecurityToken mismatch with the AccessKey."),
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "MissingParameter": (400, 'The input parameter "{name}" that is mandatory for processing this request is not supplied.'),
    "InvalidParameter": (400, 'The specified parameter "{name}" is not valid.'),
    "InvalidRegionId.NotFound": (404, "The RegionId provided does not exist in our records."),
    "DryRunOperation": (400, "Request validation has been passed with DryRun flag set."),
    "DRYRUN.SUCCESS": (400, "This request is a dryrun request with successful result."),
    # instances
    "InvalidInstanceId.NotFound": (404, "The specified InstanceId does not exist."),
    "InvalidInstanceIds.NotFound": (404, "The specified InstanceIds does not exist."),
    "IncorrectInstanceStatus": (403, "The current status of the resource does not support this operation."),
    "IncorrectInstanceStatus.Initializing": (403, "The specified instance status does not support this operation."),
    "InstanceLockedForSecurity": (403, "The specified operation is denied as your instance is locked for security reasons."),
    "InvalidOperation.DeletionProtection": (403, "The operation is not allowed due to deletion protection."),
    "InvalidParameter.TooManyInstanceIds": (403, "Instance ids cannot be more than 100."),
    "InvalidStatus.NotFound": (404, "The specified Status is not found."),
    "InvalidTag.Mismatch": (400, "The specified Tag.n.Key and Tag.n.Value are not match."),
    "InvalidTagCount": (400, "The specified tags are beyond the permitted range."),
    "Duplicate.TagKey": (400, "The Tag.N.Key contain duplicate key."),
    "InvalidTagKey.Malformed": (400, "The specified Tag.n.Key is not valid."),
    "InvalidInstanceType.ValueNotSupported": (400, "The specified InstanceType beyond the permitted range."),
    "InvalidImageId.NotFound": (404, "The specified ImageId does not exist."),
    "InvalidVSwitchId.NotFound": (404, "Specified virtual switch does not exist."),
    "InvalidSecurityGroupId.NotFound": (400, "The SecurityGroupId provided does not exist in our records."),
    "InvalidZoneId.NotFound": (404, "The ZoneId provided does not exist in our records."),
    "IdempotentParameterMismatch": (403, "The specified parameter has changed while using an already used clientToken."),
    # images and snapshots
    "InvalidImageName.Malformed": (400, "The specified Image name is wrongly formed."),
    "InvalidImageName.Duplicated": (400, "The specified Image name has already bean used."),
    "IdempotenceParamNotMatch": (400, "Request uses a client token in a previous request but is not identical to that request."),
    "ImageUsingByInstance": (403, "The specified image has been used to create instances."),
    "ImageIsPublic": (403, "You can not delete public image, please modify it to private."),
    "InvalidSnapshotId.NotFound": (404, "The specified SnapshotId does not exist."),
    "InvalidSnapshotId.NotReady": (403, "The current status of the DiskDeviceMapping.n.SnapshotId or SnapshotId does not support this operation."),
    "InvalidDiskId.NotFound": (404, "The specified DiskId does not exist."),
    "IncorrectDiskStatus.CreatingSnapshot": (403, "A previous snapshot creation is in process."),
    "InvalidSnapshotName.Malformed": (400, "The specified SnapshotName is wrongly formed."),
    # tags
    "NumberExceed.ResourceIds": (400, "The ResourceIds parameter's number is exceed , Valid : 50."),
    "NumberExceed.Tags": (400, "The Tags parameter's number is exceed , Valid : 20."),
    "InvalidResourceId.NotFound": (404, "The specified ResourceIds are not found in our records."),
    "InvalidResourceType.NotFound": (404, "The ResourceType provided does not exist in our records."),
    "BothEmpty.TagsAndResources": (403, "The specified Tags and ResourcesIds are not allow to both empty."),
    "Invalid.NextToken": (403, "The specified NextToken is not valid."),
    # cloud assistant
    "MissingParam.InstanceId": (400, "The parameter instanceId is missing or empty."),
    "InstanceIds.ExceedLimit": (403, "The number of instance IDs exceeds the upper limit."),
    "InvalidInstance.NotFound": (404, "The specified instance does not exist."),
    "InvalidInstance.NotMatch": (400, "The specified instance type does not match the command."),
    "InvalidCmdType.NotFound": (404, "The specified command type does not exist."),
    "InvalidCmdId.NotFound": (404, "The specified command ID does not exist."),
    "InvalidInvokeId.NotFound": (404, "The specified invoke ID does not exist."),
    "InvalidRepeatMode.NotFound": (404, "The specified repeat mode does not exist."),
    "MissingParam.Frequency": (400, "The frequency must be specified when you create a timed task."),
    "CmdContent.DecodeError": (400, "The CommandContent can not be base64 decoded."),
    "CmdContent.ExceedLimit": (403, "The length of the command content exceeds the upper limit."),
    "CmdParam.InvalidParamName": (400, "A command parameter name is invalid."),
    "CmdParamCount.ExceedLimit": (403, "You've reached the limit on the count of command parameters."),
    "Parameter.Disabled": (400, "Parameters should not be passed when CreateCommand.EnableParameter is false."),
    "Parameter.MissingValue": (400, "The parameter value of this command is required."),
    "Parameter.NotMatched": (400, "The parameters of creation do not match those of invocation."),
    "ParameterType.NotSupported": (403, "The type of parameter value is not supported."),
    "InvalidParameter.Parameters": (400, "The specified parameter Parameters is not valid."),
    "InvalidResourceTag.InstanceNotFound": (400, "InstanceIds are not found by the specified ResourceTag."),
    "InvalidResourceTag.ConflictWithInstanceIds": (400, "The specified param ResourceTag conflicts with InstanceId."),
    "InvalidParam.PageSize": (400, "The specified parameter is invalid."),
    "InvalidParam.PageNumber": (400, "The specified parameter is invalid."),
    "InvalidParameter.MaxResults": (400, "The specified parameter MaxResults is not valid."),
    "InvalidParameter.NextToken": (400, "The specified parameter NextToken is not valid."),
    "FileTargetDir.Invalid": (400, "The specified file target directory is invalid."),
    "FileMode.Invalid": (400, "The specified file mode is invalid."),
    "FileContent.DecodeError": (400, "The file content can not be base64 decoded."),
    "FileContentType.Invalid": (400, "The specified file content type is invalid."),
    "FileSize.ExceedLimit": (403, "The size of file content exceeds the upper limit."),
    "Username.ExceedLimit": (403, "The length of the username exceeds the upper limit."),
    # oos (codes seen in real clients; statuses are the probable ones, see ECS_OOS_SHAPES.md §5)
    "EntityNotExists.Template": (404, "The template does not exist."),
    "EntityNotExists.Execution": (404, "The execution does not exist."),
    "EntityAlreadyExists.Template": (400, "The template already exists."),
    "InvalidTemplate": (400, "The template is invalid: {reason}"),
    "InvalidExecution.Status": (400, "The execution status does not support this operation."),
}


def api_error(code: str, message: str | None = None, status: int | None = None, **fmt) -> ApiError:
    """The catalogued error ``code``; ``fmt`` fills ``{name}``-style placeholders of its message."""
    default_status, default_message = CATALOG.get(code, (400, code))
    if message is None:
        message = default_message.format(**fmt) if fmt else default_message
    return ApiError(code, message, status or default_status)


def missing_parameter(name: str) -> ApiError:
    return api_error("MissingParameter", name=name)


def invalid_parameter(name: str, message: str | None = None) -> ApiError:
    return api_error("InvalidParameter", message, name=name)
