"""Benchmark: import 10,000 device ids through ParticleCloud into the emulator with 50 ms latency and rate limits on.

Prints the wall time, the requests made and the ratio to the ideal (requests x latency); the goal is <= 1.5x. It then
checks that every id is in the product exactly once and that a second run is a no-op reporting every id as existing.
Exit status 1 means a correctness check failed; the timing goal is reported, not enforced.

    .venv/bin/python benchmarks/cloud_import.py [--ids 10000] [--latency-ms 50] [--batch-size 1000]
"""

from __future__ import annotations

import os
import sys

# Run as a script, Python puts benchmarks/ first on the path, where a sibling benchmarks/logging.py would shadow the
# standard library's logging (which httpx imports): drop that entry and put the project root there instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from cloud_client.client import ParticleCloud  # noqa: E402
from cloud_client.credentials import Credentials  # noqa: E402
from cloud_client.devices import DEFAULT_IMPORT_BATCH, DEFAULT_IMPORT_CONCURRENCY  # noqa: E402
from cloud_client.emulator import EmulatorServer  # noqa: E402
from cloud_client.models import ImportResult  # noqa: E402

PRODUCT_ID = 9001
PLATFORM = "boron"
OWNER = "bench@example.com"
CLIENT_ID = "benchmark-station"
CLIENT_SECRET = "benchmark-secret-not-a-real-one"
REAL_RATE_LIMIT = 10_000
"""The real API's limit: 10,000 requests per 5 minutes per IP (docs.particle.io Cloud API, 'API rate limits')."""
GOAL_RATIO = 1.5


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    requests: int
    result: ImportResult

    def ratio(self, latency_s: float) -> float:
        ideal = self.requests * latency_s
        return self.seconds / ideal if ideal else float("inf")


def timed_import(
    server: EmulatorServer, cloud: ParticleCloud, ids: list[str], args: argparse.Namespace, label: str
) -> Run:
    server.clear_request_log()
    started = time.perf_counter()
    result = cloud.import_devices(PRODUCT_ID, ids, batch_size=args.batch_size, concurrency=args.concurrency)
    seconds = time.perf_counter() - started
    return Run(label, seconds, len(server.request_log), result)


def report(run: Run, latency_s: float) -> None:
    ideal = run.requests * latency_s
    ratio = run.ratio(latency_s)
    verdict = "meets" if ratio <= GOAL_RATIO else "MISSES"
    print(f"{run.label}: {run.seconds:.3f} s wall, {run.requests} requests, ideal {ideal:.3f} s "
          f"(requests x {latency_s * 1000:.0f} ms), ratio {ratio:.2f} ({verdict} the {GOAL_RATIO}x goal)")


def check_state(server: EmulatorServer, ids: list[str]) -> list[str]:
    """Problems with the emulator's state: ids missing from the product, extra or duplicated ones."""
    in_product = [d["id"] for d in server.snapshot()["devices"] if d["product_id"] == PRODUCT_ID]
    problems: list[str] = []
    if len(in_product) != len(set(in_product)):
        problems.append(f"{len(in_product) - len(set(in_product))} device ids appear more than once")
    missing, extra = set(ids) - set(in_product), set(in_product) - set(ids)
    if missing:
        problems.append(f"{len(missing)} ids are missing from product {PRODUCT_ID}")
    if extra:
        problems.append(f"{len(extra)} unexpected ids are in product {PRODUCT_ID}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ids", type=int, default=10_000, help="how many device ids to import (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="latency added to every request (default 50)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_IMPORT_BATCH,
                        help=f"identifiers per import request (default {DEFAULT_IMPORT_BATCH})")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_IMPORT_CONCURRENCY,
                        help=f"import batches in flight at once (default {DEFAULT_IMPORT_CONCURRENCY}; 1 = one by one)")
    parser.add_argument("--rate-limit", type=int, default=REAL_RATE_LIMIT,
                        help=f"requests per 5 minutes the emulator allows (default {REAL_RATE_LIMIT}, the real API's)")
    args = parser.parse_args(argv)
    latency_s = args.latency_ms / 1000.0

    server = EmulatorServer(host="127.0.0.1", port=0, state_file=None, seed=0)
    server.add_owned_product(PRODUCT_ID, PLATFORM, OWNER)
    server.add_client(CLIENT_ID, CLIENT_SECRET, product_id=PRODUCT_ID)
    seeding = time.perf_counter()
    ids = [d.id for d in server.add_factory_devices(args.ids, platforms=(PLATFORM,))]
    print(f"seeded {len(ids)} manufactured {PLATFORM} devices in {time.perf_counter() - seeding:.1f} s")

    problems: list[str] = []
    with server:
        server.set_faults(latency_ms=args.latency_ms, rate_limit=args.rate_limit)
        print(f"latency {args.latency_ms:.0f} ms per request, rate limit {args.rate_limit} requests per 5 min, "
              f"batches of {args.batch_size}, {args.concurrency} in flight")
        credentials = Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET, source="benchmark")
        with ParticleCloud(server.base_url or "", credentials) as cloud:
            first = timed_import(server, cloud, ids, args, "first import ")
            report(first, latency_s)
            if len(first.result.added) != len(ids) or first.result.failed:
                problems.append(f"first import added {len(first.result.added)} of {len(ids)} ids; "
                                f"{len(first.result.failed)} refused")
            problems += check_state(server, ids)
            second = timed_import(server, cloud, ids, args, "second import")
            report(second, latency_s)
            if len(second.result.existing) != len(ids) or second.result.added:
                problems.append(f"second import reported {len(second.result.existing)} of {len(ids)} as existing "
                                f"and added {len(second.result.added)}")
            problems += check_state(server, ids)
        refused = sum(1 for _, _, status in server.request_log if status == 429)
    print(f"429 replies during the second run: {refused}")
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print(f"state: all {len(ids)} ids in product {PRODUCT_ID} exactly once; the second run was a no-op")
    return 0


if __name__ == "__main__":
    sys.exit(main())
