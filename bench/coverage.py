"""Coverage accounting at city scale: import 420,000 cameras in ~30,000 areas, then time a city-level report.

Baselines measured in the same run, on the same machine and rows:
- import: a bare ``sqlite3`` ``executemany`` of the same rows into a table without checks (the floor);
- report: the one ``GROUP BY area_code`` scan the report is built on (the report's own overhead is the ratio).

Targets: import >= 20,000 rows/s, city report < 500 ms.

    .venv/bin/python bench/coverage.py            # full scale
    .venv/bin/python bench/coverage.py --quick    # 42,000 cameras, for a smoke run
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import text

from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings

CITY = "320100"


def build_tables(cameras: int, districts: int, townships: int, villages: int) -> tuple[bytes, bytes, bytes]:
    """(areas CSV, sites CSV, cameras CSV) for one city."""
    areas = [("code", "name", "level", "parent_code"), (CITY, "基准市", "city", "")]
    sites = [("name", "site_type", "area_code")]
    leaves: list[str] = []
    for d in range(districts):
        district = f"32{d + 1:02d}{d + 1:02d}"
        areas.append((district, f"区{d}", "district", CITY))
        for t in range(townships):
            township = f"{district}{t + 1:03d}"
            areas.append((township, f"街道{d}-{t}", "township", district))
            sites += [(f"小学{d}-{t}", "school", township), (f"幼儿园{d}-{t}", "kindergarten", township)]
            for v in range(villages):
                village = f"{township}{v + 1:03d}"
                areas.append((village, f"村{d}-{t}-{v}", "village", township))
                leaves.append(village)
    rows = [("id", "name", "area_code", "site_name", "site_type", "longitude", "latitude", "source_url")]
    for n in range(cameras):
        leaf = leaves[n % len(leaves)]
        lon, lat = 118.0 + (n % 997) / 997, 31.5 + (n % 991) / 991
        url = f"rtsp://10.{n % 250}.{n // 250 % 250}.1/main" if n % 5 else ""
        rows.append((f"3201000000132{n:07d}", f"点位{n}", leaf, "", "", f"{lon:.6f}", f"{lat:.6f}", url))
    return _csv(areas), _csv(sites), _csv(rows)


def _csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def raw_insert_baseline(path: Path, camera_csv: bytes) -> float:
    """The floor: the same rows through sqlite3.executemany into an unconstrained table."""
    rows = list(csv.reader(io.StringIO(camera_csv.decode())))[1:]
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (id, name, area_code, site_name, site_type, longitude, latitude, source_url)")
    started = time.perf_counter()
    connection.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?)", rows)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one tenth of the cameras")
    parser.add_argument("--repeat", type=int, default=5, help="report runs to take the median of")
    args = parser.parse_args()
    cameras = 42_000 if args.quick else 420_000
    areas_csv, sites_csv, cameras_csv = build_tables(cameras, districts=12, townships=25, villages=99)
    area_count = areas_csv.count(b"\n") - 1
    print(f"inventory: {cameras:,} cameras, {area_count:,} areas, {len(cameras_csv) / 2**20:.1f} MB CSV")

    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-") as tmp:
        settings = load_settings(None, data_dir=Path(tmp) / "data")
        services = build_runtime(settings, with_streams=False).services
        area_s = timed(lambda: services.areas.import_table(io.BytesIO(areas_csv)))
        services.sites.import_table(io.BytesIO(sites_csv))
        reports = []
        import_s = timed(lambda: reports.append(services.inventory.import_table(io.BytesIO(cameras_csv))))
        report = reports[0]
        if report.imported != cameras or report.rejected:
            raise SystemExit(f"import went wrong: {report.imported} imported, first rejections {report.rejected[:3]}")
        reimport_s = timed(lambda: services.inventory.import_table(io.BytesIO(cameras_csv)))
        baseline_s = raw_insert_baseline(Path(tmp) / "raw.db", cameras_csv)

        city_s = statistics.median(timed(lambda: services.coverage.report(CITY)) for _ in range(args.repeat))
        engine = build_runtime(settings, with_streams=False).engine
        with engine.connect() as connection:
            scan = text("SELECT area_code, count(*), count(source_url) FROM cameras GROUP BY area_code")
            scan_s = statistics.median(timed(lambda: connection.execute(scan).all()) for _ in range(args.repeat))
        figures = services.coverage.report(CITY).figures

    rate = cameras / import_s
    print(f"area import:           {area_s * 1000:8.0f} ms")
    print(f"camera import:         {import_s:8.2f} s  = {rate:,.0f} rows/s (target >= 20,000)")
    print(
        f"  baseline raw sqlite3 executemany: {baseline_s:.2f} s = {cameras / baseline_s:,.0f} rows/s; "
        f"import / baseline = {import_s / baseline_s:.1f}x"
    )
    print(f"camera re-import (all unchanged): {reimport_s:.2f} s = {cameras / reimport_s:,.0f} rows/s")
    print(f"city coverage report:  {city_s * 1000:8.0f} ms median of {args.repeat} (target < 500 ms)")
    print(f"  baseline GROUP BY scan: {scan_s * 1000:.0f} ms; report / scan = {city_s / scan_s:.1f}x")
    print(f"  figures: {figures.cameras:,} cameras, {figures.networked:,} networked ({figures.networking_rate:.1%})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:,.0f} MB (the CSV alone is {len(cameras_csv) / 2**20:.0f} MB)")
    print(f"targets: import {'met' if rate >= 20_000 else 'MISSED'}, report {'met' if city_s < 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
