"""Reference OOS execution engine for the emulator (issue #9): runs templates against emulator state.

Independent of the collection's converter on purpose (a second opinion): nothing here imports ``plugins/``.
``create_engine(oos)`` is the hook ``tests.emulator.oos.load_engine`` uses.
"""
from .emulator_engine import create_engine
from .engine import ActionTemplates, EngineError, OOSEngine, flatten_api_parameters, run_execution
from .template import TemplateError, load_template, parse_template, validation_result

__all__ = ["ActionTemplates", "EngineError", "OOSEngine", "TemplateError", "create_engine", "flatten_api_parameters",
           "load_template", "parse_template", "run_execution", "validation_result"]
