# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every mutating API the collection calls, and what may be done when its answer is lost.

An answer is *lost* when the request was sent but no answer came back (connection reset, read
timeout) or the service answered a 5xx: the change may or may not have been applied. A lost answer
is followed by a repeat only when repeating is harmless:

* the API takes a ``ClientToken`` (the client sets one; the same token returns the first answer), or
* the API is a no-op in the state the first call leaves behind (``repeat_harmless`` in the table),
  or the caller of ``oos_execute_api`` declared ``idempotent: true``.

Otherwise the call is not repeated: the module that made it reads the state back (``read_back``)
or the task fails with :class:`errors.OutcomeUnknown`, saying how to check (``check``).

``MUTATING_APIS`` is the one table: :func:`lost_answer_policy` is what ``client.AlicloudClient``
consults, and ``docs/reliability.md`` is generated from it (``markdown_table``), so the documentation
cannot drift from the behaviour. ``client_token`` must match the API docs (a unit test checks it
against ``products.accepts_client_token``, which is generated from them).
"""
from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.alicloud.oos.plugins.module_utils.products import is_read_only, normalize_product

RETRY = "retry"            # send it again
READ_BACK = "read_back"    # raise OutcomeUnknown: the caller reads the state back
FAIL = "fail"              # raise OutcomeUnknown: the task fails saying how to check


@dataclass(frozen=True)
class MutatingApi:
    product: str
    action: str
    client_token: bool            # the API takes a ClientToken (set automatically, or derived, see token)
    repeat_harmless: bool         # a second identical call cannot apply the change twice
    why: str                      # why (not)
    check: str                    # how to see whether it was applied
    used_by: str                  # where the collection calls it
    read_back: str = ""           # what the calling module does instead of repeating, if it reads back
    done_codes: tuple = ()        # errors answering a repeat after a lost answer that mean the first call applied
    token: str = "a new one per call, the same on every retry"

    @property
    def after_lost_answer(self) -> str:
        """What happens after a lost answer, in words (the documentation column)."""
        if self.client_token:
            return f"sent again with the same ClientToken ({self.token}): the service answers with the first result"
        parts = []
        if self.read_back:
            parts.append(self.read_back)
        if self.repeat_harmless:
            text = "sent again"
            if self.done_codes:
                text += f"; `{'`, `'.join(self.done_codes)}` answering the repeat means the first call did it"
            parts.append(("through `oos_execute_api`: " if self.read_back else "") + text)
        elif self.read_back:
            parts.append(f"through `oos_execute_api`: not sent again, the task fails saying the outcome is unknown; "
                         f"check with {self.check}")
        else:
            parts.append(f"not sent again: the task fails saying the outcome is unknown; check with {self.check}")
        return "; ".join(parts)


_POWER = "`oos_instance`, `oos_create_image` (`stop_instance`), roles `ecs_power_schedule` and `ecs_update_image`, " \
         "converted `ACS::ECS::{}Instance` tasks"

MUTATING_APIS = (
    MutatingApi("ecs", "StartInstances", False, True,
                "an instance that is already Starting or Running answers `IncorrectInstanceStatus`: nothing starts "
                "twice", "DescribeInstances (`Status`)", _POWER.format("Start"),
                read_back="`oos_instance` reads the status back: an instance that left `Stopped` counts as started "
                          "by this run (`changed`), one still `Stopped` is sent again"),
    MutatingApi("ecs", "StopInstances", False, True,
                "an instance that is already Stopping or Stopped answers `IncorrectInstanceStatus`: nothing stops "
                "twice", "DescribeInstances (`Status`)", _POWER.format("Stop"),
                read_back="`oos_instance` reads the status back: an instance that left `Running` counts as stopped "
                          "by this run (`changed`), one still `Running` is sent again"),
    MutatingApi("ecs", "RebootInstances", False, False,
                "the instance is `Running` before and after: a second call reboots it again",
                "DescribeInstances (`Status`, `StartTime`)", "`oos_instance` (`state: restarted`), role "
                "`ecs_update_image`, converted `ACS::ECS::RebootInstance` tasks",
                read_back="`oos_instance` reads the status back: `Stopping`/`Starting`, or a `StartTime` that moved, "
                          "counts as rebooted by this run (`changed`); an unchanged `StartTime` means it was not "
                          "applied, and it is sent again"),
    MutatingApi("ecs", "StartInstance", False, True,
                "a Starting or Running instance answers `IncorrectInstanceStatus`", "DescribeInstances (`Status`)",
                "`oos_execute_api` (OOS templates call it through `ACS::ExecuteAPI`)",
                done_codes=("IncorrectInstanceStatus",)),
    MutatingApi("ecs", "StopInstance", False, True,
                "a Stopping or Stopped instance answers `IncorrectInstanceStatus`", "DescribeInstances (`Status`)",
                "`oos_execute_api` (OOS templates call it through `ACS::ExecuteAPI`)",
                done_codes=("IncorrectInstanceStatus",)),
    MutatingApi("ecs", "RebootInstance", False, False,
                "the instance is `Running` before and after: a second call reboots it again",
                "DescribeInstances (`Status`, `StartTime`)",
                "`oos_execute_api` (OOS templates call it through `ACS::ExecuteAPI`)"),
    MutatingApi("ecs", "RunCommand", True, True, "the same ClientToken answers the first `InvokeId`",
                "DescribeInvocations", "`oos_run_command`, roles `ecs_fleet_command` and `ecs_update_image`, "
                "converted `ACS::ECS::RunCommand` tasks"),
    MutatingApi("ecs", "CreateImage", True, True, "the same ClientToken answers the first `ImageId`",
                "DescribeImages (`ImageName`)", "`oos_create_image`, role `ecs_update_image`, converted "
                "`ACS::ECS::CreateImage` tasks",
                token="derived from the inputs, and derived anew once the image it named is gone"),
    MutatingApi("ecs", "DeleteImage", False, True, "a deleted image answers `InvalidImageId.NotFound`",
                "DescribeImages (`ImageId`)", "`oos_create_image` (`state: absent`)",
                done_codes=("InvalidImageId.NotFound",)),
    MutatingApi("ecs", "RunInstances", True, True, "the same ClientToken answers the first instance ids",
                "DescribeInstances (`InstanceName`, tags)", "role `ecs_update_image`, converted "
                "`ACS::ECS::RunInstances` tasks (through `oos_execute_api`)"),
    MutatingApi("ecs", "DeleteInstance", False, True, "a deleted instance answers `InvalidInstanceId.NotFound`",
                "DescribeInstances (`InstanceIds`)", "role `ecs_update_image`, converted `ACS::ECS::DeleteInstance` "
                "tasks (through `oos_execute_api`)", done_codes=("InvalidInstanceId.NotFound",)),
    MutatingApi("ecs", "InstallCloudAssistant", False, True,
                "installing again on an instance that waits for its next start to run the agent changes nothing",
                "DescribeCloudAssistantStatus", "role `ecs_update_image` (through `oos_execute_api`)"),
    MutatingApi("oos", "StartExecution", True, True, "the same ClientToken answers the first execution",
                "ListExecutions", "`oos_execution` (`state: started`), converted nested loops",
                token="derived from the inputs unless `client_token` is given, and derived anew once the "
                      "execution it named is gone"),
    MutatingApi("oos", "NotifyExecution", False, False,
                "a second Approve could answer a later approval of the same execution", "ListExecutions (`Status`, "
                "`CurrentTasks`)", "`oos_execution` (`state: approved`/`rejected`)",
                read_back="`oos_execution` reads the execution back: no longer waiting on that task counts as "
                          "notified by this run (`changed`), still waiting is sent again, and a repeat refused "
                          "because nothing waits any more (OOS takes a moment to leave `Waiting`) means the lost call "
                          "did it", done_codes=("InvalidStatus.Execution",)),
    MutatingApi("oos", "CancelExecution", False, True, "cancelling an execution that has ended changes nothing",
                "ListExecutions (`Status`)", "`oos_execution` (`state: cancelled`)"),
    MutatingApi("oos", "CreateTemplate", False, True,
                "an existing template answers `EntityAlreadyExists.Template`: nothing is created twice",
                "GetTemplate", "`oos_template`",
                read_back="`oos_template` reads the template back: present with this content counts as created by "
                          "this run (`changed`), absent is sent again"),
    MutatingApi("oos", "UpdateTemplate", False, True, "the same content makes no new version", "GetTemplate",
                "`oos_template`"),
    MutatingApi("oos", "DeleteTemplate", False, True, "a deleted template answers `EntityNotExists.Template`",
                "GetTemplate", "`oos_template` (`state: absent`)", done_codes=("EntityNotExists.Template",)),
    MutatingApi("oos", "ValidateTemplateContent", False, True, "it changes nothing (a check)", "-",
                "`oos_template`"),
    MutatingApi("cs", "ModifyCluster", False, True, "it sets the attributes it is given: the same values twice "
                "are the same cluster", "DescribeClusterDetail", "`oos_execute_api` (ROA `PUT /api/v2/clusters/{id}`)"),
)

_BY_NAME = {(api.product, api.action): api for api in MUTATING_APIS}


def mutating_api(product, action):
    """The table entry of ``action``, or None for an action the collection does not know."""
    try:
        code = normalize_product(product)
    except Exception:  # an invalid product never reaches a call; unknown is the safe answer
        return None
    return _BY_NAME.get((code, action))


def lost_answer_policy(product, action, read_only=None, client_token=False, idempotent=False,
                       read_back=False) -> str:
    """RETRY, READ_BACK or FAIL: what the client does after a lost answer to ``action``.

    ``read_only``: None decides from the action name. ``client_token``: a ClientToken is sent.
    ``idempotent``: the caller declared a repeat harmless. ``read_back``: the caller reads the state
    back itself (then only a ClientToken makes a repeat preferable to the read-back).
    """
    if (is_read_only(action) if read_only is None else read_only) or client_token:
        return RETRY
    if read_back:
        return READ_BACK
    known = mutating_api(product, action)
    if idempotent or (known is not None and known.repeat_harmless):
        return RETRY
    return FAIL


def done_codes(product, action) -> tuple:
    known = mutating_api(product, action)
    return known.done_codes if known else ()


def how_to_check(product, action) -> str:
    known = mutating_api(product, action)
    if known is not None:
        return f"{known.check.replace('`', '')} before running the task again"
    return ("the matching Describe/List/Get call before running the task again; if repeating it is harmless, "
            "set idempotent: true, or pass a ClientToken parameter if the API takes one")


def markdown_table() -> str:
    """The table of docs/reliability.md."""
    rows = ["| API | ClientToken | repeat harmless? | after a lost answer | called by |", "|---|---|---|---|---|"]
    for api in MUTATING_APIS:
        token = "yes" if api.client_token else "no"
        harmless = ("yes: " if api.repeat_harmless else "no: ") + api.why
        rows.append(f"| {api.product.upper()} `{api.action}` | {token} | {harmless} | {api.after_lost_answer} | "
                    f"{api.used_by} |")
    return "\n".join(rows)
