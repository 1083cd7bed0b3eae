# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publishing OOS templates (module ``alicloud.oos.oos_template``).

* ``load_template_source(content, src)`` -> ``TemplateSource`` (text as sent, parsed document,
  format). Template text is data: it is parsed with a safe YAML loader and never evaluated.
* ``template_task(module)`` validates with ``ValidateTemplateContent``, reads the current template
  with ``GetTemplate``, and creates, updates or deletes. A new version is made only when the
  **parsed** content differs (comments, key order, JSON vs YAML do not count).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

from ansible_collections.alicloud.oos.plugins.module_utils.errors import (
    FAILURE_API,
    AlicloudError,
    AlicloudInputError,
    OutcomeUnknown,
)

TEMPLATE_NOT_FOUND = ("EntityNotExists.Template", "EntityNotExists.TemplateNotExists")
RESERVED_PREFIXES = ("ALIYUN", "ACS", "ALIBABA", "ALICLOUD")


@dataclass
class TemplateSource:
    text: str
    document: dict
    format: str  # JSON | YAML

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def parse_template_text(text: str, field: str) -> tuple:
    """``(document, format)`` of JSON or YAML template text; ``AlicloudInputError`` naming ``field``."""
    try:
        return json.loads(text), "JSON"
    except ValueError:
        pass
    if not HAS_YAML:
        raise AlicloudInputError(field, "is not JSON and PyYAML is not installed to read YAML")
    try:
        return yaml_load(text), "YAML"
    except Exception as exc:  # the YAML library's own error types
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise AlicloudInputError(field, f"is neither valid JSON nor valid YAML{where}: "
                                        f"{getattr(exc, 'problem', None) or exc}") from None


def load_template_source(content=None, src=None, field: str = "content") -> TemplateSource:
    """Template text from ``content`` (text, or a dict sent as JSON) or the file ``src``."""
    if src:
        field = "src"
        try:
            with open(os.path.expanduser(src), encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise AlicloudInputError("src", f"cannot read {src}: {exc.strerror or exc}") from None
    elif isinstance(content, dict):
        text = json.dumps(content, indent=2, ensure_ascii=False)
    elif isinstance(content, str) and content.strip():
        text = content
    else:
        raise AlicloudInputError(field, "set the template as text (YAML or JSON) or a mapping, or use src")
    document, template_format = parse_template_text(text, field)
    if not isinstance(document, dict):
        raise AlicloudInputError(field, "the template must be a mapping with FormatVersion and Tasks")
    return TemplateSource(text=text, document=document, format=template_format)


def validate_template_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise AlicloudInputError("name", "is required: the template name (letters, digits, '-' and '_')")
    if name.upper().startswith(RESERVED_PREFIXES):
        raise AlicloudInputError("name", f"{name!r} starts with a prefix OOS reserves "
                                         f"({', '.join(RESERVED_PREFIXES)}); choose another name")
    if len(name) > 200 or not all(c.isalnum() or c in "-_" for c in name):
        raise AlicloudInputError("name", f"{name!r} must be 1-200 letters, digits, '-' or '_'")
    return name


def validate_content(client, source: TemplateSource) -> dict:
    """``ValidateTemplateContent``; its error message becomes the task's failure message."""
    try:
        return client.call("ValidateTemplateContent", {"Content": source.text})
    except AlicloudError as error:
        if error.failure == FAILURE_API and error.http_status and 400 <= error.http_status < 500 \
                and error.code not in ("Throttling", "Throttling.User"):
            raise AlicloudError(f"ValidateTemplateContent rejected the template: {error.message}",
                                code=error.code, request_id=error.request_id, http_status=error.http_status,
                                product="oos", action="ValidateTemplateContent") from None
        raise


def get_template(client, name: str, version=None):
    """``(content, metadata)`` of a template, or ``(None, None)`` when it does not exist."""
    params = {"TemplateName": name}
    if version:
        params["TemplateVersion"] = version
    try:
        body = client.call("GetTemplate", params)
    except AlicloudError as error:
        # A 404 about the template, not about the credentials (InvalidAccessKeyId.NotFound is a 404 too).
        if error.failure == FAILURE_API and (error.code in TEMPLATE_NOT_FOUND or error.http_status == 404):
            return None, None
        raise
    return body.get("Content"), body.get("Template") or {}


def create_template(client, request: dict, source: TemplateSource) -> dict:
    """CreateTemplate; after a lost answer the template is read back: present with this content means the
    lost call created it, absent means it did not and it is sent again."""
    for _attempt in range(client.retry.attempts):
        try:
            return client.call("CreateTemplate", request, read_back=True)
        except OutcomeUnknown as lost:
            current_text, meta = get_template(client, request["TemplateName"])
            if current_text is None:
                continue
            if _same_content(current_text, source):
                return {"Template": meta}
            raise AlicloudError(f"template {request['TemplateName']} appeared with other content while its creation's "
                                f"answer was lost ({lost.cause.message}): another run created it", code="OutcomeUnknown",
                                product="oos", action="CreateTemplate") from None
    raise AlicloudError(f"CreateTemplate {request['TemplateName']} lost its answer {client.retry.attempts} times and the "
                        "template does not exist", code="OutcomeUnknown", product="oos", action="CreateTemplate")


def _same_content(current_text, desired: TemplateSource) -> bool:
    if current_text is None:
        return False
    try:
        current, _unused = parse_template_text(current_text, "content")
    except AlicloudInputError:
        return False
    return current == desired.document


def _metadata_result(meta: dict, source: TemplateSource | None) -> dict:
    return {
        "template_name": meta.get("TemplateName"),
        "template_id": meta.get("TemplateId"),
        "template_version": meta.get("TemplateVersion"),
        "hash": meta.get("Hash") or (source.sha256 if source else None),
        "template_format": meta.get("TemplateFormat") or (source.format if source else None),
        "version_name": meta.get("VersionName"),
        "tags": meta.get("Tags") or {},
        "resource_group_id": meta.get("ResourceGroupId"),
        "updated_date": meta.get("UpdatedDate"),
    }


def template_task(module) -> dict:
    """Everything ``oos_template`` does; returns the ``exit_json`` arguments."""
    params = module.params
    name = validate_template_name(params["name"])
    # Bad content fails here, before any request reaches the cloud.
    source = load_template_source(params["content"], params["src"]) if params["state"] == "present" else None
    client = module.client("oos")
    current_text, meta = get_template(client, name)

    if params["state"] == "absent":
        result = {"changed": current_text is not None, "template_name": name}
        if module.diff_mode:
            result["diff"] = {"before": current_text or "", "after": ""}
        if current_text is not None and not module.check_mode:
            client.call("DeleteTemplate", {"TemplateName": name})
        result.update({k: v for k, v in _metadata_result(meta or {}, None).items() if k != "template_name"})
        return result

    if params["validate"]:
        validate_content(client, source)
    tags = params["tags"]
    content_changed = not _same_content(current_text, source)
    tags_changed = tags is not None and (meta or {}).get("Tags", {}) != tags
    group = params["resource_group_id"]
    group_changed = group is not None and meta is not None and (meta.get("ResourceGroupId") or "") != group
    changed = meta is None or content_changed or tags_changed or group_changed
    result = {"changed": changed}
    if module.diff_mode:
        result["diff"] = {"before": current_text or "", "after": source.text if content_changed else current_text,
                          "before_header": f"{name} (current)", "after_header": f"{name} (desired)"}
    if not changed or module.check_mode:
        result.update(_metadata_result(meta or {"TemplateName": name}, source))
        result["created"] = meta is None
        return result

    request = {"TemplateName": name}
    if tags is not None:
        request["Tags"] = tags
    if params["version_name"]:
        request["VersionName"] = params["version_name"]
    if meta is None:
        request["Content"] = source.text
        if group:
            request["ResourceGroupId"] = group
        body = create_template(client, request, source)
    else:
        if content_changed:
            request["Content"] = source.text
        if group_changed:
            request["ResourceGroupId"] = group
        body = client.call("UpdateTemplate", request)
    result.update(_metadata_result(body.get("Template") or {"TemplateName": name}, source))
    result["created"] = meta is None
    return result
