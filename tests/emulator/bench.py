"""Measure the emulator at scale (figures are printed, never asserted): ``python -m tests.emulator.bench``.

* DescribeInstances over a 10,000-instance region, 100 per page, through the real SDK (signature included);
* 1,000 Cloud Assistant invocations (10 RunCommand calls x 100 instances) until all are finished.

``run()`` returns the figures as a dict, the shape ``bench/__main__.py`` suites use.
"""
from __future__ import annotations

import json
import statistics
import time


def run(instances: int = 10_000) -> dict:
    from tests.conftest import start_emulator
    from tests.unit.emulator.conftest import SdkClient

    emu = start_emulator("--instances", str(instances), "--seed", "1", timeout=120)
    try:
        sdk = SdkClient(emu)
        timings, token, pages = [], None, 0
        while True:
            params = {"RegionId": "cn-hangzhou", "MaxResults": 100}
            if token:
                params["NextToken"] = token
            started = time.perf_counter()
            body = sdk.call("DescribeInstances", params)
            timings.append((time.perf_counter() - started) * 1000)
            pages += 1
            token = body["NextToken"]
            if not token:
                break
        filtered = []
        for _unused in range(20):
            started = time.perf_counter()
            sdk.call("DescribeInstances", {"RegionId": "cn-hangzhou", "PageSize": 100, "Status": "Running",
                                           "Tag": [{"Key": "Env", "Value": "prod"}]})
            filtered.append((time.perf_counter() - started) * 1000)
        ids = [i["InstanceId"] for i in emu.instances()[:100]]
        started = time.perf_counter()
        invokes = [sdk.ecs("RunCommand", RegionId="cn-hangzhou", Type="RunShellScript", CommandContent="echo ok",
                           InstanceId=ids)["InvokeId"] for _unused in range(10)]
        while any(sdk.ecs("DescribeInvocations", RegionId="cn-hangzhou", InvokeId=i)["Invocations"]["Invocation"][0][
                "InvocationStatus"] != "Success" for i in invokes):
            time.sleep(0.1)
        invocation_seconds = time.perf_counter() - started
    finally:
        emu.stop()
    figures = {
        "instances": instances,
        "describe_pages": pages,
        "describe_page_ms_median": round(statistics.median(timings), 2),
        "describe_page_ms_p95": round(sorted(timings)[int(len(timings) * 0.95) - 1], 2),
        "describe_filtered_page_ms_median": round(statistics.median(filtered), 2),
        "invocations": 1000,
        "invocations_wall_seconds": round(invocation_seconds, 2),
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    run()
