"""Fixtures for the emulator's own tests: a shared emulator per module and a real-SDK client."""
from __future__ import annotations

import pytest
from alibabacloud_tea_openapi.client import Client
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from darabonba.runtime import RuntimeOptions

from tests.conftest import start_emulator
from tests.emulator import ECS_VERSION, OOS_VERSION


class SdkClient:
    """The real SDK's generic ``call_api`` (PROTOCOL.md §1), pointed at the emulator."""

    def __init__(self, emulator, *, v2: bool = False, access_key_id: str | None = None,
                 access_key_secret: str | None = None, security_token: str | None = None, read_timeout: int = 30000):
        config = Config(access_key_id=access_key_id or emulator.access_key_id,
                        access_key_secret=access_key_secret or emulator.access_key_secret,
                        security_token=security_token, endpoint=f"127.0.0.1:{emulator.port}", protocol="http",
                        read_timeout=read_timeout, connect_timeout=5000)
        if v2:
            config.signature_algorithm = "v2"
        self.client = Client(config)

    def raw(self, action: str, params: dict | None = None, *, version: str = ECS_VERSION, body: dict | None = None,
            method: str = "POST") -> dict:
        api = Params(action=action, version=version, protocol="HTTP", pathname="/", method=method, auth_type="AK",
                     style="RPC", req_body_type="formData", body_type="json")
        request = OpenApiRequest(query=Utils.query(params or {}), body=body)
        return self.client.call_api(api, request, RuntimeOptions())

    def call(self, action: str, params: dict | None = None, **kwargs) -> dict:
        return self.raw(action, params, **kwargs)["body"]

    def ecs(self, action: str, **params) -> dict:
        return self.call(action, params)

    def oos(self, action: str, **params) -> dict:
        return self.call(action, params, version=OOS_VERSION)


@pytest.fixture(scope="module")
def shared_emulator():
    """One emulator for a test module (20 instances, fast transitions); tests reset it as needed."""
    emu = start_emulator("--instances", "20", "--seed", "1", "--transition-seconds", "0.2")
    yield emu
    emu.stop()


@pytest.fixture
def emu(shared_emulator):
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def sdk(emu):
    return SdkClient(emu)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
