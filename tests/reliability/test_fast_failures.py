"""Errors that cannot succeed by retrying fail in seconds, name the cause in words, and show no secret.

Each cause of ``cases.FAST_FAILURES`` is set up the way a user would meet it (an environment, an endpoint)
and run through a module, a lookup and the inventory, each timed. The time bound is generous on purpose
(these used to take 60 to 80 seconds); the measured times are printed (``pytest -s``).
"""
from __future__ import annotations

import datetime
import json
import socket
import subprocess
import time

import pytest

from tests.conftest import BIN, REPO_ROOT, start_emulator
from tests.reliability.cases import FAST_FAILURES

TIME_LIMIT = 10.0
WRONG_SECRET = "WrongSecret0123456789abcdefXYZ"
STS_TOKEN = "STS.EmulatorTemporaryToken0123456789"
CRASH_MARKERS = ("Traceback", "MODULE FAILURE", "module_stderr", "unhandled exception")
SURFACES = ("module", "lookup", "inventory")


def self_signed_certificate(folder):
    """A certificate for 127.0.0.1 that no CA signed (ansible-core depends on cryptography)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alicloud emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "emulator.crt", folder / "emulator.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed_certificate(folder)
    started = {
        "plain": start_emulator("--instances", "1"),
        "sts": start_emulator("--instances", "1", "--security-token", STS_TOKEN, "--security-token-expired"),
        "tls": start_emulator("--instances", "1", "--tls-cert", cert, "--tls-key", key),
    }
    yield started
    for emulator in started.values():
        emulator.stop()


def environment(case_id: str, endpoints) -> dict:
    """The environment of a user who has this problem."""
    plain = endpoints["plain"]
    env = plain.env
    if case_id == "https-to-a-plain-http-port":
        env["ALICLOUD_ENDPOINT"] = plain.url.replace("http://", "https://")
    elif case_id == "no-credentials":
        del env["ALICLOUD_ACCESS_KEY"], env["ALICLOUD_SECRET_KEY"]
    elif case_id == "endpoint-not-a-url":
        env["ALICLOUD_ENDPOINT"] = "not a url"
    elif case_id == "wrong-accesskey-secret":
        env["ALICLOUD_SECRET_KEY"] = WRONG_SECRET
    elif case_id == "unknown-accesskey-id":
        env["ALICLOUD_ACCESS_KEY"] = "LTAI5tNoSuchAccessKeyId"
    elif case_id == "expired-sts-token":
        env = endpoints["sts"].env | {"ALICLOUD_SECURITY_TOKEN": STS_TOKEN}
    elif case_id == "unknown-host":
        del env["ALICLOUD_ENDPOINT"]
        env["ALICLOUD_REGION"] = "cn-nowhere-9"
    elif case_id == "tls-certificate-not-trusted":
        env = endpoints["tls"].env
    elif case_id == "connection-refused-on-loopback":
        env["ALICLOUD_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
    else:
        raise AssertionError(f"no set-up for {case_id}")
    return env


def run(surface: str, env: dict, tmp_path, options: dict | None = None) -> tuple:
    """``(rc, output, seconds)`` of DescribeRegions through ``surface``."""
    options = options or {}
    if surface == "module":
        command = [str(BIN / "ansible"), "localhost", "-m", "alicloud.oos.oos_execute_api",
                   "-a", json.dumps({"service": "ecs", "api": "DescribeRegions", **options})]
    elif surface == "lookup":
        extra = "".join(f", {k}={v!r}" for k, v in options.items())
        command = [str(BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug",
                   "-a", f"msg={{{{ lookup('alicloud.oos.oos_api', 'DescribeRegions', service='ECS'{extra}) }}}}"]
    else:
        source = tmp_path / "fleet.ecs.yml"
        source.write_text(json.dumps({"plugin": "alicloud.oos.ecs", "regions": [env.get("ALICLOUD_REGION")], **options}))
        env = env | {"ANSIBLE_INVENTORY_ENABLED": "alicloud.oos.ecs", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
        command = [str(BIN / "ansible-inventory"), "-i", str(source), "--list"]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


@pytest.mark.heavy(15)
@pytest.mark.parametrize("case", FAST_FAILURES, ids=[c.id for c in FAST_FAILURES])
def test_error_that_cannot_succeed_fails_fast_and_names_it(case, endpoints, tmp_path):
    env = environment(case.id, endpoints)
    secrets = [v for k, v in env.items() if k in ("ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN")]
    timings = {}
    for surface in SURFACES:
        rc, output, seconds = run(surface, env, tmp_path)
        timings[surface] = round(seconds, 2)
        assert rc != 0, f"{surface}: did not fail\n{output[-2000:]}"
        missing = [words for words in case.says if words not in output]
        assert not missing, f"{surface}: the message does not say {missing}\n{output[-2000:]}"
        assert not any(marker in output for marker in CRASH_MARKERS), f"{surface}: crashed\n{output[-2000:]}"
        assert not any(secret in output for secret in secrets), f"{surface}: a secret is shown"
        assert seconds < TIME_LIMIT, f"{surface}: took {seconds:.1f} s\n{output[-2000:]}"
    print(f"\n{case.id}: failed after {timings} seconds (ansible start-up included)")


def test_untrusted_certificate_is_accepted_with_validate_certs_off(endpoints, tmp_path):
    env = environment("tls-certificate-not-trusted", endpoints)
    for surface in SURFACES:
        rc, output, _unused = run(surface, env, tmp_path, {"validate_certs": False})
        assert rc == 0, f"{surface}\n{output[-2000:]}"


def test_rejected_key_is_not_taken_for_a_missing_template(endpoints, tmp_path):
    """InvalidAccessKeyId.NotFound is an HTTP 404 too: oos_template must not read it as "no such template" and go on
    to validate and create one."""
    plain = endpoints["plain"]
    plain.control("stats/reset", {}, method="POST")
    env = environment("unknown-accesskey-id", endpoints)
    command = [str(BIN / "ansible"), "localhost", "-m", "alicloud.oos.oos_template",
               "-a", json.dumps({"name": "nightly", "content": "FormatVersion: OOS-2019-06-01\nTasks: []\n"})]
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "AccessKey ID LTAI5tNoSuchAccessKeyId does not exist" in output, output[-2000:]
    assert "rejected the template" not in output
    assert plain.stats()["errors"] == {"InvalidAccessKeyId.NotFound": 1}  # one request, then the task stopped
