"""OOS 2019-06-01: templates and executions, with a hook for an execution engine.

Templates (Create/Update/Get/List/Delete, ValidateTemplateContent) are complete. Executions are
records: ``StartExecution`` validates the template and parameters, stores the execution and hands it
to the engine. The default engine (``QueuedEngine``) runs nothing, so **executions stay ``Queued``**
until cancelled or completed through NotifyExecution(CompleteExecution). A real engine plugs in
without touching this module: if ``tests.emulator.oos_engine`` provides ``create_engine(oos)``
returning an ``ExecutionEngine``, it is used instead (``--oos-engine queued`` turns it off).

Templates given with ``--action-templates DIR`` (``*.yml``/``*.yaml``/``*.json``) are served as
Public templates named after the file stem (for example ``ACS-ECS-BulkyStartInstances``).
"""
from __future__ import annotations

import hashlib
import importlib
import json
import re
import time
from pathlib import Path

from . import OOS_VERSION
from .api import REGISTRY, Page, Request, paging
from .errors import ApiError, api_error, invalid_parameter
from .state import ACCOUNT_ID, EXECUTED_BY, iso_seconds

try:
    import yaml
except ImportError:  # pragma: no cover - pyyaml is in the test requirements
    yaml = None

try:  # the reference engine's template checks (it needs the jq package); lighter local checks without it
    from .oos_engine.template import TemplateError, resolve_parameters, validate_document
except ImportError:  # pragma: no cover - jq is in the test requirements
    TemplateError = resolve_parameters = validate_document = None

TERMINAL_STATUSES = ("Success", "Failed", "Cancelled")
MODES = ("Automatic", "FailurePause", "Debug")
LOOP_MODES = ("Automatic", "FirstBatchPause", "EveryBatchPause")
SAFETY_CHECKS = ("ConfirmEveryHighRiskAction", "Skip")
NOTIFY_TYPES = ("ExecuteTask", "CancelTask", "CompleteExecution", "Approve", "Reject", "RetryTask", "SkipTask")
RESERVED_PREFIXES = ("aliyun", "acs", "alibaba", "alicloud")
TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
CONTENT_LIMIT = 64 * 1024
TRIGGER_ACTIONS = ("ACS::TimerTrigger", "ACS::EventTrigger", "ACS::AlarmTrigger")


def oos(name: str | None = None, **options):
    return REGISTRY.action("oos", OOS_VERSION, name, **options)


# ----- templates (pure helpers) -----------------------------------------------------------------------
def parse_template(content: str, strict: bool = True) -> tuple[dict, str]:
    """Template text -> (document, ``JSON``|``YAML``). Data only: ``yaml.safe_load``, nothing evaluated.

    ``strict`` adds the engine's full validation (task names unique, jump targets, parameter and output
    types...), answered as ``InvalidTemplate`` with the reason, as CreateTemplate and ValidateTemplateContent do.
    """
    text = content.strip()
    try:
        if text.startswith("{"):
            document, fmt = json.loads(text), "JSON"
        elif yaml is None:
            raise api_error("InvalidTemplate", reason="YAML templates need pyyaml in the emulator's Python")
        else:
            document, fmt = yaml.safe_load(text), "YAML"
    except (ValueError, getattr(yaml, "YAMLError", ValueError)) as exc:
        raise api_error("InvalidTemplate", reason=f"the content is neither valid JSON nor YAML ({exc})") from None
    if not isinstance(document, dict):
        raise api_error("InvalidTemplate", reason="the template must be a mapping")
    if document.get("FormatVersion") != "OOS-2019-06-01":
        raise api_error("InvalidTemplate", reason="FormatVersion must be OOS-2019-06-01")
    tasks = document.get("Tasks")
    if not isinstance(tasks, list) or not tasks:
        raise api_error("InvalidTemplate", reason="Tasks must be a non-empty list")
    for index, task in enumerate(tasks):
        if not isinstance(task, dict) or not task.get("Name") or not task.get("Action"):
            raise api_error("InvalidTemplate", reason=f"Tasks[{index}] needs a Name and an Action")
    if "Parameters" in document and not isinstance(document["Parameters"], (dict, type(None))):
        raise api_error("InvalidTemplate", reason="Parameters must be a mapping")
    if strict and validate_document is not None:
        try:
            validate_document(document)
        except TemplateError as error:
            raise api_error("InvalidTemplate", reason=error.message) from None
    return document, fmt


def description_text(document: dict) -> str:
    description = document.get("Description", "")
    return description if isinstance(description, str) else json.dumps(description, ensure_ascii=False)


def template_parameters(document: dict) -> dict:
    return document.get("Parameters") or {}


class TemplateVersion:
    def __init__(self, number: int, content: str, document: dict, fmt: str, now: float, version_name: str):
        self.number = number
        self.content = content
        self.document = document
        self.format = fmt
        self.hash = hashlib.sha256(content.encode("utf-8")).hexdigest()
        self.created_at = now
        self.version_name = version_name

    @property
    def name(self) -> str:
        return f"v{self.number}"


class Template:
    def __init__(self, **fields):
        self.versions: list[TemplateVersion] = []
        self.tags: dict = {}
        self.resource_group_id = ""
        self.share_type = "Private"
        self.created_by = EXECUTED_BY
        self.total_execution_count = 0
        self.__dict__.update(fields)

    @property
    def latest(self) -> TemplateVersion:
        return self.versions[-1]

    def version(self, name: str) -> TemplateVersion | None:
        if not name:
            return self.latest
        return next((v for v in self.versions if v.name == name), None)

    def to_api(self, version: TemplateVersion | None = None, *, listing: bool = False) -> dict:
        version = version or self.latest
        document = version.document
        body = {
            "TemplateName": self.name, "TemplateId": self.id, "TemplateVersion": version.name,
            "TemplateFormat": version.format, "TemplateType": "Automation", "Description": description_text(document),
            "Hash": version.hash, "ShareType": self.share_type, "CreatedBy": self.created_by,
            "CreatedDate": iso_seconds(self.created_at), "UpdatedBy": self.created_by,
            "UpdatedDate": iso_seconds(self.latest.created_at), "HasTrigger": has_trigger(document),
            "Tags": dict(self.tags), "ResourceGroupId": self.resource_group_id, "VersionName": version.version_name,
        }
        if listing:
            body.update({"Category": category(document), "Popularity": 0,
                         "TotalExecutionCount": self.total_execution_count, "IsFavorite": False,
                         "Publisher": "Alibaba Cloud" if self.share_type == "Public" else "", "Constraints": ""})
        return body


def has_trigger(document: dict) -> bool:
    return any(isinstance(t, dict) and t.get("Action") in TRIGGER_ACTIONS for t in document.get("Tasks") or [])


def category(document: dict) -> str:
    description = document.get("Description")
    if isinstance(description, dict) and description.get("categories"):
        return str(description["categories"][0])
    return "Other"


# ----- executions ---------------------------------------------------------------------------------------
class Execution:
    def __init__(self, **fields):
        self.status = "Queued"
        self.status_message = ""
        self.status_reason = ""
        self.waiting_status = ""
        self.outputs: dict = {}
        self.counters: dict = {}
        self.current_tasks: list = []
        self.task_executions: list[dict] = []
        self.logs: list[dict] = []
        self.end_date = 0.0
        self.is_parent = False
        self.category = "Other"
        self.targets = ""
        self.resource_status = ""
        self.__dict__.update(fields)

    def finish(self, status: str, now: float | None = None, message: str = "") -> None:
        now = time.time() if now is None else now
        self.status, self.status_message, self.end_date, self.update_date = status, message, now, now
        self.current_tasks = []

    def to_api(self, *, parameters_as_string: bool) -> dict:
        return {
            "ExecutionId": self.id, "TemplateName": self.template_name, "TemplateId": self.template_id,
            "TemplateVersion": self.template_version, "Mode": self.mode, "LoopMode": self.loop_mode,
            "SafetyCheck": self.safety_check, "Status": self.status, "StatusMessage": self.status_message,
            "StatusReason": self.status_reason, "WaitingStatus": self.waiting_status,
            "Parameters": json.dumps(self.parameters) if parameters_as_string else dict(self.parameters),
            "Outputs": json.dumps(self.outputs), "ExecutedBy": EXECUTED_BY, "IsParent": self.is_parent,
            "ParentExecutionId": self.parent_execution_id, "RamRole": self.ram_role,
            "ResourceGroupId": self.resource_group_id, "Description": self.description, "Tags": dict(self.tags),
            "Counters": dict(self.counters), "CurrentTasks": list(self.current_tasks), "Category": self.category,
            "Targets": self.targets, "ResourceStatus": self.resource_status,
            "CreateDate": iso_seconds(self.create_date), "StartDate": iso_seconds(self.start_date),
            "EndDate": iso_seconds(self.end_date), "UpdateDate": iso_seconds(self.update_date),
            "LastTriggerTime": "", "LastTriggerStatus": "", "LastTriggerStatusMessage": "",
            "LastTriggerOutputs": "", "LastSuccessfulTriggerTime": "", "NextScheduleTime": "",
        }


class ExecutionEngine:
    """What runs executions. Methods are called with ``oos.world.lock`` held; they must not block.

    An engine that runs work must do it on its own threads, taking ``oos.world.lock`` while it
    updates an ``Execution`` (status, outputs, counters, current_tasks, task_executions, logs)
    and calling cloud APIs through ``oos.emulator.call(version, action, params)``.
    """

    name = "queued"

    def __init__(self, oos_service: "Oos"):
        self.oos = oos_service

    def start(self, execution: Execution) -> None:
        """A new execution (status ``Queued``), not stored yet: raise ``ApiError`` to refuse it (StartExecution
        then answers that error and stores nothing). The default engine leaves it ``Queued``."""

    def notify(self, execution: Execution, notify_type: str, request: Request) -> None:
        """NotifyExecution. Default semantics: Reject cancels, CompleteExecution sets the final status."""
        if notify_type == "Reject":
            execution.finish("Cancelled", request.now, request.str("NotifyNote"))
        elif notify_type == "CompleteExecution":
            status = request.enum("ExecutionStatus", TERMINAL_STATUSES)
            if not status:
                raise api_error("MissingParameter", name="ExecutionStatus")
            execution.finish(status, request.now, request.str("NotifyNote"))

    def cancel(self, execution: Execution) -> None:
        """CancelExecution, after the execution is marked Cancelled: stop whatever runs for it."""

    def close(self) -> None:
        """The emulator stops or resets."""


QueuedEngine = ExecutionEngine


def load_engine(oos_service: "Oos") -> ExecutionEngine:
    """``tests.emulator.oos_engine.create_engine(oos)`` when that module provides it, else QueuedEngine.

    ``--oos-engine queued`` forces the QueuedEngine (executions stay records).
    """
    if oos_service.engine_choice == "queued":
        return QueuedEngine(oos_service)
    try:
        module = importlib.import_module(f"{__package__}.oos_engine")
    except ImportError:
        module = None
    factory = getattr(module, "create_engine", None)
    return factory(oos_service) if callable(factory) else QueuedEngine(oos_service)


class Oos:
    """All OOS state: templates by (region, name), executions by id, and the engine."""

    def __init__(self, world, emulator=None, action_templates: str | None = None, engine: str = "auto"):
        self.world = world
        self.engine_choice = engine
        self.emulator = emulator
        self.action_templates = Path(action_templates) if action_templates else None
        self.templates: dict[tuple[str, str], Template] = {}
        self.public: dict[str, Template] = {}
        self.executions: dict[str, Execution] = {}
        self.idempotent: dict = {}
        self._load_public()
        self.engine = load_engine(self)
        world.oos = self

    def reset(self) -> None:
        with self.world.lock:
            self.engine.close()
            self.templates, self.executions = {}, {}
            self._load_public()
            self.engine = load_engine(self)

    def close(self) -> None:
        self.engine.close()

    def _load_public(self) -> None:
        self.public = {}
        if not self.action_templates or not self.action_templates.is_dir():
            return
        for path in sorted(self.action_templates.iterdir()):
            if path.suffix not in (".yml", ".yaml", ".json"):
                continue
            content = path.read_text(encoding="utf-8")
            try:
                # Not strict: these are templates the real service accepted (one uses a 'States' section).
                document, fmt = parse_template(content, strict=False)
            except ApiError:
                continue   # a directory of real templates may hold a few this emulator cannot parse
            template = Template(name=path.stem, id=f"t-{hashlib.md5(path.stem.encode()).hexdigest()[:20]}",
                                share_type="Public", created_by="ACS", created_at=0.0)
            template.versions.append(TemplateVersion(1, content, document, fmt, 0.0, ""))
            self.public[path.stem] = template

    def find_template(self, region: str, name: str) -> Template | None:
        return self.templates.get((region, name)) or self.public.get(name)


def service(request: Request) -> Oos:
    return request.world.oos


def region_of(request: Request) -> str:
    return request.str("RegionId") or request.world.default_region


def tags_param(request: Request, name: str = "Tags") -> dict:
    """OOS ``Tags``: a JSON map string (what the SDK sends) or flattened ``Tags.<key>=value``."""
    if request.has(name):
        tags = request.json(name, {})
        if not isinstance(tags, dict):
            raise invalid_parameter(name)
        return {str(k): str(v) for k, v in tags.items()}
    prefix = name + "."
    return {k[len(prefix):]: v for k, v in request.params.items() if k.startswith(prefix)}


def oos_page(request: Request, *, default: int, minimum: int, salt: str | None = None) -> Page:
    """OOS lists page with MaxResults/NextToken only."""
    return paging(request, default_size=default, min_size=minimum, max_size=100, always_token=True, salt=salt)


def sort_items(request: Request, items: list, fields: dict, default_field: str) -> list:
    field = request.enum("SortField", tuple(fields), default_field)
    order = request.enum("SortOrder", ("Ascending", "Descending"), "Descending")
    return sorted(items, key=fields[field], reverse=order == "Descending")


# ----- API: templates -----------------------------------------------------------------------------------
def template_not_found() -> ApiError:
    return api_error("EntityNotExists.Template")


def checked_content(request: Request) -> tuple[str, dict, str]:
    content = request.required("Content")
    if len(content.encode("utf-8")) > CONTENT_LIMIT:
        raise invalid_parameter("Content", "The template content exceeds 64 KB.")
    document, fmt = parse_template(content)
    return content, document, fmt


@oos(required=("TemplateName", "Content"))
def CreateTemplate(request: Request):
    cloud, region, now = service(request), region_of(request), request.now
    name = request.str("TemplateName")
    if not TEMPLATE_NAME.match(name):
        raise invalid_parameter("TemplateName")
    if name.lower().startswith(RESERVED_PREFIXES):
        raise invalid_parameter("TemplateName", "The template name cannot start with ALIYUN, ACS, ALIBABA or "
                                "ALICLOUD.")
    if (region, name) in cloud.templates or name in cloud.public:
        raise api_error("EntityAlreadyExists.Template")
    content, document, fmt = checked_content(request)
    template = Template(name=name, id=f"t-{request.world.rng.getrandbits(80):020x}", region=region, created_at=now,
                        tags=tags_param(request), resource_group_id=request.str("ResourceGroupId"))
    template.versions.append(TemplateVersion(1, content, document, fmt, now, request.str("VersionName")))
    cloud.templates[(region, name)] = template
    return {"Template": template.to_api()}


def own_template(request: Request) -> Template:
    cloud, region = service(request), region_of(request)
    name = request.str("TemplateName")
    template = cloud.templates.get((region, name))
    if template is None:
        if name in cloud.public:
            raise ApiError("Forbidden.Template", "Public templates cannot be modified.", 403)
        raise template_not_found()
    return template


@oos(required=("TemplateName", "Content"))
def UpdateTemplate(request: Request):
    template = own_template(request)
    content, document, fmt = checked_content(request)
    if content != template.latest.content:
        template.versions.append(TemplateVersion(len(template.versions) + 1, content, document, fmt, request.now,
                                                 request.str("VersionName")))
    elif request.has("VersionName"):
        template.latest.version_name = request.str("VersionName")
    if request.has("Tags") or any(k.startswith("Tags.") for k in request.params):
        template.tags = tags_param(request)
    if request.has("ResourceGroupId"):
        template.resource_group_id = request.str("ResourceGroupId")
    return {"Template": template.to_api()}


@oos(required=("TemplateName",))
def DeleteTemplate(request: Request):
    template = own_template(request)
    cloud = service(request)
    del cloud.templates[(region_of(request), template.name)]
    if request.bool("AutoDeleteExecutions"):
        for execution_id in [e.id for e in cloud.executions.values() if e.template_id == template.id]:
            del cloud.executions[execution_id]
    return {}


@oos(required=("TemplateName",))
def GetTemplate(request: Request):
    template = service(request).find_template(region_of(request), request.str("TemplateName"))
    if template is None:
        raise template_not_found()
    version = template.version(request.str("TemplateVersion"))
    if version is None:
        raise template_not_found()
    return {"Content": version.content, "Template": template.to_api(version)}


@oos()
def ListTemplates(request: Request):
    cloud, region = service(request), region_of(request)
    share_type = request.enum("ShareType", ("Public", "Private"))
    tags = tags_param(request)
    name = request.str("TemplateName").lower()
    candidates = [t for (r, _unused), t in cloud.templates.items() if r == region] + list(cloud.public.values())
    found = [t for t in candidates
             if (not share_type or t.share_type == share_type)
             and (not name or name in t.name.lower())
             and (not request.has("TemplateFormat") or t.latest.format == request.str("TemplateFormat").upper())
             and (not request.has("TemplateType") or request.str("TemplateType") == "Automation")
             and (not request.has("Category") or category(t.latest.document) == request.str("Category"))
             and (not request.has("HasTrigger") or has_trigger(t.latest.document) == request.bool("HasTrigger"))
             and (not request.has("ResourceGroupId") or t.resource_group_id == request.str("ResourceGroupId"))
             and all(t.tags.get(k) == v for k, v in tags.items())]
    found = sort_items(request, found, {"TotalExecutionCount": lambda t: (t.total_execution_count, t.name),
                                        "Popularity": lambda t: (0, t.name), "TemplateName": lambda t: t.name,
                                        "CreatedDate": lambda t: (t.created_at, t.name)}, "TotalExecutionCount")
    page = oos_page(request, default=50, minimum=20, salt=f"ListTemplates:{region}")
    return {"Templates": [t.to_api(listing=True) for t in page.slice(found)], "MaxResults": page.size,
            "NextToken": page.next_token(len(found))}


@oos()
def ValidateTemplateContent(request: Request):
    if request.has("TemplateURL") and not request.has("Content"):
        raise invalid_parameter("TemplateURL", "The emulator cannot fetch TemplateURL; pass Content instead.")
    document, _unused = parse_template(request.required("Content"))
    tasks = [{"Name": t["Name"], "Type": t["Action"], "Description": description_text(t),
              "Properties": json.dumps(t.get("Properties") or {}),
              "Outputs": json.dumps(t.get("Outputs") or {})} for t in document["Tasks"]]
    return {"Parameters": json.dumps(template_parameters(document)), "Outputs": json.dumps(document.get("Outputs") or {}),
            "RamRole": str(document.get("RamRole", "")), "Tasks": tasks}


# ----- API: executions ----------------------------------------------------------------------------------
def check_execution_parameters(document: dict, values: dict, pseudo: dict) -> dict:
    """Required parameters present, no undeclared ones, values valid; Defaults filled in and rendered.

    With the engine package, this is its ``resolve_parameters``: types, AllowedValues, AllowedPattern,
    lengths and ranges are checked, and Defaults such as ``{{ ACS::RegionId }}`` are rendered with
    ``pseudo`` (so ListExecutions shows the values the execution runs with).
    """
    if resolve_parameters is not None:
        try:
            return resolve_parameters(document, values, pseudo)
        except TemplateError as error:
            raise ApiError("InvalidParameter", error.message, 400) from None
    declared = template_parameters(document)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise invalid_parameter("Parameters", f"The parameter {unknown[0]} is not defined in the template.")
    resolved = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in values:
            allowed = spec.get("AllowedValues")
            if isinstance(allowed, list) and values[name] not in allowed:
                raise invalid_parameter("Parameters", f"The value of parameter {name} is not in AllowedValues.")
            resolved[name] = values[name]
        elif "Default" in spec:
            resolved[name] = spec["Default"]
        else:
            raise invalid_parameter("Parameters", f"The parameter {name} is required.")
    return resolved


def pseudo_parameters(execution_id: str, region: str, now: float) -> dict:
    """``{{ ACS::... }}`` values known when an execution starts."""
    return {"RegionId": region, "ExecutionId": execution_id, "AccountId": ACCOUNT_ID, "ExecuteUser": EXECUTED_BY,
            "CurrentUTCTime": iso_seconds(now), "CurrentDate": iso_seconds(now)[:10], "OOSUtilVersion": "v1"}


@oos(client_token=True)
def StartExecution(request: Request):
    cloud, region, now = service(request), region_of(request), request.now
    mode = request.enum("Mode", MODES, "Automatic")
    loop_mode = request.enum("LoopMode", LOOP_MODES, "Automatic")
    safety_check = request.enum("SafetyCheck", SAFETY_CHECKS, "ConfirmEveryHighRiskAction")
    values = request.json("Parameters", {})
    if not isinstance(values, dict):
        raise invalid_parameter("Parameters")
    template = None
    if request.has("TemplateName"):
        template = cloud.find_template(region, request.str("TemplateName"))
        if template is None:
            raise template_not_found()
        version = template.version(request.str("TemplateVersion"))
        if version is None:
            raise template_not_found()
        content, document = version.content, version.document
        template_fields = {"template_name": template.name, "template_id": template.id,
                           "template_version": version.name}
    elif request.has("TemplateContent"):
        content = request.str("TemplateContent")
        document, _unused = parse_template(content)
        template_fields = {"template_name": "", "template_id": "", "template_version": ""}
    elif request.has("TemplateURL"):
        raise invalid_parameter("TemplateURL", "The emulator cannot fetch TemplateURL; pass TemplateContent instead.")
    else:
        raise api_error("MissingParameter", name="TemplateName")
    parent = request.str("ParentExecutionId")
    if parent and parent not in cloud.executions:
        raise api_error("EntityNotExists.Execution")
    execution_id = f"exec-{request.world.rng.getrandbits(80):020x}"
    resolved = check_execution_parameters(document, values, pseudo_parameters(execution_id, region, now))
    execution = Execution(
        id=execution_id, region=region, mode=mode, loop_mode=loop_mode,
        safety_check=safety_check, parameters=resolved, description=request.str("Description"),
        tags=tags_param(request), parent_execution_id=parent, resource_group_id=request.str("ResourceGroupId"),
        ram_role=str(document.get("RamRole", "")), content=content, document=document, create_date=now,
        start_date=now, update_date=now, **template_fields)
    # The engine may refuse the execution (ApiError): then nothing is stored and nothing is counted.
    cloud.engine.start(execution)
    cloud.executions[execution.id] = execution
    if template is not None:
        template.total_execution_count += 1
    return {"Execution": execution.to_api(parameters_as_string=True)}


def find_execution(request: Request) -> Execution:
    execution = service(request).executions.get(request.str("ExecutionId"))
    if execution is None:
        raise api_error("EntityNotExists.Execution")
    return execution


@oos()
def ListExecutions(request: Request):
    cloud, region = service(request), region_of(request)
    tags = tags_param(request)
    template_name = request.str("TemplateName")
    include_children = request.bool("IncludeChildExecution")
    depth = request.enum("Depth", ("RootDepth", "FirstChildDepth"))
    found = [e for e in cloud.executions.values() if e.region == region
             and (not request.has("ExecutionId") or e.id == request.str("ExecutionId"))
             and (not template_name or template_name in e.template_name)
             and (not request.has("Status") or e.status == request.str("Status"))
             and (not request.has("Mode") or e.mode == request.str("Mode"))
             and (not request.has("Category") or e.category == request.str("Category"))
             and (not request.has("ResourceGroupId") or e.resource_group_id == request.str("ResourceGroupId"))
             and (not request.has("ParentExecutionId") or e.parent_execution_id == request.str("ParentExecutionId"))
             and (request.has("ExecutionId") or request.has("ParentExecutionId") or include_children
                  or depth == "FirstChildDepth" or not e.parent_execution_id)
             and all(e.tags.get(k) == v for k, v in tags.items())]
    found = sort_items(request, found, {"StartDate": lambda e: (e.start_date, e.id),
                                        "EndDate": lambda e: (e.end_date, e.id),
                                        "Status": lambda e: (e.status, e.id)}, "StartDate")
    page = oos_page(request, default=50, minimum=10, salt=f"ListExecutions:{region}")
    return {"Executions": [e.to_api(parameters_as_string=False) for e in page.slice(found)], "MaxResults": page.size,
            "TotalCount": len(found), "NextToken": page.next_token(len(found))}


@oos()
def ListTaskExecutions(request: Request):
    cloud = service(request)
    executions = ([find_execution(request)] if request.has("ExecutionId")
                  else [e for e in cloud.executions.values() if e.region == region_of(request)])
    include_children = request.bool("IncludeChildTaskExecution")
    found = [t for e in executions for t in e.task_executions
             if (not request.has("TaskExecutionId") or t.get("TaskExecutionId") == request.str("TaskExecutionId"))
             and (not request.has("TaskName") or t.get("TaskName") == request.str("TaskName"))
             and (not request.has("TaskAction") or t.get("TaskAction") == request.str("TaskAction"))
             and (not request.has("Status") or t.get("Status") == request.str("Status"))
             and (not request.has("ParentTaskExecutionId")
                  or t.get("ParentTaskExecutionId") == request.str("ParentTaskExecutionId"))
             and (include_children or request.has("ParentTaskExecutionId") or not t.get("ParentTaskExecutionId"))]
    found = sort_items(request, found, {"StartDate": lambda t: (t.get("StartDate", ""), t.get("TaskExecutionId")),
                                        "EndDate": lambda t: (t.get("EndDate", ""), t.get("TaskExecutionId")),
                                        "Status": lambda t: (t.get("Status", ""), t.get("TaskExecutionId"))},
                       "StartDate")
    page = oos_page(request, default=50, minimum=20, salt="ListTaskExecutions")
    return {"TaskExecutions": page.slice(found), "MaxResults": page.size, "NextToken": page.next_token(len(found))}


@oos(required=("ExecutionId", "NotifyType"))
def NotifyExecution(request: Request):
    execution = find_execution(request)
    notify_type = request.enum("NotifyType", NOTIFY_TYPES)
    if execution.status in TERMINAL_STATUSES:
        raise api_error("InvalidExecution.Status")
    service(request).engine.notify(execution, notify_type, request)
    return {}


@oos(required=("ExecutionId",))
def CancelExecution(request: Request):
    execution = find_execution(request)
    if execution.status not in TERMINAL_STATUSES:
        execution.finish("Cancelled", request.now)
        service(request).engine.cancel(execution)
    return {}


@oos(required=("ExecutionIds",))
def DeleteExecutions(request: Request):
    ids = request.json("ExecutionIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise invalid_parameter("ExecutionIds")
    executions = service(request).executions
    for execution_id in ids:
        execution = executions.get(execution_id)
        if execution is not None and execution.status not in TERMINAL_STATUSES:
            raise api_error("InvalidExecution.Status")
    for execution_id in ids:
        executions.pop(execution_id, None)
    return {}


@oos(required=("ExecutionId",))
def GetExecutionTemplate(request: Request):
    execution = find_execution(request)
    document = execution.document
    template = {"TemplateName": execution.template_name, "TemplateId": execution.template_id,
                "TemplateVersion": execution.template_version,
                "TemplateFormat": "JSON" if execution.content.strip().startswith("{") else "YAML",
                "TemplateType": "Automation", "Description": description_text(document),
                "Hash": hashlib.sha256(execution.content.encode("utf-8")).hexdigest(),
                "ShareType": "Private", "CreatedBy": EXECUTED_BY, "CreatedDate": iso_seconds(execution.create_date),
                "UpdatedBy": EXECUTED_BY, "UpdatedDate": iso_seconds(execution.create_date),
                "HasTrigger": has_trigger(document), "Tags": {}}
    return {"Content": execution.content, "Template": template}


@oos(required=("ExecutionId",))
def ListExecutionLogs(request: Request):
    execution = find_execution(request)
    logs = [log for log in execution.logs
            if not request.has("TaskExecutionId") or log.get("TaskExecutionId") == request.str("TaskExecutionId")]
    page = oos_page(request, default=50, minimum=10, salt=f"ListExecutionLogs:{execution.id}")
    next_token = page.next_token(len(logs))
    return {"ExecutionLogs": page.slice(logs), "MaxResults": page.size, "IsTruncated": bool(next_token),
            "NextToken": next_token}


def executions_view(cloud: Oos) -> list[dict]:
    """``GET /_emulator/executions``."""
    with cloud.world.lock:
        return [dict(e.to_api(parameters_as_string=False), RegionId=e.region, TaskExecutions=list(e.task_executions))
                for e in cloud.executions.values()]
