# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one pager: every page of a list action, page-number or token style.

Used by ``AlicloudClient.paginate`` (any action, style found from the parameters or the first answer),
by the instance and image listings and by Cloud Assistant results. A page-number listing whose first
answer gives ``TotalCount`` costs exactly ceil(total / page size) calls, and with ``page_workers`` > 1
the pages after the first are fetched concurrently (the inventory on large fleets).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

NUMBER = "number"   # PageNumber / PageSize (TotalCount in the answer)
TOKEN = "token"     # NextToken / MaxResults


def pages(client, action: str, params: dict, items_of, style: str | None = NUMBER, page_size: int | None = None,
          method: str = "POST", idempotent=None, max_pages: int | None = None, page_workers: int = 1):
    """Yield ``(body, items)`` for each page, in page order.

    ``items_of(body) -> (items, total)``: the page's list and the answer's total count (None when the
    action gives none). ``style`` None: page-number or token style as the first answer shows. ``page_size``
    is sent as PageSize (number style) or MaxResults (token style) unless ``params`` already names one.
    """
    params = dict(params or {})
    if page_size and style == NUMBER:
        params.setdefault("PageSize", page_size)
    elif page_size and style == TOKEN:
        params.setdefault("MaxResults", page_size)

    def fetch(extra):
        return client.call(action, dict(params, **extra), method=method, idempotent=idempotent) or {}

    body = fetch({})
    items, total = items_of(body)
    yield body, items
    if style is None:
        style = TOKEN if body.get("NextToken") else (NUMBER if "TotalCount" in body and "PageSize" in body else None)
        if style is None:
            return
    count, seen = 1, len(items)
    if style == TOKEN:
        previous = params.get("NextToken")
        while max_pages is None or count < max_pages:
            token = body.get("NextToken")
            if not token or token == previous or not items:
                return
            previous = token
            body = fetch({"NextToken": token})
            items, _unused = items_of(body)
            count += 1
            yield body, items
        return
    size = int(body.get("PageSize") or params.get("PageSize") or len(items) or 1)
    number = int(params.get("PageNumber") or 1)
    if not items or len(items) < size or (isinstance(total, int) and seen >= total):
        return
    if isinstance(total, int) and page_workers > 1:
        last = number + math.ceil((total - seen) / size)
        if max_pages is not None:
            last = min(last, number + max_pages - 1)
        numbers = range(number + 1, last + 1)
        with ThreadPoolExecutor(max_workers=min(page_workers, len(numbers))) as pool:
            for page in pool.map(lambda n: fetch({"PageNumber": n}), numbers):
                yield page, items_of(page)[0]
        return
    while max_pages is None or count < max_pages:
        number += 1
        body = fetch({"PageNumber": number})
        items, total = items_of(body)
        count += 1
        seen += len(items)
        yield body, items
        if not items or len(items) < size or (isinstance(total, int) and seen >= total):
            return


def all_items(client, action: str, params: dict, page_size: int, items_of, **options) -> list:
    """Every item of a page-number list action, from page 1 (see ``pages``)."""
    return [item for _unused, items in pages(client, action, dict(params, PageNumber=1), items_of, page_size=page_size,
                                             **options)
            for item in items]
