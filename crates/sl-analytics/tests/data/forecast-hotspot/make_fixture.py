"""Builds the open_cp reference fixture for Streetlight's hot-spot forecasters.

Run with a Python that has numpy, scipy and pyproj, and open_cp on sys.path:

    git -C <PredictCode mirror> archive HEAD open_cp setup.py | tar -x -C /tmp/opencp-hotspot
    PYTHONPATH=/tmp/opencp-hotspot python make_fixture.py /work/shared/data/philadelphia-ppd/raw

Data: Philadelphia PPD incidents, `text_general_code == "Burglary Residential"`,
dispatch time (UTC) in [2023-07-01, 2024-07-01), projected to UTM 18N (EPSG:26918).
Grid: 150 m cells aligned on multiples of 150 m, 20 x 20 cells over the densest
3 km square of the training year; events kept within 1.5 km of the grid (so events
outside the grid contribute, as they do in open_cp). Origin (prediction time):
2024-07-01 00:00 UTC = day 182 of 2024. Times are stored as whole seconds since
2024-01-01 00:00 UTC.

Writes events.csv (x, y, seconds) and scores.csv (row, col, then one column per
open_cp predictor, rows from the south, columns from the west).
"""
import csv
import io
import subprocess
import sys

import numpy as np

# open_cp (2018) uses aliases numpy 2 removed.
for name, val in [("int", int), ("float", float), ("object", object), ("bool", bool)]:
    if not hasattr(np, name):
        setattr(np, name, val)
if not hasattr(np, "product"):
    np.product = np.prod

import pyproj  # noqa: E402
import open_cp  # noqa: E402
import open_cp.data  # noqa: E402
import open_cp.kde  # noqa: E402
import open_cp.predictors  # noqa: E402
import open_cp.prohotspot  # noqa: E402
import open_cp.retrohotspot  # noqa: E402

RAW = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/philadelphia-ppd/raw"
CELL = 150.0
N = 20
MARGIN = 1500.0
EPOCH = np.datetime64("2024-01-01T00:00:00", "s")
START = np.datetime64("2023-07-01T00:00:00", "s")
ORIGIN = np.datetime64("2024-07-01T00:00:00", "s")

to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True)
rows = []
for year in (2023, 2024):
    raw = subprocess.run(
        ["zstd", "-dc", "--long=27", f"{RAW}/incidents_{year}.csv.zst"],
        check=True, capture_output=True).stdout.decode()
    for r in csv.DictReader(io.StringIO(raw)):
        if r["text_general_code"] != "Burglary Residential" or not r["point_x"]:
            continue
        ts = np.datetime64(r["dispatch_date_time"][:19].replace(" ", "T"), "s")
        if START <= ts < ORIGIN:
            x, y = to_utm.transform(float(r["point_x"]), float(r["point_y"]))
            rows.append((x, y, ts))
xs = np.array([r[0] for r in rows])
ys = np.array([r[1] for r in rows])
ts = np.array([r[2] for r in rows], dtype="datetime64[s]")

# The densest 3 km square, aligned on the 150 m lattice (coarse search on 1.5 km steps).
best = None
for gx0 in np.arange(np.floor(xs.min() / 1500) * 1500, xs.max(), 1500.0):
    for gy0 in np.arange(np.floor(ys.min() / 1500) * 1500, ys.max(), 1500.0):
        n = np.sum((xs >= gx0) & (xs < gx0 + N * CELL) & (ys >= gy0) & (ys < gy0 + N * CELL))
        if best is None or n > best[0]:
            best = (n, gx0, gy0)
_, x0, y0 = best
keep = ((xs >= x0 - MARGIN) & (xs < x0 + N * CELL + MARGIN)
        & (ys >= y0 - MARGIN) & (ys < y0 + N * CELL + MARGIN))
order = np.argsort(ts[keep], kind="stable")
xs, ys, ts = xs[keep][order], ys[keep][order], ts[keep][order]
secs = (ts - EPOCH).astype(np.int64)
# A whole-week gap to the origin would make floor() sensitive to rounding.
assert not np.any(((ORIGIN - ts).astype(np.int64) % 604800) == 0)
print(f"grid origin ({x0}, {y0}), {len(xs)} events, {np.sum((xs >= x0) & (xs < x0 + N * CELL) & (ys >= y0) & (ys < y0 + N * CELL))} inside")

points = open_cp.data.TimedPoints(ts.astype("datetime64[ms]"), np.vstack([xs, ys]))
region = open_cp.data.RectangularRegion(xmin=x0, xmax=x0 + N * CELL, ymin=y0, ymax=y0 + N * CELL)


out = {}

# 1a. Retrospective, grid-based (cell centres), quartic 200 m, whole window.
retro = open_cp.retrohotspot.RetroHotSpotGrid(region=region, grid_size=CELL)
retro.weight = open_cp.retrohotspot.Quartic(200)
retro.data = points
out["retro_centre"] = retro.predict(end_time=ORIGIN).intensity_matrix

# 1b. Retrospective, continuous, averaged over a regular 2 x 2 subgrid per cell.
retro_c = open_cp.retrohotspot.RetroHotSpot()
retro_c.weight = open_cp.retrohotspot.Quartic(200)
retro_c.data = points
cts = retro_c.predict(end_time=ORIGIN)
cts.samples = -2
out["retro_sub2"] = open_cp.predictors.GridPredictionArray.from_continuous_prediction_region(
    cts, region, CELL).intensity_matrix

# 1c. Retrospective, 90-day trailing window, 2 x 2 subgrid.
cts90 = retro_c.predict(start_time=ORIGIN - np.timedelta64(90, "D"), end_time=ORIGIN)
cts90.samples = -2
out["retro90_sub2"] = open_cp.predictors.GridPredictionArray.from_continuous_prediction_region(
    cts90, region, CELL).intensity_matrix

# 2. Prospective, ClassicWeight defaults (8 cells, 8 weeks), DistanceDiagonalsSame.
pro = open_cp.prohotspot.ProspectiveHotSpot(region=region, grid_size=CELL)
pro.data = points
out["prospective"] = pro.predict(ORIGIN, ORIGIN).intensity_matrix
# ... and with l1 distance and a 4 cell / 6 week bandwidth.
pro2 = open_cp.prohotspot.ProspectiveHotSpot(region=region, grid_size=CELL)
pro2.data = points
pro2.weight = open_cp.prohotspot.ClassicWeight(space_bandwidth=4, time_bandwidth=6)
pro2.distance = open_cp.prohotspot.DistanceDiagonalsDifferent()
out["prospective_l1_4_6"] = pro2.predict(ORIGIN, ORIGIN).intensity_matrix

# 3. KDE: Gaussian fixed bandwidth 100 m, exponential time kernel 30 days, last 365 days
#    (all events here), 2 x 2 subgrid.
kde = open_cp.kde.KDE(region=region, grid_size=CELL)
kde.time_kernel = open_cp.kde.ExponentialTimeKernel(30)
kde.space_kernel = open_cp.kde.GaussianFixedBandwidthProvider(100)
kde.data = points
out["kde_gauss100_exp30_sub2"] = kde.predict(
    start_time=ORIGIN - np.timedelta64(365, "D"), end_time=ORIGIN, samples=-2).intensity_matrix

with open("events.csv", "w") as f:
    f.write("x,y,seconds\n")
    for x, y, s in zip(xs, ys, secs):
        f.write(f"{float(x)!r},{float(y)!r},{int(s)}\n")
names = list(out)
with open("scores.csv", "w") as f:
    f.write(f"# grid x0={float(x0)!r} y0={float(y0)!r} cell={CELL} rows={N} cols={N}\n")
    f.write("row,col," + ",".join(names) + "\n")
    for r in range(N):
        for c in range(N):
            f.write(f"{r},{c}," + ",".join(repr(float(out[k][r][c])) for k in names) + "\n")
print("wrote", names)
