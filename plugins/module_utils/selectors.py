# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Selectors over API responses and OOS output types.

* ``jq_select(expression, data, field="value_selector") -> list``: every value the jq program emits.
  OOS ValueSelector/PropertySelector syntax: the leading dot is optional
  (``Instances.Instance[].InstanceId`` == ``.Instances.Instance[].InstanceId``).
* ``compile_jq(expression, field)``: validate (and cache) a program before anything is sent.
* ``jmespath_select(expression, data, field="query")``: one value, as ``json_query`` gives it.
* ``coerce_output(value, output_type, field="outputs")``: OOS output types String, List, Json, Number,
  Boolean (case-insensitive). ``select_output(expression, data, output_type)`` combines both the way
  OOS does: ``List`` collects every emitted value (or takes a single emitted list as is); the other
  types take the first value. No value gives ``None`` (``[]`` for List).

Invalid programs raise :class:`AlicloudInputError` naming ``field``; a program that fails on the data
(e.g. iterating over null) or a value that does not fit its type raises :class:`AlicloudError`.

Selectors see the document and nothing of the machine that runs them: a ValueSelector comes from a
template, which may have been written by someone else, and its result goes into outputs, tags and
logs. ``compile_jq`` refuses (before anything is sent) every jq builtin that reads the controller or
writes beside the result: ``$ENV``/``env``, ``input``/``inputs``, ``input_filename``,
``input_line_number``, ``$__loc__``, ``import``/``include`` and the module search path
(``get_search_list``, ``get_jq_origin``, ``get_prog_origin``, ``modulemeta``), ``debug``/``stderr``,
``halt``/``halt_error``, and the local-time functions ``localtime``/``strflocaltime`` (they read the
controller's time zone; ``gmtime``/``strftime``/``todate`` work in UTC as OOS does). ``now`` stays:
the time is not the controller's state, and OOS templates have it as ``ACS::CurrentUTCTime``.
``~/.jq`` (which libjq would load into every program) is not loaded. JMESPath has no such functions.
"""
from __future__ import annotations

import faulthandler
import json
import os
import re
import resource
import select
import signal
import time

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError

try:
    import jq as _jq

    HAS_JQ = True
except ImportError:
    HAS_JQ = False

try:
    import jmespath as _jmespath

    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False

OUTPUT_TYPES = ("String", "List", "Json", "Number", "Boolean")
_JQ_KEYWORDS = frozenset({
    "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach", "try", "catch", "label", "import",
    "include", "and", "or", "not", "true", "false", "null", "__loc__",
})
_LEADING_IDENTIFIER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s*\()?")
_compiled = {}

# The builtins a selector may not call, by name/arity, and why. Each is shadowed by a definition that
# calls an undefined name (_DENIED_MARKER + name): jq drops unused definitions, so exactly the programs
# that call one fail to compile, and the marker in the error says which.
_WHY_ENVIRONMENT = "reads the controller's environment variables"
_WHY_INPUT = "reads input other than the document"
_WHY_MODULES = "reads the controller's jq module search path or files"
_WHY_SIDE_CHANNEL = "writes to the controller's standard error instead of returning a value"
_WHY_HALT = "stops jq with a message on the controller's standard error"
_WHY_LOCAL_TIME = "reads the controller's time zone; use gmtime, strftime or todate (UTC, as OOS)"
DENIED_JQ_FUNCTIONS = {
    "env/0": _WHY_ENVIRONMENT,
    "input/0": _WHY_INPUT, "inputs/0": _WHY_INPUT,
    "input_filename/0": "reads the name of the controller's input file",
    "input_line_number/0": _WHY_INPUT,
    "get_search_list/0": _WHY_MODULES, "get_jq_origin/0": _WHY_MODULES, "get_prog_origin/0": _WHY_MODULES,
    "modulemeta/0": _WHY_MODULES,
    "debug/0": _WHY_SIDE_CHANNEL, "debug/1": _WHY_SIDE_CHANNEL, "stderr/0": _WHY_SIDE_CHANNEL,
    "halt/0": _WHY_HALT, "halt_error/0": _WHY_HALT, "halt_error/1": _WHY_HALT,
    "localtime/0": _WHY_LOCAL_TIME, "strflocaltime/1": _WHY_LOCAL_TIME,
}
# Variables and directives a definition cannot shadow: found in the program text (outside string literals
# and comments). $ENV is also rebound to null around the program, in case the text scan misses a spelling.
DENIED_JQ_VARIABLES = {"$ENV": _WHY_ENVIRONMENT, "$__loc__": "reads where the program was loaded from",
                       "$__prog_args": _WHY_INPUT}
DENIED_JQ_DIRECTIVES = {"import": "loads jq modules or data files from the controller",
                        "include": "loads jq modules from the controller's files"}
_DENIED_MARKER = "__alicloud_oos_denied__"
_DENIED_CALL = re.compile(_DENIED_MARKER + r"([A-Za-z_0-9]+)__(\d)/0 is not defined")
_SANDBOX_PRELUDE = "".join(
    "def {name}{params}: {marker}{name}__{arity}; ".format(
        name=key.split("/")[0], arity=key.split("/")[1], marker=_DENIED_MARKER,
        params="(" + "; ".join(f"a{i}" for i in range(int(key.split("/")[1]))) + ")" if key[-1] != "0" else "")
    for key in DENIED_JQ_FUNCTIONS) + "null as $ENV | (\n"
# Comments run to the end of the line (a trailing backslash continues them): the closing parenthesis
# goes after an empty line so that no comment can swallow it.
_SANDBOX_END = "\n\n)"
_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*')
_DENIED_TOKEN = re.compile(r"(?<![\w$.])(\$ENV|\$__loc__|\$__prog_args|import|include)(?![\w])(?!\s*:)")
_zero_arity_builtins = None


def _builtins() -> frozenset:
    """Names of jq builtins callable without arguments (``length``, ``keys``...): never field names."""
    global _zero_arity_builtins
    if _zero_arity_builtins is None:
        names = _jq_compile_without_home("builtins").input_value(None).first()
        _zero_arity_builtins = frozenset(n.split("/")[0] for n in names if n.endswith("/0"))
    return _zero_arity_builtins


def normalize_jq(expression: str) -> str:
    """Add the leading dot OOS lets users omit: ``Instances.Instance[]`` -> ``.Instances.Instance[]``."""
    match = _LEADING_IDENTIFIER.match(expression)
    if not match or match.group(2):
        return expression
    name = match.group(1)
    if name in _JQ_KEYWORDS or name in _builtins():
        return expression
    return "." + expression.lstrip()


def _code_outside_literals(program: str) -> str:
    """The program with string literals and comments blanked; string interpolations ``\\(..)`` are code."""
    def blank(match):
        text = match.group(0)
        if text.startswith("#"):
            return " " * len(text)
        # Keep the code of interpolations: "a\\(env)b" -> "  (env)  ".
        code, depth, out, i = False, 0, [], 1
        while i < len(text) - 1:
            char = text[i]
            if not code and char == "\\" and text[i + 1] == "(":
                code, depth = True, 0
                out.append(" ")
                i += 1
                continue
            if code:
                depth += {"(": 1, ")": -1}.get(char, 0)
                if depth == 0 and char == ")":
                    code = False
                out.append(char)
            else:
                out.append(" ")
            i += 1
        return " " + "".join(out) + " "
    return _STRING_OR_COMMENT.sub(blank, program)


def _refuse(field, expression, name, why):
    return AlicloudInputError(field, f"{expression!r} uses {name}, which {why}: a selector sees only the document "
                              "it selects from")


def _jq_compile_without_home(program: str):
    """libjq loads ~/.jq into every program it compiles: compile with HOME unset, so that it does not.

    The jq extension holds the GIL while it compiles, so no other Python thread sees HOME missing.
    """
    home = os.environ.pop("HOME", None)
    try:
        return _jq.compile(program)
    finally:
        if home is not None:
            os.environ["HOME"] = home


def _own_syntax_error(program: str):
    """The error of the program compiled alone, which points into the user's text, where that is safe."""
    if "import" in program or "include" in program:
        return None  # compiling it alone could read a file
    try:
        _jq_compile_without_home(program)
    except ValueError as exc:
        return exc
    return None


def _syntax_error(field, expression, exc):
    detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip().startswith("jq: error"))
    return AlicloudInputError(field, f"{expression!r} is not a valid jq program ({detail or 'syntax error'}); "
                              "write it as OOS does, e.g. Instances.Instance[].Status")


def compile_jq(expression, field: str = "value_selector"):
    if not HAS_JQ:
        raise AlicloudInputError(field, "jq selectors need the 'jq' Python library on the host that runs the task (pip install jq)")
    if not isinstance(expression, str) or not expression.strip():
        raise AlicloudInputError(field, f"must be a non-empty jq program such as Instances.Instance[].InstanceId, got {expression!r}")
    program = normalize_jq(expression)
    if program not in _compiled:
        # The text scan comes first, for a clear message: compiling an import already reads the file it names.
        denied = _DENIED_TOKEN.search(_code_outside_literals(program))
        if denied:
            name = denied.group(1)
            raise _refuse(field, expression, name, DENIED_JQ_VARIABLES.get(name) or DENIED_JQ_DIRECTIVES[name])
        # Only the wrapped program is compiled: in it an import the scan missed is a syntax error, so no
        # file is ever read.
        try:
            _compiled[program] = _jq_compile_without_home(_SANDBOX_PRELUDE + program + _SANDBOX_END)
        except ValueError as exc:
            call = _DENIED_CALL.search(str(exc))
            if not call:
                raise _syntax_error(field, expression, _own_syntax_error(program) or exc) from None
            key = f"{call.group(1)}/{call.group(2)}"
            raise _refuse(field, expression, call.group(1), DENIED_JQ_FUNCTIONS[key]) from None
    return _compiled[program]


def jq_select(expression, data, field: str = "value_selector") -> list:
    program = compile_jq(expression, field)
    try:
        program_text = normalize_jq(expression)
        if program_text not in _bounded:
            _bounded[program_text] = bool(_GENERATES_WORK.search(_code_outside_literals(program_text)))
        if _bounded[program_text]:
            return _run_bounded(program, data, expression, field)
        return program.input_value(data).all()
    except ValueError as exc:
        raise AlicloudError(f"jq selector {expression!r} ({field}) failed on the response: {exc}", code="SelectorError")


# What makes work the document does not bound (jq itself has no time or memory limit, and a selector can come from
# a template someone else wrote): generators, loops, recursion and string repetition. Such programs run in a child
# process with a deadline and a memory cap; plain paths and filters over the document run in place.
_GENERATES_WORK = re.compile(r"(?<![\w$.])(range|repeat|until|while|recurse|def|combinations|pow|exp10|exp2|"
                             r"ldexp|scalb|significand|implode)(?!\w)|\*")
_bounded = {}
SELECTOR_SECONDS = 10
SELECTOR_MEMORY = 1 << 30


def _run_bounded(program, data, expression, field) -> list:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write JSON, and leave without running the parent's clean-up
        status = 0
        try:
            os.close(read_end)
            # jq aborts when the memory cap is hit: its last words must not reach the controller's output.
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 2)
            faulthandler.disable()
            resource.setrlimit(resource.RLIMIT_AS, (SELECTOR_MEMORY, SELECTOR_MEMORY))
            try:
                payload = json.dumps({"values": program.input_value(data).all()})
            except (ValueError, MemoryError) as exc:
                payload = json.dumps({"error": str(exc) or type(exc).__name__})
            with os.fdopen(write_end, "w") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            status = 1
        os._exit(status)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + SELECTOR_SECONDS
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([pipe], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AlicloudError(f"jq selector {expression!r} ({field}) ran for more than {SELECTOR_SECONDS} s on the "
                                    "response and was stopped: select from the document instead of generating values",
                                    code="SelectorError")
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    try:
        answer = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        answer = {}
    if "values" not in answer:
        why = answer.get("error") or f"it needed more than {SELECTOR_MEMORY >> 20} MiB"
        raise AlicloudError(f"jq selector {expression!r} ({field}) failed on the response: {why}", code="SelectorError")
    return answer["values"]


def compile_jmespath(expression, field: str = "query"):
    if not HAS_JMESPATH:
        raise AlicloudInputError(field, "JMESPath queries need the 'jmespath' Python library (pip install jmespath)")
    if not isinstance(expression, str) or not expression.strip():
        raise AlicloudInputError(field, f"must be a non-empty JMESPath expression such as Instances.Instance[].InstanceId, got {expression!r}")
    try:
        return _jmespath.compile(expression)
    except _jmespath.exceptions.JMESPathError as exc:
        raise AlicloudInputError(field, f"{expression!r} is not a valid JMESPath expression ({str(exc).splitlines()[0]})")


def jmespath_select(expression, data, field: str = "query"):
    compiled = compile_jmespath(expression, field)
    try:
        return compiled.search(data)
    except _jmespath.exceptions.JMESPathError as exc:
        raise AlicloudError(f"JMESPath query {expression!r} ({field}) failed on the response: {exc}", code="SelectorError")


def normalize_output_type(output_type, field: str = "outputs") -> str:
    if output_type is None:
        return "String"  # OOS default
    for known in OUTPUT_TYPES:
        if isinstance(output_type, str) and output_type.lower() == known.lower():
            return known
    raise AlicloudInputError(field, f"type {output_type!r} is not an OOS output type; use one of {', '.join(OUTPUT_TYPES)}")


def _mismatch(value, output_type, field):
    return AlicloudError(f"{field}: value {json.dumps(value, default=str)[:200]} cannot be converted to {output_type}",
                         code="OutputTypeMismatch")


def _maybe_json(text, kinds):
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, kinds) else None


def coerce_output(value, output_type, field: str = "outputs"):
    """Convert ``value`` to an OOS output type (see the module docstring)."""
    output_type = normalize_output_type(output_type, field)
    if output_type == "List":
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            parsed = _maybe_json(value, list)
            if parsed is not None:
                return parsed
        return [value]
    if value is None:
        return None
    if output_type == "String":
        if isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if output_type == "Json":
        if isinstance(value, str):
            parsed = _maybe_json(value, (dict, list))
            return value if parsed is None else parsed
        return value
    if output_type == "Number":
        if isinstance(value, bool):
            raise _mismatch(value, output_type, field)
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    pass
        raise _mismatch(value, output_type, field)
    # Boolean
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise _mismatch(value, output_type, field)


def select_output(expression, data, output_type, field: str = "outputs"):
    """jq ``expression`` on ``data``, converted to ``output_type`` the way OOS task outputs are."""
    output_type = normalize_output_type(output_type, field)
    if data is None:
        # No answer at all (a request check mode did not send): nothing is selected, whatever the program (a
        # program that iterates would fail on null).
        return coerce_output(None, output_type, field)
    values = jq_select(expression, data, field)
    if output_type == "List":
        value = values[0] if len(values) == 1 and isinstance(values[0], list) else values
    else:
        value = values[0] if values else None
    return coerce_output(value, output_type, field)
