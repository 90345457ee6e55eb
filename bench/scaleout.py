"""Scale-out: outgoing throughput of 1, 2 and 3 `smsgw run` nodes on one PostgreSQL.

Each node has two emulated SIM800s whose AT+CMGS takes 1 s (a real network takes 1-4 s), so
a modem sends at most one SMS per second and the cluster's ceiling is one per modem per
second: three nodes should come close to three times one node (target >= 2.7x), the rest
being claim and bookkeeping overhead. Messages go to the nodes' APIs in turn.

Queue-to-modem latency: single sends spaced out while modems are idle, each posted to one
node's API; the time from the message row being created to a modem claiming it (both stamped
by the nodes' clocks, on one host here). "Across nodes" are the sends claimed by a node other
than the one whose API took them: the LISTEN/NOTIFY path (target < 100 ms).

Needs PostgreSQL (SMSGW_TEST_PG_URL, as for the tests); without it the results say why.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path

from bench.common import Result
from tests.scaleout.cluster import Cluster, ClusterOptions, OutgoingRow, send_many
from tests.store_helpers import _pg_reachable, _temporary_pg_database

SEND_DELAY = 1.0
MODEMS_PER_NODE = 2
#: Messages per modem in a throughput run: long enough that start and end ramps are small.
PER_MODEM = 12
LATENCY_SAMPLES = 40


async def _throughput(nodes: int, url: str) -> tuple[float, dict[str, float]]:
    options = ClusterOptions(
        nodes=nodes, modems_per_node=MODEMS_PER_NODE, cmgs_delay=SEND_DELAY, report_delay=0.5
    )
    count = PER_MODEM * nodes * MODEMS_PER_NODE
    with tempfile.TemporaryDirectory() as directory:
        async with Cluster(Path(directory), url, options) as cluster:
            await send_many(cluster.nodes, [f"throughput {n:04d}" for n in range(count)])
            rows = await cluster.wait_settled(within=count * SEND_DELAY + 120)
            sent = cluster.sent()
            assert len(sent) == count, (len(sent), count)
            first_queued = min(row.created_at for row in rows)
            last_sent = max(message.time for message in sent)
            seconds = (last_sent - first_queued).total_seconds()
    rate = count / seconds
    return rate, {"messages": count, "seconds": round(seconds, 2), "modems": nodes * 2}


async def _latency(url: str) -> dict[str, list[float]]:
    options = ClusterOptions(
        nodes=3, modems_per_node=MODEMS_PER_NODE, cmgs_delay=0.05, report_delay=0.2
    )
    with tempfile.TemporaryDirectory() as directory:
        async with Cluster(Path(directory), url, options) as cluster:
            posted_to: dict[str, str] = {}
            for n in range(LATENCY_SAMPLES):
                node = cluster.nodes[n % len(cluster.nodes)]
                accepted = await send_many([node], [f"latency {n:03d}"])
                posted_to.update(dict.fromkeys(accepted, node.name))
                await asyncio.sleep(0.3)  # every modem idle again: the wake-up is measured
            rows = await cluster.wait_settled(within=60)
            samples: dict[str, list[float]] = {"across": [], "same": []}
            for row in rows:
                kind = "across" if cluster.node_of(row.modem) != posted_to[row.id] else "same"
                samples[kind].append(_claim_ms(row))
    return samples


def _claim_ms(row: OutgoingRow) -> float:
    assert row.claimed_at is not None
    return (row.claimed_at - row.created_at).total_seconds() * 1000


async def _measure(url_for_run: list[str]) -> list[Result]:
    rates: dict[int, float] = {}
    results: list[Result] = []
    for index, nodes in enumerate((1, 2, 3)):
        rate, detail = await _throughput(nodes, url_for_run[index])
        rates[nodes] = rate
        results.append(
            Result(
                f"scale-out: outgoing with {nodes} node(s), 1 s emulated send",
                round(rate, 2),
                "msg/s",
                f"~{nodes * MODEMS_PER_NODE} (one per modem per second)",
                detail,
            )
        )
    results.append(
        Result(
            "scale-out: throughput 3 nodes / 1 node",
            round(rates[3] / rates[1], 2),
            "x",
            ">= 2.7",
            {"rates": {str(k): round(v, 2) for k, v in rates.items()}},
        )
    )
    samples = await _latency(url_for_run[3])
    every = samples["across"] + samples["same"]
    results.append(
        Result(
            "scale-out: queue-to-modem latency p50, claimed by another node (NOTIFY)",
            round(statistics.median(samples["across"]), 1) if samples["across"] else float("nan"),
            "ms",
            "< 100",
            {
                "samples": len(samples["across"]),
                "max_ms": round(max(samples["across"], default=float("nan")), 1),
                "same_node_p50_ms": round(statistics.median(samples["same"]), 1)
                if samples["same"]
                else None,
                "all_p50_ms": round(statistics.median(every), 1),
            },
        )
    )
    return results


def run() -> list[Result]:
    reason = asyncio.run(_pg_reachable())
    if reason is not None:
        return [
            Result("scale-out (skipped)", float("nan"), "", "needs PostgreSQL", {"why": reason})
        ]
    urls: list[str] = []
    managers = [_temporary_pg_database() for _ in range(4)]
    try:
        for manager in managers:
            urls.append(manager.__enter__())
        return asyncio.run(_measure(urls))
    finally:
        for manager in managers[: len(urls)]:
            manager.__exit__(None, None, None)


if __name__ == "__main__":
    for result in run():
        print(result)
