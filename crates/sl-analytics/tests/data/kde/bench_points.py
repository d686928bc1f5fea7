"""Points for the KDE benchmark (benches/kde.rs), and the peer timing on the same points.

1. Reads Philadelphia 2024 incidents (OpenDataPhilly, /work/shared/data/philadelphia-ppd),
   keeps rows with lon/lat inside the city's box (lon -75.3..-74.95, lat 39.86..40.14),
   projects them to UTM 18N metres (EPSG:32618, pyproj) and writes x,y to OUT.
2. With --peer, times scikit-learn's KernelDensity (Gaussian, bandwidth 300 m,
   rtol 1e-4, kd-tree) on the same points evaluated at the centres of the cells of the
   150 m grid over their bounding box that hold at least one point (the cells the Rust
   bench uses), median of 3.

Usage:
  python bench_points.py /work/shared/data/philadelphia-ppd/raw/incidents_2024.csv.zst /tmp/phl2024_utm.csv [--peer]
"""
import csv
import io
import math
import sys
import time

import numpy as np
import zstandard
from pyproj import Transformer

src, out = sys.argv[1], sys.argv[2]
if not __import__("os").path.exists(out):
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27)
    with open(src, "rb") as f:
        text = io.TextIOWrapper(dctx.stream_reader(f), encoding="utf-8", newline="")
        lon, lat = [], []
        for row in csv.DictReader(text):
            try:
                x, y = float(row["point_x"]), float(row["point_y"])
            except ValueError:
                continue
            if -75.3 <= x <= -74.95 and 39.86 <= y <= 40.14:
                lon.append(x)
                lat.append(y)
    t = Transformer.from_crs("EPSG:4326", "EPSG:32618", always_xy=True)
    xs, ys = t.transform(lon, lat)
    with open(out, "w") as f:
        f.write("x,y\n")
        for x, y in zip(xs, ys):
            f.write(f"{x:.3f},{y:.3f}\n")
    print(f"wrote {len(xs)} points to {out}")

if "--peer" in sys.argv:
    from sklearn.neighbors import KernelDensity

    P = np.loadtxt(out, delimiter=",", skiprows=1)
    cell = 150.0
    x0 = math.floor(P[:, 0].min() / cell) * cell
    y0 = math.floor(P[:, 1].min() / cell) * cell
    cols = int((P[:, 0].max() - x0) // cell) + 1
    rows = int((P[:, 1].max() - y0) // cell) + 1
    c = np.floor((P[:, 0] - x0) / cell).astype(int)
    r = np.floor((P[:, 1] - y0) / cell).astype(int)
    kept = np.unique(r * cols + c)
    C = np.column_stack([x0 + (kept % cols + 0.5) * cell, y0 + (kept // cols + 0.5) * cell])
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        kde = KernelDensity(kernel="gaussian", bandwidth=300.0, rtol=1e-4).fit(P)
        d = np.exp(kde.score_samples(C)) * len(P) * 1e6
        times.append(time.perf_counter() - t0)
    print(f"peer sklearn gaussian 300 m: {len(P)} points, {len(C)} cells, median {sorted(times)[1]:.3f} s, max density {d.max():.1f}/km2")
