"""``python -m tests.emulator --port 0 [flags]``: start the emulator and print its ready line."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import (DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, DEFAULT_INSTANCES, DEFAULT_REGION, DEFAULT_SEED,
               DEFAULT_TRANSITION_SECONDS, READY_LINE_PREFIX)
from .server import Emulator, Faults, make_server


def rate(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return number


def region_list(value: str) -> list[str]:
    regions = [r.strip() for r in value.split(",") if r.strip()]
    if not regions:
        raise argparse.ArgumentTypeError("give at least one region, e.g. cn-hangzhou,cn-shanghai")
    return regions


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator",
                                     description="Local Alibaba Cloud emulator (ECS, Cloud Assistant, OOS).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default 0)")
    parser.add_argument("--access-key-id", default=DEFAULT_ACCESS_KEY_ID)
    parser.add_argument("--access-key-secret", default=DEFAULT_ACCESS_KEY_SECRET)
    parser.add_argument("--security-token-expired", action="store_true",
                        help="the --security-token has expired: requests carrying it answer InvalidSecurityToken.Expired")
    parser.add_argument("--tls-cert", default=None, help="serve HTTPS with this PEM certificate (needs --tls-key)")
    parser.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    parser.add_argument("--security-token", default=None,
                        help="accept only STS-style requests that carry this SecurityToken")
    parser.add_argument("--instances", type=int, default=DEFAULT_INSTANCES, help="seed N Running instances")
    parser.add_argument("--regions", type=region_list, default=[DEFAULT_REGION],
                        help="comma-separated regions the seeded instances are spread over (round robin)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="makes the fleet and fault draws repeatable")
    parser.add_argument("--transition-seconds", type=non_negative, default=DEFAULT_TRANSITION_SECONDS,
                        help="time an instance transition, image or snapshot takes (default 1.0)")
    parser.add_argument("--throttle-rate", type=rate, default=0.0, help="fraction answered Throttling.User")
    parser.add_argument("--error-rate", type=rate, default=0.0, help="fraction answered 503 ServiceUnavailable")
    parser.add_argument("--reset-rate", type=rate, default=0.0, help="fraction whose connection is reset")
    parser.add_argument("--latency-ms", type=non_negative, default=0.0, help="delay added to every answer")
    parser.add_argument("--action-templates", default=None, help="directory of OOS templates served as Public")
    parser.add_argument("--oos-engine", choices=("auto", "queued"), default="auto",
                        help="auto: use tests.emulator.oos_engine when present; queued: executions stay Queued")
    parser.add_argument("--workers", type=int, default=16, help="Cloud Assistant worker threads (default 16)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    parser.add_argument("--state-file", default=None,
                        help="keep instance power states and the mutation log in this JSON file across restarts")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.instances < 0:
        print("--instances must not be negative", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("--tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    if args.security_token_expired and not args.security_token:
        print("--security-token-expired needs --security-token", file=sys.stderr)
        return 2
    emulator = Emulator(
        access_key_id=args.access_key_id, access_key_secret=args.access_key_secret,
        security_token=args.security_token, security_token_expired=args.security_token_expired,
        instances=args.instances, seed=args.seed, regions=args.regions,
        transition_seconds=args.transition_seconds, action_templates=args.action_templates, workers=args.workers,
        oos_engine=args.oos_engine, state_file=args.state_file,
        faults=Faults(throttle_rate=args.throttle_rate, error_rate=args.error_rate, reset_rate=args.reset_rate,
                      latency_ms=args.latency_ms))
    server = make_server(emulator, args.host, args.port, tls_cert=args.tls_cert, tls_key=args.tls_key)
    server.verbose = args.verbose
    stopping = threading.Event()

    def stop(signum, frame):  # noqa: ARG001
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    scheme = "https" if args.tls_cert else "http"
    print(f"{READY_LINE_PREFIX}{scheme}://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
