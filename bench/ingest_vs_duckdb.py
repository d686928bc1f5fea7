#!/usr/bin/env python3
"""Ingest benchmark: Streetlight vs DuckDB on the full Philadelphia data, in one run.

Usage (from the repository root, after `cargo build --release`):

    python3 -m venv /tmp/venv-duck && /tmp/venv-duck/bin/pip install duckdb
    /tmp/venv-duck/bin/python bench/ingest_vs_duckdb.py [--runs 3] [--data ../shared/data]

What is timed, each in a fresh process and a fresh database file, runs interleaved:
  streetlight-zst  `streetlight ingest` of the 7 yearly .csv.zst files (decompression,
                   parsing, validation, reprojection, jurisdiction test, dedup keys,
                   SQLite writes in WAL mode: the whole path a user runs)
  streetlight-csv  the same on one decompressed CSV (same input as DuckDB)
  duckdb-file      CREATE TABLE t AS SELECT * FROM read_csv('phl.csv') into a DuckDB file
  duckdb-memory    the same into an in-memory DuckDB (no durability; a lower bound)
DuckDB is a PyPI package used only here, never by the Rust build.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROWS = 1_063_390


def timed(cmd, env=None):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--bin", default=os.path.join("target", "release", "streetlight"))
    args = ap.parse_args()

    raw = os.path.join(args.data, "philadelphia-ppd", "raw")
    zst = sorted(os.path.join(raw, f) for f in os.listdir(raw) if f.endswith(".csv.zst"))
    work = tempfile.mkdtemp(prefix="sl-bench-")
    csv_dir = os.path.join(work, "philadelphia-ppd", "raw")
    os.makedirs(csv_dir)
    # The profile finds its boundary relative to the input, so mirror the layout.
    shutil.copytree(os.path.join(args.data, "philadelphia-ppd", "boundaries"),
                    os.path.join(work, "philadelphia-ppd", "boundaries"))
    csv_path = os.path.join(csv_dir, "phl.csv")
    with open(csv_path, "wb") as out:
        for i, f in enumerate(zst):
            data = subprocess.run(["zstd", "-dc", "--long=27", f], check=True, capture_output=True).stdout
            if i > 0:
                data = data.split(b"\n", 1)[1]
            out.write(data)

    duck = (
        "import duckdb,sys\n"
        "con=duckdb.connect(sys.argv[1])\n"
        "con.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('%s')\")\n"
        "n=con.execute('SELECT count(*) FROM t').fetchone()[0]\n"
        "assert n==%d, n\n"
        "con.close()\n" % (csv_path, ROWS)
    )
    duck_py = os.path.join(work, "duck.py")
    with open(duck_py, "w") as f:
        f.write(duck)

    def fresh(path):
        for suffix in ("", "-wal", "-shm", ".wal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return path

    db = os.path.join(work, "sl.db")
    ddb = os.path.join(work, "duck.db")
    cases = {
        "streetlight-zst": lambda: timed([args.bin, "ingest", "--db", fresh(db), "--profile",
                                          "philadelphia-ppd", "--quiet", *zst]),
        "streetlight-csv": lambda: timed([args.bin, "ingest", "--db", fresh(db), "--profile",
                                          "philadelphia-ppd", "--quiet", csv_path]),
        "duckdb-file": lambda: timed([sys.executable, duck_py, fresh(ddb)]),
        "duckdb-memory": lambda: timed([sys.executable, duck_py, ":memory:"]),
    }
    times = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, run in cases.items():
            times[name].append(run())
    print(f"machine: {os.cpu_count()} cores; {ROWS:,} rows; median of {args.runs} interleaved runs")
    print(f"{'case':<18}{'median s':>10}{'rows/s':>12}{'runs':>30}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:<18}{med[k]:>10.2f}{ROWS / med[k]:>12,.0f}   " + " ".join(f"{t:.2f}" for t in v))
    print(f"ratio streetlight-zst / duckdb-file: {med['streetlight-zst'] / med['duckdb-file']:.2f}")
    print(f"ratio streetlight-csv / duckdb-file: {med['streetlight-csv'] / med['duckdb-file']:.2f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
