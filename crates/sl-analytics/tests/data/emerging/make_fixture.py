"""Reference space-time Gi* (esda) and Mann-Kendall (pymannkendall) results for emerging
hot spot analysis on real data: Philadelphia 'Burglary Residential' incidents counted per
1,500 m cell (UTM 18N, EPSG:26918, grid aligned to multiples of the cell size like
sl-analytics' Grid::covering) per calendar month (America/New_York) of 2023 and 2024.

Space-time neighbourhood as ArcGIS's Emerging Hot Spot Analysis with Neighborhood Time
Step 1: the cell itself and its queen neighbours, in the same month and in the previous
month. Only locations with data (>= 1 incident in the 24 months) take part. Gi* is esda's
G_Local(star=True, transform='B') over all bins of the cube; p two-sided normal;
Benjamini-Hochberg at q = 0.10 with scipy.stats.false_discovery_control.

Run: python make_fixture.py /work/shared/data/philadelphia-ppd/raw > phl_burglary_1500m_2023_2024.json
"""
import io
import json
import math
import sys

import esda
import libpysal
import numpy as np
import pandas as pd
import pymannkendall as mk
import pyproj
import scipy
import zstandard
from scipy import stats

CELL = 1500.0
STEPS = 24
K = 1
Q = 0.10

raw = sys.argv[1]
frames = []
for year in (2023, 2024, 2025):
    d = zstandard.ZstdDecompressor(max_window_size=2**27)
    with open(f"{raw}/incidents_{year}.csv.zst", "rb") as f:
        df = pd.read_csv(
            io.TextIOWrapper(d.stream_reader(f), encoding="utf-8"),
            usecols=["dispatch_date_time", "text_general_code", "point_x", "point_y"],
            dtype=str,
        )
    frames.append(df[df.text_general_code == "Burglary Residential"])
df = pd.concat(frames)
df = df.dropna(subset=["point_x", "point_y"])
lon = df.point_x.astype(float).to_numpy()
lat = df.point_y.astype(float).to_numpy()
keep = (lon >= -75.3) & (lon <= -74.95) & (lat >= 39.86) & (lat <= 40.14)
df, lon, lat = df[keep], lon[keep], lat[keep]
t = pd.to_datetime(df.dispatch_date_time, format="%Y-%m-%d %H:%M:%S%z", utc=True)
local = t.dt.tz_convert("America/New_York")
month = ((local.dt.year - 2023) * 12 + local.dt.month - 1).to_numpy()
inside = (month >= 0) & (month < STEPS)
lon, lat, month = lon[inside], lat[inside], month[inside]

x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True).transform(lon, lat)
x0 = math.floor(x.min() / CELL) * CELL
y0 = math.floor(y.min() / CELL) * CELL
cols = int((x.max() - x0) // CELL) + 1
rows = int((y.max() - y0) // CELL) + 1
n = rows * cols
col = np.floor((x - x0) / CELL).astype(int)
row = np.floor((y - y0) / CELL).astype(int)
counts = np.zeros((STEPS, n))
np.add.at(counts, (month, row * cols + col), 1.0)

with_data = np.flatnonzero(counts.sum(axis=0) > 0)
na = len(with_data)
pos = {int(u): a for a, u in enumerate(with_data)}
queen = []
for u in with_data:
    r, c = divmod(int(u), cols)
    nb = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 and dc == 0:
                continue
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and rr * cols + cc in pos:
                nb.append(pos[rr * cols + cc])
    queen.append(nb)

neighbours = {}
for s_t in range(STEPS):
    for a in range(na):
        b = s_t * na + a
        lst = []
        for s in range(max(0, s_t - K), s_t + 1):
            for j in queen[a] + [a]:
                if s * na + j != b:
                    lst.append(s * na + j)
        neighbours[b] = lst
w = libpysal.weights.W(neighbours, silence_warnings=True)
yv = counts[:, with_data].reshape(-1)
g = esda.G_Local(yv, w, transform="B", star=True, permutations=0)
z = np.asarray(g.Zs)
p = 2.0 * stats.norm.sf(np.abs(z))
adj = stats.false_discovery_control(p, method="bh")
sig = adj <= Q
cls = np.where(sig & (z > 0), 1, np.where(sig & (z < 0), -1, 0))
cut = float(p[sig].max()) if sig.any() else 0.0

trends = []
for a in range(na):
    r = mk.original_test(z.reshape(STEPS, na)[:, a], alpha=Q)
    trends.append([float(r.s), float(r.var_s), float(r.z), float(r.p), float(r.Tau), float(r.slope), float(r.intercept)])

json.dump(
    {
        "source": "philadelphia-ppd incidents 2023-2024, 'Burglary Residential', 1500 m cells (EPSG:26918) x calendar months",
        "peer": f"esda {esda.__version__} G_Local(star=True, transform='B'), libpysal {libpysal.__version__}, "
        f"pymannkendall original_test, scipy {scipy.__version__} false_discovery_control(method='bh'), numpy {np.__version__}",
        "grid": {"x0": x0, "y0": y0, "cell": CELL, "rows": rows, "cols": cols},
        "n_steps": STEPS,
        "time_neighbourhood": K,
        "fdr_q": Q,
        "counts": counts.reshape(-1).astype(int).tolist(),
        "with_data": with_data.tolist(),
        "z": z.tolist(),
        "bin_class": cls.tolist(),
        "p_cutoff": cut,
        "z_trend": trends,
    },
    sys.stdout,
    separators=(",", ":"),
)
