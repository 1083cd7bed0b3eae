"""Unit tests of the emulator's reference OOS engine, with a small in-memory ECS standing in for the emulator."""
from __future__ import annotations

import json
import threading
import time

import pytest

from tests.conftest import SHARED
from tests.emulator.oos_engine import EngineError, OOSEngine, TemplateError, flatten_api_parameters, validation_result
from tests.emulator.oos_engine.expressions import ExpressionError, Scope, coerce, render

ACTIONS = SHARED / "oos-templates" / "CloudProductActions"


class ApiFailure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class FakeEcs:
    """Instances with a status that settles after ``settle`` calls to DescribeInstances."""

    def __init__(self, count=3, settle=1):
        self.instances = {f"i-{n}": {"InstanceId": f"i-{n}", "Status": "Running", "InstanceName": f"web-{n}",
                                     "RegionId": "cn-hangzhou", "Tags": {"Tag": [{"TagKey": "App",
                                                                                  "TagValue": "web" if n % 2 else "db"}]}}
                          for n in range(1, count + 1)}
        self.pending = {}
        self.settle = settle
        self.calls = []
        self.lock = threading.Lock()

    def __call__(self, product, action, params, region):
        with self.lock:
            self.calls.append((product, action, dict(params)))
            return getattr(self, action)(params)

    def _tick(self):
        for instance_id, (status, left) in list(self.pending.items()):
            if left <= 0:
                self.instances[instance_id]["Status"] = status
                del self.pending[instance_id]
            else:
                self.pending[instance_id] = (status, left - 1)

    def DescribeInstances(self, params):
        self._tick()
        selected = list(self.instances.values())
        if "InstanceIds" in params:
            ids = json.loads(params["InstanceIds"])
            selected = [i for i in selected if i["InstanceId"] in ids]
        if "Tag.1.Key" in params:
            selected = [i for i in selected if {"TagKey": params["Tag.1.Key"], "TagValue": params["Tag.1.Value"]}
                        in i["Tags"]["Tag"]]
        size, number = int(params.get("PageSize", 10)), int(params.get("PageNumber", 1))
        page = selected[(number - 1) * size: number * size]
        return {"TotalCount": len(selected), "PageNumber": number, "PageSize": size,
                "Instances": {"Instance": [dict(i) for i in page]}}

    def StopInstance(self, params):
        instance = self.instances.get(params["InstanceId"])
        if instance is None:
            raise ApiFailure("InvalidInstanceId.NotFound", "The specified InstanceId does not exist.")
        if instance["Status"] != "Running":
            raise ApiFailure("IncorrectInstanceStatus", "The current status of the resource does not support "
                             "this operation.")
        instance["Status"] = "Stopping"
        self.pending[instance["InstanceId"]] = ("Stopped", self.settle)
        return {}


def start(engine, content, parameters=None, **fields):
    record = {"ExecutionId": f"exec-{time.monotonic_ns()}", "Status": "Started", "Mode": "Automatic",
              "SafetyCheck": "Skip", "Parameters": parameters or {}, "RegionId": "cn-hangzhou", **fields}
    engine.start(record, content)
    return record


def wait_status(record, statuses, timeout=10):
    deadline = time.monotonic() + timeout
    while record["Status"] not in statuses:
        assert time.monotonic() < deadline, f"execution stayed {record['Status']}"
        time.sleep(0.01)
    return record


@pytest.fixture
def ecs():
    return FakeEcs()


@pytest.fixture
def engine(ecs):
    engine = OOSEngine(ecs, action_templates=ACTIONS if ACTIONS.is_dir() else None, time_scale=0.001)
    yield engine
    for run_id in list(engine._runs):
        try:
            engine.cancel(run_id)
        except EngineError:
            pass
    engine.wait_idle(10)


# ------------------------------------------------------------------ expressions

def test_whole_value_reference_keeps_type_and_interpolation_writes_json():
    scope = Scope({"ids": ["i-1", "i-2"], "flag": True}, {"RegionId": "cn-hangzhou"})
    assert render("{{ ids }}", scope) == ["i-1", "i-2"]
    assert render("{{ids}}", scope) == ["i-1", "i-2"]
    assert render("ids={{ ids }} in {{ ACS::RegionId }}", scope) == 'ids=["i-1","i-2"] in cn-hangzhou'
    assert render({"Fn::Equals": ["{{ flag }}", True]}, scope) is True
    assert render({"Fn::Select": ["b", {"a": 1, "b": 2}]}, scope) == 2
    assert render({"Fn::Join": [",", "{{ ids }}"]}, scope) == "i-1,i-2"


def test_references_resolve_case_insensitively_and_unknown_task_output_fails():
    scope = Scope({}, {"RegionId": "r"}, task_outputs={"runCommand": {"invokeId": "t-1"}}, task_names=["later"])
    assert render("{{ runcommand.InvokeId }}", scope) == "t-1"
    assert render("{{ Acs::regionid }}", scope) == "r"
    with pytest.raises(ExpressionError, match="has no output"):
        render("{{ runCommand.missing }}", scope)
    with pytest.raises(ExpressionError, match="has not run"):
        render("{{ later.x }}", scope)
    # Text that is no OOS reference (a Cloud Assistant parameter) is left alone.
    assert render("echo {{ name }}", scope) == "echo {{ name }}"


def test_jq_selectors_without_leading_dot_and_output_types():
    from tests.emulator.oos_engine.expressions import jq_all
    data = {"Instances": {"Instance": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}}
    assert coerce(jq_all("Instances.Instance[].InstanceId", data), "List") == ["i-1", "i-2"]
    assert coerce(jq_all("Instances.Instance[].InstanceId", data), "String") == "i-1"
    assert coerce(jq_all(".Instances.Instance | length", data), "Number") == 2
    assert coerce(jq_all(".Instances", data), "Json") == data["Instances"]


DISKS = {"Disks": {"Disk": [{"DiskId": "d-1", "Category": "cloud_essd", "Tags": ["disk", "system"], "Size": 40},
                            {"DiskId": "d-2", "Category": "cloud", "Tags": ["data"], "Size": 100}]},
         "TotalCount": 2}


@pytest.mark.parametrize("selector, expected", [
    # A path whose leading dot is left out gets it.
    ("Disks.Disk[].DiskId", ["d-1", "d-2"]),
    ("TotalCount", [2]),
    # Everything else is jq as written: a leading dot would make it invalid or change its meaning.
    ('.Disks.Disk[].Tags | contains(["disk"])', [True, False]),
    ('Disks.Disk[].Tags | map(select(. == "data")) | length', [0, 1]),
    ("[.Disks.Disk[].Size]", [[40, 100]]),
    ("{first: .Disks.Disk[0].DiskId}", [{"first": "d-1"}]),
    ('"literal"', ["literal"]),
    ("42", [42]),
    ("true", [True]),
    ("null", [None]),
    ("$ENV | type", ["null"]),  # a variable, as written; the sandbox hides the environment
    ("[..|numbers] | add", [142]),
    ("keys", [["Disks", "TotalCount"]]),
    ("length", [2]),
    ("tostring | length > 10", [True]),
    ("to_entries | map(.key)", [["Disks", "TotalCount"]]),
    ("reduce .Disks.Disk[] as $d (0; . + $d.Size)", [140]),
    ("if .TotalCount > 1 then \"many\" else \"one\" end", ["many"]),
    ("@base64 \"x\"", ["x"]),
    ("select(.TotalCount == 2) | .TotalCount", [2]),
])
def test_jq_selector_forms(selector, expected):
    from tests.emulator.oos_engine.expressions import jq_all
    assert jq_all(selector, DISKS) == expected


def test_jq_function_call_on_a_list_is_left_as_written():
    from tests.emulator.oos_engine.expressions import jq_all
    # The selector of a real template, applied to a list of tags: contains() must not become .contains().
    assert jq_all('contains(["disk"])', ["disk", "system"]) == [True]
    assert jq_all("inside([\"a\", \"b\"])", ["a"]) == [True]
    assert render({"Fn::Jq": ["First", 'map(select(. != "x")) | length', ["x", "y"]]}, Scope()) == 1


def test_fn_eval_refuses_anything_but_arithmetic():
    assert render({"Fn::Eval": ["-3*24"]}, Scope()) == -72
    with pytest.raises(ExpressionError):
        render({"Fn::Eval": ["__import__('os')"]}, Scope())


# ------------------------------------------------------------------ validation

def test_validation_names_the_offending_field():
    with pytest.raises(TemplateError, match=r"Tasks\[1\].Name 'a' is used by more than one task"):
        validation_result("FormatVersion: OOS-2019-06-01\nTasks:\n- {Name: a, Action: ACS::Sleep}\n"
                          "- {Name: a, Action: ACS::Sleep}\n")
    with pytest.raises(TemplateError, match="OnError refers to 'nowhere'"):
        validation_result("FormatVersion: OOS-2019-06-01\nTasks:\n- {Name: a, Action: ACS::Sleep, OnError: nowhere}\n")
    with pytest.raises(TemplateError, match="Tasks must be a non-empty list"):
        validation_result('{"FormatVersion": "OOS-2019-06-01", "Tasks": {"a": {"Action": "ACS::Sleep"}}}')
    with pytest.raises(TemplateError, match="neither valid JSON nor valid YAML"):
        validation_result("FormatVersion: [unclosed")
    body = validation_result("FormatVersion: OOS-2019-06-01\nTasks:\n- {Name: a, Action: ACS::Sleep, "
                             "Properties: {Duration: PT1S}}\n")
    assert body["Tasks"][0]["Type"] == "ACS::Sleep" and json.loads(body["Tasks"][0]["Properties"]) == {
        "Duration": "PT1S"}


def test_parameters_are_checked_before_anything_runs(engine, ecs):
    content = "FormatVersion: OOS-2019-06-01\nParameters:\n  n: {Type: Number, MaxValue: 5}\nTasks:\n" \
              "- {Name: a, Action: ACS::Sleep, Properties: {Duration: PT1S}}\n"
    with pytest.raises(TemplateError, match="Parameter n is required"):
        start(engine, content)
    with pytest.raises(TemplateError, match="greater than 5"):
        start(engine, content, {"n": 7})
    with pytest.raises(TemplateError, match="Parameter other is not defined"):
        start(engine, content, {"n": 1, "other": 2})
    assert ecs.calls == []


@pytest.mark.parametrize("parameter, error", [
    ("{Type: String, Default: x, AllowedValues: [a, b]}", "Parameter p must be one of"),
    ("{Type: Number, Default: many}", "Parameter p must be of type Number"),
    ("{Type: String, Default: toolong, MaxLength: 3}", "Parameter p is longer than 3"),
    ("{Type: String, Default: z, AllowedPattern: '(['}", "Parameter p: AllowedPattern '\\(\\[' is not a valid regular"),
])
def test_a_default_outside_its_own_constraints_is_refused_like_a_given_value(engine, ecs, parameter, error):
    """StartExecution checks the Default as it checks a given value; an AllowedPattern that does not compile is
    an InvalidParameter (400), not a server error."""
    content = f"FormatVersion: OOS-2019-06-01\nParameters:\n  p: {parameter}\nTasks:\n" \
              "- {Name: a, Action: ACS::Sleep, Properties: {Duration: PT1S}}\n"
    with pytest.raises(TemplateError, match=error) as info:
        start(engine, content)
    assert info.value.code == "InvalidParameter"
    assert ecs.calls == []


LIST_CONSTRAINTS = """
FormatVersion: OOS-2019-06-01
Parameters:
  regions: {Type: List, AllowedValues: [cn-hangzhou, cn-shanghai, cn-beijing]}
  names: {Type: List, AllowedPattern: '^web-[0-9]+$', MinLength: 5, MaxLength: 8, Default: [web-1]}
  sizes: {Type: List, MinValue: 20, MaxValue: 500, Default: [40]}
  mode: {Type: String, AllowedValues: [fast, slow], Default: fast}
Tasks:
- {Name: a, Action: ACS::Sleep, Properties: {Duration: PT0S}}
"""


@pytest.mark.parametrize("parameters, error", [
    ({"regions": ["cn-hangzhou"]}, None),
    ({"regions": ["cn-hangzhou", "cn-beijing"], "names": ["web-1", "web-22"], "sizes": [20, 500]}, None),
    ({"regions": "cn-shanghai,cn-beijing"}, None),            # a comma-separated string is a list too
    ({"regions": []}, None),
    ({"regions": ["cn-hangzhou", "us-west-1"]}, r"regions\[1\] must be one of"),
    ({"regions": ["cn-hangzhou"], "names": ["web-1", "db-1"]}, r"names\[1\] does not match"),
    ({"regions": ["cn-hangzhou"], "names": ["web"]}, r"names\[0\] does not match"),
    ({"regions": ["cn-hangzhou"], "names": ["web-1234567"]}, r"names\[0\] is longer than 8"),
    ({"regions": ["cn-hangzhou"], "sizes": [40, 10]}, r"sizes\[1\] is less than 20"),
    ({"regions": ["cn-hangzhou"], "sizes": [501]}, r"sizes\[0\] is greater than 500"),
    ({"regions": ["cn-hangzhou"], "mode": "medium"}, r"Parameter mode must be one of"),
])
def test_list_parameter_constraints_hold_for_each_element(engine, parameters, error):
    if error is None:
        record = wait_status(start(engine, LIST_CONSTRAINTS, parameters), ("Success", "Failed"))
        assert record["Status"] == "Success", record["StatusMessage"]
    else:
        with pytest.raises(TemplateError, match=error):
            start(engine, LIST_CONSTRAINTS, parameters)


def test_flattening_follows_the_api_metadata():
    assert flatten_api_parameters("ecs", "DescribeInstances", {"InstanceIds": ["i-1"], "Tag": [
        {"Key": "a", "Value": "b"}], "RegionId": "r", "Empty": ""}) == {
        "InstanceIds": '["i-1"]', "Tag.1.Key": "a", "Tag.1.Value": "b", "RegionId": "r"}
    assert flatten_api_parameters("ecs", "RunCommand", {"InstanceId": ["i-1", "i-2"], "Parameters": {"a": 1}}) == {
        "InstanceId.1": "i-1", "InstanceId.2": "i-2", "Parameters": '{"a":1}'}


def test_plural_names_of_repeat_lists_are_serialized_as_the_documented_parameter():
    # ACS::ECS::RunCommand passes InstanceIds: ['{{instanceId}}'] to RunCommand (documented: InstanceId.N).
    assert flatten_api_parameters("ecs", "RunCommand", {"InstanceIds": ["i-1", "i-2"]}) == {
        "InstanceId.1": "i-1", "InstanceId.2": "i-2"}
    assert flatten_api_parameters("ecs", "TagResources", {"ResourceIds": ["i-1"], "Tags": [
        {"Key": "k", "Value": "v"}]}) == {"ResourceId.1": "i-1", "Tag.1.Key": "k", "Tag.1.Value": "v"}
    # A real plural parameter keeps its name (RunInstances SecurityGroupIds.N; DescribeInstances InstanceIds JSON).
    assert flatten_api_parameters("ecs", "RunInstances", {"SecurityGroupIds": ["sg-1"]}) == {"SecurityGroupIds.1": "sg-1"}
    assert flatten_api_parameters("ecs", "DescribeInstances", {"InstanceIds": ["i-1"]}) == {"InstanceIds": '["i-1"]'}
    # A scalar under the plural name is passed through unchanged.
    assert flatten_api_parameters("ecs", "RunCommand", {"InstanceIds": "i-1"}) == {"InstanceIds": "i-1"}


# ------------------------------------------------------------------ execution

SELECT_AND_STOP = """
FormatVersion: OOS-2019-06-01
Parameters:
  app: {Type: String}
Tasks:
- Name: select
  Action: ACS::SelectTargets
  Properties:
    ResourceType: ALIYUN::ECS::Instance
    Filters: [{Type: Tags, Tags: [{Key: App, Value: '{{ app }}'}]}]
  Outputs:
    ids:
      Type: List
      ValueSelector: Instances.Instance[].InstanceId
- Name: stop
  Action: ACS::ExecuteAPI
  Properties:
    Service: ECS
    API: StopInstance
    Parameters: {InstanceId: '{{ ACS::TaskLoopItem }}'}
  Loop:
    Items: '{{ select.ids }}'
    RateControl: {Mode: Concurrency, Concurrency: 2, MaxErrors: 0}
    Outputs:
      stopped: {AggregateType: 'Fn::ListJoin', AggregateField: id}
  Outputs:
    id: {Type: String, ValueSelector: '"{{ ACS::TaskLoopItem }}"'}
- Name: wait
  Action: ACS::WaitFor
  Properties:
    Service: ECS
    API: DescribeInstances
    Parameters: {InstanceIds: '{{ select.ids }}'}
    PropertySelector: 'Instances.Instance[].Status'
    DesiredValues: [Stopped]
  Retries: 5
  DelayType: Constant
  Delay: 1
Outputs:
  stopped: {Type: List, Value: '{{ stop.stopped }}'}
  count: {Type: Number, Value: {'Fn::Jq': [First, length, '{{ select.ids }}']}}
"""


def test_select_loop_and_wait_for_reach_success_with_outputs(engine, ecs):
    record = wait_status(start(engine, SELECT_AND_STOP, {"app": "web"}), ("Success", "Failed"))
    assert record["Status"] == "Success", record["StatusMessage"]
    assert json.loads(record["Outputs"]) == {"stopped": ["i-1", "i-3"], "count": 2}
    assert {i["InstanceId"]: i["Status"] for i in ecs.instances.values()} == {
        "i-1": "Stopped", "i-2": "Running", "i-3": "Stopped"}
    tasks = engine.task_executions(record["ExecutionId"])
    assert [(t["TaskName"], t["Status"]) for t in tasks] == [("select", "Success"), ("stop", "Success"),
                                                             ("wait", "Success")]
    loop = tasks[1]
    iterations = engine.task_executions(record["ExecutionId"], parent_task_execution_id=loop["TaskExecutionId"])
    assert sorted(t["LoopItem"] for t in iterations) == ["i-1", "i-3"]
    assert loop["Loop"]["Success"] == 2
    assert record["Counters"]["Success"] == 3
    assert any("stop" in entry["Message"] for entry in engine.execution_logs(record["ExecutionId"]))


def test_failing_task_fails_the_execution_with_its_name_and_reason(engine, ecs):
    ecs.instances["i-1"]["Status"] = "Stopped"
    record = wait_status(start(engine, SELECT_AND_STOP, {"app": "web"}), ("Success", "Failed"))
    assert record["Status"] == "Failed"
    assert "Task stop failed" in record["StatusMessage"] and "IncorrectInstanceStatus" in record["StatusMessage"]
    assert [t["Status"] for t in engine.task_executions(record["ExecutionId"])] == ["Success", "Failed"]


def test_on_error_jumps_and_choice_branches(engine, ecs):
    content = """
FormatVersion: OOS-2019-06-01
Parameters:
  id: {Type: String}
Tasks:
- Name: stop
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: StopInstance, Parameters: {InstanceId: '{{ id }}'}}
  OnError: recover
- Name: never
  Action: ACS::Sleep
  Properties: {Duration: PT1S}
- Name: recover
  Action: ACS::Choice
  Properties:
    DefaultTask: ACS::END
    Choices:
    - When: {'Fn::Equals': ['{{ id }}', i-404]}
      NextTask: mark
- Name: mark
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: DescribeInstances, Parameters: {}}
  Outputs: {n: {Type: Number, ValueSelector: TotalCount}}
Outputs:
  n: {Type: Number, Value: '{{ mark.n }}'}
"""
    record = wait_status(start(engine, content, {"id": "i-404"}), ("Success", "Failed"))
    # The error path ran (never the skipped task), and the execution still ends Failed on the original error.
    statuses = {t["TaskName"]: t["Status"] for t in engine.task_executions(record["ExecutionId"])}
    assert statuses == {"stop": "Failed", "recover": "Success", "mark": "Success"}
    assert record["Status"] == "Failed"
    assert "Task stop failed" in record["StatusMessage"] and "OnError ran recover" in record["StatusMessage"]
    assert [c[1] for c in ecs.calls] == ["StopInstance", "DescribeInstances"]


def test_on_error_next_ignores_the_error(engine, ecs):
    content = """
FormatVersion: OOS-2019-06-01
Tasks:
- Name: stop
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: StopInstance, Parameters: {InstanceId: i-404}}
  OnError: ACS::NEXT
- Name: count
  Action: ACS::ExecuteAPI
  Properties: {Service: ECS, API: DescribeInstances, Parameters: {}}
  Outputs: {n: {Type: Number, ValueSelector: TotalCount}}
Outputs:
  n: {Type: Number, Value: '{{ count.n }}'}
"""
    record = wait_status(start(engine, content), ("Success", "Failed"))
    assert record["Status"] == "Success", record["StatusMessage"]
    assert json.loads(record["Outputs"]) == {"n": 3}


APPROVAL = """
FormatVersion: OOS-2019-06-01
Tasks:
- Name: approve
  Action: ACS::Approve
  Properties: {NotifyType: WebHook, WebHook: {URI: 'http://example.invalid', Content: {}}}
- Name: after
  Action: ACS::Sleep
  Properties: {Duration: PT1S}
"""


def test_approve_waits_then_succeeds(engine):
    record = wait_status(start(engine, APPROVAL), ("Waiting",))
    assert record["CurrentTasks"][0]["TaskAction"] == "ACS::Approve"
    with pytest.raises(EngineError, match="nothing waiting for ExecuteTask"):
        engine.notify(record["ExecutionId"], "ExecuteTask")
    engine.notify(record["ExecutionId"], "Approve", note="ok by test")
    wait_status(record, ("Success", "Failed", "Cancelled"))
    assert record["Status"] == "Success"


def test_reject_ends_cancelled(engine):
    record = wait_status(start(engine, APPROVAL), ("Waiting",))
    engine.notify(record["ExecutionId"], "Reject")
    wait_status(record, ("Success", "Failed", "Cancelled"))
    assert record["Status"] == "Cancelled"
    assert [t["Status"] for t in engine.task_executions(record["ExecutionId"])] == ["Cancelled"]


def test_cancel_stops_a_sleeping_execution(engine):
    content = "FormatVersion: OOS-2019-06-01\nTasks:\n- {Name: s, Action: ACS::Sleep, Properties: {Duration: PT1H}}\n"
    record = wait_status(start(engine, content), ("Running",))
    engine.cancel(record["ExecutionId"])
    wait_status(record, ("Cancelled",))


def test_high_risk_api_waits_for_confirmation_unless_safety_check_is_skipped(engine, ecs):
    content = "FormatVersion: OOS-2019-06-01\nTasks:\n- {Name: s, Action: ACS::ExecuteAPI, Properties: " \
              "{Service: ECS, API: StopInstance, Parameters: {InstanceId: i-2}}}\n"
    record = wait_status(start(engine, content, SafetyCheck="ConfirmEveryHighRiskAction"), ("Waiting",))
    assert ecs.instances["i-2"]["Status"] == "Running"
    engine.notify(record["ExecutionId"], "Approve")
    wait_status(record, ("Success",))
    assert ecs.instances["i-2"]["Status"] == "Stopping"


def test_cloud_product_action_runs_as_a_child_execution(engine, ecs):
    # From the definition in ../shared when present (the fixture passes it), else the engine's own StopInstance.
    children = []
    engine.on_execution = children.append
    content = """
FormatVersion: OOS-2019-06-01
Tasks:
- Name: stopInstance
  Action: ACS::ECS::StopInstance
  Properties: {regionId: cn-hangzhou, instanceId: '{{ ACS::TaskLoopItem }}'}
  Loop: {Items: [i-1, i-2], RateControl: {Mode: Concurrency, Concurrency: 1, MaxErrors: 0}}
"""
    ecs.instances["i-2"]["Status"] = "Stopped"  # the action is idempotent: Choice ends it early
    record = wait_status(start(engine, content), ("Success", "Failed"), timeout=20)
    assert record["Status"] == "Success", record["StatusMessage"]
    assert ecs.instances["i-1"]["Status"] == "Stopped"
    assert len(children) == 2 and all(c["ParentExecutionId"] == record["ExecutionId"] for c in children)
    assert all(c["Status"] == "Success" for c in children)
    assert record["IsParent"] is True
    stop_calls = [c for c in ecs.calls if c[1] == "StopInstance"]
    assert [c[2]["InstanceId"] for c in stop_calls] == ["i-1"]


# ------------------------------------------------------------------ against the emulator's own ECS handlers

PUBLIC = SHARED / "oos-templates" / "PublicTemplates"


@pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/oos-templates not present")
def test_public_bulky_stop_runs_against_the_emulator_world():
    import tests.emulator.ecs  # noqa: F401 - registers the ECS handlers
    from tests.emulator.oos_engine.host import in_process_api
    from tests.emulator.state import World

    world = World(instances=4, seed=3, transition_seconds=0.05)
    engine = OOSEngine(in_process_api(world), action_templates=ACTIONS, time_scale=0.01)
    content = (PUBLIC / "ACS-ECS-BulkyStopInstances.yml").read_text()
    record = start(engine, content, {"targets": {"Type": "Tags", "Tags": [{"Key": "Env", "Value": "prod"}]},
                                     "rateControl": {"Mode": "Concurrency", "MaxErrors": 0, "Concurrency": 2}})
    wait_status(record, ("Success", "Failed"), timeout=30)
    assert record["Status"] == "Success", record["StatusMessage"]
    prod = sorted(i.id for i in world.instances.values() if i.tags["Env"] == "prod")
    assert sorted(json.loads(record["Outputs"])["instanceIds"]) == prod
    assert {i.id: i.status() for i in world.instances.values()} == {
        i.id: ("Stopped" if i.tags["Env"] == "prod" else "Running") for i in world.instances.values()}
    engine.wait_idle(10)
