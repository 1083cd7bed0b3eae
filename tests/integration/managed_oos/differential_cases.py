"""The differential test's cases: OOS templates with parameters for a fresh fleet.

Two kinds of case:

* **core** (``core:<file>``): templates the project wrote itself, in ``tests/integration/core_templates/``. They run
  in any clone: product actions run from the emulator engine's own implementation and the converter's, without
  any action templates.
* **shared** (a ``PublicTemplates`` file name, or ``seed:<file>``): OOS templates from ``../shared``, read at test
  time (never copied into the repository); skipped when ``../shared`` is absent. Their product actions come from the
  definitions in ``../shared`` (``--action-templates`` for the engine, ``action_templates_path`` for the converter).

Parameter values may use placeholders that depend on the fleet or the test: ``resolve(value, fleet, webhook)``
fills them from the emulator's ``/_emulator/instances`` listing, identical on two emulators started with the same
seed, and from the URL of the test's webhook receiver.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SHARED

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"
ACTIONS = SHARED / "oos-templates" / "CloudProductActions"
SEEDS = SHARED / "seeds"
CORE = Path(__file__).resolve().parents[1] / "core_templates"

WEB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "web"}]}
DB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "db"}]}
DEV_DB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "db"}, {"Key": "Env", "Value": "dev"}]}
RATE = {"Mode": "Concurrency", "MaxErrors": 0, "Concurrency": 3}
BASE_IMAGE = "aliyun_3_x64_20G_alibase_20240101.vhd"
COMMAND_ITEMS = [{"instanceId": "@instance:0", "word": "one"}, {"instanceId": "@instance:1", "word": "fail"},
                 {"instanceId": "@instance:2", "word": "two"}]


@dataclass
class Case:
    name: str
    source: str                      # core:<file>, seed:<file>, or a PublicTemplates file name
    parameters: dict = field(default_factory=dict)
    stop_first: str | None = None    # tag filter "Key=Value": instances forced to Stopped before the run
    expect: str = "Success"          # Success | Failed | Cancelled | Rejected (refused before anything runs)
    approval: str | None = None      # approve | reject: the answer to the template's ACS::Approve
    # A converter change this case needs, as (what to change, a regex of the symptom seen until then): the case is
    # xfail(strict) until the converter changes, and only that symptom counts as the expected failure.
    converter_change: tuple[str, str] | None = None

    @property
    def core(self) -> bool:
        return self.source.startswith("core:")

    @property
    def action_templates(self) -> Path | None:
        """Core cases run every product action natively; shared cases from the definitions in ../shared."""
        return None if self.core else ACTIONS

    def available(self) -> bool:
        if self.core:
            return True
        if self.source.startswith("seed:"):
            return (SEEDS / self.source[5:]).is_file() and ACTIONS.is_dir()
        return (PUBLIC / self.source).is_file() and ACTIONS.is_dir()

    def content(self) -> str:
        if self.core:
            return (CORE / self.source[5:]).read_text()
        if self.source.startswith("seed:"):
            return seed_template(SEEDS / self.source[5:])
        return (PUBLIC / self.source).read_text()


CORE_CASES = [
    Case("core-stop-by-tags", "core:fleet-power.yml", {"targets": WEB, "wanted": "Stopped", "rateControl": RATE}),
    Case("core-start-by-ids", "core:fleet-power.yml", {
        "targets": {"Type": "ResourceIds", "ResourceIds": ["@instance:0", "@instance:1", "@instance:4"]},
        "wanted": "Running", "environments": ["dev"]}, stop_first="App=web"),
    Case("core-bad-list-element", "core:fleet-power.yml", {"targets": WEB, "wanted": "Stopped",
                                                           "environments": ["dev", "staging"]}, expect="Rejected"),
    Case("core-approve-then-reboot", "core:approve-then-reboot.yml", {"targets": DB, "approvalWebhook": "@webhook"},
         approval="approve"),
    Case("core-reject-reboots-nothing", "core:approve-then-reboot.yml", {"targets": DB, "approvalWebhook": "@webhook"},
         approval="reject", expect="Cancelled"),
    Case("core-update-image", "core:update-image.yml", {
        "baseImageId": BASE_IMAGE, "instanceType": "ecs.g6.large", "securityGroupId": "@security_group",
        "vSwitchId": "@vswitch", "patchScript": "echo patched > /dev/null; echo patch-ok", "newImageName": "core-baked"}),
    Case("core-update-image-cleans-up", "core:update-image.yml", {
        "baseImageId": BASE_IMAGE, "instanceType": "ecs.g6.large", "securityGroupId": "@security_group",
        "vSwitchId": "@vswitch", "patchScript": "echo broken; exit 3", "newImageName": "core-broken"},
        expect="Failed"),
    Case("core-commands-within-max-errors", "core:command-fleet.yml", {
        "targets": DEV_DB, "failOn": ["@instance:2"], "maxErrors": "50%"}),
    Case("core-commands-beyond-max-errors", "core:command-fleet.yml", {
        "targets": DEV_DB, "failOn": ["@instance:2"], "maxErrors": "0"}, expect="Failed"),
    Case("core-flow-inspect", "core:flow-control.yml", {"instanceId": "@instance:0", "route": "inspect",
                                                        "verbose": True}),
    Case("core-flow-finish", "core:flow-control.yml", {"instanceId": "@instance:2", "route": "finish"}),
    Case("core-flow-on-error-jump", "core:flow-control.yml", {"instanceId": "@instance:1", "route": "break"},
         expect="Failed"),
    Case("core-wait-and-check", "core:wait-and-check.yml", {"instanceId": "@instance:3"}),
    Case("core-check-fails", "core:wait-and-check.yml", {"instanceId": "@instance:3", "expectBefore": "Stopped"},
         expect="Failed"),
    Case("core-snapshot-and-tag", "core:snapshot-and-tag.yml", {"instanceId": "@instance:5"}),
    Case("core-describe-stop-start-json", "core:describe-stop-start.json", {"instanceId": "@instance:6"}),
    # Loops of API calls over ids some of which do not exist: MaxErrors 0 as written, or from a parameter.
    Case("core-loop-api-calls", "core:loop-api-calls.yml", {
        "instanceIds": ["@instance:0", "@instance:1", "@instance:2"], "markIds": ["@instance:0", "@instance:1"]}),
    Case("core-loop-api-calls-within-max-errors", "core:loop-api-calls.yml", {
        "instanceIds": ["@instance:0", "i-doesnotexist01", "@instance:1"], "markIds": ["@instance:2"],
        "rateControl": {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 1}}),
    Case("core-loop-api-calls-beyond-max-errors", "core:loop-api-calls.yml", {
        "instanceIds": ["@instance:0", "i-doesnotexist01", "i-doesnotexist02", "@instance:1", "@instance:2"],
        "markIds": ["@instance:2"], "rateControl": {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 1}},
        expect="Failed"),
    Case("core-loop-api-calls-first-failure-stops", "core:loop-api-calls.yml", {
        "instanceIds": ["@instance:0"], "markIds": ["@instance:1", "i-doesnotexist01", "@instance:2"]},
        expect="Failed"),
    Case("core-loop-item-outputs", "core:loop-item-outputs.yml", {"instanceIds": ["@instance:0", "@instance:3"]}),
    Case("core-failure-before-loop", "core:failure-before-loop.yml", {"instanceIds": ["@instance:0", "@instance:3"]},
         expect="Failed"),
    Case("core-functions-and-delegation", "core:functions-and-delegation.yml", {"instanceId": "@instance:7"}),
    # Nested templates (TemplateContent, one inside another); a failing child runs the calling task's OnError task.
    Case("core-nested-templates", "core:nested-templates.yml", {"instanceId": "@instance:8"}),
    Case("core-nested-child-fails", "core:nested-templates.yml", {"instanceId": "@instance:9", "route": "break"},
         expect="Failed"),
    # RunInstances, then tasks reading the ids it returned.
    Case("core-run-instances", "core:run-instances.yml", {
        "imageId": BASE_IMAGE, "instanceType": "ecs.g6.large", "securityGroupId": "@security_group",
        "vSwitchId": "@vswitch"}),
    # A When (and a Choice) of functions other than Fn::Equals/Not/And/Or, holding and not.
    Case("core-when-functions-hold", "core:when-functions.yml", {"instanceId": "@instance:10", "path": "/srv/app",
                                                                 "kind": "oss"}),
    Case("core-when-functions-do-not-hold", "core:when-functions.yml", {"instanceId": "@instance:10", "path": "tmp"}),
    # A Loop of RunCommand over map items with Loop.Outputs, MaxErrors from a parameter.
    Case("core-command-items-within-max-errors", "core:command-items.yml", {
        "items": COMMAND_ITEMS, "rateControl": {"Mode": "Concurrency", "Concurrency": 1, "MaxErrors": 1}}),
    Case("core-command-items-beyond-max-errors", "core:command-items.yml", {"items": COMMAND_ITEMS},
         expect="Failed"),
    # Loops over nested templates (a serial play of one host per item in the natural writer): MaxErrors 1 of a
    # parameter with one item failing; two failing in the first batch (Batch mode: OOS starts its batches in turn, so
    # which items run does not depend on timing, as a sliding Concurrency window would), the OnError task then runs;
    # Loop.Outputs joined and summed; a second looped task; a product action (CreateSnapshot) over two disks, and the
    # same loop skipped by a Choice.
    Case("core-loop-nested-within-max-errors", "core:loop-nested-templates.yml", {
        "instanceIds": ["@instance:0", "i-doesnotexist01", "@instance:1"], "markIds": ["@instance:2", "@instance:3"]}),
    Case("core-loop-nested-beyond-max-errors", "core:loop-nested-templates.yml", {
        "instanceIds": ["i-doesnotexist01", "i-doesnotexist02", "@instance:0", "@instance:1"],
        "markIds": ["@instance:2"], "rateControl": {"Mode": "Batch", "Batch": [2], "MaxErrors": 1}}, expect="Failed"),
    Case("core-loop-nested-snapshots", "core:loop-nested-products.yml", {"instanceIds": ["@instance:3", "@instance:4"]}),
    # An approval inside a nested template: approved, the child goes on; rejected, the execution ends Cancelled.
    Case("core-approval-in-nested-approved", "core:approval-in-nested.yml", {
        "instanceId": "@instance:7", "approvalWebhook": "@webhook"}, approval="approve"),
    Case("core-approval-in-nested-rejected", "core:approval-in-nested.yml", {
        "instanceId": "@instance:7", "approvalWebhook": "@webhook"}, approval="reject", expect="Cancelled"),
    Case("core-approval-in-looped-nested-rejected", "core:approval-in-nested.yml", {
        "instanceId": "@instance:7", "approvalWebhook": "@webhook", "loop": "yes"}, approval="reject", expect="Cancelled"),
    # A looped task whose When reads the item: OOS runs it, When and all (the emulator's engine
    # reads a When before the Loop, so it fails there: the playbook ends as OOS's execution ends).
    Case("core-when-reads-the-item", "core:when-reads-the-item.yml", {
        "instanceIds": ["@instance:5", "@instance:6"], "marked": ["@instance:6"]}, expect="Failed"),
    # Loops that pause between batches: OOS runs those tasks for the playbook (the engine runs the batches without
    # pausing, docs/fidelity.md).
    Case("core-loop-pauses-between-batches", "core:loop-pauses-between-batches.yml", {
        "instanceIds": ["@instance:3", "@instance:4"]}),
    # A loop inside a nested template: OOS runs it for the playbook (delegated).
    Case("core-loop-inside-nested", "core:loop-inside-nested.yml", {"instanceIds": ["@instance:3", "@instance:4"]}),
    Case("core-loop-template-inside-nested", "core:loop-template-inside-nested.yml", {"ids": ["@instance:3", "@instance:4"]}),
    Case("core-loop-nested-skipped", "core:loop-nested-products.yml", {
        "instanceIds": ["@instance:3", "@instance:4"], "mode": "skip"}),
    # The first play fails (its parameter check): no item play, no later play runs.
    Case("core-loop-nested-refused", "core:loop-nested-products.yml", {
        "instanceIds": ["@instance:3", "@instance:4"], "mode": "everything"}, expect="Rejected"),
]

SHARED_CASES = [
    Case("bulky-stop", "ACS-ECS-BulkyStopInstances.yml", {"targets": WEB, "rateControl": RATE}),
    Case("bulky-stop-forced", "ACS-ECS-BulkyStopInstances.yml", {"targets": DEV_DB, "forceStop": True,
                                                                 "stoppedMode": "StopCharging"}),
    Case("bulky-start", "ACS-ECS-BulkyStartInstances.yml", {"targets": WEB, "rateControl": RATE},
         stop_first="App=web"),
    Case("bulky-start-already-running", "ACS-ECS-BulkyStartInstances.yml", {"targets": DB}),
    Case("bulky-reboot", "ACS-ECS-BulkyRebootInstances.yml", {"targets": {
        "Type": "ResourceIds", "ResourceIds": ["@instance:0", "@instance:1"]}}),
    Case("bulky-stop-classic", "ACS-ECS-BulkyStopClassicInstances.yml", {"targets": DB}),
    Case("bulky-run-command", "ACS-ECS-BulkyRunCommand.yml", {"targets": DEV_DB, "commandContent": "echo hello"}),
    Case("bulky-describe-disks", "ACS-ECS-BulkyDescribeDisks.yml", {"targets": WEB}),
    Case("tag-by-kernel", "ACS-ECS-BulkyTagInstanceByLinuxKernelVersion.yml", {"targets": DEV_DB}),
    Case("tag-by-command", "ACS-ECS-BulkyTagInstanceByRunCommandResult.yml", {
        "targets": DEV_DB, "tagKey": "probe", "commandContent": "echo ok"}),
    Case("create-image", "ACS-ECS-CreateImage.yml", {"instanceId": "@instance:2", "imageName": "diff-image-one"}),
    Case("run-shell-script", "ACS-ECS-RunShellScript.yml", {"instanceId": "@instance:3",
                                                            "commandContent": "echo hi", "workingDir": "/root"}),
    Case("delete-expired-images", "ACS-ECS-BulkyDeleteExpiredImage.yml", {"expiredDays": 1}),
    Case("run-command-across-regions", "ACS-ECS-BulkyRunCommandAcrossRegions.yml", {}),
    Case("bulky-stop-by-ids", "ACS-ECS-BulkyStopInstances.yml", {"targets": {
        "Type": "ResourceIds", "ResourceIds": ["@instance:4", "@instance:5", "@instance:6"]}}),
    Case("update-image-seed", "seed:004_810dd5a396d65a71.txt", {
        "sourceImageId": BASE_IMAGE, "instanceType": "ecs.g6.large",
        "securityGroupId": "@security_group", "vSwitchId": "@vswitch",
        # Cloud Assistant scripts really run on the test host: never a real package update.
        "commandContent": "echo yum -y update",
        "commandType": "RunShellScript", "targetImageName": "updated-image"}),
    Case("tasks-as-mapping-seed", "seed:000_7aff539b7c252920.txt", {
        "RegionId": "cn-hangzhou", "InstanceId": "@instance:0", "DoStopStart": True}, expect="Rejected"),
]

CASES = CORE_CASES + SHARED_CASES


def seed_template(path: Path) -> str:
    """The template embedded in a seed text: a YAML document from ``FormatVersion`` or a JSON object."""
    text = path.read_text()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("FormatVersion: OOS-2019-06-01"):
            body = []
            for candidate in lines[index:]:
                if candidate and not candidate.startswith((" ", "-")) and not re.match(r"^[A-Za-z]+:", candidate):
                    break
                body.append(candidate)
            return "\n".join(body).rstrip() + "\n"
        if line.strip() == "{" and '"FormatVersion"' in "".join(lines[index:index + 3]):
            depth, body = 0, []
            for candidate in lines[index:]:
                body.append(candidate)
                depth += candidate.count("{") - candidate.count("}")
                if depth == 0:
                    return "\n".join(body) + "\n"
    raise ValueError(f"no OOS template found in {path}")


def resolve(value, fleet: list, webhook: str = ""):
    """Replace ``@instance:N`` (the N-th Running instance of the default region), ``@vswitch`` and
    ``@security_group`` (of instance 0), and ``@webhook`` (the test's receiver)."""
    if isinstance(value, dict):
        return {key: resolve(item, fleet, webhook) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, fleet, webhook) for item in value]
    if isinstance(value, str) and value.startswith("@"):
        running = [i for i in fleet if i["Status"] == "Running"]
        if value.startswith("@instance:"):
            return running[int(value.split(":")[1])]["InstanceId"]
        if value == "@vswitch":
            return running[0].get("VSwitchId") or running[0].get("VpcAttributes", {}).get("VSwitchId")
        if value == "@security_group":
            groups = running[0].get("SecurityGroupIds")
            return groups[0] if isinstance(groups, list) else groups["SecurityGroupId"][0]
        if value == "@webhook":
            return webhook
    return value
