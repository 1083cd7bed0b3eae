"""OOS template -> a playbook an Ansible engineer would write (issue #14), for the constructs it covers.

* Parameters are play variables (snake_case, read under their OOS names too) holding their Defaults; one
  ``assert`` at the start checks every value against its Type, AllowedValues, AllowedPattern, lengths and
  ranges.
* References are Jinja over those variables, written at conversion time: ``{{ instanceId }}`` is the
  variable ``instance_id``, ``{{ task.output }}`` the fact named after the task, set after it,
  ``{{ ACS::RegionId }}`` the variable ``oos_region_id``. Text that is not a reference stays data
  (``!unsafe``, a quoted literal of plain text, or an item of ``oos_template_texts``): the only Jinja in the
  output is what this module writes.
* ``Fn::`` functions are core Jinja (``join``, indexing, ``==``, ``if``, ``not``/``and``/``or``);
  ``Fn::Jq`` and ValueSelectors use ``alicloud.oos.jq``.
* Each OOS task is one module task named after it (plus one ``set_fact`` for its Outputs); ``When`` is
  ``when:``; jumps are the ``when:`` of :mod:`flow`; the tasks run in one ``block`` whose ``rescue``
  ends the run Failed (or Cancelled), as OOS does.

:func:`build` returns the plays; a task holding a construct this module does not write (``Unsupported`` names it)
is run by OOS for the playbook (:mod:`delegation`), the other tasks staying plain Ansible.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import json
import re

from ansible.vars.reserved import get_reserved_names

from ansible_collections.alicloud.oos.plugins.module_utils.products import unresolvable_service
from ansible_collections.alicloud.oos.plugins.module_utils.rate_control import rate_control_from_loop
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import template_secret_names
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import actions, checks, delegation, flow, loader, parameters, runtime
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_loops
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.dumper import _reads_as_str
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.filters import SELECT_TARGET_RESOURCES
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.functions import function_name, is_function_key
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.parameters import variable_for
from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.text import (
    Code, TemplateList, TemplateMap, TemplateText, display_name, expr, literal, plain, possibly_template)

F = "alicloud.oos."
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset(get_reserved_names())   # play and task keywords (timeout, name, ...)
# Text Ansible can hold verbatim inside converter Jinja: nothing that opens a Jinja block or a header.
_VERBATIM = re.compile(r"^[^{}#%\n\r]*$")
# Text a single-quoted Jinja literal holds as it is (Jinja does not decode escapes in string literals).
_INLINE = re.compile(r"^[^'\\]*$")


class Unsupported(Exception):
    """A construct this module does not write. ``task``: the template's own task it arose in (OOS runs that task
    for the playbook instead), None for the template's Parameters or Outputs."""

    task = None


class RefusedByOos(Unsupported):
    """A construct OOS itself refuses: never handed to it, the conversion fails naming it."""


class NotAReference(Unsupported):
    """``{{ name }}`` names no parameter nor task: OOS leaves it as written (Cloud Assistant fills such names in
    commands run with enableParameter), and so does the playbook."""


# Pseudo-parameters: the variable each becomes. Those of runtime.PSEUDO_SOURCES come from the user (or the
# environment); the others are facts of the run set once at its start.
PSEUDO_FACTS = {
    "acs::executionid": ("oos_execution_id", "'exec-' ~ lookup('ansible.builtin.password', '/dev/null', "
                                             "chars=['ascii_lowercase', 'digits'], length=20)"),
    "acs::currentutctime": ("oos_current_utc_time", "now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ')"),
    "acs::currentdate": ("oos_current_date", "now(utc=true, fmt='%Y-%m-%d')"),
}

SIMPLE_ACTIONS = ("acs::executeapi", "acs::waitfor", "acs::checkfor", "acs::sleep", "acs::pause")
NATIVE_ACTIONS = ("acs::ecs::stopinstance", "acs::ecs::startinstance", "acs::ecs::rebootinstance",
                  "acs::ecs::runcommand", "acs::ecs::createimage", "acs::ecs::deleteinstance")
TRIGGERS = actions.TRIGGERS
OTHER_ACTIONS = ("acs::selecttargets", "acs::choice", "acs::approve", "acs::notify", "acs::ecs::runinstances") + TRIGGERS
POWER_STATES = {"acs::ecs::stopinstance": "stopped", "acs::ecs::startinstance": "running",
                "acs::ecs::rebootinstance": "rebooted"}
# The task keys OOS knows (checks.TASK_KEYS, checked at load), a Loop aside: natural_loops.check says where it is written.
TASK_KEYS = set(checks.TASK_KEYS) - {"Loop"}
TRIGGER_TITLES = {"acs::timertrigger": "trigger (run this playbook from a schedule)",
                  "acs::eventtrigger": "trigger (the event: -e oos_trigger_event or oos_trigger_event_file)",
                  "acs::alarmtrigger": "trigger (the alarm: -e oos_trigger_event or oos_trigger_event_file)"}


def fact_name(task_name: str) -> str:
    """The fact holding a task's outputs: the task name in snake_case (getInstance -> get_instance)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", task_name)
    name = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return name if name[:1].isalpha() else "task_" + name


def _key(name: str, scope) -> str:
    """``.name`` when Jinja reads it so, else ``[literal]``."""
    return f".{name}" if _IDENTIFIER.match(name) and name not in ("items", "keys", "values", "get") else f"[{scope.quote(name)}]"


class Scope:
    """What a reference can name at one point of the template: parameters, earlier tasks' outputs, pseudo."""

    def __init__(self, template: dict):
        self.parameters = {}
        self.aliases: dict = {}      # OOS parameter name -> the Ansible variable the playbook reads
        self._names = {str(name).lower(): str(name) for name in template.get("Parameters") or {}}
        for name, spec in (template.get("Parameters") or {}).items():
            kind = (spec or {}).get("Type", "String") if isinstance(spec, dict) else "String"
            self.parameters[str(name).lower()] = (None, kind)
        for name in template.get("Parameters") or {}:
            # snake_case where it differs (targetImageName -> target_image_name, read from -e targetImageName too).
            given = variable_for(str(name))
            taken = {variable_for(str(other)).lower() for other in template.get("Parameters") or {} if other != name}
            snake = fact_name(given if not given.startswith("oos_param_") else given[len("oos_param_"):])
            snake = snake[len("oos_"):] if snake.startswith("oos_") else snake      # OOSAssumeRole -> assume_role
            if snake in parameters._MAGIC or snake in _RESERVED or snake.startswith("ansible_"):
                snake = "param_" + snake                                             # roleName -> param_role_name
            if snake in taken or snake in self.aliases.values() or not _IDENTIFIER.match(snake):
                snake = given
            self.aliases[str(name)] = snake
            self.parameters[str(name).lower()] = (snake, self.parameters[str(name).lower()][1])
        self.tasks: dict = {}        # lower task name -> (fact, {lower output: (output name, Type)})
        self.facts: set = set()      # names of the variables the playbook defines
        self.pseudo_used: set = set()
        self.loop_item: str | None = None   # the loop variable while a looped task is written
        self.texts: list = []               # template text the Jinja reads from oos_template_texts
        self.delegated: frozenset = frozenset()   # lower-cased names of the tasks OOS runs (oos_execution)
        self.delegated_templates: dict = {}       # task name -> the one-task template OOS runs for it
        # The variables holding NoEcho/secret parameter values (under both names): tasks reading them are no_log.
        self.secrets = {variable_for(self._names[name]) for name in delegation.secret_sources(template.get("Parameters"))}
        self.secrets |= {self.parameters[name][0] for name in delegation.secret_sources(template.get("Parameters"))}
        # The Jinja of every secret value the run holds, masked in what it prints: its NoEcho parameters, then a
        # nested template's (its variables, and the parent's values given them) as the children are written.
        self.masked_values = [self.parameters[name][0] for name in sorted(delegation.secret_sources(template.get("Parameters")))]
        self.template = template
        for name, (variable, _kind) in self.parameters.items():
            # Both names a parameter is read under (-e targetImageName, target_image_name): no fact may take them.
            self.facts.update((variable.lower(), variable_for(self._names.get(name, name)).lower()))

    def secret_values(self) -> str:
        """The Jinja list of the secret values of the run (empty when it has none; a nested template's variables
        are none outside its block)."""
        return "[" + ", ".join(f"{value} | default(none)" for value in getattr(self, "root", self).masked_values) + "]"

    def masked(self, jinja: str, whole=()) -> str:
        """``jinja`` (an expression) with the secret values masked in what it gives, and the keys ``whole`` masked
        whole; as it is when the run has no secret value."""
        if not getattr(self, "root", self).masked_values:
            return jinja
        return f"({jinja}) | {F}oos_masked({self.secret_values()}" + (f", {sorted(whole)!r})" if whole else ")")

    def quote(self, text) -> str:
        """Template text as a value in converter Jinja: a string literal when it is plain printable text, else
        an item of the play variable ``oos_template_texts`` (tagged !unsafe: data on every ansible-core)."""
        text = str(text)
        if _INLINE.match(text) and text.isprintable() and not possibly_template(text):
            return f"'{text}'"
        if text not in self.texts:
            self.texts.append(text)
        return f"oos_template_texts[{self.texts.index(text)}]"

    def is_parameter(self, text: str) -> bool:
        return any(text in (variable, read_parameter(variable, kind)) for variable, kind in self.parameters.values())

    def invent(self, name: str) -> str:
        """A variable the writer introduces (a task's facts, a register, a branch fact), named after ``name``:
        never one the playbook already reads (a parameter under either name, another fact, a register), nor a
        variable Ansible or the writer itself owns (``item``, ``oos_*``, ``ansible_*``, keywords)."""
        base = name if not name.lower().startswith(("oos_", "ansible_")) else "task_" + name
        candidate, number = base, 1
        while candidate.lower() in self.facts or candidate.lower() in parameters._MAGIC or candidate in _RESERVED:
            number += 1
            candidate = f"{base}_{number}"
        self.facts.add(candidate.lower())
        return candidate

    def add_task(self, task: dict) -> str:
        fact = self.invent(fact_name(task["Name"]))
        outputs = {}
        for name, spec in (task.get("Outputs") or {}).items():
            outputs[str(name).lower()] = (str(name), (spec or {}).get("Type", "String") if isinstance(spec, dict) else "String")
        if task.get("Loop"):
            # A loop's outputs are its Loop.Outputs: one task Output of every item, as a list or summed.
            outputs = {str(name).lower(): (str(name), "Number" if str((spec or {}).get("AggregateType", "")).lower() == "fn::sum"
                                           else "List") for name, spec in ((task["Loop"].get("Outputs") or {}).items())}
        self.tasks[task["Name"].lower()] = (fact, outputs)
        return fact

    def reference(self, name: str) -> tuple:
        """(Jinja expression, OOS Type or None) of ``{{ name }}``; Unsupported when it names nothing known."""
        lowered = name.lower()
        if lowered.startswith(("oos:", "oos-secret:")):
            raise Unsupported("a Parameter Store reference")
        if "::" in name:
            if lowered in runtime.PSEUDO_SOURCES:
                self.pseudo_used.add(lowered)
                return runtime.PSEUDO_SOURCES[lowered][0], "String"
            if lowered == "acs::taskloopitem" and self.loop_item:
                return self.loop_item, None
            if lowered in PSEUDO_FACTS:
                self.pseudo_used.add(lowered)
                return PSEUDO_FACTS[lowered][0], "String"
            raise Unsupported(f"the pseudo-parameter {name}")
        if "." in name:
            task_name, output = name.split(".", 1)
            if task_name.lower() in self.tasks:
                fact, outputs = self.tasks[task_name.lower()]
                if output.lower() in outputs:
                    real, kind = outputs[output.lower()]
                    return fact + _key(real, self), kind
            raise Unsupported(f"the reference {name}")
        if lowered in self.parameters:
            variable, kind = self.parameters[lowered]
            return read_parameter(variable, kind), kind
        if lowered in self.tasks:
            return self.tasks[lowered][0], "Json"       # {{ task }}: every output of the task
        if any(str(task.get("Name", "")).lower() == lowered for task in self.template.get("Tasks") or []):
            return "{}", "Json"                          # a task without Outputs has none
        raise NotAReference(name)


# ------------------------------------------------------------------------------------------------
# values: template data -> YAML data for a module argument, with converter Jinja where references are

def has_code(value) -> bool:
    if isinstance(value, str):
        return "{{" in value and bool(runtime.REFERENCE.search(value))
    if isinstance(value, list):
        return any(has_code(v) for v in value)
    if isinstance(value, dict):
        return any(is_function_key(k) for k in value) or any(has_code(k) or has_code(v) for k, v in value.items())
    return False


def _as_text(expression: str, kind: str | None) -> str:
    """How OOS writes a value inside a longer string: JSON for anything but strings and numbers."""
    if kind in ("String", "Number"):
        return expression
    if kind == "Boolean":
        return f"({expression} | string | lower)"
    if kind is None:
        return f"({expression} if {expression} is string else {expression} | to_json(ensure_ascii=false))"
    return f"({expression} | to_json(ensure_ascii=false))"


def _pieces(text: str, scope: Scope) -> list:
    """[(is_reference, text or (expression, kind))] of one template string."""
    pieces, position = [], 0
    for match in runtime.REFERENCE.finditer(text):
        try:
            reference = scope.reference(match.group(1))
        except NotAReference:
            continue   # stays text, with the text around it
        if match.start() > position:
            pieces.append((False, text[position:match.start()]))
        pieces.append((True, reference))
        position = match.end()
    if position < len(text):
        pieces.append((False, text[position:]))
    return _joined(pieces)


def _joined(pieces: list) -> list:
    """Consecutive text pieces as one (a name left as written joins the text around it)."""
    joined = []
    for piece in pieces:
        if joined and not piece[0] and not joined[-1][0]:
            joined[-1] = (False, joined[-1][1] + piece[1])
        else:
            joined.append(piece)
    return joined or [(False, "")]


def string_template(text: str, scope: Scope) -> Code:
    """A template string with references as a Jinja template string ("{{ a }}-{{ b }}")."""
    whole = _whole_reference(text, scope)
    if whole:
        return whole_string(*whole)
    pieces = _pieces(text, scope)
    first, last = pieces[0], pieces[-1]
    if (first[0] or first[1].startswith(("{", "[", "T", "F"))) and (last[0] or last[1].endswith(("}", "]", "e"))):
        # Text that could read as a list, a mapping or True/False: ansible-core before 2.19 would re-type it.
        return whole_string(string_expression(text, scope)[0], "String")
    out = []
    for is_reference, piece in pieces:
        if is_reference:
            out.append("{{ " + _as_text(*piece) + " }}")
        elif _VERBATIM.match(piece):
            out.append(piece)
        else:
            out.append("{{ " + scope.quote(piece) + " }}")
    return Code("".join(out))


def _whole_reference(text: str, scope: Scope):
    """(Jinja expression, Type) when ``text`` is one reference, else None (a name left as written is text)."""
    whole = runtime.WHOLE_REFERENCE.match(text.strip()) if text.strip().startswith("{{") else None
    try:
        return scope.reference(whole.group(1)) if whole else None
    except NotAReference:
        return None


def whole_string(expression: str, kind: str | None) -> Code:
    """A module argument or variable that is one expression. A String keeps ``| string``: ansible-core before 2.19
    re-types a result that looks like a list, a mapping or True/False, except the output of ``string``."""
    return expr(_bare(expression) + (" | string" if kind == "String" else ""))


def string_expression(text: str, scope: Scope) -> tuple:
    """(Jinja expression, Type) of a template string: a reference keeps its type, text is a literal."""
    whole = _whole_reference(text, scope)
    if whole:
        return whole
    parts = [(_as_text(*piece) if is_reference else scope.quote(piece)) for is_reference, piece in _pieces(text, scope)]
    if not parts:
        return "''", "String"
    return (parts[0] if len(parts) == 1 else "(" + " ~ ".join(parts) + ")"), "String"


def expression(value, scope: Scope) -> tuple:
    """(Jinja expression, Type or None) of any template value (functions included)."""
    if isinstance(value, bool):
        return ("true" if value else "false"), "Boolean"
    if value is None:
        return "none", None
    if isinstance(value, (int, float)):
        return repr(value), "Number"
    if isinstance(value, str):
        return string_expression(value, scope)
    if isinstance(value, list):
        return "[" + ", ".join(_bare(expression(v, scope)[0]) for v in value) + "]", "List"
    if isinstance(value, dict):
        if len(value) == 1 and is_function_key(next(iter(value))):
            key = next(iter(value))
            return function(key, value[key], scope)
        if any(is_function_key(k) for k in value):
            raise Unsupported("a function next to other keys")
        items = []
        for k, v in value.items():
            if has_code(k):
                raise Unsupported("a reference in a mapping key")
            items.append(f"{scope.quote(k)}: {_bare(expression(v, scope)[0])}")
        return "{" + ", ".join(items) + "}", "Json"
    raise Unsupported(f"a value of type {type(value).__name__}")


def read_parameter(variable: str, kind: str) -> str:
    """A parameter's value in converter Jinja. A survey or ``-e`` answers List and Json parameters with text: it is
    read as the parameter check reads it (JSON, or comma-separated words for a List)."""
    return f"({variable} | {F}oos_parameter_value('{kind}'))" if kind in ("List", "Json") else variable


_READ_PARAMETER = re.compile(r"\((\w+) \| alicloud\.oos\.oos_parameter_value\('(?:List|Json)'\)\)")


def _bare(text: str) -> str:
    """A parameter reference without the parentheses it needs only inside a longer expression."""
    return text[1:-1] if _READ_PARAMETER.fullmatch(text) else text


def _arguments(name: str, argument, count: int) -> list:
    if not isinstance(argument, list) or len(argument) != count:
        raise Unsupported(f"Fn::{name} with an argument that is not a list of {count}")
    return argument


def function(key: str, argument, scope: Scope) -> tuple:
    name = function_name(key)
    if name == "join":
        delimiter, items = _arguments("Join", argument, 2)
        if not isinstance(delimiter, str) or has_code(delimiter):
            raise Unsupported("Fn::Join with a computed delimiter")
        if isinstance(items, list):
            texts = [_as_text(*expression(item, scope)) for item in items]
            return f"[{', '.join(texts)}] | join({scope.quote(delimiter)})", "String"
        listed, kind = expression(items, scope)
        if kind != "List":
            raise Unsupported("Fn::Join over a value that is not a List")
        # A List of words (ids, names): Jinja's join writes them as OOS does.
        return f"{listed} | join({scope.quote(delimiter)})", "String"
    if name == "select":
        index, collection = _arguments("Select", argument, 2)
        collection_text, kind = expression(collection, scope)
        if not isinstance(index, bool) and isinstance(index, int) and kind == "List":
            return f"{collection_text}[{index}]", None
        if isinstance(index, str) and not has_code(index) and kind == "List" and re.fullmatch(r"-?[0-9]+", index.strip()):
            return f"{collection_text}[{int(index)}]", None         # a quoted index: OOS reads it as a number
        if isinstance(index, str) and not has_code(index) and kind == "Json":
            return f"{collection_text}[{scope.quote(index)}]", None
        # A computed index, or a collection only the run tells apart (a list, a map, JSON text): as OOS selects.
        return f"[{_bare(expression(index, scope)[0])}, {collection_text}] | {F}fn_select", None
    if name == "if":
        condition_value, when_true, when_false = _arguments("If", argument, 3)
        yes, yes_kind = expression(when_true, scope)
        no, no_kind = expression(when_false, scope)
        return f"({yes} if {condition(condition_value, scope)} else {no})", yes_kind if yes_kind == no_kind else None
    if name in ("equals", "not", "and", "or"):
        return condition({key: argument}, scope), "Boolean"
    if name == "jq":
        mode, program, data = _arguments("Jq", argument, 3)
        data_text, _kind = expression(data, scope)
        if isinstance(mode, str) and mode.lower() in ("first", "all") and isinstance(program, str):
            selected = f"{data_text} | {F}jq({string_expression(program, scope)[0]})"
            return (f"({selected} | first)" if mode.lower() == "first" else f"({selected})"), None
        # A computed mode or program: the collection's Fn::Jq, which reads them at run time.
        return f"([{_bare(expression(mode, scope)[0])}, {_bare(expression(program, scope)[0])}, {data_text}] | {F}fn_jq)", None
    if name == "base64encode":
        text, kind = expression(argument, scope)
        # OOS encodes the UTF-8 text of a string; other values (true, 1) as it writes them in a string.
        return (f"({text} | b64encode)" if kind == "String" else f"({text} | {F}fn_base64encode)"), "String"
    if name == "base64decode":
        # OOS ignores white space, accepts missing padding and refuses other characters (b64decode does not).
        return f"({expression(argument, scope)[0]} | {F}fn_base64decode)", "String"
    if name == "split":
        delimiter, text = _arguments("Split", argument, 2)
        text_expression, kind = expression(text, scope)
        if isinstance(delimiter, str) and delimiter and not has_code(delimiter) and kind == "String":
            return f"({text_expression} | split({scope.quote(delimiter)}))", "List"
        return f"([{_bare(expression(delimiter, scope)[0])}, {text_expression}] | {F}fn_split)", "List"
    if name == "replace":
        mapping, text = _arguments("Replace", argument, 2)
        text_expression, kind = expression(text, scope)
        if isinstance(mapping, dict) and mapping and kind == "String" and not any(
                has_code(old) or is_function_key(old) for old in mapping):
            replaced = text_expression
            for old, new in mapping.items():
                new_text, new_kind = expression(new, scope)
                if new_kind != "String":
                    break
                replaced += f" | replace({scope.quote(old)}, {new_text})"
            else:
                return f"({replaced})", "String"
        return f"([{_bare(expression(mapping, scope)[0])}, {text_expression}] | {F}fn_replace)", "String"
    if name == "mergemap":
        if isinstance(argument, list) and len(argument) > 1 and all(
                isinstance(item, dict) and not (len(item) == 1 and is_function_key(next(iter(item)))) for item in argument):
            first, *others = [expression(item, scope)[0] for item in argument]
            return f"({first} | combine({', '.join(others)}))", "Json"
        return f"({expression(argument, scope)[0]} | {F}fn_mergemap)", "Json"
    if name in ("mergemaptolist", "mergelist", "convertmaptolist", "listjoin", "first", "last", "min", "max",
                "sum", "intersection", "union", "difference", "containssubstring", "calculatebatch", "rangeselect",
                "formatutctime", "addhour", "durationbetween", "sub", "mapjoin", "eval"):
        # No core filter means the same: the collection's implementation of the OOS function.
        kinds = {"containssubstring": "Boolean", "min": "Number", "max": "Number", "sum": "Number", "eval": "Number",
                 "calculatebatch": "Number", "first": None, "last": None, "formatutctime": "String", "addhour": "String",
                 "durationbetween": "String", "sub": "String", "mapjoin": "String"}
        return f"({expression(argument, scope)[0]} | {F}fn_{name})", kinds.get(name, "List")
    raise Unsupported(f"the function {key}")


def _plain_text(value) -> bool:
    """A literal whose OOS comparison is plain string equality (not a number, boolean or empty)."""
    if not isinstance(value, str) or has_code(value):
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "false", ""):
        return False
    try:
        float(lowered)
    except ValueError:
        return True
    return False


def condition(value, scope: Scope) -> str:
    """A Jinja test with OOS truthiness, or Unsupported."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text, kind = string_expression(value, scope)
        if kind == "Boolean":
            return f"({text} | bool)"
        raise Unsupported("a When that is not a Boolean parameter or a function")
    if isinstance(value, dict) and len(value) == 1 and is_function_key(next(iter(value))):
        key = next(iter(value))
        name, argument = function_name(key), value[key]
        if name == "not":
            inner = argument[0] if isinstance(argument, list) and len(argument) == 1 else argument
            if _other_function(inner):
                # OOS negates only a boolean (or 'true'/'false'), and fails on anything else, as Fn::Not does.
                text, kind = expression(inner, scope)
                return f"not ({text} | bool)" if kind == "Boolean" else f"([{_bare(text)}] | {F}fn_not)"
            return f"not {condition(inner, scope)}"
        if name in ("and", "or"):
            if not isinstance(argument, list) or not argument:
                raise Unsupported(f"Fn::{name.title()} without a list")
            return "(" + f" {name} ".join(condition(item, scope) for item in argument) + ")"
        if name == "equals":
            left, right = _arguments("Equals", argument, 2)
            left_text, left_kind = expression(left, scope)
            right_text, right_kind = expression(right, scope)
            # OOS compares loosely ('10' equals 10, 'true' equals true): plain == only where that is the same.
            if (_plain_text(right) and left_kind == "String") or (_plain_text(left) and right_kind == "String"):
                return f"({left_text} == {right_text})"
            for one, other, other_kind in ((left, right_text, right_kind), (right, left_text, left_kind)):
                if isinstance(one, bool) and other_kind == "Boolean":
                    return f"({other} | bool)" if one else f"not ({other} | bool)"
                if isinstance(one, (int, float)) and not isinstance(one, bool) and other_kind == "Number":
                    return f"(({other} | float) == {one!r})"
            if left_kind == "Boolean" and right_kind == "Boolean":
                return f"(({left_text} | bool) == ({right_text} | bool))"
            return f"([{left_text}, {right_text}] | {F}fn_equals)"
    if _other_function(value):
        # Any other function (Fn::ContainsSubString, Fn::Jq, ...): its value, held as OOS holds a When (a boolean,
        # 'true'/'false' text, else whether it is empty), as Fn::And of that one value holds.
        text, kind = expression(value, scope)
        return f"({text} | bool)" if kind == "Boolean" else f"([{_bare(text)}] | {F}fn_and)"
    raise Unsupported("this When")


def _other_function(value) -> bool:
    """A function a condition does not write with Jinja's own operators (not Fn::Not/And/Or/Equals)."""
    return (isinstance(value, dict) and len(value) == 1 and is_function_key(next(iter(value)))
            and function_name(next(iter(value))) not in ("not", "and", "or", "equals"))


# Template text written as plain YAML: words, numbers, names and paths, which no Jinja syntax can hide in.
_PLAIN_TEXT = re.compile(r"^[A-Za-z0-9_.:/ ,=+@-]*$")


def _plain(data) -> bool:
    """Whether ``data`` holds only plain words (strings YAML reads back as the same strings), numbers and booleans."""
    if isinstance(data, str):
        return bool(_PLAIN_TEXT.match(data)) and _reads_as_str(data)
    if isinstance(data, list):
        return all(_plain(item) for item in data)
    if isinstance(data, dict):
        return all(_plain(k) and _plain(v) for k, v in data.items())
    return True


def inert(data):
    """Template data as plain YAML where it is plain words, else tagged data (!unsafe strings)."""
    if _plain(data):
        return plain(data)
    return data_tree(data)


def data_tree(data):
    """Template data as plain YAML mappings and lists whose strings are each tagged ``!unsafe`` (plain words as
    they are; the dumper quotes those YAML would retype). Never one ``!unsafe`` mapping or list: ansible-core
    before 2.19 builds those empty (docs/converter.md)."""
    if isinstance(data, dict):
        return {(str.__str__(k) if _plain(k) else TemplateText(k)) if isinstance(k, str) else k: data_tree(v)
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [data_tree(item) for item in data]
    if isinstance(data, str):
        # Words YAML would read as another type ('true', '1', '', '2024-01-01') are written quoted, without !unsafe
        # (ansible-core 2.19 would retype an !unsafe scalar): no Jinja can hide in them. str.__str__: values given
        # to the lookup may be ansible-core 2.16's unsafe text, whose str() is itself.
        return str.__str__(data) if _plain(data) else TemplateText(data)
    return plain(data)


def value(data, scope: Scope):
    """A module argument: template data as it is where it holds no reference, converter Jinja where it does."""
    if not has_code(data):
        return inert(data)
    if isinstance(data, str):
        return string_template(data, scope)
    if isinstance(data, dict) and len(data) == 1 and is_function_key(next(iter(data))):
        return whole_string(*expression(data, scope))
    if isinstance(data, list):
        return [value(item, scope) for item in data]
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if has_code(k):
                raise Unsupported("a reference in a mapping key")
            # A key stays a key: plain words as they are, anything else tagged (quoted where YAML would retype it).
            out[str(k) if _plain(k) else TemplateText(k)] = value(v, scope)
        return out
    return inert(data)


# ------------------------------------------------------------------------------------------------
# coverage

def _check_task(task: dict, index: int, tasks: list):
    key = str(task.get("Action", "")).lower()
    if key not in SIMPLE_ACTIONS and key not in NATIVE_ACTIONS and key not in OTHER_ACTIONS:
        raise Unsupported(f"the action {task.get('Action')}")
    if key in ("acs::approve", "acs::notify") and (task.get("Outputs") or task.get("OnError")):
        raise Unsupported(f"{task['Action']} with Outputs or OnError")
    if key in TRIGGERS and task.get("OnError"):
        raise Unsupported(f"{task['Action']} with OnError")
    if key in ("acs::approve", "acs::notify") and not isinstance((task.get("Properties") or {}).get("WebHook"), dict):
        raise Unsupported(f"{task['Action']} without a WebHook")
    extra = set(task) - TASK_KEYS - ({"Loop"} if natural_loops.check(task) else set())
    if extra:
        raise Unsupported(f"task keys {', '.join(sorted(extra))}")
    if key == "acs::selecttargets":
        resource = (task.get("Properties") or {}).get("ResourceType", "ALIYUN::ECS::Instance")
        # A computed type is checked when the run lists the targets (oos_target_requests), as OOS
        # does; a written type without a listing is one OOS runs (delegated_tasks).
        if not has_code(resource) and not (isinstance(resource, str) and resource.lower() in SELECT_TARGET_RESOURCES):
            raise Unsupported("SelectTargets of an unknown ResourceType")
    if key == "acs::choice":
        if set(task) - {"Name", "Action", "Description", "Properties", "OnError"}:
            raise Unsupported("a Choice with When, Outputs or OnSuccess")
        return
    if key in NATIVE_ACTIONS and actions.unmapped_properties(key, task.get("Properties") or {}):
        raise Unsupported("a property the native module does not take")
    if key in ("acs::executeapi", "acs::waitfor", "acs::checkfor"):
        props = task.get("Properties") or {}
        for name in ("Service", "API"):
            if not isinstance(props.get(name), str) or has_code(props.get(name)):
                raise Unsupported(f"a computed {name}")
        if unresolvable_service(props.get("Service")):
            raise Unsupported("a service the client layer cannot resolve")
    for name in ("Retries", "Delay", "DelayType", "BackOff", "MaxRetryInterval"):
        if name in task and has_code(task[name]):
            raise Unsupported(f"a computed {name}")


def delegated_tasks(template: dict, options, delegation_reason=None) -> frozenset:
    """Lower-cased names of the tasks OOS runs for the playbook (``generator.TemplateCheck.delegation_reason``)."""
    if delegation_reason is None:
        from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import TemplateCheck
        delegation_reason = TemplateCheck(template, options).delegation_reason
    return frozenset(str(task["Name"]).lower() for task in template["Tasks"]
                     if delegation_reason(str(task.get("Action", "")).lower(), task))


def _check_delegated(task: dict):
    """A task OOS runs: any action, with its own Loop (OOS runs the loop with its RateControl)."""
    extra = set(task) - TASK_KEYS - {"Loop"}
    if extra:
        raise Unsupported(f"task keys {', '.join(sorted(extra))}")
    for name in ("Retries", "Delay", "DelayType", "BackOff", "MaxRetryInterval"):
        if name in task and has_code(task[name]):
            raise Unsupported(f"a computed {name}")


def check_tasks(tasks: list, delegated: frozenset, options, nested: bool = False) -> None:
    """Unsupported for the first task of ``tasks`` (a template's, or a nested one's: ``nested``) this module does
    not write."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_nested
    for index, task in enumerate(tasks):
        with _arising_in(None if nested else task):
            if str(task["Name"]).lower() in delegated:
                _check_delegated(task)
            elif natural_nested.is_nested(task, options):
                natural_nested.check_call(task, nested)
            else:
                _check_task(task, index, tasks)


@contextlib.contextmanager
def _arising_in(task):
    """Names ``task`` (a template's own task; None inside a nested one) in an Unsupported raised within."""
    try:
        yield
    except Unsupported as gap:
        if task is not None and gap.task is None:
            gap.task = str(task["Name"])
        raise


def inventory_bound(options) -> bool:
    """Whether static ECS SelectTargets are the inventory hosts (``hosts=``), not an API listing."""
    return options.select_targets == "inventory" or (options.select_targets == "auto" and bool(options.hosts))


@dataclasses.dataclass
class Written:
    plays: list
    handed_over: dict   # {task name: the construct this module does not write}: OOS runs these tasks


def build(template: dict, options, delegation_reason=None) -> Written:
    """The plays of ``template``. A task holding a construct this module does not write is handed to OOS (it runs
    that one task for the playbook, as it runs it); Unsupported for one in the template's Parameters or Outputs, or
    in a task OOS cannot be handed. ``delegation_reason(action key, task)``: ``generator.TemplateCheck``'s (a new one
    when not given)."""
    delegated = delegated_tasks(template, options, delegation_reason)
    handed_over = {}
    while True:
        try:
            check_tasks(template["Tasks"], delegated, options)
            plays = build_plays(template, options, delegated)
            if _holds_tagged_collection(plays):
                # The plays run on ansible-core 2.16 without a version check: no !unsafe mapping or list in them.
                raise Unsupported("template data as one !unsafe mapping or list (empty on ansible-core 2.16)")
            return Written(plays, handed_over)
        except Unsupported as gap:
            task = next((t for t in template["Tasks"] if str(t["Name"]) == gap.task), None) if gap.task else None
            if task is None or gap.task.lower() in delegated or not _may_hand_over(task) or isinstance(gap, RefusedByOos):
                raise
            handed_over[gap.task] = str(gap) or "a construct"
            delegated = delegated | {gap.task.lower()}


def _may_hand_over(task: dict) -> bool:
    """Whether OOS can run ``task`` alone for the playbook: not a Choice (its jump is the playbook's) nor a trigger
    (what starts the execution)."""
    key = str(task.get("Action", "")).lower()
    return key != "acs::choice" and key not in TRIGGERS


def try_build(template: dict, options, delegation_reason=None):
    """The plays when this module writes every task of the template (none handed to OOS for a construct it does
    not write), else (as text) the first construct it does not write. For tests and coverage reports."""
    try:
        written = build(template, options, delegation_reason)
    except Unsupported as gap:
        return str(gap) or "a construct"
    if written.handed_over:
        return next(iter(written.handed_over.values()))
    return written.plays


def _holds_tagged_collection(node) -> bool:
    if isinstance(node, (TemplateMap, TemplateList)):
        return True
    if isinstance(node, dict):
        return any(_holds_tagged_collection(value) for value in node.values())
    if isinstance(node, list):
        return any(_holds_tagged_collection(item) for item in node)
    return False


# ------------------------------------------------------------------------------------------------
# tasks

def task_title(task: dict) -> str:
    description = loader.localized(task.get("Description"))
    return display_name(task["Name"] + (f" | {description}" if description else ""), 120)


def _api_args(props: dict, scope: Scope) -> dict:
    args = {"service": inert(props["Service"]), "api": inert(props["API"])}
    if props.get("Parameters") is not None:
        args["parameters"] = value(props["Parameters"], scope)
    for key, name in (("Method", "method"), ("AutoPaging", "auto_paging"), ("URI", "uri"), ("Body", "body"),
                      ("Headers", "headers")):
        if props.get(key) is not None:
            args[name] = value(props[key], scope)
    if "uri" in args and "parameters" not in args:
        args["parameters"] = {}   # ROA style: the path, Body and Headers make the request
    return args


def _wait_args(task: dict, scope: Scope, single_check: bool) -> dict:
    props = task.get("Properties") or {}
    spec = {"property_selector": value(props.get("PropertySelector"), scope)}
    if "DesiredValues" in props:
        spec["desired_values"] = value(props["DesiredValues"], scope)
    stops = [k for k in ("NotDesiredValues", "StopRetryValues") if props.get(k) is not None]
    if single_check and len(stops) == 2:
        # One check cannot "stop retrying": a StopRetryValue fails it, as a not-desired value does.
        spec["not_desired_values"] = value(list(props["NotDesiredValues"]) + list(props["StopRetryValues"]), scope)
    elif single_check and stops:
        spec["not_desired_values"] = value(props[stops[0]], scope)
    else:
        if props.get("NotDesiredValues") is not None:
            spec["not_desired_values"] = value(props["NotDesiredValues"], scope)
        if props.get("StopRetryValues") is not None:
            spec["stop_retry_values"] = value(props["StopRetryValues"], scope)
        for key, name in (("Retries", "retries"), ("Delay", "delay"), ("DelayType", "delay_type"),
                          ("BackOff", "backoff"), ("MaxRetryInterval", "max_retry_interval")):
            if key in task:
                spec[name] = inert(task[key])
    return spec


def action_task(task: dict, scope: Scope, register: str) -> tuple:
    """(the module task without name/when, the Jinja expression of the document its Outputs select from)."""
    key = task["Action"].lower()
    props = task.get("Properties") or {}
    if task["Name"].lower() in scope.delegated:
        # --check starts nothing, so no outputs: none of each (an empty List), as a call not sent gives; a Loop's
        # aggregate of no item (an empty list, or a sum of 0).
        looped = task["Loop"].get("Outputs") if isinstance(task.get("Loop"), dict) else None
        names = looped or task.get("Outputs") or {}
        empty = "{" + ", ".join(
            f"{scope.quote(name)}: " + (("0" if str((spec or {}).get("AggregateType", "")).lower() == "fn::sum" else "[]")
                                        if looped else "[]" if str((spec or {}).get("Type", "")).lower() == "list" else "none")
            for name, spec in names.items()) + "}"
        return delegated_call(task, scope), f"{register}.outputs | default({empty})"
    if key == "acs::executeapi":
        return {F + "oos_execute_api": _api_args(props, scope)}, f"{register}.response"
    if key in ("acs::waitfor", "acs::checkfor"):
        args = _api_args(props, scope)
        args["wait_for" if key == "acs::waitfor" else "check_for"] = _wait_args(task, scope, key == "acs::checkfor")
        return {F + "oos_execute_api": args}, f"{register}.response"
    if key == "acs::sleep":
        duration = props.get("Duration")
        if has_code(duration) or (duration in (None, "") and props.get("EndDate") not in (None, "")):
            # A Duration computed by the run (Fn::DurationBetween, a parameter), or an EndDate: counted when the
            # task starts, as OOS counts it.
            seconds = (f"{_bare(expression(duration, scope)[0])} | {F}oos_duration_seconds" if has_code(duration)
                       else f"{expression({'EndDate': props['EndDate']}, scope)[0]} | {F}oos_sleep_seconds")
            return {"ansible.builtin.pause": {"seconds": expr(seconds)}}, "{}"
        try:
            seconds = runtime.iso8601_seconds(duration)
        except runtime.OosRuntimeError as error:
            raise Unsupported(str(error)) from None
        return {"ansible.builtin.pause": {"seconds": int(seconds) if float(seconds).is_integer() else seconds}}, "{}"
    if key == "acs::pause":
        # The operator resumes it: -e oos_pause_decision=resume, or resume typed at the prompt (asked only without
        # a decision given); no terminal and no decision cancels the execution (pause_refusal).
        prompt = f"OOS task {task['Name']} paused: type resume to go on (anything else cancels the execution)"
        return {"ansible.builtin.pause": {"prompt": prompt},
                "when": Code(f"({_pause_decision(task, scope)}) == ''")}, "{}"
    if key == "acs::approve":
        hook = props.get("WebHook") if isinstance(props.get("WebHook"), dict) else {}
        approval = {"oos_approval_name": inert(task["Name"]),
                    "oos_approval_webhook_url": value(hook.get("URI", ""), scope),
                    "oos_approval_webhook_headers": value(hook.get("Headers") or {}, scope),
                    # Only the listed RAM users may approve, and MinRequiredApprovals of them must (the role checks).
                    "oos_approval_approvers": (expr(f"{expression(props['Approvers'], scope)[0]} | {F}oos_approvers")
                                               if props.get("Approvers") else []),
                    "oos_approval_min_approvals": value(props.get("MinRequiredApprovals", 1), scope),
                    "oos_approval_on_reject": "fail"}
        if "Content" in hook:
            approval["oos_approval_webhook_body"] = value(hook["Content"], scope)
        return {"ansible.builtin.include_role": {"name": "alicloud.oos.oos_approval"}, "vars": approval}, "{}"
    if key == "acs::notify":
        hook = props.get("WebHook") if isinstance(props.get("WebHook"), dict) else {}
        content = hook.get("Content", {})
        request = {"url": value(hook.get("URI"), scope), "method": "POST",
                   "headers": value(hook.get("Headers") or {}, scope),
                   "body_format": "json" if isinstance(content, (dict, list)) else "raw",
                   "body": value(content, scope), "status_code": [200, 201, 202, 204]}
        return {"ansible.builtin.uri": request}, "{}"
    if key in TRIGGERS:
        # The playbook runs the body once; the trigger's Outputs select from the event it is given (-e
        # oos_trigger_event, or oos_trigger_event_file read as data).
        note = f"{expression(props, scope)[0]} | {F}oos_trigger_note({scope.quote(actions.TRIGGER_KINDS[key])})"
        event = f"oos_trigger_event | default({actions.data_file('oos_trigger_event_file', inner=True)})"
        return {"ansible.builtin.debug": {"msg": expr(note)}}, event
    if key == "acs::selecttargets" and inventory_bound(scope.options) and str(
            props.get("ResourceType", "ALIYUN::ECS::Instance")).lower() == "aliyun::ecs::instance":
        # The operator's inventory hosts are the targets (collected by the first play, inventory_play).
        return {"ansible.builtin.debug": {"msg": expr(
            "oos_inventory_targets.Instances.Instance | map(attribute='InstanceId') | list")}}, "oos_inventory_targets"
    if key == "acs::selecttargets":
        # One request per product API the filters need (oos_target_requests), merged into OOS's document.
        request = {F + "oos_execute_api": {
            "service": expr("oos_request.service"), "version": expr("oos_request.version | default(omit, true)"),
            "api": expr("oos_request.api"), "parameters": expr("oos_request.parameters"), "auto_paging": True},
            "loop": expr(f"{expression(props, scope)[0]} | {F}oos_target_requests"),
            "loop_control": {"loop_var": "oos_request"}}
        return request, f"({register}.results | {F}oos_merge_instances)"
    if key == "acs::ecs::runinstances":
        # The action's request (camelCase properties as the API's parameters, a period only for PrePaid, tags as
        # Tag.N), then run_instances_wait; its Outputs select from {'instanceIds': [...]}: under --check no instance
        # was launched, so none (an empty list, which later loops run over as over no items).
        call = {"service": "ECS", "api": "RunInstances",
                "parameters": expr(f"{expression(props, scope)[0]} | {F}oos_run_instances_request")}
        if "regionId" in props:
            call["region"] = value(props["regionId"], scope)
        return {F + "oos_execute_api": call}, f"{{'instanceIds': {_run_instance_ids(register)} | default([])}}"
    args = {}
    if natural_loops.batched(task):
        loop = task["Loop"]
        items = expression(loop["Items"], scope)[0]
        args["instance_ids"] = expr(items)
        args["rate_control"] = (value(loop["RateControl"], scope) if "RateControl" in loop     # (the module refuses
                                else plain(rate_control_from_loop({}).to_dict()))           # a pause between batches)
        args["when"] = Code(f"({items}) | length > 0")   # OOS runs a loop over no items; the modules refuse none
    elif "instanceId" in props:
        args["instance_id"] = value(props["instanceId"], scope)
    if "regionId" in props:
        args["region"] = value(props["regionId"], scope)
    if key in POWER_STATES:
        args["state"] = POWER_STATES[key]
        if "forceStop" in props:
            args["force"] = value(props["forceStop"], scope)
        if key == "acs::ecs::stopinstance" and "stoppedMode" in props:
            args["stopped_mode"] = value(props["stoppedMode"], scope)
        return {F + "oos_instance": args}, "{}"
    if key == "acs::ecs::runcommand":
        args["command_content"] = value(props.get("commandContent"), scope)
        args["command_type"] = value(props.get("commandType", "RunShellScript"), scope)
        for prop_name, name in (("workingDir", "working_dir"), ("timeout", "timeout"), ("username", "username"),
                                ("enableParameter", "enable_parameter"), ("windowsPasswordName", "windows_password_name"),
                                ("parameters", "parameters")):
            if prop_name in props:
                args[name] = value(props[prop_name], scope)
        # The action's defaults where the module's differ: ACS::ECS::RunCommand waits 600 s (the module 60) and
        # leaves enableParameter off (the module turns it on for a script holding {{ACS::...}}).
        args.setdefault("timeout", 600)
        args.setdefault("enable_parameter", False)
        return {F + "oos_run_command": args}, f"({register} | {F}oos_command_documents)[0]"
    if key == "acs::ecs::createimage":
        args["image_name"] = value(props.get("imageName"), scope)
        for prop_name, name in (("imageDescription", "description"), ("imageFamily", "image_family")):
            if prop_name in props:
                args[name] = value(props[prop_name], scope)
        if "tags" in props:
            tags_text, _kind = expression(props["tags"], scope)
            args["tags"] = expr(f"{tags_text} | {F}oos_tags_dict")
        return {F + "oos_create_image": args}, f"{{'imageId': {register}.image_id}}"
    if key == "acs::ecs::deleteinstance":
        # Without Force, as the action: ECS refuses an instance that is not Stopped (the action checks it first).
        call = {"service": "ECS", "api": "DeleteInstance", "parameters": {"InstanceId": args.pop("instance_id", None)}}
        call.update(args)
        return {F + "oos_execute_api": call}, "{}"
    raise Unsupported(f"the action {task['Action']}")


def _pause_decision(task: dict, scope: Scope) -> str:
    return f"oos_pause_decision | default('') | {F}oos_pause_decision({scope.quote(task['Name'])})"


def pause_refusal(task: dict, scope: Scope, register: str, title: str) -> dict:
    """After an ACS::Pause: the execution goes on only on an explicit resume, else it is cancelled, as OOS cancels a
    paused execution nobody resumes."""
    refusal = (f"oos_pause_decision | default('') | {F}oos_pause_refusal({scope.quote(task['Name'])}, "
               f"{register}.user_input | default(''))")
    return {"name": title.split(" | ", maxsplit=1)[0] + " | cancel the execution unless resumed",
            "ansible.builtin.fail": {"msg": expr(refusal)},
            "when": Code(f"({refusal}) != ''")}


def _run_instance_ids(register: str) -> str:
    return f"{register}.response.InstanceIdSets.InstanceIdSet"


def run_instances_wait(task: dict, scope: Scope, register: str, title: str) -> dict:
    """ACS::ECS::RunInstances returns when the instances it created are Running (every 2 s, at
    most 120 times). Under --check nothing was created and nothing is waited for."""
    props = task.get("Properties") or {}
    call = {"service": "ECS", "api": "DescribeInstances",
            "parameters": expr(f"{{'InstanceIds': {_run_instance_ids(register)} | default([]) | to_json}}"),
            "wait_for": {"property_selector": ".Instances.Instance[].Status", "desired_values": ["Running"],
                         "retries": 120, "delay": 2, "delay_type": "Constant"}}
    if "regionId" in props:
        call["region"] = value(props["regionId"], scope)
    return {"name": title.split(" | ", maxsplit=1)[0] + " | wait until the instances are running",
            F + "oos_execute_api": call}


def delegated_call(task: dict, scope: Scope) -> dict:
    """One ``oos_execution`` of the one-task template OOS runs for ``task`` (:mod:`delegation`): the template
    written out, the values it reads from this run passed as its parameters."""
    def resolve(reference):
        lowered = reference.lower()
        if "::" not in reference and "." not in reference and lowered not in scope.parameters:
            if lowered in scope.tasks:
                return scope.tasks[lowered][0], "Json"     # {{ task }}: all its outputs
            raise delegation.NotAValue(reference)         # a Cloud Assistant {{ param }}: as written
        return scope.reference(reference)

    keep_when = _when_for_oos(task, scope)
    if keep_when and not delegation.when_reads_the_item(task) and (
            task.get("Outputs") or isinstance(task.get("Loop"), dict) and task["Loop"].get("Outputs")):
        # The one-task template's Outputs read the task: OOS fails them when its When skips it.
        raise Unsupported("a When the playbook cannot write, on a task with Outputs")
    template, values, secret = delegation.one_task_template(
        task, resolve, lambda value: value[1] or "String", delegation.secret_sources(scope.template.get("Parameters")),
        scope.template.get("RamRole") or "", keep_when=keep_when)
    scope.pseudo_used.add("acs::executionid")
    digest = hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:8]
    if possibly_template(json.dumps(template)):
        # Its {{ references }} read as Jinja to ansible-lint in a task (never in play variables): the template
        # waits in the play variable oos_delegated_templates, next to the other template text.
        scope.delegated_templates[task["Name"]] = template
        content = expr(f"oos_delegated_templates{_key(task['Name'], scope)}")
    else:
        content = data_tree(template)
    parameters = {name: whole_string(*value) for name, value in values.items()}
    rate = task["Loop"].get("RateControl") if isinstance(task.get("Loop"), dict) else None
    whole = runtime.WHOLE_REFERENCE.match(rate.strip()) if isinstance(rate, str) else None
    if whole and whole.group(1) in parameters:
        # A rate control the run gives is refused before OOS starts when it asks for a pause between batches, as the
        # converted loops refuse it (a written pause gets the answer instead: _may_wait_for_approval).
        parameters[whole.group(1)] = expr(f"{_bare(values[whole.group(1)][0])} | {F}oos_unpaused_rate_control")
    call = {"template_content": content,
            "parameters": parameters,
            # This run, this task and what OOS is given: a retry returns the same execution, a new run starts its own.
            "client_token": expr(f"'alicloud-oos-delegated-' ~ (oos_execution_id ~ "
                                 f"{scope.quote('-' + task['Name'] + '-' + digest)}) | hash('sha1')"),
            "cancel_on_interrupt": True}
    if _may_wait_for_approval(task, scope):
        call["wait_until"] = "waiting"   # answered by the next task (approval_task)
    if secret:
        call["secret_parameters"] = secret
    return {F + "oos_execution": call}


def _when_for_oos(task: dict, scope: Scope) -> bool:
    """Whether OOS reads the When of a task it runs for the playbook: one that reads the loop item, or one the
    playbook cannot write (a Parameter Store reference ...)."""
    if "When" not in task or delegation.when_reads_the_item(task):
        return "When" in task
    try:
        condition(task["When"], scope)
    except Unsupported:
        return True
    return False


_PRODUCT_ACTION = re.compile(r"ACS::[A-Za-z0-9_\-]+::[A-Za-z0-9_\-]+", re.IGNORECASE)


def _may_wait_for_approval(task: dict, scope: Scope) -> bool:
    return delegation.may_wait_for_approval(task, _definitions_text(str(task.get("Action", "")).lower(), scope.options))


def _definitions_text(key: str, options) -> str | None:
    """The text of the definition of product action ``key`` (local, or the converter's own) and of every product
    action it calls, transitively (a Pause two definitions down still makes OOS wait); None without a definition."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.generator import action_index
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template.product_actions import DEFINITIONS
    local = action_index(options.action_templates_path)
    texts, pending, seen = [], [key], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        text = _definition_text(local[name]) if name in local else DEFINITIONS.get(name)
        if text is not None:
            texts.append(text)
            pending.extend(match.lower() for match in _PRODUCT_ACTION.findall(text))
    return "\n".join(texts) if texts else None


@functools.lru_cache(maxsize=256)
def _definition_text(path: str) -> str:
    """A local action definition's text (read once: each delegated task asks twice, for its call and its OnError)."""
    with open(path, encoding="utf-8") as definition:
        return definition.read()


def approval_task(title: str, task: dict, register: str, call: dict) -> dict:
    """The approval a task OOS runs may wait for (an ACS::Approve in it), decided as a native one is."""
    answer = {"oos_execution_approval_execution": expr(register),
              "oos_execution_approval_name": inert(task["Name"]),
              "oos_execution_approval_register": register}
    if call.get("secret_parameters"):
        answer["oos_execution_approval_secret_parameters"] = call["secret_parameters"]
    return {"name": title.split(" | ", maxsplit=1)[0] + " | answer the approval OOS waits for",
            "ansible.builtin.include_role": {"name": "alicloud.oos.oos_execution_approval"}, "vars": answer,
            "when": Code(f"{register}.status | default('') == 'Waiting'")}


def outputs_task(task: dict, scope: Scope, document: str, fact: str, title: str) -> dict:
    entries = []
    for name, spec in (task.get("Outputs") or {}).items():
        spec = spec or {}
        kind = spec.get("Type", "String")
        if "ValueSelector" in spec:
            selector = spec["ValueSelector"]
            if isinstance(selector, dict) and len(selector) == 1 and is_function_key(next(iter(selector))):
                # A function computes the jq program, as text (as runtime.select_value reads it).
                selector_text = f"(({expression(selector, scope)[0]}) | string)"
            elif isinstance(selector, str):
                selector_text, _kind = string_expression(selector, scope)
            else:
                raise Unsupported("a ValueSelector that is not text or a function")
            entries.append(f"{scope.quote(name)}: {document} | {F}jq({selector_text}, {scope.quote(kind)})")
        elif "Value" in spec:
            entries.append(f"{scope.quote(name)}: {typed(spec['Value'], kind, scope)}")
        else:
            raise Unsupported("an output without ValueSelector or Value")
    return {"name": display_name_outputs(title), "ansible.builtin.set_fact": {fact: expr("{" + ", ".join(entries) + "}")}}


def display_name_outputs(title: str) -> str:
    return title.split(" | ")[0] + " | outputs"


def typed(data, kind: str, scope: Scope) -> str:
    """A Value as an output of Type ``kind`` (the collection's coercion only where the types differ)."""
    text, found = expression(data, scope)
    if found == kind and (kind == "String" or not scope.is_parameter(text)):
        return text   # task outputs are typed already; parameters given with -e may be text
    return f"({text}) | {F}oos_output({scope.quote(kind)})"


# ------------------------------------------------------------------------------------------------
# the play

def parameter_vars(template: dict, options, scope: Scope) -> dict:
    variables = {}
    for name, spec in (template.get("Parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        variable = scope.aliases[str(name)]
        given = variable_for(str(name))
        baked = name in (options.parameters or {})
        if variable == given:
            if baked:
                variables[variable] = data_tree(options.parameters[name])   # baked values are data, whatever they hold
            elif "Default" in spec:
                variables[variable] = value(spec["Default"], scope)
            continue
        # Read under its OOS name (-e targetImageName=..., the survey), else its Default.
        computed = not baked and "Default" in spec and has_code(spec["Default"])
        if baked:
            fallback = data_expression(options.parameters[name], scope)
        elif "Default" in spec:
            fallback = expression(spec["Default"], scope)[0] if computed else data_expression(spec["Default"], scope)
        else:
            fallback = None
        # A computed Default ({{ ACS::RegionId }}) also replaces an empty answer: the survey cannot show it.
        variables[variable] = whole_string(given if fallback is None else
                                           f"{given} | default({fallback}{', true' if computed else ''})",
                                           spec.get("Type", "String"))
    return variables


def data_expression(data, scope: Scope) -> str:
    """Template data as a Jinja literal (its text quoted, never read for references)."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if data is None:
        return "none"
    if isinstance(data, (int, float)):
        return repr(data)
    if isinstance(data, list):
        return "[" + ", ".join(data_expression(item, scope) for item in data) + "]"
    if isinstance(data, dict):
        return "{" + ", ".join(f"{scope.quote(k)}: {data_expression(v, scope)}" for k, v in data.items()) + "}"
    return scope.quote(data)


def check_task(template: dict, scope: Scope, play_vars: dict | None = None) -> dict:
    """The parameter check of ``template``. With ``play_vars``, the specs it checks against go there (the play's
    ``oos_parameter_specs``, beside the parameters): data in a task is copied by ansible-lint once per rule."""
    specs = parameters.runtime_specs(template.get("Parameters"))
    for spec in specs.values():
        if "Default" in spec and possibly_template(parameters.default_text(spec["Default"])):
            # A computed Default (hello {{ ACS::RegionId }}) is the play variable's value: the check only needs to
            # know there is one.
            spec["Default"] = None
    values = ", ".join(f"{scope.quote(name)}: {scope.aliases[str(name)]} | default(none)"
                       for name in template.get("Parameters") or {})
    pseudo = ", ".join(f"{scope.quote(name)}: {runtime.PSEUDO_SOURCES[name][0]} | default('')"
                       for name in sorted(scope.pseudo_used) if name in runtime.PSEUDO_SOURCES)
    checked = {
        "name": "Check the template parameters",
        "ansible.builtin.assert": {
            "that": [Code("oos_parameter_problems | length == 0")],
            "fail_msg": expr("oos_parameter_problems | join('; ')"),
            "quiet": True,
        },
        "vars": {
            # Type, AllowedValues, AllowedPattern, MinLength/MaxLength, MinValue/MaxValue of each parameter.
            "oos_parameter_specs": data_tree(specs),
            "oos_parameter_problems": expr(f"{{{values}}} | {F}oos_parameter_problems(oos_parameter_specs, {{{pseudo}}})"),
        },
    }
    if play_vars is not None:
        play_vars["oos_parameter_specs"] = checked["vars"].pop("oos_parameter_specs")
    return checked


def _target(value, names: dict, following):
    """OnSuccess / OnError / NextTask -> a task index, None for ACS::END, 'next' for ACS::NEXT."""
    text = str(value).strip()
    if text.upper() == "ACS::NEXT":
        return following
    if text.upper() == "ACS::END":
        return None
    return names[text.lower()]


def plan_flow(template: dict, scope: Scope) -> tuple:
    """(edges, branches, ignored) of the template's flow (see :mod:`flow`); Unsupported for what it cannot write."""
    tasks = template["Tasks"]
    names = {t["Name"].lower(): i for i, t in enumerate(tasks)}
    edges, branches, ignored = {}, {}, set()
    for index, task in enumerate(tasks):
        following = index + 1 if index + 1 < len(tasks) else None
        success = _target(task["OnSuccess"], names, following) if task.get("OnSuccess") is not None else following
        if str(task.get("Action", "")).lower() == "acs::choice":
            props = task.get("Properties") or {}
            choices = [(c.get("When"), _target(c.get("NextTask", "ACS::NEXT"), names, following))
                       for c in props.get("Choices") or []]
            default = _target(props.get("DefaultTask", "ACS::NEXT"), names, following)
            outcomes = []
            for _when, target in choices + [(None, default)]:
                label = flow.END if target is None else tasks[target]["Name"]
                if label not in outcomes:
                    outcomes.append(label)
            fact = scope.invent(fact_name(task["Name"]) + "_next")
            branches[index] = flow.Branch(fact, tuple(outcomes), "choice")
            edges[index] = [(target, (index, tasks[target]["Name"])) for target in {t for _w, t in choices + [(None, default)]}
                            if target is not None]
            continue
        on_error = task.get("OnError")
        error_text = str(on_error).strip().upper() if on_error is not None else "ACS::END"
        if error_text == "ACS::END":
            edges[index] = [(success, None)]
        elif error_text == "ACS::NEXT":
            ignored.add(index)
            edges[index] = [(success, None)]
        else:
            failure = _target(on_error, names, following)
            branches[index] = flow.Branch(scope.invent(fact_name(task["Name"]) + "_failed"), ("ok", "failed"), "error")
            edges[index] = [(success, (index, "ok")), (failure, (index, "failed"))]
    return edges, branches, ignored


def choice_task(task: dict, scope: Scope, branch: flow.Branch, tasks: list, following) -> dict:
    props = task.get("Properties") or {}
    names = {t["Name"].lower(): i for i, t in enumerate(tasks)}
    tasks_by_index = {i: t["Name"] for i, t in enumerate(tasks)}
    default = _target(props.get("DefaultTask", "ACS::NEXT"), names, following)
    # The first Choice whose When holds, else DefaultTask: 'a' if ... else ('b' if ... else 'default').
    text = scope.quote(flow.END if default is None else tasks_by_index[default])
    for number, choice in enumerate(reversed(props.get("Choices") or [])):
        target = _target(choice.get("NextTask", "ACS::NEXT"), names, following)
        label = flow.END if target is None else tasks_by_index[target]
        text = f"{scope.quote(label)} if {condition(choice.get('When'), scope)} else {text if number == 0 else '(' + text + ')'}"
    if len(branch.fact) + len(text) > 90:
        # One choice per line (Jinja reads the line breaks inside {{ }} as spaces): no line past the lint limit.
        text = text.replace(" else ", "\n   else ")
    return {"name": task_title(task).split(" | ", maxsplit=1)[0] + " | choose the next task",
            "ansible.builtin.set_fact": {branch.fact: expr(text)}}


def task_units(task: dict, scope: Scope) -> list:
    """The Ansible tasks of one OOS task: the module call, its loop check, its outputs."""
    title = task_title(task)
    looped_outputs = isinstance(task.get("Loop"), dict) and bool(task["Loop"].get("Outputs"))
    fact = scope.add_task(task) if (task.get("Outputs") and not task.get("Loop")) or looped_outputs else None
    register = scope.invent((fact or fact_name(task["Name"])) + "_result")
    delegated = task["Name"].lower() in scope.delegated
    scope.loop_item = "item" if natural_loops.looped_call(task) and not delegated else None
    module, document = action_task(task, scope, register)
    scope.loop_item = None
    if task["Action"].lower() in TRIGGERS:
        title = title.split(" | ", maxsplit=1)[0] + " | " + TRIGGER_TITLES[task["Action"].lower()]
    if delegated:
        title += " | OOS runs it"
    elif "oos_inventory_targets" == document:
        title += " | use the inventory hosts as targets"
    step = {"name": title}
    step.update(module)
    for arguments in module.values():
        if isinstance(arguments, dict) and "when" in arguments:
            step["when"] = arguments.pop("when")
    run_instances = task["Action"].lower() == "acs::ecs::runinstances" and not delegated
    pause = task["Action"].lower() == "acs::pause" and not delegated   # (OOS pauses a task it runs: answered below)
    if (fact or delegated or run_instances) and "ansible.builtin.pause" not in module or pause:
        step["register"] = register
    # A When that reads the loop item goes to OOS with the task (delegated): OOS decides what it means.
    when = condition(task["When"], scope) if "When" in task and not (
        delegation.when_reads_the_item(task) or delegated and _when_for_oos(task, scope)) else None
    if when:
        step["when"] = [Code(when)] + ([step["when"]] if "when" in step else [])
    units = [step]
    if run_instances or pause:
        units.append(run_instances_wait(task, scope, register, title) if run_instances else
                     pause_refusal(task, scope, register, title))
        if when:
            units[-1]["when"] = [Code(when), units[-1]["when"]] if pause else Code(when)
    if delegated and module[F + "oos_execution"].get("wait_until") == "waiting":
        units.append(approval_task(title, task, register, module[F + "oos_execution"]))
    if natural_loops.looped_call(task) and not delegated:
        natural_loops.loop_tasks(task, scope, step, register)
    if fact:
        if delegated:   # the execution's outputs are the task's (or its Loop.Outputs), typed by OOS
            record = {"name": display_name_outputs(title), "ansible.builtin.set_fact": {fact: expr(document)}}
        else:
            record = (natural_loops.outputs_task(task, scope, register, fact, title) if looped_outputs
                      else outputs_task(task, scope, document, fact, title))
        if when:
            record["when"] = Code(when)
        units.append(record)
    return units


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _jinja_names(node) -> set:
    """The names the converter's Jinja in ``node`` reads (its own Jinja only: template data is never read)."""
    if isinstance(node, Code):
        return set(_NAME.findall(node))
    if isinstance(node, dict):
        return set().union(*(_jinja_names(k) | _jinja_names(v) for k, v in node.items()))
    if isinstance(node, list):
        return set().union(*(_jinja_names(item) for item in node)) if node else set()
    return set()


def give_secret_values(task: dict, secret_values: Code) -> None:
    """``secret_values`` on the collection module a task calls."""
    for key, arguments in task.items():
        if key.startswith(F) and isinstance(arguments, dict):
            arguments["secret_values"] = secret_values


def hide_secrets(tasks: list, tainted: set, secret_values: Code) -> None:
    """``no_log`` on every task that reads a secret value, or a value computed from one (a fact, a registered
    result), in the order the tasks run: at -v Ansible prints what a task returns and the facts it sets. The
    collection's modules among them are given the secret values to mask in their failure message, which
    ansible-core 2.19 prints even under no_log (``secret_values``)."""
    for task in tasks:
        if "block" in task:   # an OnError task's block: the tasks inside read what they read
            # a nested template's parameters (block vars) are secret when their value reads a secret
            tainted.update(str(name) for name, data in (task.get("vars") or {}).items() if _jinja_names(data) & tainted)
            hide_secrets(task["block"], tainted, secret_values)
            hide_secrets(task.get("rescue") or [], tainted, secret_values)
            continue
        if not _jinja_names(task) & tainted:
            continue
        task["no_log"] = True
        give_secret_values(task, secret_values)
        if (task.get("ansible.builtin.include_role") or {}).get("name") == natural_loops.ROLE:
            call = "oos_loop_item_command" if "oos_loop_item_command" in task["vars"] else "oos_loop_item_call"
            task["vars"][call]["secret_values"] = secret_values
            task["vars"]["oos_loop_item_no_log"] = True   # no_log on the include is not its tasks'

        tainted.update(str(name) for name in (task.get("ansible.builtin.set_fact") or {}))
        if "register" in task:
            tainted.add(task["register"])


def _cancellable(task: dict, scope: Scope) -> bool:
    """Whether a rejected approval or a pause nobody resumed can end ``task`` (an approval, a pause, a nested template,
    a task OOS runs that may wait for an approval): OOS then cancels the execution, whatever its OnError."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_nested
    key = str(task.get("Action", "")).lower()
    if str(task["Name"]).lower() in scope.delegated:
        return _may_wait_for_approval(task, scope)
    return key in ("acs::approve", "acs::pause") or natural_nested.is_nested(task, scope.options)


def flow_tasks(template: dict, scope: Scope) -> list:
    """The Ansible tasks of a template's Tasks (its own or a nested one's), with their flow: ``when:`` of the paths
    that reach each, OnError blocks, and a last ``fail`` when an OnError path ran."""
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_loop_play, natural_nested
    edges, branches, ignored = plan_flow(template, scope)
    reach = flow.conditions(edges, len(template["Tasks"]), branches)
    tasks = []
    for index, task in enumerate(template["Tasks"]):
        following = index + 1 if index + 1 < len(template["Tasks"]) else None
        with _arising_in(None if hasattr(scope, "root") else task):   # (a nested template's scope has a root)
            if str(task.get("Action", "")).lower() == "acs::choice":
                units = [choice_task(task, scope, branches[index], template["Tasks"], following)]
            elif str(task["Name"]).lower() not in scope.delegated and natural_nested.is_nested(task, scope.options):
                looped = task.get("Loop") and not hasattr(scope, "root")   # (check_tasks refuses one in a child)
                units = natural_loop_play.loop_units(task, scope) if looped else natural_nested.nested_units(task, scope)
            else:
                units = task_units(task, scope)
        reached = flow.render(reach[index], branches)
        if index in branches and branches[index].kind == "error" or index in ignored:
            title = task_title(task).split(" | ", maxsplit=1)[0]
            if index in ignored:
                rescue = {"name": f"{title} | failed: the template goes on (OnError ACS::NEXT)",
                          "ansible.builtin.debug": {"msg": expr(scope.masked(f"ansible_failed_result | {F}oos_error_message"))}}
            else:
                target = str(task["OnError"]).strip()
                rescue = {"name": display_name(f"{title} | failed: go on with {target} (OnError), then fail", 120),
                          "ansible.builtin.set_fact": {branches[index].fact: expr(
                              f"ansible_failed_result | {F}oos_error_message")}}
            rescues = [rescue]
            if _cancellable(task, scope):
                # A rejected approval cancels the whole execution: no OnError applies.
                cancelled = f"ansible_failed_result | {F}oos_execution_failure(ansible_failed_task.name)"
                rescues.insert(0, {"name": f"{title} | cancelled: no OnError applies",
                                   "ansible.builtin.fail": {"msg": expr(scope.masked(cancelled))},
                                   "when": Code(f"({cancelled}).startswith({scope.quote(runtime.CANCELLED_MESSAGE)})")})
            # A looped nested template is a play of its own between its localhost parts: each part has the OnError.
            parts = natural_loop_play.localhost_parts(units)
            units = [part if isinstance(part, natural_loop_play.LoopSplit) else
                     {"name": f"{title} | with its OnError", "block": part, "rescue": copy.deepcopy(rescues)}
                     for part in parts]
        if reached:
            for number, unit in enumerate(units):
                if isinstance(unit, natural_loop_play.LoopSplit):
                    continue
                when = [Code(reached)] + (unit["when"] if isinstance(unit.get("when"), list)
                                          else [unit["when"]] if "when" in unit else [])
                if "block" in unit:   # name, when, block, rescue: the order ansible-lint asks for
                    unit = {"name": unit["name"], "when": when, **{k: v for k, v in unit.items() if k not in ("name", "when")}}
                    units[number] = unit
                else:
                    unit["when"] = when
        tasks.extend(units)
    errors = [(template["Tasks"][i]["Name"], b.fact) for i, b in sorted(branches.items()) if b.kind == "error"]
    if errors:
        message = "''"
        for name, fact in reversed(errors):   # the first task that failed
            message = f"('task {name} failed: ' ~ {fact}) if {fact} is defined else {message}"
        tasks.append({"name": "End as OOS would: a task failed and its OnError task ran",
                      "ansible.builtin.fail": {"msg": expr(scope.masked(message))},
                      "when": Code(" or ".join(f"{fact} is defined" for _name, fact in errors))})
    return tasks


def failure_message(renamed: dict, scope: Scope, own=()) -> str:
    """The Jinja of the message a failed run (or nested template) ends with (``oos_execution_failure``); ``renamed``:
    the task names the playbook shows otherwise (a capital first), mapped back to the template's."""
    arguments = ["ansible_failed_task.name"]
    if renamed or own:
        arguments.append("{" + ", ".join(f"{scope.quote(k)}: {scope.quote(v)}" for k, v in renamed.items()) + "}")
    if own:
        arguments.append("[" + ", ".join(scope.quote(name) for name in own) + "]")
    return f"ansible_failed_result | {F}oos_execution_failure({', '.join(arguments)})"


def build_plays(template: dict, options, delegated: frozenset = frozenset()) -> list:
    from ansible_collections.alicloud.oos.plugins.plugin_utils.oos_template import natural_loop_play
    scope = Scope(template)
    scope.delegated = delegated
    scope.options = options
    play_vars = parameter_vars(template, options, scope)
    tasks = flow_tasks(template, scope)
    outputs = ", ".join(f"{scope.quote(name)}: {typed((spec or {}).get('Value'), (spec or {}).get('Type', 'String'), scope)}"
                        for name, spec in (template.get("Outputs") or {}).items())
    # Printed and published: secret values masked, an output computed from a secret (encoded ...) masked whole.
    derived = parameters.secret_outputs(template, template_secret_names(template))   # as the references spell them
    outputs = scope.masked("{" + outputs + "}", derived)
    start = []
    facts = {variable: expr(jinja) for name, (variable, jinja) in PSEUDO_FACTS.items() if name in scope.pseudo_used}
    if facts:
        start.append({"name": "Start the execution: its id and time", "ansible.builtin.set_fact": facts})
    if options.template_name:
        play_vars["oos_template_name"] = inert(options.template_name)
    for name in sorted(scope.pseudo_used):
        if name not in runtime.PSEUDO_SOURCES or (name == "acs::templatename" and options.template_name):
            continue
        variable, env, _what = runtime.PSEUDO_SOURCES[name]
        # -e oos_account_id=..., or -e '{"oos_pseudo_parameters": {"AccountId": ...}}', or the environment.
        key = next(p for p in runtime.PSEUDO_PARAMETERS if p.lower() == name)[len("ACS::"):]
        sources = [f"(oos_pseudo_parameters | default({{}}))['{key}'] | default('')"]
        sources += [f"lookup('ansible.builtin.env', '{e}', default='')" for e in env]
        play_vars.setdefault(variable, expr(" or ".join(sources)))
    finish = [
        {"name": "Publish the execution status and outputs",
         "ansible.builtin.set_stats": {"data": {"oos_execution_status": "Success", "oos_outputs": expr("oos_outputs")}}},
        {"name": "Show the template outputs",
         "ansible.builtin.debug": {"msg": expr("{'status': 'Success', 'outputs': oos_outputs}")}},
    ]
    # Task names start with a capital (ansible-lint): the message names the OOS task as the template does.
    renamed = {display_name(t["Name"], 120): t["Name"] for t in template["Tasks"] if display_name(t["Name"], 120) != t["Name"]}
    # Split at each looped nested template (natural_loop_play): a localhost play with its run block before and after.
    parts = natural_loop_play.localhost_parts(tasks)
    parts[-1].append({"name": "Evaluate the template outputs", "ansible.builtin.set_fact": {"oos_outputs": expr(outputs)}})
    run = {
        "name": "Run the template tasks",
        # The message the run ends with, read in the rescue (where ansible_failed_task is set).
        "vars": {"oos_failure": expr(scope.masked(failure_message(renamed, scope)))},
        "block": parts[0],
        "rescue": [
            {"name": "Publish the failed execution",
             "ansible.builtin.set_stats": {"data": {"oos_execution_status": expr(
                 f"'Cancelled' if oos_failure.startswith({scope.quote(runtime.CANCELLED_MESSAGE)}) else 'Failed'"),
                 "oos_outputs": {}}}},
            {"name": "End as OOS would: the execution failed or was cancelled",
             "ansible.builtin.fail": {"msg": expr("oos_failure")}},
        ],
    }
    description = loader.localized(template.get("Description")) or "OOS template"
    play = {"name": display_name(options.name or description, 80), "hosts": "localhost", "connection": "local",
            "gather_facts": False}
    check = check_task(template, scope, play_vars)
    names = [str(n) for n in template.get("Parameters") or {}]
    reads = []
    if names:
        renamed = {n: variable_for(n) for n in names if variable_for(n) != n}
        known = f"[{', '.join(scope.quote(n) for n in names)}]"   # a name the template lacks is refused
        variable = (f"({', '.join(f'{scope.quote(n)}: {scope.quote(v)}' for n, v in renamed.items())}}}[item.key] | default(item.key))"
                    .replace("(", "({", 1) if renamed else "item.key")
        reads.append({
            # Values given as data: a set_fact wins over the Defaults (play vars) and loses to -e name=value.
            "name": "Read the parameter values of -e oos_parameters_file=PATH (as data)",
            # A string stays the string it is (ansible-core 2.16 re-types '[1, 2]' but the output of | string).
            "ansible.builtin.set_fact": {Code("{{ " + variable + " }}"): expr(
                "item.value | string if item.value is string else item.value")},
            "loop": expr(f"{actions.data_file('oos_parameters_file', inner=True, names=known)} | dict2items | list"),
            "loop_control": {"label": expr("item.key")},
            "when": Code("oos_parameters_file is defined")})
    runs = [run] + [dict(run, block=part, rescue=copy.deepcopy(run["rescue"])) for part in parts[2::2]]
    if scope.secrets:
        for read in reads:
            read["no_log"] = True       # at -v a set_fact prints the values it sets
        tainted = set(scope.secrets)
        secret_values = expr(f"{scope.secret_values()} | {F}oos_secret_texts")
        for number, part in enumerate(parts[::2]):   # in the order the plays run
            if number:
                split = parts[2 * number - 1]
                hide_secrets(split.play["tasks"], tainted | split.secrets, natural_loop_play.item_secret_values(split))
            hide_secrets(runs[number]["block"], tainted, secret_values)
    if scope.texts:
        play_vars["oos_template_texts"] = data_tree(scope.texts)
    if scope.delegated_templates:
        play_vars["oos_delegated_templates"] = data_tree(scope.delegated_templates)
    if play_vars:
        play["vars"] = play_vars
    # No version check: the data runs the same on ansible-core 2.16
    # (no !unsafe mapping or list, which 2.16 builds empty; | string where 2.16 would re-type a String).
    play["tasks"] = reads + [check] + start + [run] + (finish if len(runs) == 1 else [])
    plays = natural_loop_play.plays(play, parts, runs, finish, play_vars,
                                    {scope.aliases[str(name)] for name in template.get("Parameters") or {}})
    if inventory_bound(options) and options.hosts and any(
            str(t.get("Action", "")).lower() == "acs::selecttargets" for t in template["Tasks"]):
        # The inventory pattern is the operator's own Ansible, not template text.
        plays.insert(0, inventory_play(Code(options.hosts), options.instance_id_var))
    return plays


def inventory_play(hosts: str, instance_id_var: str) -> dict:
    """The first play when SelectTargets are the inventory hosts: their instance ids, collected on localhost."""
    return {
        "name": "Bind the OOS targets to the inventory hosts",
        "hosts": hosts,
        "gather_facts": False,
        "tasks": [{
            "name": "Collect the instance ids of the play hosts",
            "ansible.builtin.set_fact": {"oos_inventory_targets": expr(
                f"ansible_play_hosts_all | {F}oos_inventory_instances(hostvars, {literal(instance_id_var)})")},
            "delegate_to": "localhost",
            "delegate_facts": True,
            "run_once": True,
        }],
    }
