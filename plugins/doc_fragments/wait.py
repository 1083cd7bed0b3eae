# -*- coding: utf-8 -*-
# Copyright: contributors to the alicloud.oos collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``alicloud.oos.wait``: ACS::WaitFor-style polling options (``wait_for`` and ``check_for`` suboptions).

Literal YAML; tests/unit/plugins/doc_fragments checks it against ``module_utils.waiter.poll_option_docs``,
from which the argument spec is built, so the docs and the code cannot drift.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait_for:
    description:
      - Poll the same call (ACS::WaitFor) until O(wait_for.property_selector) yields only O(wait_for.desired_values)
        (or none of O(wait_for.not_desired_values) when only those are given); fail at once on O(wait_for.stop_retry_values),
        and when retries or the timeout run out.
    type: dict
    suboptions:
      property_selector:
        description:
          - jq selector (OOS C(PropertySelector) syntax, leading dot optional) applied to the response, for example
            V(Instances.Instance[].Status). Every value it yields is compared.
        type: str
        required: true
      desired_values:
        description:
          - 'Values to reach: success when every selected value is one of them (compared as strings, booleans as
            V(true)/V(false)).'
        type: list
        elements: raw
      not_desired_values:
        description:
          - 'With O(wait_for.desired_values)/O(check_for.desired_values): values that fail at once when any selected
            value is one of them. Alone (OOS allows either list): a wait succeeds once no selected value is one
            of them, and a check fails if any is.'
        type: list
        elements: raw
      stop_retry_values:
        description:
          - 'OOS C(StopRetryValues): when any selected value is one of these, stop polling at once and fail (for
            example V([fail]) for a task whose state is C(fail)). Compared as strings, like O(wait_for.desired_values).'
        type: list
        elements: raw
      retries:
        description:
          - Polls after the first one.
        type: int
        default: 10
      delay:
        description:
          - Base delay in seconds between polls.
        type: float
        default: 2.0
      delay_type:
        description:
          - 'OOS C(DelayType): V(Constant) waits O(wait_for.delay); V(Exponential) waits delay * backoff^n; V(Linear)
            waits delay + backoff * n.'
        type: str
        choices:
          - Constant
          - Exponential
          - Linear
        default: Exponential
      backoff:
        description:
          - Factor (Exponential) or increment (Linear) of the delay.
        type: float
        default: 2.0
      max_retry_interval:
        description:
          - Upper bound in seconds of one delay.
        type: float
        default: 1800.0
      timeout:
        description:
          - Overall time limit in seconds (no limit when unset).
        type: float
  check_for:
    description:
      - Check the response once (ACS::CheckFor) and fail unless every selected value is desired and none is not-desired.
    type: dict
    suboptions:
      property_selector:
        description:
          - jq selector (OOS C(PropertySelector) syntax, leading dot optional) applied to the response, for example
            V(Instances.Instance[].Status). Every value it yields is compared.
        type: str
        required: true
      desired_values:
        description:
          - 'Values to reach: success when every selected value is one of them (compared as strings, booleans as
            V(true)/V(false)).'
        type: list
        elements: raw
      not_desired_values:
        description:
          - 'With O(wait_for.desired_values)/O(check_for.desired_values): values that fail at once when any selected
            value is one of them. Alone (OOS allows either list): a wait succeeds once no selected value is one
            of them, and a check fails if any is.'
        type: list
        elements: raw
"""
