#!/usr/bin/env python3
"""Builds the real-data reader fixtures of `tests/integration/readers.rs` (see README.md,
"Real-data reader fixtures") from the files in /work/shared/data:

* vancouver_2026_head200.parquet: the first 200 data rows of the VPD 2026 export
  (crimedata_csv_AllNeighbourhoods_2026.csv.gz), read with pyarrow.csv (so YEAR..MINUTE
  are int64, X/Y double, the rest strings) and written as Parquet (snappy).
* philadelphia_2025_head50.geojson: the first 50 data rows of incidents_2025.csv.zst
  as a FeatureCollection of Point features [point_x, point_y] (a null geometry where
  the row has no point), with the remaining columns as properties. the_geom,
  the_geom_webmercator, point_x and point_y are left out (the geometry carries the
  point); cartodb_id, objectid, hour and ucr_general are JSON numbers, the rest strings.
* *.expected.csv: each row's expected event, computed here independently of
  Streetlight: the UTC window of its local time (zoneinfo) and its WGS84 lon/lat
  (pyproj for Vancouver's UTM 10N; Philadelphia's point as published).

Usage: python make_parquet.py [SHARED_DATA_DIR]   (needs pyarrow, pyproj, zstandard
or the `zstd` command). Output goes next to this script and is deterministic.
"""

import csv
import datetime as dt
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[4] / "shared" / "data"


def vancouver():
    src = DATA / "vancouver-vpd" / "raw" / "crimedata_csv_AllNeighbourhoods_2026.csv.gz"
    raw = gzip.decompress(src.read_bytes())
    # Keep the header and the first 200 rows exactly as published.
    lines = raw.split(b"\n")
    head = b"\n".join(lines[:201]) + b"\n"
    table = pacsv.read_csv(io.BytesIO(head))
    assert table.num_rows == 200, table.num_rows
    out = HERE / "vancouver_2026_head200.parquet"
    pq.write_table(table, out, compression="snappy")

    utm = Transformer.from_crs("EPSG:26910", "EPSG:4326", always_xy=True)
    tz = ZoneInfo("America/Vancouver")
    rows = list(csv.DictReader(io.StringIO(head.decode("utf-8"))))
    with open(HERE / "vancouver_2026_head200.expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "type", "neighbourhood", "from", "to", "lon", "lat"])
        for i, r in enumerate(rows, 1):
            local = dt.datetime(int(r["YEAR"]), int(r["MONTH"]), int(r["DAY"]),
                                int(r["HOUR"]), int(r["MINUTE"]), tzinfo=tz)
            start = int(local.timestamp())
            x, y = float(r["X"] or 0), float(r["Y"] or 0)
            if x == 0 or y == 0:  # VPD suppresses a location as (0, 0)
                lon = lat = ""
            else:
                lo, la = utm.transform(x, y)
                lon, lat = f"{lo:.9f}", f"{la:.9f}"
            w.writerow([i, r["TYPE"], r["NEIGHBOURHOOD"], start, start + 60, lon, lat])


def read_zst(path):
    try:
        import zstandard

        with open(path, "rb") as f:
            dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27)
            return dctx.stream_reader(f).read()
    except ImportError:
        return subprocess.run(["zstd", "-dc", "--long=27", str(path)],
                              check=True, capture_output=True).stdout


def philadelphia():
    src = DATA / "philadelphia-ppd" / "raw" / "incidents_2025.csv.zst"
    text = read_zst(src).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = [r for _, r in zip(range(50), reader)]
    numbers = {"cartodb_id", "objectid", "hour", "ucr_general"}
    dropped = {"the_geom", "the_geom_webmercator", "point_x", "point_y"}
    features = []
    for r in rows:
        props = {}
        for k, v in r.items():
            if k in dropped:
                continue
            props[k] = (int(v) if v != "" else None) if k in numbers else v
        geometry = None
        if r["point_x"] and r["point_y"]:
            geometry = {"type": "Point",
                        "coordinates": [float(r["point_x"]), float(r["point_y"])]}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    with open(HERE / "philadelphia_2025_head50.geojson", "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, indent=1)
        f.write("\n")

    with open(HERE / "philadelphia_2025_head50.expected.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["row", "objectid", "ucr_general", "district", "beat", "from", "to",
                    "lon", "lat"])
        for i, r in enumerate(rows, 1):
            t = dt.datetime.fromisoformat(r["dispatch_date_time"])  # "... 05:00:00+00"
            assert t.utcoffset() is not None
            start = int(t.timestamp())
            lon = repr(float(r["point_x"])) if r["point_x"] else ""
            lat = repr(float(r["point_y"])) if r["point_y"] else ""
            w.writerow([i, r["objectid"], r["ucr_general"], r["dc_dist"], r["psa"], start,
                        start + 1, lon, lat])


if __name__ == "__main__":
    vancouver()
    philadelphia()
