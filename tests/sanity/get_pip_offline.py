"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap pip in its sanity virtualenvs.

ansible-test fetches the script from ci-files.testing.ansible.com, which these machines cannot reach, unless
~/.ansible/test/cache/get_pip_<version>.py exists; tests/sanity/sanity_runner.py copies this file there. It
is run as get-pip.py is (pip install arguments, plus --no-setuptools / --no-wheel) in an empty virtualenv:
ensurepip provides a pip, which then installs the requested packages from the configured index.
"""
from __future__ import annotations

import subprocess
import sys

# Tells sanity_runner this copy is ours, to be refreshed (a real get-pip.py placed there is left alone).
MARKER = "alicloud.oos offline get-pip stand-in"


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    # In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment, which would hide the
    # configured index and certificates from the install below.
    rc = subprocess.call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
    if rc == 0:
        rc = subprocess.call([sys.executable, "-m", "pip", "install", *args])
    if rc == 0 and "--no-setuptools" in sys.argv:
        # ensurepip of Python < 3.12 also installs setuptools, which the real get-pip.py would have left out.
        rc = subprocess.call([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"])
    return rc


if __name__ == "__main__":
    sys.exit(main())
