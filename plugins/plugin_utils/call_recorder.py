# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which API calls served which instance: each host's result lists the request ids that concerned it."""
from __future__ import annotations

import json
import re

# An ``i-...`` value in JSON text, also inside JSON-string parameters (``InstanceIds='["i-1"]'``).
INSTANCE_ID_IN_JSON = re.compile(r'"(i-[A-Za-z0-9-]+)')


def _instance_ids_in(*values) -> set:
    """Every ``i-...`` string value in a request's parameters and its answer (scanned as JSON text:
    a DescribeInstances page is large, and the leader scans every one)."""
    return set(INSTANCE_ID_IN_JSON.findall(json.dumps(values, default=str)))


class CallRecorder:
    """An ``AlicloudClient`` that also remembers which instances each successful call concerned.

    A call concerns the instances named in its parameters or in its answer; a call that names none
    (an image lookup, an IP lookup that found nothing) concerns every instance of the batch.
    """

    def __init__(self, client):
        self.client = client
        self._mentions = {}

    def __getattr__(self, name):
        return getattr(self.client, name)

    def call(self, action, params=None, *args, **kwargs):
        body = self.client.call(action, params, *args, **kwargs)
        request_id = body.get("RequestId") if isinstance(body, dict) else None
        if request_id:
            self._mentions[request_id] = _instance_ids_in(params, body)
        return body

    def request_ids_for(self, instance_id: str) -> list:
        """Request ids, in order, of the calls that concerned ``instance_id``."""
        return [rid for rid in self.client.request_ids
                if not self._mentions.get(rid) or instance_id in self._mentions[rid]]
