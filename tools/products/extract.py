"""Read the facts the product table needs from official Alibaba Cloud SDK packages.

Each ``alibabacloud-<product><YYYYMMDD>`` package (wheel, sdist or unpacked folder) holds one
``alibabacloud_<product><YYYYMMDD>/client.py`` whose ``__init__`` carries the endpoint rules
(``_endpoint_rule``, ``_endpoint_map``, the product id passed to ``get_endpoint``, the request gateway
``_spi`` of products that sign their own way) and whose API methods name the API version and style
(``Params(version=..., style='RPC'|'ROA', ...)``). Nothing is imported or run: the client is parsed as text
and with :mod:`ast`.

The same facts are read from the Darabonba spec every SDK package is generated from (a folder
``<product>-<YYYYMMDD>`` of https://github.com/aliyun/alibabacloud-sdk holding ``main.tea``, the client in
Darabonba, and ``Teafile``, whose ``releases.python`` names the package and version built from it).
"""
from __future__ import annotations

import ast
import json
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
# Clients built on the older RPC client: ``do_request('X', 'HTTPS', 'POST', 'YYYY-MM-DD', ...)`` (Darabonba
# ``doRequest(...)``), all RPC.
_RPC_CLIENT_CALL = re.compile(r"\b(?:do_request|doRequest)\(\s*'([A-Za-z0-9]+)'\s*,\s*'HTTPS?'\s*,\s*'[A-Z]+'\s*,"
                              r"\s*'(\d{4}-\d{2}-\d{2})'")
_ENDPOINT_PRODUCT = re.compile(r"get_endpoint\(\s*'([^']+)'")
_ENDPOINT_RULE = re.compile(r"self\._endpoint_rule\s*=\s*'([^']*)'")
_PRODUCT_ID = re.compile(r"self\._product_id\s*=\s*'([^']+)'")
_GATEWAY = re.compile(r"^from alibabacloud_gateway_(?!spi\.)([a-z0-9]+)\.client import", re.M)  # spi: the interface
# The same in Darabonba: ``new OpenApi.Params{ action = 'X', ... }``, ``doRPCRequest('X', 'YYYY-MM-DD', ...)``,
# ``@endpointRule = 'regional';``, ``@endpointMap = { 'region' = 'host', ... };`` (keys quoted or not).
_TEA_PARAMS = re.compile(r"new OpenApi\.Params\{(.*?)\n\s*\}", re.S)
_TEA_OLD_CALL = re.compile(r"\bdo(RPC|ROA)Request(?:WithForm)?\(\s*'([A-Za-z0-9]+)'\s*,\s*'(\d{4}-\d{2}-\d{2})'")
_TEA_ENDPOINT_PRODUCT = re.compile(r"\bgetEndpoint\(\s*'([^']+)'")
_TEA_ENDPOINT_RULE = re.compile(r"@endpointRule\s*=\s*'([^']*)'")
_TEA_PRODUCT_ID = re.compile(r"@productId\s*=\s*'([^']+)'")
_TEA_ENDPOINT_MAP = re.compile(r"@endpointMap\s*=\s*\{(.*?)\}", re.S)
_TEA_MAP_ENTRY = re.compile(r"^\s*'?([A-Za-z0-9_.-]+)'?\s*=\s*'([^']*)'", re.M)
_TEA_SPI = re.compile(r"@spi\s*=")
_TEA_GATEWAY = re.compile(r"^alibabacloud:Gateway([A-Za-z0-9]+):")
_TEA_RELEASE = re.compile(r"^alibabacloud_([a-z0-9_-]+?)(\d{8}):(\S+)$")
# Clients whose ``*_advance`` methods upload a file first call OpenPlatform's AuthorizeFileUpload: another
# product's API, not one of the client's.
_OPEN_PLATFORM_UPLOAD = ("AuthorizeFileUpload", "2019-12-19")
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


def _endpoint_map(source: str, darabonba: bool) -> dict:
    if darabonba:
        found = _TEA_ENDPOINT_MAP.search(source)
        return dict(sorted(_TEA_MAP_ENTRY.findall(found.group(1)))) if found else {}
    return _python_endpoint_map(ast.parse(source))


def _python_endpoint_map(tree: ast.AST) -> dict:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "_endpoint_map" and isinstance(node.value, ast.Dict):
                return dict(sorted(ast.literal_eval(node.value).items()))
    return {}


def _api_calls(source: str) -> list:
    """``[(action, version, style)]`` of every API method of a client (Python or Darabonba)."""
    calls = []
    for block in _PARAMS.findall(source) + _TEA_PARAMS.findall(source):
        found = {name: pattern.search(block) for name, pattern in _PARAM.items()}
        if all(found.values()):
            calls.append(tuple(found[name].group(1) for name in ("action", "version", "style")))
    old_calls = _OLD_CALL.findall(source) + _TEA_OLD_CALL.findall(source)
    calls += [(action, version, kind.upper()) for kind, action, version in old_calls]
    calls += [(action, version, "RPC") for action, version in _RPC_CLIENT_CALL.findall(source)]
    return calls


def _first(source: str, *patterns):
    for pattern in patterns:
        found = pattern.search(source)
        if found:
            return found.group(1)
    return None


def client_facts(source: str, darabonba: bool = False, gateway: str | None = None) -> dict:
    """The endpoint rules, API version and style counts of one SDK ``client.py`` (or Darabonba ``main.tea``).

    ``gateway``: the request gateway of a Darabonba client (its Teafile names the library); a Python client
    names it in its imports. ``pop`` signs as every OpenAPI product does; any other (``oss``, ``sls``, ...)
    signs its own way."""
    calls = _api_calls(source)
    versions = Counter(version for _action, version, _style in calls)
    if len(versions) > 1:
        calls = [call for call in calls if call[:2] != _OPEN_PLATFORM_UPLOAD]
        versions = Counter(version for _action, version, _style in calls)
    if not versions:
        raise ExtractError("no API version in the client (no Params(version=...))")
    if len(versions) > 1:
        raise ExtractError(f"several API versions in one client: {dict(versions)}")
    styles = Counter(style for _action, style in {(action, style) for action, _version, style in calls})
    return {
        "api_version": next(iter(versions)),
        "product_id": _first(source, _PRODUCT_ID, _TEA_PRODUCT_ID),
        "endpoint_product": _first(source, _ENDPOINT_PRODUCT, _TEA_ENDPOINT_PRODUCT),
        "endpoint_rule": _first(source, _ENDPOINT_RULE, _TEA_ENDPOINT_RULE),
        "endpoint_map": _endpoint_map(source, darabonba),
        "gateway": gateway or _first(source, _GATEWAY),
        "styles": dict(sorted(styles.items())),
        "actions": len({action for action, _version, _style in calls}),
    }


def client_actions(source: str) -> set:
    """Every API action name the client calls (for checking a version against templates; not stored)."""
    return {action for action, _version, _style in _api_calls(source)}


def read_spec(path: Path) -> tuple[dict, str]:
    """``(facts, client source)`` of one Darabonba spec folder (``main.tea`` and ``Teafile``)."""
    try:
        teafile = json.loads((path / "Teafile").read_text(encoding="utf-8"))
        source = (path / "main.tea").read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError) as error:
        raise ExtractError(f"{path}: not a Darabonba spec folder ({error})") from None
    release = _TEA_RELEASE.match(teafile.get("releases", {}).get("python", ""))
    if release is None:
        raise ExtractError(f"{path}: its Teafile names no alibabacloud_<product><date> Python release")
    product, date, version = release.groups()
    gateway = None
    if _TEA_SPI.search(source):
        library = _TEA_GATEWAY.match(teafile.get("libraries", {}).get("GatewayClient", ""))
        gateway = library.group(1).lower() if library else None
    facts = _client_facts_of(path, date, source, darabonba=True, gateway=gateway)
    return _package(f"alibabacloud_{product}{date}", version, product, facts), source


def _client_facts_of(path, date: str, source: str, **kwargs) -> dict:
    try:
        facts = client_facts(source, **kwargs)
    except ExtractError as error:
        raise ExtractError(f"{path}: {error}") from None
    if facts["api_version"].replace("-", "") != date:
        raise ExtractError(f"{path}: package date {date} but API version {facts['api_version']}")
    return facts


def _package(name: str, version: str, product: str, facts: dict) -> dict:
    return {"package": name.lower().replace("_", "-"), "package_version": version,
            "product": product.replace("_", "-"), **facts}


def read_package(path) -> tuple[dict, str]:
    """``(facts, client source)`` of one SDK package or Darabonba spec folder: name, version, product and
    :func:`client_facts`."""
    path = Path(path)
    if (path / "Teafile").is_file():
        return read_spec(path)
    client = name = version = None
    for member, data in _members(path):
        found = _CLIENT.search(member)
        if found and "/tests/" not in member:
            client = (found.group(1), found.group(2), data.decode("utf-8"))
        elif member.endswith(("METADATA", "PKG-INFO")):
            text = data.decode("utf-8", "replace")
            if _META_NAME.search(text) and (name is None or member.count("/") < 2):
                name, version = _META_NAME.search(text).group(1), _META_VERSION.search(text).group(1)
    if client is None:
        raise ExtractError(f"{path}: no alibabacloud_<product><date>/client.py inside")
    if name is None:
        raise ExtractError(f"{path}: no package metadata (METADATA or PKG-INFO)")
    product, date, source = client
    return _package(name, version, product, _client_facts_of(path, date, source)), source
