"""Reference densities for sl-analytics' KDE on real Vancouver points.

Reads the VPD 2025 crime file, keeps 'Break and Enter Residential/Other' rows with a
location, and evaluates on a 100 m grid (a disk of cells, radius 1.4 km, inside the
3 km square [490000, 493000) x [5455000, 5458000), UTM 10N metres):

- gaussian_sklearn: scikit-learn KernelDensity(kernel='gaussian', bandwidth=200,
  atol=0, rtol=0) — the peer implementation — converted to events per km²;
- quartic_fixed: a direct numpy sum of 3/(pi h^2) (1 - d^2/h^2)^2, h = 300;
- quartic_adaptive: Abramson (1982) with a quartic pilot of 300 m evaluated at the
  events, lambda_i = (f(x_i)/g)^(-1/2), g the geometric mean, h_i = 300 lambda_i;
- default_bandwidth.txt: ArcGIS Pro's rule 0.9 min(SD, sqrt(1/ln 2) Dm) n^-0.2.

Usage: python make_fixture.py /work/shared/data/vancouver-vpd/raw/crimedata_csv_AllNeighbourhoods_2025.csv.gz
"""
import csv
import gzip
import math
import sys

import numpy as np
from sklearn.neighbors import KernelDensity

src = sys.argv[1]
pts = []
with gzip.open(src, "rt", newline="") as f:
    for row in csv.DictReader(f):
        if row["TYPE"] != "Break and Enter Residential/Other":
            continue
        try:
            x, y = float(row["X"]), float(row["Y"])
        except ValueError:
            continue
        if x == 0 or y == 0:
            continue
        pts.append((x, y))
P = np.array(pts)
n = len(P)

cell = 100.0
x0, y0, cols, rows = 490000.0, 5455000.0, 30, 30
cx, cy, rad = 491500.0, 5456500.0, 1400.0
centres = []
for r in range(rows):
    for c in range(cols):
        x = x0 + (c + 0.5) * cell
        y = y0 + (r + 0.5) * cell
        if (x - cx) ** 2 + (y - cy) ** 2 <= rad ** 2:
            centres.append((r, c, x, y))
C = np.array([(x, y) for _, _, x, y in centres])


def quartic(d2, h):
    u = np.clip(1.0 - d2 / (h * h), 0.0, None)
    return np.where(d2 < h * h, 3.0 / (math.pi * h * h) * u * u, 0.0)


d2_cells = ((C[:, None, :] - P[None, :, :]) ** 2).sum(axis=2)
quartic_fixed = quartic(d2_cells, 300.0).sum(axis=1) * 1e6

d2_pts = ((P[:, None, :] - P[None, :, :]) ** 2).sum(axis=2)
pilot = quartic(d2_pts, 300.0).sum(axis=1)
g = math.exp(np.log(pilot).mean())
h_i = 300.0 * (pilot / g) ** -0.5
quartic_adaptive = quartic(d2_cells, h_i[None, :]).sum(axis=1) * 1e6

kde = KernelDensity(kernel="gaussian", bandwidth=200.0, atol=0, rtol=0).fit(P)
gaussian = np.exp(kde.score_samples(C)) * n * 1e6

mx, my = P.mean(axis=0)
dist = np.sqrt((P[:, 0] - mx) ** 2 + (P[:, 1] - my) ** 2)
sd = math.sqrt(((P[:, 0] - mx) ** 2).sum() / n + ((P[:, 1] - my) ** 2).sum() / n)
dm = float(np.median(dist))
h_default = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * n ** -0.2

with open("points.csv", "w") as f:
    f.write("x,y\n")
    for x, y in pts:
        f.write(f"{x!r},{y!r}\n")
with open("densities.csv", "w") as f:
    f.write("row,col,quartic_fixed,gaussian_sklearn,quartic_adaptive\n")
    for (r, c, _, _), a, b, d in zip(centres, quartic_fixed, gaussian, quartic_adaptive):
        f.write(f"{r},{c},{float(a)!r},{float(b)!r},{float(d)!r}\n")
with open("adaptive_bandwidths.csv", "w") as f:
    f.write("h\n")
    for h in h_i:
        f.write(f"{float(h)!r}\n")
with open("default_bandwidth.txt", "w") as f:
    f.write(f"{float(h_default)!r}\n")
print(n, "points", len(centres), "cells; default bandwidth", h_default)
