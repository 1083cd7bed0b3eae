"""The differential test's cases: OOS templates from the corpus and the seeds, with parameters for a fresh fleet.

Templates are read from ``../shared`` at test time (never copied into the repository). Parameter values may
use placeholders that depend on the fleet; ``resolve(value, fleet)`` fills them from the emulator's
``/_emulator/instances`` listing, which is identical on two emulators started with the same seed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SHARED

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"
ACTIONS = SHARED / "oos-templates" / "CloudProductActions"
SEEDS = SHARED / "seeds"

WEB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "web"}]}
DB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "db"}]}
DEV_DB = {"Type": "Tags", "Tags": [{"Key": "App", "Value": "db"}, {"Key": "Env", "Value": "dev"}]}
RATE = {"Mode": "Concurrency", "MaxErrors": 0, "Concurrency": 3}


@dataclass
class Case:
    name: str
    source: str                      # PublicTemplates file name, or seed:<file>
    parameters: dict = field(default_factory=dict)
    stop_first: str | None = None    # tag filter "Key=Value": instances forced to Stopped before the run
    expect: str = "Success"          # Success | Failed | Rejected (the template itself is invalid)

    def content(self) -> str:
        if self.source.startswith("seed:"):
            return seed_template(SEEDS / self.source[5:])
        return (PUBLIC / self.source).read_text()


CASES = [
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
        "sourceImageId": "aliyun_3_x64_20G_alibase_20240101.vhd", "instanceType": "ecs.g6.large",
        "securityGroupId": "@security_group", "vSwitchId": "@vswitch",
        # Cloud Assistant scripts really run on the test host: never a real package update.
        "commandContent": "echo yum -y update",
        "commandType": "RunShellScript", "targetImageName": "updated-image"}),
    Case("tasks-as-mapping-seed", "seed:000_7aff539b7c252920.txt", {}, expect="Rejected"),
]


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


def resolve(value, fleet: list):
    """Replace ``@instance:N`` (the N-th Running instance of the default region), ``@vswitch`` and
    ``@security_group`` (of instance 0)."""
    if isinstance(value, dict):
        return {key: resolve(item, fleet) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, fleet) for item in value]
    if isinstance(value, str) and value.startswith("@"):
        running = [i for i in fleet if i["Status"] == "Running"]
        if value.startswith("@instance:"):
            return running[int(value.split(":")[1])]["InstanceId"]
        if value == "@vswitch":
            return running[0].get("VSwitchId") or running[0].get("VpcAttributes", {}).get("VSwitchId")
        if value == "@security_group":
            groups = running[0].get("SecurityGroupIds")
            return groups[0] if isinstance(groups, list) else groups["SecurityGroupId"][0]
    return value
