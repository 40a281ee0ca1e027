"""Search speed by description over a synthetic but realistic index: ``--tracks`` tracks (default 10 million) over
1,000 cameras and 30 days, classes and colours in proportions like a city's (six in ten people, a quarter cars…),
a tenth of the people carrying a bag. Queries go through the search service (parsing, purpose, filters on the
indexed columns, the audit record); the baseline is the same filters as a plain scan of the table in the same run
(SQLite ``NOT INDEXED``). Prints build time, database size and p50/p95 per query. Target: p95 < 150 ms.

    .venv/bin/python bench/search_speed.py [--tracks 10000000] [--runs 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.services.search import SearchRequest

CAMERAS = 1000
DAYS = 30
CLASSES = {"person": 0.6, "car": 0.25, "motorcycle": 0.08, "bicycle": 0.04, "truck": 0.02, "bus": 0.01}
COLOURS = {
    "black": 0.35, "grey": 0.15, "white": 0.15, "blue": 0.13, "red": 0.06, "brown": 0.05, "green": 0.04,
    "yellow": 0.03, "pink": 0.02, "orange": 0.01, "purple": 0.01,
}  # fmt: skip
QUERIES = (
    "穿红衣服的人",
    "white car",
    "红色电动车",
    "穿黑衣服背书包的人",
    "蓝色牛仔裤",
    "yellow bus",
    "昨天下午 白色汽车",
)
BATCH = 200_000


def build(db: Path, tracks: int, now: datetime) -> None:
    """Fill the migrated store's ``tracks`` with synthetic rows (straight SQL: this is the set-up, not measured)."""
    rng = np.random.default_rng(7)
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA synchronous=OFF")
    connection.executemany(
        "INSERT INTO cameras (id, name, rtsp_transport, created_at) VALUES (?, ?, 'tcp', ?)",
        [(f"cam{i:04d}", f"camera {i}", now.isoformat()) for i in range(CAMERAS)],
    )
    classes, class_p = list(CLASSES), np.array(list(CLASSES.values()))
    colours, colour_p = list(COLOURS), np.array(list(COLOURS.values()))
    first = now - timedelta(days=DAYS)
    for done in range(0, tracks, BATCH):
        n = min(BATCH, tracks - done)
        camera = rng.integers(0, CAMERAS, n)
        kind = rng.choice(len(classes), n, p=class_p / class_p.sum())
        upper = rng.choice(len(colours), n, p=colour_p / colour_p.sum())
        lower = rng.choice(len(colours), n, p=colour_p / colour_p.sum())
        offset = np.sort(rng.uniform(0, DAYS * 86400, n))
        seconds = rng.integers(2, 120, n)
        bag = rng.random(n) < 0.1
        rows = []
        for i in range(n):
            start = first + timedelta(seconds=float(offset[i]))
            person = classes[kind[i]] == "person"
            rows.append(
                (
                    f"cam{camera[i]:04d}",
                    classes[kind[i]],
                    start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    (start + timedelta(seconds=int(seconds[i]))).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    colours[upper[i]],
                    colours[lower[i]] if person else None,
                    "backpack" if person and bag[i] else "",
                    80,
                    "left",
                    0.8,
                )
            )
        connection.executemany(
            'INSERT INTO tracks (camera_id, class_name, start, "end", upper_colour, lower_colour, carried,'
            " height_px, direction, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.commit()
        print(f"\r{done + n:,} tracks", end="", flush=True)
    print()
    connection.execute("ANALYZE")
    connection.close()


def scan_ms(db: Path, class_name: str, colour: str, since: datetime) -> float:
    """The baseline: the same kind of filter as a plain scan."""
    connection = sqlite3.connect(db)
    started = time.perf_counter()
    connection.execute(
        "SELECT id FROM tracks NOT INDEXED WHERE class_name = ? AND upper_colour = ? AND start >= ?"
        " ORDER BY start DESC LIMIT 50",
        (class_name, colour, since.strftime("%Y-%m-%d %H:%M:%S")),
    ).fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-speed-") as tmp:
        runtime = build_runtime(load_settings(None, data_dir=Path(tmp)), with_streams=False)
        db = Path(tmp) / "sharpeyes.db"
        started = time.perf_counter()
        build(db, args.tracks, now)
        print(
            f"built {args.tracks:,} tracks in {time.perf_counter() - started:.0f} s; "
            f"database {db.stat().st_size / 1e9:.2f} GB"
        )
        search = runtime.services.search
        worst = 0.0
        for text in QUERIES:
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                answer = search.search("bench", SearchRequest(text=text, reason="speed benchmark", limit=50))
                times.append((time.perf_counter() - t0) * 1000)
            p95 = float(np.percentile(times, 95))
            worst = max(worst, p95)
            p50 = statistics.median(times)
            print(f"{text:20s} {len(answer.results):3d} results  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
        baseline = scan_ms(db, "person", "red", now - timedelta(days=7))
        print(
            f"baseline (plain scan, red people, 7 days): {baseline:.0f} ms → indexed p95 worst {worst:.1f} ms, "
            f"{baseline / max(worst, 1e-6):.0f}x faster"
        )
        print(f"target p95 < 150 ms: {'met' if worst < 150 else 'MISSED'}")
        runtime.engine.dispose()


if __name__ == "__main__":
    main()
