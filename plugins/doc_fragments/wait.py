# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``alicloud.oos.wait``: ACS::WaitFor-style polling options (``wait_for`` and ``check_for`` suboptions).

Defaults come from ``module_utils.waiter`` so the docs and the code cannot drift.
"""
from __future__ import annotations

import yaml

from ansible_collections.alicloud.oos.plugins.module_utils import waiter


def _fragment() -> str:
    return yaml.safe_dump({"options": {
        "wait_for": {
            "description": ["Poll the same call (ACS::WaitFor) until O(wait_for.property_selector) yields only "
                            "O(wait_for.desired_values) (or none of O(wait_for.not_desired_values) when only those are "
                            "given); fail at once on O(wait_for.stop_retry_values), and when retries or the timeout run "
                            "out."],
            "type": "dict", "suboptions": waiter.poll_option_docs(single_check=False),
        },
        "check_for": {
            "description": ["Check the response once (ACS::CheckFor) and fail unless every selected value is desired "
                            "and none is not-desired."],
            "type": "dict", "suboptions": waiter.poll_option_docs(single_check=True),
        },
    }}, sort_keys=False, width=120)


class ModuleDocFragment:
    DOCUMENTATION = _fragment()
