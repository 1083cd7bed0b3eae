# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which other hosts of the play batch run this task, and with which arguments?

The batch leader acts for another host only when it can compute, exactly as ansible-core does, that the
host runs the task and what its arguments and environment are. Otherwise it leaves the host out and that
host makes its own call when Ansible runs the task for it (correct, slower). Never a guess:

* who runs the task is a matter of variables only under the linear strategy, outside handlers, dynamic
  includes, blocks with a ``rescue`` (there a host that failed earlier runs the rescue instead) and roles
  that a host may leave early (``meta: end_role``);
* ``check_mode`` / ``diff`` templated per host would change what the action does for that host;
* another host's variables are ``VariableManager.get_vars(play, host, task)``, what the strategy computes
  before it queues the task for that host (play, role, block and task vars, vars_files, include_vars,
  facts, set_fact and registered results, inventory, extra vars);
* ``when:`` is evaluated with ``Task`` itself, as the strategy does for the other hosts of a meta task;
* a template that names a variable only the task executor adds for the connection (``ansible_host`` when
  the host does not define it, ``ansible_user``, ...) or the task queue's state cannot be computed here.
"""
from __future__ import annotations

from ansible_collections.alicloud.oos.plugins.plugin_utils import ansible_internals as internals

TEMPLATE_MARKERS = ("{{", "{%")
PER_HOST_KEYWORDS = ("check_mode", "diff", "module_defaults")
LOCKSTEP_STRATEGIES = frozenset({"linear", "debug"})


def has_template(value) -> bool:
    if isinstance(value, str):
        return any(marker in value for marker in TEMPLATE_MARKERS)
    if isinstance(value, dict):
        return any(has_template(k) or has_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_template(v) for v in value)
    return False


def why_alone(task) -> str | None:
    """Why the leader cannot act for other hosts of this task (None: it can, given their variables)."""
    strategy = internals.strategy_of(internals.play_of(task))
    if strategy not in LOCKSTEP_STRATEGIES:
        return f"the {strategy} strategy runs hosts at their own pace"
    if internals.is_handler(task):
        return "a handler runs only on the hosts that notified it"
    if internals.in_dynamic_include(task):
        return "inside include_tasks/include_role, each host may have included other tasks"
    if internals.in_block_with_rescue(task):
        return "inside a block with rescue, a host that failed earlier runs the rescue instead"
    if internals.role_may_end_early(task):
        return "the role holds `meta: end_role`: a host may have left it"
    for keyword in PER_HOST_KEYWORDS:
        if any(has_template(value) for value in internals.raw_keyword_values(task, keyword)):
            return f"`{keyword}` is templated per host"
    return None


class Membership:
    """Decides, for the leader, the (arguments, environment) of every host of the batch it may act for.

    ``make_request(templar, variables, raw_args, raw_environment) -> request`` builds and validates one
    host's request from its own variables (the action plugin's rules); ``raw_args`` and ``raw_environment``
    are None when the host shares the leader's arguments and environment.
    """

    def __init__(self, task, task_vars: dict, templar, make_request):
        self.task = task
        self.task_vars = task_vars
        self.templar = templar
        self.make_request = make_request

    def requests(self, own, hosts: list, me: str) -> dict:
        """``{host: request}``: ``me`` with ``own``, and every other host the leader may act for."""
        chosen = {me: own}
        if len(hosts) <= 1 or why_alone(self.task) is not None:
            return chosen
        raw_args = internals.raw_module_args(self.task)
        raw_environment = internals.raw_environment(self.task)
        if raw_args is None or raw_environment is None or "_variable_params" in raw_args:
            return chosen
        conditions = [c for c in (self.task.when or []) if c not in (None, "", True)]
        templated = has_template(raw_args) or has_template(raw_environment)
        names = internals.names_in_templates(raw_args, raw_environment, [f"{{{{ {c} }}}}" for c in conditions
                                                                         if isinstance(c, str)])
        unknowable = names & internals.UNKNOWABLE_VARIABLES
        variables_of = internals.HostVariables(self.task, self.task_vars)
        for other in hosts:
            if other == me:
                continue
            try:
                variables = variables_of.of(other)
            except internals.AnsibleInternalsChanged:
                raise
            except Exception:  # not computable for this host: it makes its own call
                continue
            if any(name not in variables for name in unknowable):
                continue
            try:
                if conditions and not internals.conditions_hold(self.task, variables, self.templar):
                    continue
                templar = internals.templar_for(self.templar, variables)
                chosen[other] = (self.make_request(templar, variables, raw_args, raw_environment) if templated
                                 else self.make_request(templar, variables, None, None))
            except internals.AnsibleInternalsChanged:
                raise
            except Exception:  # an error Ansible would report for that host: it meets it on its own
                continue
        return chosen
