"""Bounded work: every command finishes any input of at most 1 MB within 2 s of CPU.

For each reader (a file format and the command that reads it) this writes, in a temporary
folder, one adversarial but valid input of just under 1 MB (1,000,000 bytes; the defaults and
rules files just under their own 256 KiB cap), chosen to make as much work as every declared cap
allows: the most series and points, components and edges, distinct deep stacks, rows, labels
and levels. Each is run as a whole ``tpx`` subprocess once per output format the command
renders (json, text, html), and the CPU time of the child (``getrusage(RUSAGE_CHILDREN)`` deltas:
user + system, so a loaded machine does not count) and its wall time are measured, median of 3.

    python benchmarks/large_inputs.py [--runs N] [--only SUBSTRING] [--keep DIR] [--tpx PATH]

Prints one row per command, input and format: size, CPU s, wall s and ``<= 2 s: met|NOT met``,
then how many met the goal. A run that exits with anything but 0 (or 2 with one line: a
refused input, which is also bounded work) is printed as failed. Exits 0 even when a goal is
not met.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _shared import field, find_tpx, varint  # benchmarks/_shared.py

GOAL_S = 2.0
SIZE = 1_000_000  # bytes: just under 1 MB (and under the architecture's 1 MiB cap)
YAML_SIZE = 255_000  # defaults and rules files are capped at 256 KiB
FORMATS = ("json", "text", "html")
LEVELS = 1_000  # the sweep's cap (sources/sweep.py MAX_LEVELS): levels in one sweep
PERCENTILES = ("p50", "p90", "p95", "p99", "p999", "max")
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Case:
    command: str  # the tpx command, as the table names it
    name: str  # the input, as the table names it
    path: Path
    argv: list[str]
    formats: tuple[str, ...] = FORMATS


def fill(
    path: Path, head: str, unit: Callable[[int], str], tail: str = "", size: int = SIZE
) -> int:
    """Writes ``head``, then ``unit(0)``, ``unit(1)``, ... while the file stays under ``size``
    bytes with ``tail`` after it; returns how many units were written."""
    parts = [head]
    used = len(head.encode()) + len(tail.encode())
    n = 0
    while True:
        piece = unit(n)
        cost = len(piece.encode())
        if used + cost > size:
            break
        parts.append(piece)
        used += cost
        n += 1
    parts.append(tail)
    path.write_text("".join(parts), encoding="utf-8")
    return n


def join_fill(
    path: Path, head: str, unit: Callable[[int], str], sep: str, tail: str, size: int = SIZE
) -> int:
    """As ``fill``, with ``sep`` between units (JSON arrays)."""
    return fill(path, head, lambda i: (sep if i else "") + unit(i), tail, size)


# --- metrics and Prometheus ------------------------------------------------------------------


def metrics_json(folder: Path) -> Path:
    """The metrics JSON: every key set, and the rest of the megabyte in notes (free text)."""
    path = folder / "metrics.json"
    head = (
        '{"service":"checkout-api","system_type":"web-api","throughput_rps":"2,000 rps",'
        '"target_rps":"50K","latency_ms":{"mean":20,"p50":15,"p90":40,"p95":60,"p99":"85ms",'
        '"p999":120,"max":300},"cores":8,"workers":64,"instances":3,"max_instances":40,'
        '"concurrency":40,"batch_size":1,"errors_rps":2,"interval_s":300,'
        '"utilization":{"cpu":"80%","memory_pct":55,"disk_io":0.05,"network":"10%"},'
        '"saturation":{"run_queue_per_core":1.4,"iowait_pct":2,"psi_cpu":"12%",'
        '"psi_memory":"1%","psi_io":"3%","swap_pages_per_s":2,"major_faults_per_s":20,'
        '"network_drops_per_s":3,"tcp_retransmits_per_s":30,"context_switches_per_s":45000,'
        '"disk_queue":2},"notes":['
    )
    join_fill(path, head, lambda i: json.dumps(f"note {i}: " + "x" * 60), ",", "]}")
    return path


def prom_query_range(folder: Path) -> Path:
    """A bare query_range response of node_exporter CPU counters: as many series (hosts x cpus x
    modes) as fit, each of 60 points."""
    path = folder / "query_range.json"
    modes = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
    rng = np.random.default_rng(1)
    points = 60

    def series(i: int) -> str:
        host, rest = divmod(i, 64 * len(modes))
        cpu, mode = divmod(rest, len(modes))
        ticks = np.cumsum(rng.integers(1, 100, points)) / 100
        values = ",".join(f'[{1795750000 + t},"{v:.2f}"]' for t, v in enumerate(ticks.tolist()))
        metric = json.dumps(
            {
                "__name__": "node_cpu_seconds_total",
                "instance": f"h{host}:9100",
                "job": "node",
                "cpu": str(cpu),
                "mode": modes[mode],
            },
            separators=(",", ":"),
        )
        return f'{{"metric":{metric},"values":[{values}]}}'

    join_fill(
        path, '{"status":"success","data":{"resultType":"matrix","result":[', series, ",", "]}}"
    )
    return path


def prom_export(folder: Path) -> Path:
    """The tpx Prometheus export: its known queries, each a matrix of as many series as fit."""
    path = folder / "export.json"
    names = ("cpu_utilization", "memory_utilization", "disk_busy", "service_rps")
    per = SIZE // len(names) - 200
    queries = {}
    for name in names:
        series = []
        used = 0
        i = 0
        while used < per:
            values = [[1795750000 + t, f"{0.3 + 0.001 * ((i + t) % 97):.4f}"] for t in range(30)]
            entry = {"metric": {"instance": f"h{i}:9100", "job": "node"}, "values": values}
            used += len(json.dumps(entry, separators=(",", ":"))) + 1
            series.append(entry)
            i += 1
        series.pop()
        queries[name] = {
            "promql": name,
            "response": {"status": "success", "data": {"resultType": "matrix", "result": series}},
        }
    doc = {
        "format": "tpx-prometheus-export",
        "version": 1,
        "server": "http://127.0.0.1:9090",
        "window": "30s",
        "at": 1795750030.0,
        "queries": queries,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return path


def prom_text(folder: Path) -> tuple[Path, Path]:
    """Two text scrapes 15 s apart (a rate needs two): as many labelled CPU counter series as
    fit in each (many cpus and modes)."""
    modes = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
    head = "# TYPE node_cpu_seconds_total counter\n"
    paths = []
    for k in range(2):
        path = folder / f"scrape-{k}.prom"

        def line(i: int, k: int = k) -> str:
            cpu, mode = divmod(i, len(modes))
            value = 100 + i * 0.37 + k * (1 + i % 13)
            return f'node_cpu_seconds_total{{cpu="{cpu}",mode="{modes[mode]}"}} {value:.2f}\n'

        fill(path, head, line, size=SIZE - 5_000)
        paths.append(path)
    return paths[0], paths[1]


# --- profiles --------------------------------------------------------------------------------


def deep_stacks(count: int, depth: int, functions: int, seed: int = 2) -> list[list[int]]:
    """``count`` distinct root -> leaf stacks of function indices, ``depth`` deep, sharing
    prefixes like a real call tree (so the tree has many distinct nodes)."""
    rng = np.random.default_rng(seed)
    out: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    while len(out) < count:
        base = out[int(rng.integers(len(out)))] if out else []
        cut = int(rng.integers(0, len(base) + 1)) if base else 0
        stack = base[:cut] + rng.integers(0, functions, size=depth - cut).tolist()
        if tuple(stack) not in seen:
            seen.add(tuple(stack))
            out.append(stack)
    return out


def collapsed(folder: Path) -> Path:
    """Collapsed stacks: distinct deep stacks with short frame names, one line each."""
    path = folder / "profile.collapsed.txt"
    stacks = deep_stacks(12_000, 40, 2_000)

    def line(i: int) -> str:
        return ";".join(f"f{f}" for f in stacks[i % len(stacks)]) + f" {1 + i % 7}\n"

    fill(path, "", line)
    return path


def speedscope(folder: Path) -> Path:
    """speedscope: one sampled profile of distinct deep stacks (frame indices)."""
    path = folder / "profile.speedscope.json"
    functions = 2_000
    frames = [{"name": f"f{i}", "file": f"m{i % 50}.py", "line": i} for i in range(functions)]
    head = json.dumps(
        {
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "shared": {"frames": frames},
        },
        separators=(",", ":"),
    )[:-1]
    stacks = deep_stacks(12_000, 40, functions)
    samples: list[str] = []
    used = len(head) + 300
    for i in range(len(stacks) * 10):
        text = json.dumps(stacks[i % len(stacks)], separators=(",", ":"))
        if used + len(text) + 3 > SIZE:
            break
        samples.append(text)
        used += len(text) + 3
    body = (
        ',"profiles":[{"type":"sampled","name":"t","unit":"seconds","startValue":0,'
        f'"endValue":{len(samples) * 0.01:.2f},"samples":[{",".join(samples)}],'
        f'"weights":[{",".join(["1"] * len(samples))}]}}]}}'
    )
    path.write_text(head + body)
    return path


def cpuprofile(folder: Path) -> Path:
    """A Chrome/Node .cpuprofile: a call tree of as many distinct nodes as fit, a sample each."""
    path = folder / "profile.cpuprofile"
    rng = np.random.default_rng(3)
    nodes: list[dict[str, object]] = [
        {
            "id": 1,
            "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1},
            "children": [],
        }
    ]
    used = 200
    while used < SIZE * 0.8:
        parent = int(rng.integers(max(1, len(nodes) - 50), len(nodes) + 1))
        node_id = len(nodes) + 1
        fn = int(rng.integers(0, 2000))
        node = {
            "id": node_id,
            "callFrame": {"functionName": f"f{fn}", "url": f"m{fn % 50}.js", "lineNumber": fn},
            "children": [],
        }
        nodes.append(node)
        nodes[parent - 1]["children"].append(node_id)  # type: ignore[attr-defined]
        used += len(json.dumps(node, separators=(",", ":"))) + 8
    leaves = [n["id"] for n in nodes if not n["children"]]
    room = (SIZE - used) // 12
    samples = [leaves[i % len(leaves)] for i in range(room)]
    doc = {
        "nodes": nodes,
        "startTime": 0,
        "endTime": 1000 * len(samples),
        "samples": samples,
        "timeDeltas": [1000] * len(samples),
    }
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return path


def pprof(folder: Path) -> Path:
    """A gzipped Go pprof of just under 1 MB compressed: distinct deep stacks (location ids
    drawn at random, so the file does not compress away)."""
    path = folder / "profile.pb.gz"
    functions = 5_000
    strings = ["", "samples", "count", "cpu", "nanoseconds"]
    strings += [f"main.f{i}" for i in range(functions)] + ["main.go"]
    file_index = len(strings) - 1
    head = [field(1, field(1, 1) + field(2, 2)), field(1, field(1, 3) + field(2, 4))]
    for fn in range(functions):
        head.append(field(5, field(1, fn + 1) + field(2, 5 + fn) + field(4, file_index)))
        head.append(field(4, field(1, fn + 1) + field(4, field(1, fn + 1) + field(2, fn + 10))))
    tail = [field(6, s.encode()) for s in strings]
    tail += [field(11, field(1, 3) + field(2, 4)), field(12, 10_000_000)]
    rng = np.random.default_rng(4)

    def build(count: int) -> bytes:
        locations = rng.integers(1, functions + 1, size=(count, 40)).tolist()
        samples = [
            field(
                2,
                field(1, b"".join(varint(x) for x in row))
                + field(2, varint(1) + varint(10_000_000)),
            )
            for row in locations
        ]
        return gzip.compress(b"".join(head + samples + tail), compresslevel=6)

    count = 4_000
    data = build(count)
    count = int(count * (SIZE - 4096) / len(data))
    data = build(count)
    while len(data) > SIZE:
        count = int(count * 0.97)
        data = build(count)
    path.write_bytes(data)
    return path


def jstack(folder: Path) -> Path:
    """A Java thread dump: as many threads as fit, each a deep distinct stack, half of them
    BLOCKED on monitors held by others."""
    path = folder / "threads.jstack.txt"
    head = (
        "2026-12-01 16:25:41\nFull thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode):\n\n"
    )

    def thread(i: int) -> str:
        blocked = i % 2 == 1
        state = "BLOCKED (on object monitor)" if blocked else "RUNNABLE"
        lines = [
            f'"worker-{i}" #{i + 10} prio=5 os_prio=0 cpu=12.5ms elapsed=3.05s '
            f"tid=0x{0x7F0000000000 + i:016x} nid=0x{i + 100:x} "
            f"{'waiting for monitor entry' if blocked else 'runnable'}  [0x00007fc22b51d000]",
            f"   java.lang.Thread.State: {state}",
        ]
        for d in range(30):
            lines.append(
                f"\tat com.example.m{(i * 7 + d) % 300}.C{d}.run{i % 13}(C{d}.java:{d + 1})"
            )
            if d == 0 and blocked:
                lines.append(
                    f"\t- waiting to lock <0x{0x69EB00000 + i - 1:016x}> (a java.lang.Object)"
                )
            elif d == 0:
                lines.append(f"\t- locked <0x{0x69EB00000 + i:016x}> (a java.lang.Object)")
        return "\n".join(lines) + "\n\n"

    fill(path, head, thread)
    return path


# --- load tests ------------------------------------------------------------------------------


def wrk(folder: Path) -> Path:
    """wrk output: one level per file, so the file is padded with as many Latency Distribution
    percentile lines as fit (the reader scans every line)."""
    path = folder / "wrk.txt"
    head = (
        "Running 30s test @ http://127.0.0.1:8080/\n  2 threads and 64 connections\n"
        "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
        "    Latency     2.58ms    0.90ms  16.52ms   95.51%\n"
        "    Req/Sec     1.58k   126.36     1.71k    80.00%\n  Latency Distribution\n"
        "     50%    2.41ms\n     75%    2.48ms\n     90%    2.64ms\n     99%    6.43ms\n"
    )
    tail = "  3148 requests in 2.00s, 350.46KB read\nRequests/sec:   1573.74\n"
    fill(path, head, lambda i: f"     {50 + (i % 49)}.{i % 1000:03d}%    2.{i % 100:02d}ms\n", tail)
    return path


def k6_lines(folder: Path) -> Path:
    """k6 JSON lines: many VU steps, each with many http_req_duration points."""
    path = folder / "k6-out.json"
    metrics = "".join(
        json.dumps({"type": "Metric", "data": {"type": t}, "metric": m}) + "\n"
        for m, t in (
            ("vus", "gauge"),
            ("http_reqs", "counter"),
            ("http_req_duration", "trend"),
            ("http_req_failed", "rate"),
        )
    )

    def point(i: int) -> str:
        second, k = divmod(i, 8)
        vus = 1 + second // 3  # a step of 3 seconds per VU count
        stamp = f"2024-05-09T14:{(second // 60) % 60:02d}:{second % 60:02d}.{k:06d}000+02:00"
        hour = 10 + second // 3600
        stamp = f"2024-05-09T{hour:02d}" + stamp[13:]
        if k == 0:
            metric, value = "vus", vus
        elif k % 2:
            metric, value = "http_req_duration", 1.5 + (i % 37) * 0.1
        else:
            metric, value = "http_reqs", 1
        return (
            json.dumps(
                {
                    "type": "Point",
                    "data": {"time": stamp, "value": value, "tags": {"name": "http://h/"}},
                    "metric": metric,
                },
                separators=(",", ":"),
            )
            + "\n"
        )

    fill(path, metrics, point)
    return path


def k6_summary(folder: Path) -> Path:
    """A k6 handleSummary: one level; the megabyte goes to many metrics with many thresholds."""
    path = folder / "k6-summary.json"
    src = ROOT / "tests/sources/loadtests/fixtures/k6-handle-summary.json"
    doc = json.loads(src.read_text())
    metrics = doc["metrics"]
    i = 0
    while len(json.dumps(doc)) < SIZE - 2_000:
        metrics[f"custom_{i}"] = {
            "type": "trend",
            "contains": "time",
            "values": {"avg": 1.5, "med": 1.2, "p(90)": 2.0, "p(95)": 2.5, "max": 9.0},
            "thresholds": {f"p(95)<{j}": {"ok": True} for j in range(20)},
        }
        i += 1
    path.write_text(json.dumps(doc))
    return path


def locust_history(folder: Path) -> Path:
    """Locust stats history: as many rows as fit, many user-count steps, many request names."""
    path = folder / "bench_stats_history.csv"
    head = (
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
        "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
        "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
        "Total Average Content Size\n"
    )

    def row(i: int) -> str:
        second, k = divmod(i, 4)
        users = 1 + second // 5
        name = "Aggregated" if k == 3 else f"/path/{second % 500}/{k}"
        kind = "" if k == 3 else "GET"
        total = second * 100 + k
        return (
            f"{1795755775 + second},{users},{kind},{name},{100.0 + k:.6f},0.000000,"
            "5,5,6,6,6,7,8,9,21,21,21,"
            f"{total},{k},5,5.24,3.8,21.3,3.0\n"
        )

    fill(path, head, row)
    return path


def locust_stats(folder: Path) -> Path:
    """Locust stats: as many request names as fit, with a small history beside it."""
    path = folder / "many_stats.csv"
    head = (
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    )
    tail = ",Aggregated,863,0,5,5.2,3.1,21.3,3.0,172.4,0.0,5,5,6,6,6,7,8,9,21,21,21\n"

    def row(i: int) -> str:
        return f"GET,/p/{i},863,0,5,5.2,3.1,21.3,3.0,172.4,0.0,5,5,6,6,6,7,8,9,21,21,21\n"

    fill(path, head, row, tail)
    src = ROOT / "tests/sources/loadtests/fixtures/locust-2.47.0_stats_history.csv"
    shutil.copy(src, folder / "many_stats_history.csv")
    return path


def jmeter(folder: Path) -> Path:
    """A JMeter JTL: as many samples as fit, the thread count rising every 11 samples (near
    the sweep's cap of 1,000 levels), over many labels, some failed."""
    path = folder / "results.jtl"
    head = (
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
        "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n"
    )

    def row(i: int) -> str:
        threads = 1 + i // 11
        ok = "true" if i % 50 else "false"
        return (
            f"{1717000000000 + i * 5},{5 + i % 40},GET /api/{i % 300},200,OK,Users 1-{threads},"
            f"text,{ok},,512,143,{threads},{threads},http://h/api,{i % 30},0,1\n"
        )

    fill(path, head, row)
    return path


def gatling(folder: Path) -> Path:
    """A Gatling 3.9 simulation.log: one more user every 2.2 s (each a level: near the sweep's
    cap of 1,000), 20 requests in each."""
    path = folder / "simulation.log"
    head = "RUN\tdemo.Sim\tsim\t1717000000000\t \t3.9.5\n"

    def record(i: int) -> str:
        block, k = divmod(i, 21)
        t = 1717000000000 + block * 2200 + k * 125
        if k == 0:
            return f"USER\tBrowse\tSTART\t{t}\n"
        status = "OK\t " if i % 30 else "KO\tstatus.find.is(200), but actually found 503"
        return f"REQUEST\t\treq{i % 400}\t{t}\t{t + 5 + i % 90}\t{status}\n"

    fill(path, head, record)
    return path


def vegeta(folder: Path) -> Path:
    """A vegeta JSON report: one level; the megabyte goes to many status codes and errors."""
    path = folder / "vegeta.json"
    src = ROOT / "tests/sources/loadtests/fixtures/vegeta-report.json"
    doc = json.loads(src.read_text())
    doc["success"] = 0.95
    errors: list[str] = []
    while len(json.dumps(doc)) + sum(len(e) + 4 for e in errors) < SIZE - 5_000:
        errors.append(f"Get http://h/p{len(errors)}: dial tcp: connection refused")
    doc["errors"] = errors
    doc["status_codes"] = {str(200 + i % 400): 1 for i in range(400)}
    path.write_text(json.dumps(doc))
    return path


# --- tpx's own files -------------------------------------------------------------------------


def usl_level(n: int) -> float:
    return 400 * n / (1 + 0.04 * (n - 1) + 0.0003 * n * (n - 1))


def sweep_json(folder: Path) -> Path:
    """A sweep file: the most levels allowed (1,000, the sweep's cap), every field set, and the
    rest of the megabyte in notes."""
    path = folder / "sweep.json"
    levels = [
        {
            "level": float(n),
            "throughput_rps": round(usl_level(n), 3),
            "latency_ms": {
                "mean": round(n / usl_level(n) * 1000, 4),
                **{p: round(2.4 + n * 0.01 * k, 3) for k, p in enumerate(PERCENTILES, 1)},
            },
            "errors": n % 3,
            "requests": int(usl_level(n) * 2),
            "duration_s": 2.0,
        }
        for n in range(1, LEVELS + 1)
    ]
    doc = {
        "format": "tpx-sweep",
        "version": 1,
        "level": "concurrency",
        "mode": "closed",
        "levels": levels,
        "notes": [],
    }
    room = SIZE - len(json.dumps(doc, separators=(",", ":"))) - 100
    doc["notes"] = [f"note {i}: " + "n" * 80 for i in range(room // 100)]
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return path


def sweep_csv(folder: Path) -> Path:
    """A sweep CSV: the most rows allowed (1,000 levels, the sweep's cap), and the rest of the
    megabyte in a column the reader ignores (a wide host list)."""
    path = folder / "sweep.csv"
    head = (
        "concurrency,throughput_rps,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,"
        "errors,requests,duration_s,hosts\n"
    )
    pad = "h" * ((SIZE - len(head)) // LEVELS - 80)

    def row(i: int) -> str:
        n = 1 + i
        x = usl_level(n)
        return f"{n},{x:.3f},{n / x * 1000:.4f},2.4,3.1,4.2,9.0,12.5,30.1,0,{int(x * 2)},2,{pad}\n"

    path.write_text(head + "".join(row(i) for i in range(LEVELS)))
    return path


def architecture(folder: Path, components: int = 1_000) -> Path:
    """The most components allowed (1,000): services calling each other, queues each consumed
    by a worker, databases called by many; every component with every key the plan reads."""
    path = folder / f"architecture-{components}.yaml"
    lines = ["system: big", "entry_rate: 1500 rps", "cost_unit: USD per hour", "components:"]
    third = components // 3
    for i in range(components):
        if i < third:  # services: each calls the next service, a queue and a database
            calls = {f"q{i}": 1, f"db{i % max(1, components - 2 * third)}": 2}
            if i + 1 < third:
                calls[f"s{i + 1}"] = 1
            lines += [
                f"  - name: s{i}",
                "    kind: service",
                "    instances: 3",
                "    max_instances: 300",
                "    cores: 4",
                "    stateless: true",
                f'    utilization: {{cpu: "{20 + i % 50}%", memory: "40%", network: "10%"}}',
                "    unit_cost: 0.17",
                "    calls: {" + ", ".join(f"{k}: {v}" for k, v in calls.items()) + "}",
            ]
        elif i < 2 * third:  # queues, each consumed by one worker below
            q = i - third
            lines += [f"  - name: q{q}", "    kind: queue", f"    partitions: {4 + q % 20}"]
        else:
            w = i - 2 * third
            lines += [
                f"  - name: db{w}",
                "    kind: database",
                "    instances: 1",
                '    read_share: "80%"',
                f'    utilization: {{cpu: "45%", disk_io: "{30 + w % 40}%", memory: "70%"}}',
                "    unit_cost: 0.68",
            ]
    # the workers: one per queue, replacing nothing (components counted above are the cap)
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return path


def architecture_workers(folder: Path, components: int = 1_000) -> Path:
    """1,000 components: 500 queues, each consumed (``consumes`` edge) by a worker that calls a
    shared database chain."""
    path = folder / f"architecture-consumes-{components}.yaml"
    lines = ["system: queues", "entry_rate: 10000 rps", "cost_unit: USD per hour", "components:"]
    pairs = (components - 2) // 2
    lines += [
        "  - name: front",
        "    kind: service",
        "    instances: 4",
        "    cores: 4",
        '    utilization: {cpu: "50%"}',
        "    calls: {" + ", ".join(f"q{i}: 1" for i in range(pairs)) + "}",
    ]
    for i in range(pairs):
        lines += [f"  - name: q{i}", "    kind: queue", f"    partitions: {2 + i % 30}"]
        lines += [
            f"  - name: w{i}",
            "    kind: worker",
            f"    instances: {1 + i % 5}",
            "    max_instances: 64",
            f"    consumes: q{i}",
            f"    service_time: {2 + i % 9}ms",
            "    concurrency: 4",
            "    acceptable_delay: 5s",
            "    stateless: true",
            "    unit_cost: 0.085",
            "    calls: {db: 1}",
        ]
    lines += [
        "  - name: db",
        "    kind: database",
        "    instances: 1",
        '    read_share: "50%"',
        '    utilization: {cpu: "45%", disk_io: "50%", memory: "70%"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def architecture_dense(folder: Path, components: int = 1_000, calls: int = 15) -> Path:
    """1,000 services, each calling the next ``calls`` (near as many edges as the YAML node cap of
    50,000 allows): the fan-out of a service sums over every path to it."""
    path = folder / f"architecture-dense-{components}.yaml"
    lines = ["system: dense", "entry_rate: 100 rps", "components:"]
    for i in range(components):
        callees = [f"s{j}: 0.05" for j in range(i + 1, min(components, i + 1 + calls))]
        lines += [
            f"  - name: s{i}",
            "    kind: service",
            "    instances: 2",
            "    cores: 2",
            f'    utilization: {{cpu: "{10 + i % 60}%"}}',
        ]
        if callees:
            lines.append("    calls: {" + ", ".join(callees) + "}")
    path.write_text("\n".join(lines) + "\n")
    return path


def defaults_yaml(folder: Path) -> Path:
    """A defaults file just under its 256 KiB cap: as many added playbook entries as fit."""
    path = folder / "defaults.yaml"

    def play(i: int) -> str:
        return (
            f"  - id: extra-{i}\n    when: [bottleneck:cpu, over_target]\n"
            f'    optimization: "Extra play {i}: cut CPU time per request"\n'
            "    horizon: quick\n    effort: medium\n    risk: low\n    quantify: none\n"
            f'    rationale: "CPU binds; each CPU-second removed per request raises ceiling {i}."\n'
        )

    fill(path, "saturation_targets: {cpu: 0.6}\nplays:\n", play, size=YAML_SIZE)
    return path


def rules_yaml(folder: Path) -> Path:
    """A rules file just under its 256 KiB cap: as many frame rules as fit, each a pattern that
    every frame is tried against."""
    path = folder / "rules.yaml"

    def rule(i: int) -> str:
        return f"  - {{category: compute, name: '^(pkg{i}\\.)?(foo|bar|baz)_{i}[a-z]*$'}}\n"

    fill(path, "rules:\n", rule, size=YAML_SIZE)
    return path


def batch_csv(folder: Path) -> Path:
    """A batch trial: as many rows as fit (sizes repeat), a linear cost with noise."""
    path = folder / "batch.csv"
    rng = np.random.default_rng(5)
    noise = rng.normal(1.0, 0.02, 200_000).tolist()

    def row(i: int) -> str:
        b = 1 + (i * 37) % 5000
        return f"{b},{(0.05 + 0.009 * b) * noise[i % len(noise)]:.5f}\n"

    fill(path, "batch_size,latency_ms\n", row)
    return path


def task_json(folder: Path) -> Path:
    """A babysitter task: the example's prompt, with as many instructions and context notes as
    fit (free text the worker reads)."""
    path = folder / "task.json"
    doc = json.loads((ROOT / "examples/babysitter/task.json").read_text())
    prompt = doc["prompt"]
    extra: list[str] = []
    base = len(json.dumps(doc))
    while base + sum(len(e) + 4 for e in extra) < SIZE - 2_000:
        extra.append(f"Check component {len(extra)}: consumer, PostgreSQL, 45% CPU")
    prompt["instructions"] = prompt["instructions"] + extra
    path.write_text(json.dumps(doc))
    return path


def saved_report(folder: Path, tpx: str, arch: Path) -> Path | None:
    """The largest scaling-plan report under 1 MB: planned from an architecture of as many
    components as keep the saved JSON under the size."""
    path = folder / "report.json"
    components = 1_000
    for _ in range(6):
        source = arch if components == 1_000 else architecture(folder, components)
        done = subprocess.run(
            [
                tpx,
                "scaling-plan",
                "--target-rps",
                "6000",
                "--current-architecture",
                str(source),
                "--format",
                "json",
                "--output",
                str(path),
            ],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"(no saved report: {done.stderr.decode(errors='replace').strip()})")
            return None
        size = path.stat().st_size
        if size <= SIZE:
            return path
        components = int(components * SIZE / size * 0.97)
    return None


def curves_report(folder: Path) -> Path:
    """A saved report (a task's: any series names) of just under 1 MB holding as many curves of
    3,000 points as fit: curves no designed chart takes, each drawn as a chart of its own."""
    path = folder / "curves.report.json"
    doc: dict[str, object] = {
        "schema_version": "2",
        "command": "task",
        "summary": "Many curves.",
        "analysis": {},
        "series": {},
        "recommendations": [],
        "implementation_plan": {"immediate": [], "short_term": [], "long_term": []},
        "evidence": [],
        "assumptions": [],
        "inputs": [],
    }
    one = len(json.dumps({"x_label": "x", "y_label": "y", "points": [[0.0, 0.0]] * 3000}))
    count = (SIZE - 2_000) // (one + 20)
    doc["series"] = {
        f"curve_{i}": {
            "x_label": "x",
            "y_label": "y",
            "points": [[float(x), float((x * 7919 + i) % 1000) / 10] for x in range(3000)],
        }
        for i in range(count)
    }
    text = json.dumps(doc)
    while len(text) > SIZE:  # the points' digits vary: drop a curve until it fits
        series = doc["series"]
        assert isinstance(series, dict)
        series.pop(next(reversed(series)))
        text = json.dumps(doc)
    path.write_text(text)
    return path


# --- the table -------------------------------------------------------------------------------


def cases(folder: Path, tpx: str) -> list[Case]:
    lt = ["sweep", "--from"]
    occ = [
        "optimize-concurrency",
        "--workload-type",
        "io",
        "--current-thread-pool",
        "4",
        "--cpu-cores",
        "2",
        "--sweep",
    ]
    fb = ["find-bottleneck", "--profile"]
    analyze = ["analyze", "--metrics"]
    metrics = str(ROOT / "examples/metrics.json")
    arch = architecture(folder)
    scrape_1, scrape_2 = prom_text(folder)
    small_profile = sorted((ROOT / "tests/fixtures/corpus/python").glob("*.speedscope.json"))[0]
    out = [
        Case("analyze", "metrics JSON", metrics_json(folder), analyze),
        Case("analyze", "Prometheus query_range", prom_query_range(folder), analyze),
        Case("analyze", "Prometheus export", prom_export(folder), analyze),
        Case(
            "analyze",
            "Prometheus text (x2)",
            scrape_2,
            ["analyze", "--metrics", str(scrape_1), "--interval", "15s", "--metrics"],
        ),
        Case("find-bottleneck", "collapsed", collapsed(folder), fb),
        Case("find-bottleneck", "speedscope", speedscope(folder), fb),
        Case("find-bottleneck", "cpuprofile", cpuprofile(folder), fb),
        Case("find-bottleneck", "pprof (gzip)", pprof(folder), fb),
        Case("find-bottleneck", "jstack", jstack(folder), fb),
        Case("sweep", "wrk", wrk(folder), lt),
        Case("sweep", "k6 JSON lines", k6_lines(folder), lt),
        Case("sweep", "k6 summary", k6_summary(folder), lt),
        Case("sweep", "Locust stats", locust_stats(folder), lt),
        Case("sweep", "Locust history", locust_history(folder), lt),
        Case("sweep", "JMeter JTL", jmeter(folder), lt),
        Case("sweep", "Gatling log", gatling(folder), lt),
        Case("sweep", "vegeta", vegeta(folder), lt),
        Case("optimize-concurrency", "sweep JSON", sweep_json(folder), occ),
        Case("optimize-concurrency", "sweep CSV", sweep_csv(folder), occ),
        Case(
            "scaling-plan",
            "architecture (calls)",
            arch,
            ["scaling-plan", "--target-rps", "6000", "--current-architecture"],
        ),
        Case(
            "scaling-plan",
            "architecture (consumes)",
            architecture_workers(folder),
            ["scaling-plan", "--target-rps", "50000", "--current-architecture"],
        ),
        Case(
            "scaling-plan",
            "architecture (dense calls)",
            architecture_dense(folder),
            ["scaling-plan", "--target-rps", "1000", "--current-architecture"],
        ),
        Case(
            "analyze",
            "defaults YAML",
            defaults_yaml(folder),
            ["analyze", "--metrics", metrics, "--defaults"],
        ),
        Case(
            "find-bottleneck",
            "rules YAML",
            rules_yaml(folder),
            [*fb, str(small_profile), "--rules"],
        ),
        Case(
            "design-batching",
            "batch CSV",
            batch_csv(folder),
            [
                "design-batching",
                "--operation",
                "database-insert",
                "--target-throughput",
                "50000",
                "--measurements",
            ],
        ),
        Case("task", "task.json", task_json(folder), ["task"], ("json",)),
    ]
    report = saved_report(folder, tpx, arch)
    if report is not None:
        out.append(Case("report", "scaling-plan report", report, ["report"]))
    out.append(Case("report", "task report (curves)", curves_report(folder), ["report"]))
    return out


def argv_for(tpx: str, case: Case, fmt: str, folder: Path) -> list[str]:
    if case.command == "task":
        return [tpx, "task", str(case.path), "--output", str(folder / "task.out.json")]
    return [tpx, *case.argv, str(case.path), "--format", fmt]


def run_once(command: Sequence[str]) -> tuple[float, float, int, str]:
    """(CPU s of the child, wall s, exit status, stderr) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.returncode, done.stderr.decode(errors="replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median; default 3)")
    parser.add_argument("--only", default="", help="rows whose command or input has this text")
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    parser.add_argument("--tpx", help="the tpx to time (default: the one beside this Python)")
    args = parser.parse_args()
    tpx = args.tpx or find_tpx("large_inputs.py")
    with tempfile.TemporaryDirectory(prefix="tpx-large-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        table = cases(folder, tpx)
        met = total = failed = 0
        print(
            f"{'command':<21} {'input':<24} {'size':>9} {'format':<6} {'CPU s':>6} "
            f"{'wall s':>6}  <= {GOAL_S:g} s"
        )
        for case in table:
            if args.only and args.only not in f"{case.command} {case.name}":
                continue
            size = case.path.stat().st_size
            for fmt in case.formats:
                cpus, walls, outcome = [], [], ""
                for _ in range(max(1, args.runs)):
                    cpu, wall, code, err = run_once(argv_for(tpx, case, fmt, folder))
                    cpus.append(cpu)
                    walls.append(wall)
                    lines = err.strip().splitlines()
                    if code == 2 and len(lines) == 1:
                        outcome = f"refused: {lines[0][:90]}"
                    elif code != 0:
                        outcome = f"FAILED (exit {code}): {' | '.join(lines[-2:])[:120]}"
                cpu_s, wall_s = statistics.median(cpus), statistics.median(walls)
                ok = cpu_s <= GOAL_S
                total += 1
                met += ok
                failed += outcome.startswith("FAILED")
                shown = "json" if case.command == "task" else fmt
                print(
                    f"{case.command:<21} {case.name:<24} {size:>9,} {shown:<6} {cpu_s:>6.2f} "
                    f"{wall_s:>6.2f}  {'met' if ok else 'NOT met'}"
                    + (f"  ({outcome})" if outcome else ""),
                    flush=True,
                )
        print(
            f"\n{met} of {total} runs within {GOAL_S:g} s of CPU ({total - met} NOT met)"
            + (f"; {failed} failed" if failed else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
