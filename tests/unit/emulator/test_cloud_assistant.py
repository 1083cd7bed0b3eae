"""Cloud Assistant through the real SDK: scripts really run, with timeout, parameters and working dirs."""
from __future__ import annotations

import base64
import json
import os
import time

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from .conftest import wait_until

REGION = "cn-hangzhou"
DONE = ("Success", "Failed", "PartialFailed", "Stopped")


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientException) as caught:
        call(*args, **kwargs)
    return caught.value


def run(sdk, instances, script, **params):
    return sdk.ecs("RunCommand", RegionId=REGION, Type="RunShellScript", CommandContent=script,
                   InstanceId=instances, **params)


def finished(sdk, invoke_id, timeout=15.0):
    def done():
        body = sdk.ecs("DescribeInvocations", RegionId=REGION, InvokeId=invoke_id, IncludeOutput=True)
        invocation = body["Invocations"]["Invocation"][0]
        return invocation if invocation["InvocationStatus"] in DONE else None
    return wait_until(done, timeout=timeout)


def results(sdk, invoke_id, **params):
    body = sdk.ecs("DescribeInvocationResults", RegionId=REGION, InvokeId=invoke_id, **params)
    return {r["InstanceId"]: r for r in body["Invocation"]["InvocationResults"]["InvocationResult"]}


@pytest.fixture
def fleet(emu):
    return [i["InstanceId"] for i in emu.instances()]


def test_script_really_runs_with_exit_code_and_base64_output(sdk, fleet):
    answer = run(sdk, fleet[:2], "echo hello from $(basename $HOME); echo oops >&2; exit 3")
    assert answer["CommandId"].startswith("c-") and answer["InvokeId"].startswith("t-")
    invocation = finished(sdk, answer["InvokeId"])
    assert (invocation["InvocationStatus"], invocation["InvokeStatus"]) == ("Failed", "Failed")
    for result in results(sdk, answer["InvokeId"]).values():
        assert base64.b64decode(result["Output"]).decode() == "hello from root\noops\n"
        assert (result["ExitCode"], result["InvocationStatus"], result["ErrorCode"]) == (3, "Failed", "ExitCodeNonzero")
        assert result["InvokeRecordStatus"] == "Failed" and result["Dropped"] == 0
    ok = finished(sdk, run(sdk, fleet[:1], "true")["InvokeId"])
    assert (ok["InvocationStatus"], ok["InvokeStatus"]) == ("Success", "Finished")


def test_parameters_builtins_and_plaintext_encoding(sdk, fleet):
    script = base64.b64encode("echo '{{ greeting }}' {{ACS::InstanceId}} {{ACS::RegionId}}".encode()).decode()
    answer = run(sdk, fleet[:1], script, ContentEncoding="Base64", EnableParameter=True,
                 Parameters=json.dumps({"greeting": "hi there"}))
    finished(sdk, answer["InvokeId"])
    result = results(sdk, answer["InvokeId"], ContentEncoding="PlainText")[fleet[0]]
    assert result["Output"] == f"hi there {fleet[0]} {REGION}\n"
    assert error_of(run, sdk, fleet[:1], "echo {{x}}", Parameters=json.dumps({"x": "1"})).code == "Parameter.Disabled"
    assert error_of(run, sdk, fleet[:1], "echo {{x}}", EnableParameter=True).code == "Parameter.MissingValue"
    assert error_of(run, sdk, fleet[:1], "echo {{x}}", EnableParameter=True,
                    Parameters=json.dumps({"x": "1", "y": "2"})).code == "Parameter.NotMatched"


def test_each_instance_has_its_own_working_directory(emu, sdk, fleet):
    first = finished(sdk, run(sdk, fleet[:1], "echo secret > note.txt; mkdir -p ../srv/app")["InvokeId"])
    assert first["InvocationStatus"] == "Success"
    file_root = emu.control(f"instances/{fleet[0]}")["FileRoot"]
    assert open(f"{file_root}/root/note.txt").read() == "secret\n"
    answer = run(sdk, fleet[:2], "pwd; cat note.txt 2>/dev/null || echo missing", WorkingDir="/root")
    finished(sdk, answer["InvokeId"])
    out = {i: base64.b64decode(r["Output"]).decode().splitlines() for i, r in results(sdk, answer["InvokeId"]).items()}
    assert out[fleet[0]][1] == "secret" and out[fleet[1]][1] == "missing"
    assert out[fleet[0]][0] != out[fleet[1]][0] and out[fleet[0]][0].endswith(f"{fleet[0]}/root")
    in_srv = finished(sdk, run(sdk, fleet[:1], "pwd", WorkingDir="/srv/app")["InvokeId"])
    assert base64.b64decode(in_srv["InvokeInstances"]["InvokeInstance"][0]["Output"]).decode().strip().endswith(
        f"{fleet[0]}/srv/app")
    missing = finished(sdk, run(sdk, fleet[1:2], "pwd", WorkingDir="/srv/app")["InvokeId"])
    assert missing["InvokeInstances"]["InvokeInstance"][0]["ErrorCode"] == "DirectoryNotExists"


def test_timeout_kills_the_script(sdk, fleet):
    started = time.monotonic()
    answer = run(sdk, fleet[:1], "echo started; sleep 30; echo never", Timeout=1)
    invocation = finished(sdk, answer["InvokeId"], timeout=10)
    assert time.monotonic() - started < 10
    record = invocation["InvokeInstances"]["InvokeInstance"][0]
    assert (record["InvocationStatus"], record["ErrorCode"]) == ("Timeout", "ExecutionTimeout")
    assert base64.b64decode(record["Output"]).decode() == "started\n"


def test_stop_invocation_kills_the_subprocess(emu, sdk, fleet):
    answer = run(sdk, fleet[:1], "echo $$; sleep 30")

    def pid():   # partial output is visible while the script runs
        output = results(sdk, answer["InvokeId"], ContentEncoding="PlainText")[fleet[0]]["Output"]
        return int(output) if output.strip() else None
    script_pid = wait_until(pid, timeout=5)
    assert _alive(script_pid)
    sdk.ecs("StopInvocation", RegionId=REGION, InvokeId=answer["InvokeId"])
    invocation = finished(sdk, answer["InvokeId"])
    assert invocation["InvocationStatus"] == "Stopped"
    assert invocation["InvokeInstances"]["InvokeInstance"][0]["InvocationStatus"] == "Terminated"
    wait_until(lambda: not _alive(script_pid), timeout=5)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:   # a zombie is dead for our purpose
        return stat.read().split()[2] != "Z"


def test_not_running_or_agentless_instances_fail_per_instance(emu, sdk, fleet):
    emu.control(f"instances/{fleet[0]}/status", {"Status": "Stopped"})
    emu.control(f"instances/{fleet[1]}/status", {"CloudAssistantStatus": "false"})
    emu.control(f"instances/{fleet[3]}/status", {"CloudAssistantStatus": "offline"})
    offline = finished(sdk, run(sdk, fleet[3:4], "echo ok")["InvokeId"])["InvokeInstances"]["InvokeInstance"][0]
    assert (offline["InvocationStatus"], offline["ErrorCode"]) == ("Aborted", "ClientNotResponse")
    agent = sdk.ecs("DescribeCloudAssistantStatus", RegionId=REGION, InstanceId=fleet[3:4])
    [entry] = agent["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
    assert entry["CloudAssistantStatus"] == "false" and entry["CloudAssistantVersion"]   # installed, not answering
    answer = run(sdk, fleet[:3], "echo ok")
    invocation = finished(sdk, answer["InvokeId"])
    assert invocation["InvocationStatus"] == "PartialFailed"
    by_instance = results(sdk, answer["InvokeId"])
    assert (by_instance[fleet[0]]["InvocationStatus"], by_instance[fleet[0]]["ErrorCode"]) == \
        ("Aborted", "InstanceNotRunning")
    assert by_instance[fleet[1]]["ErrorCode"] == "ClientNotRunning"
    assert by_instance[fleet[2]]["InvocationStatus"] == "Success"
    status = sdk.ecs("DescribeCloudAssistantStatus", RegionId=REGION, InstanceId=fleet[:3])
    flags = {s["InstanceId"]: s["CloudAssistantStatus"]
             for s in status["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]}
    assert flags == {fleet[0]: "false", fleet[1]: "false", fleet[2]: "true"}
    sdk.ecs("InstallCloudAssistant", RegionId=REGION, InstanceId=[fleet[1]])
    assert emu.control(f"instances/{fleet[1]}")["CloudAssistantStatus"] == "false"   # needs a reboot
    sdk.ecs("RebootInstance", InstanceId=fleet[1])
    wait_until(lambda: emu.control(f"instances/{fleet[1]}")["CloudAssistantStatus"] == "true")


def test_output_over_24_kb_is_truncated_and_counted(sdk, fleet):
    answer = run(sdk, fleet[:1], "head -c 30000 /dev/zero | tr '\\0' 'x'")
    finished(sdk, answer["InvokeId"])
    result = results(sdk, answer["InvokeId"])[fleet[0]]
    assert len(base64.b64decode(result["Output"])) == 24 * 1024
    assert result["Dropped"] == 30000 - 24 * 1024


def test_api_level_errors(sdk, fleet):
    assert error_of(run, sdk, ["i-missing"], "true").code == "InvalidInstance.NotFound"
    assert error_of(sdk.ecs, "RunCommand", RegionId=REGION, Type="RunShellScript",
                    CommandContent="true").code == "MissingParam.InstanceId"
    assert error_of(sdk.ecs, "RunCommand", RegionId=REGION, Type="RunPerlScript", CommandContent="1",
                    InstanceId=fleet[:1]).code == "InvalidCmdType.NotFound"
    assert error_of(sdk.ecs, "RunCommand", RegionId=REGION, Type="RunPowerShellScript", CommandContent="dir",
                    InstanceId=fleet[:1]).code == "InvalidInstance.NotMatch"
    assert error_of(run, sdk, fleet[:1], "!!!", ContentEncoding="Base64").code == "CmdContent.DecodeError"
    assert error_of(run, sdk, fleet[:1], "x" * 20000).code == "CmdContent.ExceedLimit"
    error = error_of(sdk.ecs, "StopInvocation", RegionId=REGION, InvokeId="t-missing")
    assert (error.code, error.status_code) == ("InvalidInvokeId.NotFound", 404)


def test_client_token_runs_the_command_once(emu, sdk, fleet):
    first = run(sdk, fleet[:1], "echo once", ClientToken="abc")
    second = run(sdk, fleet[:1], "echo once", ClientToken="abc")
    assert first["InvokeId"] == second["InvokeId"]
    assert len(emu.control("invocations")) == 1


def test_create_invoke_describe_delete_command(sdk, fleet):
    content = base64.b64encode(b"echo {{name}}").decode()
    command_id = sdk.ecs("CreateCommand", RegionId=REGION, Name="greet", Type="RunShellScript",
                         CommandContent=content, EnableParameter=True, Timeout=30)["CommandId"]
    listed = sdk.ecs("DescribeCommands", RegionId=REGION, CommandId=command_id)["Commands"]["Command"][0]
    assert (listed["Name"], listed["CommandContent"], listed["ParameterNames"]["ParameterName"]) == \
        ("greet", content, ["name"])
    invoke_id = sdk.ecs("InvokeCommand", RegionId=REGION, CommandId=command_id, InstanceId=fleet[:2],
                        Parameters=json.dumps({"name": "ada"}))["InvokeId"]
    finished(sdk, invoke_id)
    assert {base64.b64decode(r["Output"]).decode() for r in results(sdk, invoke_id).values()} == {"ada\n"}
    assert sdk.ecs("DescribeCommands", RegionId=REGION, CommandId=command_id)["Commands"]["Command"][0][
        "InvokeTimes"] == 1
    by_instance = sdk.ecs("DescribeInvocations", RegionId=REGION, InstanceId=fleet[1])
    assert [i["InvokeId"] for i in by_instance["Invocations"]["Invocation"]] == [invoke_id]
    sdk.ecs("DeleteCommand", RegionId=REGION, CommandId=command_id)
    assert error_of(sdk.ecs, "InvokeCommand", RegionId=REGION, CommandId=command_id,
                    InstanceId=fleet[:1]).code == "InvalidCmdId.NotFound"


def sent(sdk, invoke_id, timeout=10.0):
    """The DescribeSendFileResults entry of a delivery once it is final (delivery is asynchronous)."""
    def done():
        entry = sdk.ecs("DescribeSendFileResults", RegionId=REGION, InvokeId=invoke_id)["Invocations"]["Invocation"][0]
        return entry if entry["InvocationStatus"] not in ("Pending", "Running") else None
    return wait_until(done, timeout=timeout)


def send(sdk, instances, **params):
    params = {"RegionId": REGION, "Name": "app.conf", "TargetDir": "/etc/app", "Content": "x", **params}
    return sdk.ecs("SendFile", InstanceId=instances, **params)["InvokeId"]


def test_send_file_then_read_it(sdk, fleet):
    invoke_id = send(sdk, fleet[:1], Content="port=80\n", FileMode="0600")
    assert sent(sdk, invoke_id)["InvocationStatus"] == "Success"
    read = finished(sdk, run(sdk, fleet[:1], "cat ../etc/app/app.conf")["InvokeId"])
    assert base64.b64decode(read["InvokeInstances"]["InvokeInstance"][0]["Output"]).decode() == "port=80\n"
    again = send(sdk, fleet[:1])
    assert sent(sdk, again)["InvokeInstances"]["InvokeInstance"][0]["ErrorCode"] == "FileAlreadyExists"
    assert error_of(sdk.ecs, "SendFile", RegionId=REGION, Name="a", TargetDir="relative", Content="x",
                    InstanceId=fleet[:1]).code == "FileTargetDir.Invalid"


def test_send_file_limits_owner_group_and_mode(emu, sdk, fleet):
    limit = 32 * 1024 * 3 // 4   # 32 KB once Base64-encoded
    exact = base64.b64encode(os.urandom(limit)).decode()
    assert sent(sdk, send(sdk, fleet[:1], Name="big", ContentType="Base64", Content=exact))["InvocationStatus"] \
        == "Success"
    over = base64.b64encode(os.urandom(limit + 1)).decode()
    assert error_of(send, sdk, fleet[:1], Name="bigger", ContentType="Base64", Content=over).code == \
        "FileSize.ExceedLimit"
    owned = send(sdk, fleet[:1], Name="owned", TargetDir="/home/ecs-user", FileOwner="ecs-user",
                 FileGroup="ecs-user", FileMode="0640")
    assert sent(sdk, owned)["InvocationStatus"] == "Success"
    nobody = sent(sdk, send(sdk, fleet[:1], Name="x1", FileOwner="nobody"))["InvokeInstances"]["InvokeInstance"][0]
    assert (nobody["InvocationStatus"], nobody["ErrorCode"]) == ("Invalid", "AccountNotExists")
    no_group = sent(sdk, send(sdk, fleet[:1], Name="x2", FileGroup="wheel"))["InvokeInstances"]["InvokeInstance"][0]
    assert (no_group["InvocationStatus"], no_group["ErrorCode"]) == ("Invalid", "UserGroupNotExists")
    files = {f["Path"]: f for f in emu.control(f"instances/{fleet[0]}/files")}
    assert files["/home/ecs-user/owned"] | {"HostPath": None} == {
        "Path": "/home/ecs-user/owned", "HostPath": None, "Owner": "ecs-user", "Group": "ecs-user", "Exists": True,
        "Mode": "0640", "Size": 1}
    assert files["/etc/app/big"]["Owner"] == "root" and files["/etc/app/big"]["Size"] == limit
    file_root = emu.control(f"instances/{fleet[0]}")["FileRoot"]
    # A TargetDir inside the instance's tree (a path its commands see) is taken as is.
    inside = sent(sdk, send(sdk, fleet[:1], Name="here", TargetDir=f"{file_root}/tmp/drop", Content="in"))
    assert inside["InvocationStatus"] == "Success"
    assert open(f"{file_root}/tmp/drop/here").read() == "in"


def test_username_selects_an_account_of_the_instance(emu, sdk, fleet):
    script = 'echo "$(whoami) $HOME $(pwd)"; sudo -n -u root sh -c \'echo "$(whoami) $HOME"\''
    as_user = finished(sdk, run(sdk, fleet[:1], script, Username="ecs-user")["InvokeId"])
    record = as_user["InvokeInstances"]["InvokeInstance"][0]
    file_root = emu.control(f"instances/{fleet[0]}")["FileRoot"]
    home = f"{file_root}/home/ecs-user"
    assert base64.b64decode(record["Output"]).decode().splitlines() == [f"ecs-user {home} {home}",
                                                                        f"root {file_root}/root"]
    assert as_user["Username"] == "ecs-user"
    unknown = finished(sdk, run(sdk, fleet[:1], "true", Username="nobody")["InvokeId"])
    record = unknown["InvokeInstances"]["InvokeInstance"][0]
    assert (record["InvocationStatus"], record["ErrorCode"]) == ("Invalid", "AccountNotExists")
    assert error_of(run, sdk, fleet[:1], "true", Username="u" * 256).code == "Username.ExceedLimit"
    # A user without NOPASSWD sudo cannot become root (no terminal to type a password in).
    with open(f"{file_root}/etc/passwd", "a") as passwd:
        passwd.write("deploy:x:1001:1001::/home/deploy:/bin/bash\n")
    os.makedirs(f"{file_root}/home/deploy")
    denied = finished(sdk, run(sdk, fleet[:1], "sudo -n -u root true", Username="deploy")["InvokeId"])
    record = denied["InvokeInstances"]["InvokeInstance"][0]
    assert record["ExitCode"] == 1 and "password is required" in base64.b64decode(record["Output"]).decode()


def test_one_hundred_instances_and_paged_results(emu, sdk):
    emu.reset(instances=101)
    fleet = [i["InstanceId"] for i in emu.instances()]
    assert error_of(run, sdk, fleet, "true").code == "InstanceIds.ExceedLimit"
    assert error_of(send, sdk, fleet[:51]).code == "InstanceIds.ExceedLimit"   # SendFile: 50 at most
    answer = run(sdk, fleet[:100], "echo $HOME")
    invocation = finished(sdk, answer["InvokeId"], timeout=60)
    assert invocation["InvocationStatus"] == "Success"
    seen, token = [], None
    while True:
        params = {"RegionId": REGION, "InvokeId": answer["InvokeId"], "MaxResults": 50}
        if token:
            params["NextToken"] = token
        page = sdk.call("DescribeInvocationResults", params)["Invocation"]
        seen += [r["InstanceId"] for r in page["InvocationResults"]["InvocationResult"]]
        token = page["NextToken"]
        if not token:
            break
    assert seen == fleet[:100]
    assert error_of(sdk.ecs, "DescribeInvocationResults", RegionId=REGION,
                    PageSize=51).code == "InvalidParam.PageSize"
