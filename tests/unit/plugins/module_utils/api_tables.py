"""Generate the API tables committed in ``plugins/module_utils/products.py`` from the API docs.

Runtime code never reads ``../shared``: this script (run by hand, or checked by
``test_products_tables.py``) derives the tables and prints the Python block to paste between the
``BEGIN GENERATED`` / ``END GENERATED`` markers of products.py.

    .venv/bin/python tests/unit/plugins/module_utils/api_tables.py
"""
from __future__ import annotations

import json
import pprint
from pathlib import Path

API_DOCS = Path(__file__).resolve().parents[4].parent / "shared" / "reference" / "api"
DOC_FILES = {"ecs": "ecs_api_docs.json", "oos": "oos_api_docs.json"}


def load_docs(product: str) -> dict:
    return json.loads((API_DOCS / DOC_FILES[product]).read_text())


def parameter_names(api: dict) -> dict:
    return {p["name"]: p.get("schema", {}) for p in api.get("parameters", [])}


def build_tables() -> dict:
    client_token = {}
    page_size = {}
    endpoints = {}
    json_parameters = {}
    repeat_list_plurals = {}
    for product in sorted(DOC_FILES):
        docs = load_docs(product)
        client_token[product] = tuple(sorted(a for a, api in docs["apis"].items() if "ClientToken" in parameter_names(api)))
        limits = {}
        for action, api in sorted(docs["apis"].items()):
            params = parameter_names(api)
            for name in ("PageSize", "MaxResults"):
                maximum = params.get(name, {}).get("maximum")
                if maximum:
                    limits[action] = (name, int(maximum))
                    break
        page_size[product] = limits
        # Parameters sent as one JSON string ("shrink"/json style, or string-typed with a JSON example).
        json_params = {}
        for action, api in sorted(docs["apis"].items()):
            names = sorted(p["name"] for p in api.get("parameters", [])
                           if p.get("style") == "json"
                           or (p.get("schema", {}).get("type") == "string"
                               and str(p.get("schema", {}).get("example", "")).strip()[:1] in ("[", "{")))
            if names:
                json_params[action] = tuple(names)
        json_parameters[product] = json_params
        # repeatList parameters X (sent X.N) that templates may name Xs, the classic SDK setter name
        # (RunCommand InstanceIds -> InstanceId.N), when the API has no parameter Xs of its own.
        plurals = {}
        for action, api in sorted(docs["apis"].items()):
            params = parameter_names(api)
            names = sorted(p["name"] for p in api.get("parameters", [])
                           if p.get("style") == "repeatList" and not p["name"].endswith("s")
                           and p["name"] + "s" not in params)
            if names:
                plurals[action] = tuple(names)
        repeat_list_plurals[product] = plurals
        endpoints[product] = {e["regionId"]: e["endpoint"] for e in docs["endpoints"]
                              if e["endpoint"] != f"{product}.{e['regionId']}.aliyuncs.com"}
    return {"CLIENT_TOKEN_ACTIONS": client_token, "PAGE_SIZE_LIMITS": page_size, "ENDPOINT_EXCEPTIONS": endpoints,
            "JSON_PARAMETERS": json_parameters, "REPEAT_LIST_PLURALS": repeat_list_plurals}


def render(tables: dict) -> str:
    lines = []
    for name, value in tables.items():
        lines.append(f"{name} = {pprint.pformat(value, width=110, sort_dicts=True)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(build_tables()))
