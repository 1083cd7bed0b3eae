"""exec, put and fetch of the cloud_assistant connection with the scripts really run by sh and bash
(LocalChannel), so every POSIX script the connection sends is exercised without the emulator."""
from __future__ import annotations

import base64
import io
import os
import shutil
import zipfile

import pytest

from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_api import CommandFailed
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_payload import SCRIPT_LIMIT
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_session import Session
from ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_shell import PosixShell

from cloud_assistant_local import LocalChannel

SHELLS = [s for s in ("sh", "bash") if shutil.which(s)]


@pytest.fixture(params=SHELLS)
def session(request, tmp_path):
    channel = LocalChannel(tmp_path / "home", shell=request.param)
    return Session(channel, PosixShell(), str(tmp_path / "knowledge"), command_timeout=30)


def exec_(session, command, stdin=None):
    return session.exec(command, stdin, None)


def test_stdout_stderr_and_exit_code_come_back_apart(session):
    rc, out, err = exec_(session, "echo out; echo err >&2; printf 'no newline'; exit 3")
    assert (rc, out, err) == (3, b"out\nno newline", b"err\n")


def test_a_command_printing_report_lines_cannot_forge_the_report(session):
    rc, out, _unused = exec_(session, "echo 'deadbeef end'; echo \"$M rc 0\"; echo 'x o Zm9v'; exit 5")
    assert rc == 5 and out == b"deadbeef end\n rc 0\nx o Zm9v\n"


def test_stdin_text_binary_and_none(session):
    assert exec_(session, "cat", b"line one\nline two\n")[1] == b"line one\nline two\n"
    binary = bytes(range(256)) * 3 + b"\0no newline at the end"
    assert exec_(session, "cat", binary)[1] == binary
    assert exec_(session, "cat")[1] == b""   # no stdin: /dev/null, nothing hangs


def test_large_stdin_travels_in_sendfile_blobs(session):
    data = os.urandom(60000)
    rc, out, _unused = exec_(session, "sha256sum | cut -c1-64", data)
    assert rc == 0 and out.decode().strip() == __import__("hashlib").sha256(data).hexdigest()
    assert session.channel.calls["SendFile"] >= 2
    assert not list((session.channel.home / ".ansible/cloud_assistant").glob("*[0-9a-f]"))   # removed after use


def test_output_over_the_limit_is_spooled_and_read_back_whole(session):
    rc, out, err = exec_(session, "head -c 100000 /dev/urandom > r.bin; base64 r.bin; echo done >&2")
    assert rc == 0 and err == b"done\n"
    assert base64.b64decode(out) == (session.channel.home / "r.bin").read_bytes()
    assert session.channel.calls["RunCommand"] >= 1 + 5   # the command, then the reads of ~180 KB
    assert not list((session.channel.home / "tmp").glob("ansible-ca-*"))   # the last read removed the spool


def test_the_first_script_reports_the_cache_and_tools(session):
    exec_(session, "true")
    known = session.knowledge(None)
    assert known.seeded and known.cache_dir == str(session.channel.home / ".ansible/cloud_assistant")
    assert {"base64", "sha256"} <= set(known.tools)
    exec_(session, "true")
    assert "e cache" not in session.channel.scripts[-1]   # once a run


def test_timeout_stops_the_command_with_its_last_output(tmp_path):
    session = Session(LocalChannel(tmp_path / "home"), PosixShell(), str(tmp_path / "k"), command_timeout=1)
    with pytest.raises(CommandFailed) as failed:
        exec_(session, "echo started; sleep 20")
    assert "ran longer than 1 s" in str(failed.value) and "started" in str(failed.value)


def test_the_command_keeps_the_callers_umask(session):
    assert exec_(session, "umask")[1].strip() in (b"0022", b"0002", b"022", b"002")


def test_put_small_and_large_files_and_errors(session, tmp_path):
    home = session.channel.home
    session.put(b"small text\n" * 10, str(home / "small.txt"), None)
    assert (home / "small.txt").read_bytes() == b"small text\n" * 10
    big = os.urandom(100 * 1024)
    session.put(big, str(home / "big.bin"), None)
    assert (home / "big.bin").read_bytes() == big and oct((home / "big.bin").stat().st_mode & 0o777) == "0o600"
    assert session.channel.calls["SendFile"] == 4   # 100 KiB of incompressible data: 5 parts, the last one inline
    session.put(b"home relative", "~/tilde.txt", None)
    assert (home / "tilde.txt").read_bytes() == b"home relative"
    with pytest.raises(CommandFailed, match="its directory does not exist"):
        session.put(b"x", str(home / "no/such/dir/f"), None)
    with pytest.raises(CommandFailed, match="it is a directory"):
        (home / "adir").mkdir()
        (home / "adir" / "f").mkdir()
        session.put(b"x", str(home / "adir/f"), None)


def test_put_reports_parts_that_never_arrive(tmp_path):
    channel = LocalChannel(tmp_path / "home", lose_sends=True)
    session = Session(channel, PosixShell(), str(tmp_path / "k"), command_timeout=30)
    session.shell = PosixShell()
    import ansible_collections.alicloud.oos.plugins.plugin_utils.cloud_assistant_shell as shell_module
    wait = shell_module.ASSEMBLY_WAIT
    shell_module.ASSEMBLY_WAIT = 1
    try:
        with pytest.raises(CommandFailed, match="FileCreateFail"):
            session.put(os.urandom(80000), str(channel.home / "f.bin"), None)
    finally:
        shell_module.ASSEMBLY_WAIT = wait
    assert not (channel.home / "f.bin").exists()


def test_fetch_small_large_and_missing(session):
    home = session.channel.home
    (home / "small").write_bytes(b"hello\n")
    assert session.fetch(str(home / "small"), None) == b"hello\n"
    big = os.urandom(200 * 1024)
    (home / "big").write_bytes(big)
    assert session.fetch("~/big", None) == big
    with pytest.raises(CommandFailed, match="does not exist"):
        session.fetch(str(home / "nope"), None)
    with pytest.raises(CommandFailed, match="is not a regular file"):
        session.fetch(str(home), None)


# ----- module payloads -------------------------------------------------------------------------------

def ansiballz(args: str, when=(2024, 1, 1, 0, 0, 0), module=b"print('module')\n" * 200) -> bytes:
    """A payload shaped like AnsiballZ: wrapper code, a call with the task's arguments, a Base64 zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in (("ansible/module_utils/basic.py", bytes(range(256)) * 40),
                           ("ansible/modules/demo.py", module)):
            archive.writestr(zipfile.ZipInfo(name, date_time=when), body)
    literal = base64.b64encode(buffer.getvalue()).decode()
    wrapper = "\n".join(f"# wrapper line {i}" for i in range(400))
    python = shutil.which("python3")
    return (f"#!{python}\n{wrapper}\n_ANSIBALLZ_WRAPPER = True\n"
            "import sys, base64\n"
            "def _ansiballz_main(params, zip_data):\n"
            "    sys.stdout.write(params + ':' + str(len(base64.b64decode(zip_data))))\n"
            'if __name__ == "__main__":\n'
            f"    _ansiballz_main(\nparams='{args}',\nzip_data='{literal}',\n)\n").encode()


def test_a_module_payload_is_rebuilt_exactly_and_its_code_cached(session):
    python = shutil.which("python3")
    first = ansiballz('{"password": "s3cret"}')
    rc, out, err = exec_(session, f"{python}", first)
    assert rc == 0 and out.startswith(b'{"password": "s3cret"}:'), err
    cache = session.channel.home / ".ansible/cloud_assistant"
    kept = sorted(p.name for p in cache.iterdir() if len(p.name) == 32)
    assert kept and all(b"s3cret" not in (cache / name).read_bytes() for name in kept)   # no argument is kept
    # Another run (nothing known), another build time and other arguments: the objects are reused as they are.
    session.knowledge(None).forget()
    before = session.channel.calls["SendFile"]
    rc, out, _unused = exec_(session, f"{python}", ansiballz('{"other": 1}', when=(2025, 6, 1, 12, 0, 0)))
    assert rc == 0 and out.startswith(b'{"other": 1}:') and session.channel.calls["SendFile"] == before
    assert sorted(p.name for p in cache.iterdir() if len(p.name) == 32) == kept


def test_objects_gone_from_the_instance_are_sent_again_before_anything_runs(session):
    python = shutil.which("python3")
    payload = ansiballz("{}", module=os.urandom(40000))   # an object too big to ride inline
    exec_(session, f"{python} > /dev/null", payload)
    cache = session.channel.home / ".ansible/cloud_assistant"
    for path in cache.iterdir():
        if path.is_file():
            path.unlink()   # the instance lost its cache; this run still believes it is there
    runs = session.channel.calls["RunCommand"]
    rc, out, _unused = exec_(session, f"echo ran >> ~/runs.log; {python}", payload)
    assert rc == 0 and out.startswith(b"{}:")
    assert (session.channel.home / "runs.log").read_text() == "ran\n"   # the command ran once
    assert session.channel.calls["RunCommand"] == runs + 2   # one run reported the missing objects


def test_without_the_module_cache_nothing_is_kept(tmp_path):
    python = shutil.which("python3")
    channel = LocalChannel(tmp_path / "home")
    session = Session(channel, PosixShell(), str(tmp_path / "k"), command_timeout=30, cache_blobs=False)
    assert exec_(session, python, ansiballz("{}"))[0] == 0
    cache = channel.home / ".ansible/cloud_assistant"
    assert not [p for p in cache.iterdir() if p.is_file()]


def test_a_payload_too_big_for_any_script_still_runs(session):
    python = shutil.which("python3")
    payload = ansiballz("x" * (SCRIPT_LIMIT * 2))   # arguments alone exceed a script
    rc, out, _unused = exec_(session, python, payload)
    assert rc == 0 and out.startswith(b"x" * 100)


def test_a_home_query_is_answered_from_what_the_run_knows(session):
    first = exec_(session, "/bin/sh -c 'echo ~ && sleep 0'")
    assert first == (0, str(session.channel.home).encode() + b"\n", b"")
    runs = session.channel.calls["RunCommand"]
    assert exec_(session, "/bin/sh -c 'echo ~ && sleep 0'") == first
    assert exec_(session, "/bin/sh -c 'echo ~root && sleep 0'") == first   # root is this session's account
    assert session.channel.calls["RunCommand"] == runs
    exec_(session, "/bin/sh -c 'echo ~ecs-user && sleep 0'")   # another account: asked for real
    exec_(session, "echo ~; touch ~/side-effect")
    assert session.channel.calls["RunCommand"] == runs + 2 and (session.channel.home / "side-effect").exists()


def test_a_script_that_dies_mid_report_fails_without_showing_the_report(session, monkeypatch):
    start = session.channel.start

    def killed_mid_report(script, username, timeout):   # the agent killed the script while it reported
        invoke_id = start(script, username, timeout)
        outcome = session.channel.outcomes[invoke_id]
        cut = outcome.output.rindex(b"\n", 0, outcome.output.index(b" end")) + 1   # before the "end" line
        outcome.output = outcome.output[:cut] + b"sh: 1: something broke\n"
        return invoke_id

    monkeypatch.setattr(session.channel, "start", killed_mid_report)
    with pytest.raises(CommandFailed) as failed:
        exec_(session, "echo private-output-4711")
    message = str(failed.value)
    assert "no report from the instance" in message and "something broke" in message
    assert "private-output-4711" not in message and base64.b64encode(b"private-output-4711\n").decode() not in message


def test_a_module_file_put_as_a_file_uses_the_object_cache(session):
    python = shutil.which("python3")
    payload = ansiballz('{"async": true}')
    exec_(session, python, ansiballz("{}"))   # the module code is now cached on the instance
    sends = session.channel.calls["SendFile"]
    target = session.channel.home / "AnsiballZ_demo.py"
    session.put(payload, str(target), None)
    assert target.read_bytes() == payload and oct(target.stat().st_mode & 0o777) == "0o600"
    assert session.channel.calls["SendFile"] == sends
