"""Make ``ansible_collections.alicloud.oos`` importable for unit tests (``make setup`` links the checkout)."""
from __future__ import annotations

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[4] / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
