"""Cloud Assistant (ECS 2014-05-26): commands really run as local subprocesses, one directory per instance.

* Every instance gets a private file tree under the emulator's temporary root
  (``<root>/instances/<InstanceId>/``, its ``FileRoot``): an absolute ``WorkingDir`` or SendFile
  ``TargetDir`` is mapped into that tree, except a path already inside it, which is taken as is (it is
  how the instance's own commands see their files: ``HOME``, ``TMPDIR`` and the working directory
  are real paths inside the tree).
* Accounts are the tree's ``etc/passwd`` and ``etc/group`` (seeded with ``root`` and ``ecs-user``,
  as on Alibaba Cloud Linux; a test adds a user by appending a line). ``Username`` must name an
  account (else the instance result is ``Invalid`` / ``AccountNotExists``); the command runs with
  that account's ``HOME`` (its default working directory), ``USER`` and ``LOGNAME``. Identity on an
  emulated instance is ``USER``: the tree's ``usr/local/bin`` (first in ``PATH``, then the standard
  ``/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin``) has a ``whoami``
  that prints it and a ``sudo`` that switches it, for ``root`` and the users that ``etc/sudoers.d``
  gives ``NOPASSWD`` (``ecs-user``), like the real image; without a password it cannot prompt.
* SendFile is delivered asynchronously by the same pool (``Pending`` until written, as the real
  service: check DescribeSendFileResults); ``FileOwner``/``FileGroup`` must be accounts of the
  instance (``Invalid`` with ``AccountNotExists`` / ``UserGroupNotExists``); the mode is applied
  for real, the owner and group are recorded (``GET /_emulator/instances/<id>/files``).
* ``RunShellScript`` content is written to a script file and run with ``bash`` (``sh`` if bash is
  missing) on a bounded thread pool, with the invocation's timeout; the process group is killed on
  timeout or StopInvocation.
* stdout and stderr are merged, the first ``OUTPUT_LIMIT`` bytes are kept and the rest is counted in
  ``Dropped`` (the docs: output beyond 24 KB is truncated and dropped).
* Only ``Running`` instances with the agent up (``CloudAssistantStatus == "true"``) run commands; the
  others get a per-instance ``Aborted`` result with ``InstanceNotRunning`` / ``ClientNotRunning`` (no
  agent) / ``ClientNotResponse`` (agent installed but offline), decided when the invocation is created.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import ECS_VERSION
from .api import REGISTRY, Request, ecs_tags, paging, tags_match
from .ecs import TAGGABLE
from .errors import api_error
from .state import ACCOUNT_ID, iso_seconds

OUTPUT_LIMIT = 24 * 1024
CONTENT_LIMIT = 24 * 1024          # Base64 size of CommandContent when the command is not kept
KEPT_CONTENT_LIMIT = 18 * 1024     # ... and when it is kept (KeepCommand=true / CreateCommand)
FILE_CONTENT_LIMIT = 32 * 1024     # SendFile, after Base64 encoding
MAX_INSTANCES = 100
MAX_FILE_INSTANCES = 50            # SendFile InstanceId.N, N = 1..50
MAX_USERNAME = 255
MAX_PARAMETERS = 20
COMMAND_TYPES = ("RunShellScript", "RunBatScript", "RunPowerShellScript")
LINUX_COMMAND_TYPES = ("RunShellScript",)
REPEAT_MODES = ("Once", "Period", "NextRebootOnly", "EveryReboot", "DryRun")
SCHEDULED_MODES = ("Period", "NextRebootOnly", "EveryReboot")
AGENT_VERSION = "2.2.3.857"
# PATH of a command on an instance: the image's standard one (so the host's Python is found where an
# instance's would be, not through the emulator's own virtualenv or shims).
INSTANCE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BUILTIN_PARAMETERS = ("ACS::RegionId", "ACS::AccountId", "ACS::InstanceId", "ACS::InstanceName", "ACS::InvokeId",
                      "ACS::CommandId")
FAILED_STATUSES = ("Failed", "Timeout", "Aborted", "Error", "Invalid")
STOPPED_STATUSES = ("Cancelled", "Terminated")


def ca(name: str | None = None, **options):
    return REGISTRY.action("ecs", ECS_VERSION, name, **options)


# ----- parameters (pure) ------------------------------------------------------------------------------
def parameter_names(content: str) -> list[str]:
    """Custom parameter names used in ``{{ name }}`` placeholders, in order, without built-ins.

    Raises ``CmdParam.InvalidParamName`` for a placeholder that is neither a valid name nor a built-in.
    """
    names: dict[str, str] = {}
    builtins = {b.lower() for b in BUILTIN_PARAMETERS}
    for raw in PLACEHOLDER.findall(content):
        name = raw.strip()
        if name.lower() in builtins:
            continue
        if not PARAMETER_NAME.match(name):
            raise api_error("CmdParam.InvalidParamName")
        names.setdefault(name.lower(), name)
    if len(names) > MAX_PARAMETERS:
        raise api_error("CmdParamCount.ExceedLimit")
    return list(names.values())


def render(content: str, values: dict[str, str], builtins: dict[str, str]) -> str:
    """Replace ``{{ name }}`` placeholders (names are case-insensitive; whitespace ignored)."""
    lookup = {k.lower(): v for k, v in {**values, **builtins}.items()}

    def substitute(match):
        return lookup.get(match.group(1).strip().lower(), match.group(0))

    return PLACEHOLDER.sub(substitute, content)


def check_parameters(names: list[str], enabled: bool, values: dict | None, *, invoke: bool) -> dict[str, str]:
    """Validate the ``Parameters`` map of RunCommand/InvokeCommand against the command's names."""
    if values is None:
        values = {}
    if values and not enabled:
        raise api_error("Parameter.Disabled")
    if not enabled:
        return {}
    known = {n.lower() for n in names}
    if any(key == "" for key in values):
        raise api_error("CmdParam.EmptyKey", "Command parameters can not be empty.")
    if any(key.lower() not in known for key in values):
        raise api_error("Parameter.NotMatched", status=403 if invoke else 400)
    given = {k.lower() for k in values}
    if any(name.lower() not in given for name in names):
        raise api_error("Parameter.MissingValue")
    rendered = {}
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            raise api_error("ParameterType.NotSupported")
        rendered[key] = value
    return rendered


def decode_content(request: Request, default_encoding: str) -> str:
    content = request.str("CommandContent")
    if request.str("ContentEncoding", default_encoding).lower() == "base64":
        try:
            return base64.b64decode(content, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise api_error("CmdContent.DecodeError") from None
    return content


def encode_text(data: bytes | str, encoding: str) -> str:
    """Output/CommandContent as the caller asked: Base64 (the default) or PlainText."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if encoding.lower() == "plaintext":
        return raw.decode("utf-8", errors="replace")
    return base64.b64encode(raw).decode("ascii")


# ----- records ----------------------------------------------------------------------------------------
class Command:
    def __init__(self, **fields):
        self.invoke_times = 0
        self.tags = {}
        self.kept = False
        self.__dict__.update(fields)


class Record:
    """One instance's part of an invocation."""

    def __init__(self, instance_id: str, now: float):
        self.instance_id = instance_id
        self.status = "Pending"
        self.exit_code = 0
        self.output = b""
        self.dropped = 0
        self.error_code = ""
        self.error_info = ""
        self.created_at = now
        self.start_time = 0.0
        self.finish_time = 0.0
        self.stop_time = 0.0
        self.update_time = now
        self.process: subprocess.Popen | None = None
        self.stop_requested = False

    def finish(self, status: str, now: float, error_code: str = "", error_info: str = "", exit_code: int = 0) -> None:
        self.status, self.error_code, self.error_info, self.exit_code = status, error_code, error_info, exit_code
        self.finish_time = self.update_time = now

    def record_status(self) -> str:
        """Legacy per-instance status (InvokeRecordStatus / InstanceInvokeStatus)."""
        if self.status in ("Pending", "Running", "Scheduled"):
            return "Running"
        if self.status == "Stopping":
            return "Stopping"
        if self.status in STOPPED_STATUSES:
            return "Stopped"
        return "Finished" if self.status == "Success" else "Failed"


class Invocation:
    def __init__(self, **fields):
        self.records: dict[str, Record] = {}
        self.stopped = False
        self.__dict__.update(fields)

    def overall_status(self) -> str:
        statuses = [r.status for r in self.records.values()]
        if "Stopping" in statuses:
            return "Stopping"
        if statuses and all(s == "Pending" for s in statuses):
            return "Pending"
        if any(s in ("Pending", "Running") for s in statuses):
            return "Running"
        if "Scheduled" in statuses:
            return "Scheduled"
        if any(s in STOPPED_STATUSES for s in statuses):
            return "Stopped"
        if all(s == "Success" for s in statuses):
            return "Success"
        if all(s in FAILED_STATUSES for s in statuses):
            return "Failed"
        return "PartialFailed"

    def legacy_status(self) -> str:
        """``InvokeStatus``: Running, Stopping, Stopped, Finished, Failed, PartialFailed."""
        overall = self.overall_status()
        return {"Pending": "Running", "Scheduled": "Running", "Success": "Finished"}.get(overall, overall)


# ----- the service ------------------------------------------------------------------------------------
class CloudAssistant:
    """Commands, invocations and file deliveries, plus the pool that runs them."""

    def __init__(self, world, workers: int = 16):
        self.world = world
        self.root = Path(tempfile.mkdtemp(prefix="alicloud-emulator-"))
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloud-assistant")
        self.generation = 0
        self.commands: dict[str, Command] = {}
        self.invocations: dict[str, Invocation] = {}
        self.file_invocations: dict[str, Invocation] = {}
        self.file_owners: dict[tuple[str, str], tuple[str, str]] = {}   # (instance id, host path) -> owner, group
        world.cloud_assistant = self

    def reset(self) -> None:
        with self.world.lock:
            self.generation += 1
            self._kill_all()
            self.commands, self.invocations, self.file_invocations, self.file_owners = {}, {}, {}, {}
        shutil.rmtree(self.root / "instances", ignore_errors=True)
        shutil.rmtree(self.root / "scripts", ignore_errors=True)

    def close(self) -> None:
        with self.world.lock:
            self.generation += 1
            self._kill_all()
        self.pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_all(self) -> None:
        for invocation in self.invocations.values():
            for record in invocation.records.values():
                kill_process(record.process)

    # ----- the instance file tree ------------------------------------------------------------------
    def instance_root(self, instance_id: str) -> Path:
        root = self.root / "instances" / instance_id
        if not root.exists():
            seed_instance_tree(root)
        return root

    def instance_path(self, instance_id: str, path: str, home: str = "/root") -> Path:
        """Map a path on the instance into its private tree (relative paths are relative to ``home``).

        A path already inside the tree is kept: it is what the instance's commands see.
        """
        root = self.instance_root(instance_id)
        if path and os.path.isabs(path) and is_within(Path(os.path.normpath(path)), root):
            return Path(os.path.normpath(path))
        if not path:
            path = home
        relative = path.lstrip("/") if path.startswith("/") else f"{home.lstrip('/')}/{path}"
        return root / os.path.normpath(relative)

    def account(self, instance_id: str, name: str) -> dict | None:
        """``{"name", "uid", "gid", "home"}`` of an account of the instance (its ``etc/passwd``), or None."""
        return read_accounts(self.instance_root(instance_id) / "etc" / "passwd").get(name or "root")

    def has_group(self, instance_id: str, name: str) -> bool:
        return (name or "root") in read_accounts(self.instance_root(instance_id) / "etc" / "group")

    # ----- invocations -----------------------------------------------------------------------------
    def start(self, request: Request, command: Command, instances: list, values: dict[str, str], *, timeout: int,
              working_dir: str, username: str, repeat_mode: str, frequency: str, tags: dict) -> Invocation:
        world, now = self.world, request.now
        invocation = Invocation(
            id=world.new_id("t", command.region), command=command, region=command.region, parameters=values,
            repeat_mode=repeat_mode, frequency=frequency, timeout=timeout, working_dir=working_dir,
            username=username or "root", created_at=now, tags=tags,
            container_id=request.str("ContainerId"), container_name=request.str("ContainerName"),
            termination_mode=request.str("TerminationMode", "ProcessTree"), launcher=request.str("Launcher"))
        self.invocations[invocation.id] = invocation
        for instance in instances:
            record = Record(instance.id, now)
            invocation.records[instance.id] = record
            instance.invocation_count += 1
            instance.last_invoked_at = now
            problem = instance_problem(instance, now)
            if problem:
                record.finish("Aborted", now, *problem)
            elif repeat_mode in SCHEDULED_MODES:
                record.status = "Scheduled"
            elif repeat_mode == "DryRun":
                record.finish("Success", now)
            else:
                builtins = {"ACS::RegionId": instance.region, "ACS::AccountId": ACCOUNT_ID,
                            "ACS::InstanceId": instance.id, "ACS::InstanceName": instance.name,
                            "ACS::InvokeId": invocation.id, "ACS::CommandId": command.id}
                script = render(command.content, values, builtins) if command.enable_parameter else command.content
                self.pool.submit(self._execute, invocation, record, script, self.generation)
        return invocation

    def _execute(self, invocation: Invocation, record: Record, script: str, generation: int) -> None:
        world = self.world
        with world.lock:
            if generation != self.generation or record.status != "Pending":
                return
            now = time.time()
            instance = world.instances.get(record.instance_id)
            problem = ("InstanceReleased", "the instance has released when create task") if instance is None \
                else instance_problem(instance, now)
            if problem:
                record.finish("Aborted", now, *problem)
                return
            account = self.account(record.instance_id, invocation.username)
            if account is None:
                record.finish("Invalid", now, "AccountNotExists", "the specified account does not exist")
                return
            workdir = self.instance_path(record.instance_id, invocation.working_dir, home=account["home"])
            if not workdir.is_dir():
                record.finish("Failed", now, "DirectoryNotExists", "the specified directory does not exists", 0)
                return
            record.status, record.start_time, record.update_time = "Running", now, now
            script_dir = self.root / "scripts"
            script_dir.mkdir(parents=True, exist_ok=True)
            script_path = script_dir / f"{invocation.id}-{record.instance_id}.sh"
            script_path.write_text(script)
            home = self.instance_path(record.instance_id, account["home"])
            tools = self.instance_root(record.instance_id) / "usr" / "local" / "bin"
        environment = {"PATH": f"{tools}{os.pathsep}{INSTANCE_PATH}",
                       "HOME": str(home),
                       "USER": invocation.username, "LOGNAME": invocation.username, "LANG": "C.UTF-8",
                       "TMPDIR": str(self.instance_path(record.instance_id, "/tmp"))}
        shell = shutil.which("bash") or "/bin/sh"
        try:
            process = subprocess.Popen([shell, str(script_path)], cwd=workdir, env=environment,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        except OSError as exc:
            with world.lock:
                record.finish("Error", time.time(), "ExecutionException", f"the command execution got an exception: {exc}")
            return
        with world.lock:
            record.process = process
            if record.stop_requested or generation != self.generation:
                kill_process(process)

        def partial_output(data: bytes) -> None:   # DescribeInvocationResults shows output while running
            with world.lock:
                if generation == self.generation:
                    record.output = data

        kept, total, timed_out = collect_output(process, invocation.timeout, lambda: record.stop_requested,
                                                partial_output)
        exit_code = process.wait()
        with world.lock:
            record.process = None
            if generation != self.generation:
                return
            record.output, record.dropped = kept, max(total - len(kept), 0)
            now = time.time()
            if record.stop_requested:
                record.stop_time = now
                record.finish("Terminated", now, "", "", -1)
            elif timed_out:
                record.finish("Timeout", now, "ExecutionTimeout", "the command execution has been timeout", -1)
            elif exit_code == 0:
                record.finish("Success", now)
            else:
                record.finish("Failed", now, "ExitCodeNonzero", "the command execution exit code is not zero",
                              exit_code)
        script_path.unlink(missing_ok=True)

    def deliver(self, invocation: Invocation, record: Record, data: bytes, generation: int) -> None:
        """Write one SendFile delivery on one instance (on the pool: the API answers before it lands)."""
        with self.world.lock:
            if generation != self.generation or record.status != "Pending":
                return
            now = time.time()
            instance = self.world.instances.get(record.instance_id)
            problem = ("InstanceReleased", "the instance has released when create task") if instance is None \
                else instance_problem(instance, now)
            if problem:
                record.finish("Aborted", now, *problem)
                return
            record.status, record.start_time, record.update_time = "Running", now, now
            if self.account(record.instance_id, invocation.file_owner) is None:
                record.finish("Invalid", now, "AccountNotExists", "the specified file owner does not exist")
                return
            if not self.has_group(record.instance_id, invocation.file_group):
                record.finish("Invalid", now, "UserGroupNotExists", "the specified user group does not exist")
                return
            directory = self.instance_path(record.instance_id, invocation.target_dir)
            path = directory / invocation.name
            if path.exists() and not invocation.overwrite:
                record.finish("Failed", now, "FileAlreadyExists", "File already exists.")
                return
            try:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                path.chmod(int(invocation.file_mode, 8))
            except OSError as exc:
                record.finish("Failed", now, "FileCreateFail", f"the file could not be created: {exc.strerror}")
                return
            self.file_owners[(record.instance_id, str(path))] = (invocation.file_owner, invocation.file_group)
            record.finish("Success", time.time())

    def stop(self, invocation: Invocation, instance_ids: list[str], now: float) -> None:
        invocation.stopped = True
        for record in invocation.records.values():
            if instance_ids and record.instance_id not in instance_ids:
                continue
            if record.status in ("Pending", "Scheduled"):
                record.stop_time = now
                record.finish("Cancelled", now)
            elif record.status == "Running":
                record.stop_requested = True
                record.status, record.update_time = "Stopping", now
                kill_process(record.process)


# ----- the instance tree: accounts and identity ------------------------------------------------------
SEED_PASSWD = "root:x:0:0:root:/root:/bin/bash\necs-user:x:1000:1000::/home/ecs-user:/bin/bash\n"
SEED_GROUP = "root:x:0:\necs-user:x:1000:\n"
SEED_SUDOERS = "ecs-user ALL=(ALL) NOPASSWD:ALL\n"
WHOAMI = '#!/bin/sh\n# emulated instance: identity is USER (the emulator runs every command as one host user)\necho "${USER:-root}"\n'
# Emulated sudo: switch USER/LOGNAME/HOME to the target account, for root and the NOPASSWD users of
# etc/sudoers.d; with a password required it fails as the real one does without a terminal.
SUDO = r"""#!/bin/sh
root='@ROOT@'
user=root
while [ $# -gt 0 ]; do
  case "$1" in
    -u) user=$2; shift 2 ;;
    -p|-g|-C|-D|-h|-r|-t|-U) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
me=${USER:-root}
if [ "$me" != root ] && ! grep -qs "^$me[[:space:]].*NOPASSWD" "$root"/etc/sudoers.d/*; then
  echo "sudo: a password is required" >&2
  exit 1
fi
line=$(grep "^$user:" "$root/etc/passwd") || { echo "sudo: unknown user $user" >&2; exit 1; }
home=$(printf '%s\n' "$line" | cut -d: -f6)
[ $# -gt 0 ] || { echo "usage: sudo -u user command" >&2; exit 1; }
USER=$user LOGNAME=$user HOME=$root$home exec "$@"
"""


def seed_instance_tree(root: Path) -> None:
    """A fresh instance's tree: /root, /tmp, /home/ecs-user, accounts, sudoers and the identity tools."""
    for sub in ("root", "tmp", "home/ecs-user", "etc/sudoers.d", "usr/local/bin"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "etc" / "passwd").write_text(SEED_PASSWD)
    (root / "etc" / "group").write_text(SEED_GROUP)
    (root / "etc" / "sudoers.d" / "90-ecs-user").write_text(SEED_SUDOERS)
    for name, text in (("whoami", WHOAMI), ("sudo", SUDO.replace("@ROOT@", str(root)))):
        tool = root / "usr" / "local" / "bin" / name
        tool.write_text(text)
        tool.chmod(0o755)


def read_accounts(path: Path) -> dict[str, dict]:
    """``etc/passwd`` (or ``etc/group``) lines -> ``{name: {"name", "uid", "gid", "home"}}``."""
    accounts = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return accounts
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[0]:
            accounts[fields[0]] = {"name": fields[0], "uid": fields[2], "gid": fields[3] if len(fields) > 3 else "",
                                   "home": fields[5] if len(fields) > 5 and fields[5] else "/"}
    return accounts


def is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def instance_problem(instance, now: float) -> tuple[str, str] | None:
    """Why Cloud Assistant cannot deliver to this instance right now (ErrorCode, ErrorInfo), or None."""
    if instance.status(now) != "Running":
        return "InstanceNotRunning", "the instance is not running when create task"
    if not instance.agent_installed:
        return "ClientNotRunning", "the aliyun service is not running on the instance"
    if instance.agent_offline:
        return "ClientNotResponse", "the aliyun service is not responding"
    return None


def kill_process(process: subprocess.Popen | None) -> None:
    """Kill the script's whole process group (TerminationMode ProcessTree)."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def collect_output(process: subprocess.Popen, timeout: float, stop_requested, on_output=None) -> tuple[bytes, int, bool]:
    """Read merged output until EOF, timeout or stop; keep at most OUTPUT_LIMIT bytes, count the rest."""
    kept = bytearray()
    total = 0
    deadline = time.monotonic() + timeout
    timed_out = False
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                kill_process(process)
                break
            if not selector.select(min(remaining, 0.2)):
                if stop_requested():
                    kill_process(process)
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            total += len(chunk)
            if len(kept) < OUTPUT_LIMIT:
                kept.extend(chunk[:OUTPUT_LIMIT - len(kept)])
                if on_output is not None:
                    on_output(bytes(kept))
    process.stdout.close()
    return bytes(kept), total, timed_out


def service(request: Request) -> CloudAssistant:
    return request.world.cloud_assistant


# ----- API: commands ----------------------------------------------------------------------------------
def content_limit_check(content: str, kept: bool) -> None:
    size = len(base64.b64encode(content.encode("utf-8")))
    if size > (KEPT_CONTENT_LIMIT if kept else CONTENT_LIMIT):
        raise api_error("CmdContent.ExceedLimit")


def new_command(request: Request, *, content: str, kept: bool) -> Command:
    command_type = request.str("Type")
    if command_type not in COMMAND_TYPES:
        raise api_error("InvalidCmdType.NotFound")
    content_limit_check(content, kept)
    enabled = request.bool("EnableParameter")
    names = parameter_names(content) if enabled else []
    region = request.str("RegionId")
    return Command(
        id=request.world.new_id("c", region), name=request.str("Name"), description=request.str("Description"),
        type=command_type, content=content, working_dir=request.str("WorkingDir"),
        timeout=request.int("Timeout", 60, 1, 86400), enable_parameter=enabled, parameter_names=names,
        created_at=request.now, region=region, kept=kept, launcher=request.str("Launcher"),
        resource_group_id=request.str("ResourceGroupId"), tags=request.tags_to_set("Tag"))


def target_instances(request: Request, command_type: str, limit: int = MAX_INSTANCES) -> list:
    """``InstanceId.N`` or ``ResourceTag.N`` -> instances; API-level errors as documented."""
    world, region = request.world, request.str("RegionId")
    ids = request.list("InstanceId")
    resource_tags = request.tag_filter("ResourceTag", limit=10)
    if ids and resource_tags:
        raise api_error("InvalidResourceTag.ConflictWithInstanceIds")
    if resource_tags:
        instances = [i for i in world.by_region.get(region, {}).values() if tags_match(i.tags, resource_tags)]
        if not instances:
            raise api_error("InvalidResourceTag.InstanceNotFound")
    else:
        if not ids:
            raise api_error("MissingParam.InstanceId")
        instances = []
        for instance_id in dict.fromkeys(ids):
            instance = world.instances.get(instance_id)
            if instance is None or instance.region != region:
                raise api_error("InvalidInstance.NotFound")
            instances.append(instance)
    if len(instances) > limit:
        raise api_error("InstanceIds.ExceedLimit")
    if command_type not in LINUX_COMMAND_TYPES:
        raise api_error("InvalidInstance.NotMatch")   # every emulated instance runs Linux
    return instances


def repeat_mode(request: Request) -> tuple[str, str]:
    frequency = request.str("Frequency")
    mode = request.enum("RepeatMode", REPEAT_MODES, "Period" if frequency else "Once",
                        error=api_error("InvalidRepeatMode.NotFound"))
    if mode == "Period" and not frequency:
        raise api_error("MissingParam.Frequency")
    return mode, frequency


def checked_username(request: Request) -> str:
    username = request.str("Username")
    if len(username) > MAX_USERNAME:
        raise api_error("Username.ExceedLimit")
    return username


def parameters_map(request: Request) -> dict | None:
    if not request.has("Parameters"):
        return None
    value = request.json("Parameters")
    if not isinstance(value, dict):
        raise api_error("InvalidParameter.Parameters")
    return value


@ca(required=("RegionId", "Type", "CommandContent"), client_token=True)
def RunCommand(request: Request):
    content = decode_content(request, "PlainText")
    kept = request.bool("KeepCommand")
    command = new_command(request, content=content, kept=kept)
    values = check_parameters(command.parameter_names, command.enable_parameter, parameters_map(request), invoke=False)
    mode, frequency = repeat_mode(request)
    username = checked_username(request)
    instances = target_instances(request, command.type)
    request.world.cloud_assistant.commands[command.id] = command
    command.invoke_times += 1
    invocation = service(request).start(
        request, command, instances, values, timeout=command.timeout, working_dir=command.working_dir,
        username=username, repeat_mode=mode, frequency=frequency, tags=dict(command.tags))
    return {"CommandId": command.id, "InvokeId": invocation.id}


@ca(required=("RegionId", "Name", "Type", "CommandContent"), client_token=True)
def CreateCommand(request: Request):
    command = new_command(request, content=decode_content(request, "Base64"), kept=True)
    service(request).commands[command.id] = command
    return {"CommandId": command.id}


def find_command(request: Request) -> Command:
    command = service(request).commands.get(request.str("CommandId"))
    if command is None or not command.kept or command.region != request.str("RegionId"):
        raise api_error("InvalidCmdId.NotFound")
    return command


@ca(required=("RegionId", "CommandId"), client_token=True)
def InvokeCommand(request: Request):
    command = find_command(request)
    values = check_parameters(command.parameter_names, command.enable_parameter, parameters_map(request), invoke=True)
    mode, frequency = repeat_mode(request)
    instances = target_instances(request, command.type)
    command.invoke_times += 1
    invocation = service(request).start(
        request, command, instances, values, timeout=request.int("Timeout", command.timeout, 1, 86400),
        working_dir=request.str("WorkingDir", command.working_dir), username=checked_username(request),
        repeat_mode=mode, frequency=frequency, tags=request.tags_to_set("Tag"))
    return {"InvokeId": invocation.id}


@ca(required=("RegionId", "CommandId"))
def DeleteCommand(request: Request):
    command = find_command(request)
    command.kept = False
    return {}


def command_to_api(command: Command, encoding: str) -> dict:
    return {
        "CommandId": command.id, "Name": command.name, "Description": command.description, "Type": command.type,
        "CommandContent": encode_text(command.content, encoding), "WorkingDir": command.working_dir,
        "Timeout": command.timeout, "InvokeTimes": command.invoke_times, "CreationTime": iso_seconds(command.created_at),
        "EnableParameter": command.enable_parameter, "ParameterNames": {"ParameterName": command.parameter_names},
        "ParameterDefinitions": {"ParameterDefinition": [
            {"ParameterName": n, "Required": True, "DefaultValue": "", "Description": "",
             "PossibleValues": {"PossibleValue": []}} for n in command.parameter_names]},
        "Version": 1, "Latest": True, "Provider": "", "Category": "", "Launcher": command.launcher,
        "ResourceGroupId": command.resource_group_id, "Tags": ecs_tags(command.tags),
    }


@ca(required=("RegionId",))
def DescribeCommands(request: Request):
    region = request.str("RegionId")
    page = paging(request, max_size=50, size_error="InvalidParam.PageSize", number_error="InvalidParam.PageNumber",
                  max_results_error="InvalidParameter.MaxResults")
    encoding = request.str("ContentEncoding", "Base64")
    tag_filters = request.tag_filter("Tag")
    commands = [c for c in service(request).commands.values() if c.kept and c.region == region
                and (not request.has("CommandId") or c.id == request.str("CommandId"))
                and (not request.has("Name") or c.name == request.str("Name"))
                and (not request.has("Type") or c.type == request.str("Type"))
                and (not request.has("Description") or request.str("Description") in c.description)
                and not request.has("Provider")
                and (not tag_filters or tags_match(c.tags, tag_filters))]
    commands.sort(key=lambda c: -c.created_at)
    body = page.fields(len(commands))
    body["Commands"] = {"Command": [command_to_api(c, encoding) for c in page.slice(commands)]}
    return body


# ----- API: invocations -------------------------------------------------------------------------------
def find_invocation(request: Request, store: dict) -> Invocation:
    invocation = store.get(request.str("InvokeId"))
    if invocation is None or invocation.region != request.str("RegionId"):
        raise api_error("InvalidInvokeId.NotFound")
    return invocation


@ca(required=("RegionId", "InvokeId"))
def StopInvocation(request: Request):
    ids = request.list("InstanceId")
    if len(ids) > 50:
        raise api_error("InstanceIds.ExceedLimit")
    invocation = find_invocation(request, service(request).invocations)
    service(request).stop(invocation, ids, request.now)
    return {}


def record_to_api(record: Record, *, encoding: str, include_output: bool = True) -> dict:
    return {
        "InstanceId": record.instance_id, "InvocationStatus": record.status,
        "ExitCode": record.exit_code, "Output": encode_text(record.output, encoding) if include_output else "",
        "Dropped": record.dropped, "ErrorCode": record.error_code, "ErrorInfo": record.error_info,
        "Repeats": 0 if record.status in ("Pending", "Scheduled") else 1,
        "StartTime": iso_seconds(record.start_time), "StopTime": iso_seconds(record.stop_time),
    }


def invocation_to_api(invocation: Invocation, *, encoding: str, include_output: bool, instance_id: str = "") -> dict:
    command = invocation.command
    instances = []
    for record in invocation.records.values():
        if instance_id and record.instance_id != instance_id:
            continue
        item = record_to_api(record, encoding=encoding, include_output=include_output)
        item.update({"InstanceInvokeStatus": record.record_status(), "Timed": invocation.repeat_mode in SCHEDULED_MODES,
                     "CreationTime": iso_seconds(record.created_at), "FinishTime": iso_seconds(record.finish_time),
                     "UpdateTime": iso_seconds(record.update_time), "OssOutputStatus": "", "OssOutputUri": "",
                     "OssOutputErrorCode": "", "OssOutputErrorInfo": ""})
        instances.append(item)
    return {
        "InvokeId": invocation.id, "CommandId": command.id, "CommandName": command.name, "CommandType": command.type,
        "CommandContent": encode_text(command.content, encoding), "CommandDescription": command.description,
        "InvocationStatus": invocation.overall_status(), "InvokeStatus": invocation.legacy_status(),
        "RepeatMode": invocation.repeat_mode, "Frequency": invocation.frequency,
        "Timed": invocation.repeat_mode in SCHEDULED_MODES, "Parameters": _json(invocation.parameters),
        "Username": invocation.username, "WorkingDir": invocation.working_dir, "Timeout": invocation.timeout,
        "CreationTime": iso_seconds(invocation.created_at), "ContainerId": invocation.container_id,
        "ContainerName": invocation.container_name, "TerminationMode": invocation.termination_mode,
        "Launcher": invocation.launcher, "OssOutputDelivery": "", "Tags": ecs_tags(invocation.tags),
        "InvokeInstances": {"InvokeInstance": instances},
    }


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def invocation_paging(request: Request):
    return paging(request, max_size=50, size_error="InvalidParam.PageSize", number_error="InvalidParam.PageNumber",
                  max_results_error="InvalidParameter.MaxResults")


@ca(required=("RegionId",))
def DescribeInvocations(request: Request):
    region = request.str("RegionId")
    page = invocation_paging(request)
    encoding = request.str("ContentEncoding", "Base64")
    instance_id = request.str("InstanceId")
    tag_filters = request.tag_filter("Tag")
    timed = request.bool("Timed") if request.has("Timed") else None
    found = [inv for inv in service(request).invocations.values() if inv.region == region
             and (not request.has("InvokeId") or inv.id == request.str("InvokeId"))
             and (not request.has("CommandId") or inv.command.id == request.str("CommandId"))
             and (not request.has("CommandName") or inv.command.name == request.str("CommandName"))
             and (not request.has("CommandType") or inv.command.type == request.str("CommandType"))
             and (not request.has("RepeatMode") or inv.repeat_mode == request.str("RepeatMode"))
             and (not instance_id or instance_id in inv.records)
             and (timed is None or (inv.repeat_mode in SCHEDULED_MODES) == timed)
             and (not request.has("InvokeStatus") or request.str("InvokeStatus") in (inv.legacy_status(),
                                                                                     inv.overall_status()))
             and (not tag_filters or tags_match(inv.tags, tag_filters))]
    found.reverse()   # newest first
    body = page.fields(len(found))
    body["Invocations"] = {"Invocation": [
        invocation_to_api(inv, encoding=encoding, include_output=request.bool("IncludeOutput"), instance_id=instance_id)
        for inv in page.slice(found)]}
    return body


@ca(required=("RegionId",))
def DescribeInvocationResults(request: Request):
    region = request.str("RegionId")
    page = invocation_paging(request)
    encoding = request.str("ContentEncoding", "Base64")
    instance_id = request.str("InstanceId")
    record_status = request.str("InvokeRecordStatus")
    tag_filters = request.tag_filter("Tag")
    invocations = [inv for inv in service(request).invocations.values() if inv.region == region
                   and (not request.has("InvokeId") or inv.id == request.str("InvokeId"))
                   and (not request.has("CommandId") or inv.command.id == request.str("CommandId"))
                   and (not tag_filters or tags_match(inv.tags, tag_filters))]
    rows = []
    for invocation in reversed(invocations):
        for record in invocation.records.values():
            if instance_id and record.instance_id != instance_id:
                continue
            if record_status and record_status not in (record.record_status(), record.status):
                continue
            rows.append((invocation, record))
    results = []
    for invocation, record in page.slice(rows):
        item = record_to_api(record, encoding=encoding)
        item.update({"InvokeId": invocation.id, "CommandId": invocation.command.id,
                     "InvokeRecordStatus": record.record_status(), "Username": invocation.username,
                     "FinishedTime": iso_seconds(record.finish_time), "TerminationMode": invocation.termination_mode,
                     "Launcher": invocation.launcher, "ContainerId": invocation.container_id,
                     "ContainerName": invocation.container_name, "OssOutputDelivery": "", "OssOutputStatus": "",
                     "OssOutputUri": "", "OssOutputErrorCode": "", "OssOutputErrorInfo": "",
                     "Tags": ecs_tags(invocation.tags)})
        results.append(item)
    invocation_body = page.fields(len(rows))
    invocation_body["InvocationResults"] = {"InvocationResult": results}
    return {"Invocation": invocation_body}


# ----- API: agent status ------------------------------------------------------------------------------
def listed_instances(request: Request, limit: int = 100) -> list:
    world, region = request.world, request.str("RegionId")
    ids = request.list("InstanceId")
    if len(ids) > limit:
        raise api_error("InstanceIds.ExceedLimit")
    if not ids:
        return list(world.by_region.get(region, {}).values())
    instances = []
    for instance_id in dict.fromkeys(ids):
        instance = world.instances.get(instance_id)
        if instance is None or instance.region != region:
            raise api_error("InvalidInstance.NotFound")
        instances.append(instance)
    return instances


@ca(required=("RegionId",))
def DescribeCloudAssistantStatus(request: Request):
    region, now = request.str("RegionId"), request.now
    page = paging(request, max_size=50, size_error="InvalidParam.PageSize", number_error="InvalidParam.PageNumber",
                  max_results_error="InvalidParameter.MaxResults")
    instances = listed_instances(request)
    if request.has("OSType") and request.str("OSType").lower() != "linux":
        instances = []
    active = {}
    for invocation in service(request).invocations.values():
        for record in invocation.records.values():
            if record.status in ("Pending", "Running", "Stopping"):
                active[record.instance_id] = active.get(record.instance_id, 0) + 1
    items = []
    for instance in page.slice(instances):
        running = instance.cloud_assistant_status(now) == "true"
        items.append({
            "InstanceId": instance.id, "CloudAssistantStatus": "true" if running else "false",
            "CloudAssistantVersion": AGENT_VERSION if instance.agent_installed else "",
            "LastHeartbeatTime": iso_seconds(now) if running else "", "OSType": "Linux",
            "InvocationCount": instance.invocation_count, "ActiveTaskCount": active.get(instance.id, 0),
            "LastInvokedTime": iso_seconds(instance.last_invoked_at), "SupportSessionManager": running,
        })
    body = page.fields(len(instances))
    body["InstanceCloudAssistantStatusSet"] = {"InstanceCloudAssistantStatus": items}
    return body


def missing_instance_param(name: str):
    return api_error("MissingParam.InstanceId") if name == "InstanceId" else api_error("MissingParameter", name=name)


@ca(required=("RegionId", "InstanceId"), missing=missing_instance_param)
def InstallCloudAssistant(request: Request):
    for instance in listed_instances(request):
        if not instance.agent_installed:
            instance.agent_pending = True   # the docs: takes effect after the instance is rebooted
    return {}


# ----- API: files -------------------------------------------------------------------------------------
@ca(required=("RegionId", "Name", "TargetDir", "Content", "InstanceId"), missing=missing_instance_param)
def SendFile(request: Request):
    content_type = request.str("ContentType", "PlainText")
    if content_type.lower() not in ("plaintext", "base64"):
        raise api_error("FileContentType.Invalid")
    content = request.str("Content")
    if content_type.lower() == "base64":
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise api_error("FileContent.DecodeError") from None
    else:
        data = content.encode("utf-8")
    if len(base64.b64encode(data)) > FILE_CONTENT_LIMIT:
        raise api_error("FileSize.ExceedLimit")
    target_dir = request.str("TargetDir")
    if not target_dir.startswith("/") or len(target_dir) > 255:
        raise api_error("FileTargetDir.Invalid")
    mode = request.str("FileMode", "0644")
    if not re.fullmatch(r"[0-7]{3,4}", mode):
        raise api_error("FileMode.Invalid")
    name = request.str("Name")
    if "/" in name or name in (".", ".."):
        raise api_error("InvalidParameter", name="Name")
    if len(name) > 255:
        raise api_error("InvalidParameter", name="Name")
    owner, group = request.str("FileOwner", "root"), request.str("FileGroup", "root")
    if len(owner) > 64 or len(group) > 64:
        raise api_error("InvalidParameter", name="FileOwner" if len(owner) > 64 else "FileGroup")
    instances = target_instances(request, "RunShellScript", limit=MAX_FILE_INSTANCES)
    cloud, now = service(request), request.now
    invocation = Invocation(
        id=request.world.new_id("f", request.str("RegionId")), region=request.str("RegionId"), name=name,
        description=request.str("Description"), target_dir=target_dir, content=content, content_type=content_type,
        file_mode=mode, file_owner=owner, file_group=group, timeout=max(10, request.int("Timeout", 60, 1, 86400)),
        overwrite=request.bool("Overwrite"), created_at=now, tags=request.tags_to_set("Tag"))
    cloud.file_invocations[invocation.id] = invocation
    for instance in instances:
        record = Record(instance.id, now)
        invocation.records[instance.id] = record
        problem = instance_problem(instance, now)
        if problem:
            record.finish("Aborted", now, *problem)
            continue
        cloud.pool.submit(cloud.deliver, invocation, record, data, cloud.generation)
    return {"InvokeId": invocation.id}


@ca(required=("RegionId",))
def DescribeSendFileResults(request: Request):
    region = request.str("RegionId")
    page = invocation_paging(request)
    instance_id = request.str("InstanceId")
    found = [inv for inv in service(request).file_invocations.values() if inv.region == region
             and (not request.has("InvokeId") or inv.id == request.str("InvokeId"))
             and (not request.has("Name") or inv.name == request.str("Name"))
             and (not instance_id or instance_id in inv.records)
             and (not request.has("InvocationStatus") or inv.overall_status() == request.str("InvocationStatus"))]
    found.reverse()
    items = []
    for inv in page.slice(found):
        records = [r for r in inv.records.values() if not instance_id or r.instance_id == instance_id]
        items.append({
            "InvokeId": inv.id, "Name": inv.name, "Description": inv.description, "Content": inv.content,
            "ContentType": inv.content_type, "TargetDir": inv.target_dir, "FileMode": inv.file_mode,
            "FileOwner": inv.file_owner, "FileGroup": inv.file_group, "Overwrite": str(inv.overwrite).lower(),
            "CreationTime": iso_seconds(inv.created_at), "InvocationStatus": inv.overall_status(),
            "VmCount": len(inv.records), "Tags": ecs_tags(inv.tags),
            "InvokeInstances": {"InvokeInstance": [{
                "InstanceId": r.instance_id, "InvocationStatus": r.status, "ErrorCode": r.error_code,
                "ErrorInfo": r.error_info, "CreationTime": iso_seconds(r.created_at),
                "StartTime": iso_seconds(r.start_time), "FinishTime": iso_seconds(r.finish_time),
                "UpdateTime": iso_seconds(r.update_time)} for r in records]},
        })
    body = page.fields(len(found))
    body["Invocations"] = {"Invocation": items}
    return body


# Cloud Assistant commands and invocations can be tagged through ECS TagResources too.
TAGGABLE["command"] = lambda world, region: [c for c in world.cloud_assistant.commands.values()
                                             if c.region == region and c.kept]
TAGGABLE["invocation"] = lambda world, region: [i for i in world.cloud_assistant.invocations.values()
                                                if i.region == region]


def files_view(cloud: CloudAssistant, instance_id: str) -> list[dict]:
    """``GET /_emulator/instances/<id>/files``: the files SendFile delivered, with owner, group and mode as now."""
    root = cloud.instance_root(instance_id)
    with cloud.world.lock:
        delivered = [(path, owner, group) for (iid, path), (owner, group) in cloud.file_owners.items()
                     if iid == instance_id]
    files = []
    for host_path, owner, group in delivered:
        path = Path(host_path)
        entry = {"Path": "/" + str(path.relative_to(root)), "HostPath": host_path, "Owner": owner, "Group": group,
                 "Exists": path.is_file()}
        if entry["Exists"]:
            info = path.stat()
            entry.update(Mode=f"{info.st_mode & 0o7777:04o}", Size=info.st_size)
        files.append(entry)
    return files


def invocations_view(cloud: CloudAssistant) -> list[dict]:
    """``GET /_emulator/invocations``: plain-text content and outputs, for tests."""
    with cloud.world.lock:
        return [{
            "InvokeId": inv.id, "CommandId": inv.command.id, "CommandType": inv.command.type,
            "CommandContent": inv.command.content, "RegionId": inv.region, "Parameters": inv.parameters,
            "InvocationStatus": inv.overall_status(), "Timeout": inv.timeout, "WorkingDir": inv.working_dir,
            "CreationTime": iso_seconds(inv.created_at),
            "Instances": [{"InstanceId": r.instance_id, "InvocationStatus": r.status, "ExitCode": r.exit_code,
                           "Output": r.output.decode("utf-8", errors="replace"), "Dropped": r.dropped,
                           "ErrorCode": r.error_code} for r in inv.records.values()],
        } for inv in cloud.invocations.values()]
