"""Read the facts the product table needs from official Alibaba Cloud SDK packages.

Each ``alibabacloud-<product><YYYYMMDD>`` package (wheel, sdist or unpacked folder) holds one
``alibabacloud_<product><YYYYMMDD>/client.py`` whose ``__init__`` carries the endpoint rules
(``_endpoint_rule``, ``_endpoint_map``, the product id passed to ``get_endpoint``) and whose API methods
name the API version and style (``Params(version=..., style='RPC'|'ROA', ...)``). Nothing is imported or
run: the client is parsed as text and with :mod:`ast`.
"""
from __future__ import annotations

import ast
import re
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

_CLIENT = re.compile(r"(?:^|/)alibabacloud_([a-z0-9_]+?)(\d{8})/client\.py$")
# An API method: ``Params(action='X', version='YYYY-MM-DD', ..., style='RPC')`` in current clients (one
# argument a line, closed by a line holding only ``)``), ``self.do_rpcrequest('X', 'YYYY-MM-DD', ...)`` /
# ``self.do_roarequest('X', ...)`` in older ones.
_PARAMS = re.compile(r"Params\((.*?)\n\s*\)", re.S)
_PARAM = {name: re.compile(rf"\b{name}\s*=\s*'([^']*)'") for name in ("action", "version", "style")}
_OLD_CALL = re.compile(r"\.do_(rpc|roa)request(?:_with_form)?\(\s*'([A-Za-z0-9]+)'\s*,\s*'(\d{4}-\d{2}-\d{2})'")
_ENDPOINT_PRODUCT = re.compile(r"get_endpoint\(\s*'([^']+)'")
_ENDPOINT_RULE = re.compile(r"self\._endpoint_rule\s*=\s*'([^']*)'")
_PRODUCT_ID = re.compile(r"self\._product_id\s*=\s*'([^']+)'")
_META_NAME = re.compile(r"^Name:\s*(\S+)", re.M)
_META_VERSION = re.compile(r"^Version:\s*(\S+)", re.M)


class ExtractError(Exception):
    pass


def _members(path: Path):
    """(name, bytes) of the files of a wheel, an sdist or a folder."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file() and (file.name in ("client.py", "METADATA", "PKG-INFO")):
                yield file.relative_to(path).as_posix(), file.read_bytes()
    elif path.suffix == ".whl" or path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(("/client.py", "/METADATA", "/PKG-INFO")) or name in ("PKG-INFO",):
                    yield name, archive.read(name)
    elif path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.endswith(("/client.py", "/PKG-INFO")):
                    yield member.name, archive.extractfile(member).read()
    else:
        raise ExtractError(f"{path}: not a wheel, an sdist or a folder")


def _endpoint_map(tree: ast.AST) -> dict:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "_endpoint_map" and isinstance(node.value, ast.Dict):
                return dict(sorted(ast.literal_eval(node.value).items()))
    return {}


def _api_calls(source: str) -> list:
    """``[(action, version, style)]`` of every API method of a client."""
    calls = []
    for block in _PARAMS.findall(source):
        found = {name: pattern.search(block) for name, pattern in _PARAM.items()}
        if all(found.values()):
            calls.append(tuple(found[name].group(1) for name in ("action", "version", "style")))
    calls += [(action, version, kind.upper()) for kind, action, version in _OLD_CALL.findall(source)]
    return calls


def client_facts(source: str) -> dict:
    """The endpoint rules, API version and style counts of one SDK ``client.py``."""
    calls = _api_calls(source)
    versions = Counter(version for _action, version, _style in calls)
    if not versions:
        raise ExtractError("no API version in the client (no Params(version=...))")
    if len(versions) > 1:
        raise ExtractError(f"several API versions in one client: {dict(versions)}")
    endpoint_product = _ENDPOINT_PRODUCT.search(source)
    rule = _ENDPOINT_RULE.search(source)
    product_id = _PRODUCT_ID.search(source)
    styles = Counter(style for _action, style in {(action, style) for action, _version, style in calls})
    return {
        "api_version": next(iter(versions)),
        "product_id": product_id.group(1) if product_id else None,
        "endpoint_product": endpoint_product.group(1) if endpoint_product else None,
        "endpoint_rule": rule.group(1) if rule else None,
        "endpoint_map": _endpoint_map(ast.parse(source)),
        "styles": dict(sorted(styles.items())),
        "actions": len({action for action, _version, _style in calls}),
    }


def client_actions(source: str) -> set:
    """Every API action name the client calls (for checking a version against templates; not stored)."""
    return {action for action, _version, _style in _api_calls(source)}


def read_package(path) -> tuple[dict, str]:
    """``(facts, client source)`` of one SDK package: name, version, product and :func:`client_facts`."""
    path = Path(path)
    client = name = version = None
    for member, data in _members(path):
        found = _CLIENT.search(member)
        if found and "/tests/" not in member:
            client = (found.group(1).replace("_", "-"), found.group(2), data.decode("utf-8"))
        elif member.endswith(("METADATA", "PKG-INFO")):
            text = data.decode("utf-8", "replace")
            if _META_NAME.search(text) and (name is None or member.count("/") < 2):
                name, version = _META_NAME.search(text).group(1), _META_VERSION.search(text).group(1)
    if client is None:
        raise ExtractError(f"{path}: no alibabacloud_<product><date>/client.py inside")
    if name is None:
        raise ExtractError(f"{path}: no package metadata (METADATA or PKG-INFO)")
    product, date, source = client
    try:
        facts = client_facts(source)
    except ExtractError as error:
        raise ExtractError(f"{path}: {error}") from None
    if facts["api_version"].replace("-", "") != date:
        raise ExtractError(f"{path}: package date {date} but API version {facts['api_version']}")
    return {"package": name.lower().replace("_", "-"), "package_version": version, "product": product, **facts}, source
