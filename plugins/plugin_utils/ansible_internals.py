# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every use of ansible-core internals by this collection, in one place.

The batched action plugins need a few things ansible-core does not expose publicly: the per-run temp
dir, the task's uuid, play and strategy, the raw (untemplated) task data, and the variables another
host of the play gets for the task. Each accessor here checks what it relies on and raises
``AnsibleInternalsChanged`` when a newer ansible-core moved it: a batching that cannot be computed
exactly must fail loudly (the task's error says to set ``batch: false``), never guess.

Tested on ansible-core 2.16 to 2.19.
"""
from __future__ import annotations

import os
import re

from ansible import constants as C


class AnsibleInternalsChanged(Exception):
    """ansible-core no longer has what batching relies on; the message names it."""

    def __init__(self, what: str):
        from ansible.release import __version__

        super().__init__(f"alicloud.oos cannot batch hosts on ansible-core {__version__}: {what} changed. "
                         "Set `batch: false` on the task (each host makes its own call) and report this.")


def _require(obj, name: str, what: str):
    try:
        return getattr(obj, name)
    except AttributeError:
        raise AnsibleInternalsChanged(what) from None


def local_tmp_dir() -> str:
    """Ansible's private per-run temp dir on the controller (removed at exit)."""
    path = getattr(C, "DEFAULT_LOCAL_TMP", None)
    if not path:
        raise AnsibleInternalsChanged("constants.DEFAULT_LOCAL_TMP")
    return path


def task_uuid(task) -> str:
    return str(_require(task, "_uuid", "Task._uuid"))


def resolve_module_in_controller(name: str) -> None:
    """Resolve a module's path once in the controller so that forked workers inherit the answer
    (each worker would otherwise glob the modules folder again: about 1.5 ms of CPU per host)."""
    from ansible.plugins.loader import module_loader

    try:
        module_loader.find_plugin_with_context(name)
    except Exception:  # only an optimisation: the worker resolves it as usual
        pass


# --------------------------------------------------------------------------------------------------
# The task's place in the play

def _parents(task):
    node = _require(task, "_parent", "Task._parent")
    while node is not None:
        yield node
        node = getattr(node, "_parent", None)


def play_of(task):
    for node in _parents(task):
        play = getattr(node, "_play", None)
        if play is not None:
            return play
    raise AnsibleInternalsChanged("Block._play (the play of a task)")


def strategy_of(play) -> str:
    strategy = getattr(play, "strategy", None) or C.DEFAULT_STRATEGY
    return str(strategy).rsplit(".", 1)[-1]


def is_handler(task) -> bool:
    from ansible.playbook.handler import Handler

    return isinstance(task, Handler)


def in_dynamic_include(task) -> bool:
    """Is the task inside include_tasks / include_role (hosts may have included it or not)?"""
    dynamic = set(C._ACTION_INCLUDE_TASKS) | set(C._ACTION_INCLUDE_ROLE)
    return any(getattr(node, "action", None) in dynamic for node in _parents(task))


def in_block_with_rescue(task) -> bool:
    """Inside a block that has a rescue section, a host that failed earlier in the block runs the rescue
    while the others run the rest of the block: who runs this task is not a matter of variables."""
    from ansible.playbook.block import Block

    return any(isinstance(node, Block) and node.rescue for node in _parents(task))


def role_may_end_early(task) -> bool:
    """Does the task's role hold a ``meta: end_role`` (2.18+)? A host that ended the role skips its
    remaining tasks while staying in the play batch."""
    role = getattr(task, "_role", None)
    if role is None:
        return False
    blocks = list(_require(role, "get_task_blocks", "Role.get_task_blocks")())
    while blocks:
        node = blocks.pop()
        children = [getattr(node, section, None) or [] for section in ("block", "rescue", "always")]
        if any(children):
            blocks.extend(child for section in children for child in section)
        elif getattr(node, "action", None) in C._ACTION_META:
            args = getattr(node, "args", None) or {}
            if "end_role" in str(args.get("_raw_params", "")):
                return True
    return False


def raw_keyword_values(task, keyword: str) -> list:
    """A keyword's raw values on the task, its blocks and its play, before any templating."""
    values = []
    for node in [task, *_parents(task)]:
        get_ds = getattr(node, "get_ds", None)
        ds = get_ds() if get_ds else None
        if isinstance(ds, dict) and keyword in ds:
            values.append(ds[keyword])
    play = play_of(task)
    play_ds = play.get_ds() if hasattr(play, "get_ds") else None
    if isinstance(play_ds, dict) and keyword in play_ds:
        values.append(play_ds[keyword])
    return values


def raw_module_args(task):
    """The task's module arguments before templating (None when they cannot be read)."""
    from ansible.parsing.mod_args import ModuleArgsParser

    try:
        parser = ModuleArgsParser(task.get_ds(), collection_list=task.collections)
        return parser.parse(skip_action_validation=True)[1]
    except Exception:
        return None


def raw_environment(task):
    """The ``environment:`` entries of the play, blocks and task before templating, or None."""
    from ansible.playbook.block import Block

    try:
        parent = task._parent
        if parent is not None and not isinstance(parent, Block):
            return None
        # The attribute reads the finalized (own) value only; this walks blocks, roles and play.
        inherited = parent._get_parent_attribute("environment") if parent is not None else None
        own = task.get_ds().get("environment")
    except Exception:
        return None
    entries = [entry for entry in (inherited if isinstance(inherited, list) else [inherited])
               if isinstance(entry, (dict, str))]
    if own:
        entries.extend(own if isinstance(own, list) else [own])
    return entries


# --------------------------------------------------------------------------------------------------
# Another host's variables and conditions, computed the way ansible-core computes them

# Variables TaskExecutor adds from the connection settings when a host does not define them, and the
# task queue's own state: a leader cannot know their value for another host.
UNKNOWABLE_VARIABLES = frozenset(
    {name for names in C.MAGIC_VARIABLE_MAPPING.values() for name in names}
    | {"ansible_current_hosts", "ansible_failed_hosts", "omit"}
)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def names_in_templates(*values) -> set:
    """Identifiers inside the ``{{ }}`` / ``{% %}`` of template strings (a superset of the variables used)."""
    names = set()
    for text in _strings(values):
        if "{{" in text or "{%" in text:
            names.update(IDENTIFIER.findall(text))
    return names


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _strings(item)


class HostVariables:
    """The variables of this task for other hosts of the play: ``VariableManager.get_vars`` with the play,
    the host and the task (what the strategy computes before it queues the task for a host)."""

    def __init__(self, task, task_vars: dict):
        hostvars = task_vars.get("hostvars")
        self.task = task
        self.play = play_of(task)
        self.manager = _require(hostvars, "_variable_manager", "HostVars._variable_manager")
        self.inventory = _require(hostvars, "_inventory", "HostVars._inventory")
        self.hosts = list(task_vars.get("ansible_play_batch") or [])
        self.hosts_all = list(task_vars.get("ansible_play_hosts_all") or self.hosts)

    def of(self, name: str) -> dict:
        host = self.inventory.get_host(name)
        if host is None:
            raise KeyError(name)
        return self.manager.get_vars(play=self.play, host=host, task=self.task, _hosts=self.hosts,
                                     _hosts_all=self.hosts_all)


def conditions_hold(task, variables: dict, templar) -> bool:
    """Evaluate the task's ``when:`` (its blocks' and role's included) for another host, with the call the
    strategy itself makes for other hosts of a meta task."""
    if hasattr(task, "_resolve_conditional"):  # 2.19+
        return bool(task._resolve_conditional(task.when, variables))
    evaluate = _require(task, "evaluate_conditional", "Task.evaluate_conditional")  # 2.16 - 2.18
    return bool(evaluate(templar_for(templar, variables), variables))


def templar_for(templar, variables: dict):
    return templar.copy_with_new_env(available_variables=variables)


def cache_root() -> str:
    """Private per-run directory for the batches on the controller."""
    root = os.path.join(local_tmp_dir(), "alicloud_oos_batches")
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root
