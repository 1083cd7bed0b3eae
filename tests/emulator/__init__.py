"""A local Alibaba Cloud emulator (ECS, Cloud Assistant, OOS) that the real SDK talks to over HTTP.

Run it from the repository root with ``python -m tests.emulator --port 0``.
"""

DEFAULT_ACCESS_KEY_ID = "LTAI5tEmulatorTestKeyId"
DEFAULT_ACCESS_KEY_SECRET = "EmulatorSecret0123456789abcdefXYZ"
DEFAULT_REGION = "cn-hangzhou"
READY_LINE_PREFIX = "alicloud emulator listening on "
DEFAULT_TRANSITION_SECONDS = 1.0
DEFAULT_INSTANCES = 0
DEFAULT_SEED = 0
ECS_VERSION = "2014-05-26"
OOS_VERSION = "2019-06-01"
