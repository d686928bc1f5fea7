"""Reference fits of open_cp's grid ETAS (seppexp.SEPPTrainer) on real Philadelphia data,
and open_cp's one-step EM on a 3-event hand case, for sl-analytics' etas_grid tests.

Data: Philadelphia Police Department incidents (/work/shared/data/philadelphia-ppd, see
its SOURCE.md), text_general_code = "Burglary Residential", dispatch_date in 2023-2024,
with a location. Coordinates: point_x/point_y (WGS84) -> EPSG:26918 (UTM 18N metres)
with pyproj, rounded to 0.01 m. Times: days since 2023-01-01 (local dispatch date) plus a
uniform jitter in [0, 1) day from numpy default_rng(20230101) (events ordered by date,
then objectid), rounded to whole milliseconds (open_cp works on datetime64).

Grid: 150 m cells aligned to multiples of 150 m, covering every located incident of
2019-2025 (all types); mask.csv lists the cells holding any such incident.

open_cp: SEPPTrainer(region covering the grid, grid_size=150), data = the 2023 events,
train(iterations=20) with use_corrected False and True. open_cp's time axis starts at
the first event and its window ends at the last event.

Usage: python make_fixture.py /path/to/PredictCode-checkout /work/shared/data/philadelphia-ppd/raw
"""
import csv
import io
import json
import math
import sys
import time

import numpy as np

import numpy.ma  # noqa: E402,F401  (before the aliases below, which it must not see)

for name, typ in [("int", int), ("float", float), ("object", object), ("bool", bool)]:
    if name not in np.__dict__:
        setattr(np, name, typ)
if "product" not in np.__dict__:
    np.product = np.prod

sys.path.insert(0, sys.argv[1])
import open_cp.data  # noqa: E402
import open_cp.seppexp as seppexp  # noqa: E402
import pyproj  # noqa: E402
import zstandard  # noqa: E402

raw = sys.argv[2]
to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True)
CELL = 150.0

all_lon, all_lat = [], []
burg = []  # (date, objectid, lon, lat)
for year in range(2019, 2026):
    with open(f"{raw}/incidents_{year}.csv.zst", "rb") as fh:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh), encoding="utf-8")
        for row in csv.DictReader(text):
            try:
                lon, lat = float(row["point_x"]), float(row["point_y"])
            except ValueError:
                continue
            if not (-75.3 < lon < -74.9 and 39.85 < lat < 40.15):
                continue
            all_lon.append(lon)
            all_lat.append(lat)
            d = row["dispatch_date"]
            if row["text_general_code"] == "Burglary Residential" and "2023-01-01" <= d <= "2024-12-31":
                burg.append((d, int(row["objectid"]), lon, lat))

ax, ay = to_utm.transform(np.array(all_lon), np.array(all_lat))
x0 = math.floor(ax.min() / CELL) * CELL
y0 = math.floor(ay.min() / CELL) * CELL
cols = int(math.floor((ax.max() - x0) / CELL)) + 1
rows = int(math.floor((ay.max() - y0) / CELL)) + 1
mask = sorted(set(zip(np.floor((ay - y0) / CELL).astype(int).tolist(),
                      np.floor((ax - x0) / CELL).astype(int).tolist())))

burg.sort(key=lambda r: (r[0], r[1]))
bx, by = to_utm.transform(np.array([r[2] for r in burg]), np.array([r[3] for r in burg]))
bx, by = np.round(bx, 2), np.round(by, 2)
day0 = np.datetime64("2023-01-01")
days = np.array([(np.datetime64(r[0]) - day0) / np.timedelta64(1, "D") for r in burg])
jit = np.random.default_rng(20230101).uniform(0.0, 1.0, len(burg))
ms = np.round((days + jit) * 86_400_000).astype(np.int64)
order = np.argsort(ms, kind="stable")
bx, by, ms = bx[order], by[order], ms[order]
assert len(np.unique(ms)) == len(ms), "tied jittered times"

with open("events.csv", "w") as f:
    f.write("x,y,t_ms\n")
    for x, y, t in zip(bx, by, ms):
        f.write(f"{x:.2f},{y:.2f},{t}\n")
with open("mask.csv", "w") as f:
    f.write("row,col\n")
    for r, c in mask:
        f.write(f"{r},{c}\n")

# open_cp on 2023 (t < 365 days), read back exactly as written.
sel = ms < 365 * 86_400_000
stamps = day0.astype("datetime64[ms]") + ms[sel].astype("timedelta64[ms]")
points = open_cp.data.TimedPoints.from_coords(stamps, bx[sel], by[sel])
region = open_cp.data.RectangularRegion(xmin=x0, xmax=x0 + cols * CELL, ymin=y0, ymax=y0 + rows * CELL)
ref = {"grid": {"x0": x0, "y0": y0, "cell": CELL, "rows": rows, "cols": cols},
       "mask_cells": len(mask), "events_2023": int(sel.sum()), "events_all": int(len(ms))}
mus = {}
for corrected in (False, True):
    trainer = seppexp.SEPPTrainer(region=region, grid_size=CELL)
    trainer.data = points
    t0 = time.perf_counter()
    pred = trainer.train(iterations=20, use_corrected=corrected)
    secs = time.perf_counter() - t0
    key = "corrected" if corrected else "plain"
    ref[key] = {"theta": float(pred.theta), "omega_per_day": float(pred.omega) * 1440.0,
                "seconds": secs}
    mus[key] = np.asarray(pred.mu, dtype=float) * 1440.0
    print(key, ref[key], flush=True)

with open("opencp_mu.csv", "w") as f:
    f.write("row,col,mu_plain,mu_corrected\n")
    nz = np.argwhere((mus["plain"] > 0) | (mus["corrected"] > 0))
    for r, c in nz:
        f.write(f"{r},{c},{mus['plain'][r, c]:.17g},{mus['corrected'][r, c]:.17g}\n")

# Hand case: one cell, events at 0, 1, 3 days, window [0, 4), theta 0.5, omega 1, mu 3/4.
cells = np.empty((1, 1), dtype=object)
cells[0, 0] = np.array([0.0, 1.0, 3.0])
mu0 = np.array([[0.75]])
for key, fn in (("plain", seppexp.maximisation), ("corrected", seppexp.maximisation_corrected)):
    om, th, mu = fn(cells, 1.0, 0.5, mu0, 4.0)
    ref["hand_" + key] = {"omega": float(om), "theta": float(th), "mu": float(mu[0, 0])}
    print("hand", key, ref["hand_" + key])

with open("reference.json", "w") as f:
    json.dump(ref, f, indent=1)
