"""Build the Gi* known-answer fixtures from real Philadelphia incidents and PySAL esda.

Run from the repository root with the venv described in README.md:

    /tmp/venv-esda/bin/python crates/sl-analytics/tests/data/gistar/make_fixture.py

Writes, next to this script:
  meta.json        grid origin, cell size, counts of cells, esda/libpysal versions, seeds
  cells.csv        row,col,count: the masked 150 m cells and their 2024 incident counts
  queen_B.csv      z,p_sim from esda G_Local(star=True, transform='B', 999 permutations)
  queen_R.csv      the same with transform='R'
  queen_moments.csv  k (links including self), EG and VG for B and R, per cardinality
  band.csv         row,col,count of the distance-band subset (40 x 40 cells at City Hall)
  band_<case>.csv  z,p_sim[,bh] for the distance-band cases (see CASES below)
"""

import sys

# esda draws its permutations with numba's generator when numba is installed and with
# numpy's global one otherwise; the fixture was made without numba, which this
# reproduces whether or not numba is installed (importing numba then fails).
sys.modules["numba"] = None

import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import warnings
from pathlib import Path

import esda
import libpysal
import numpy as np
import pandas as pd
import pyproj
import scipy
import statsmodels
from esda.getisord import G_Local
from libpysal.weights import W, DistanceBand
from scipy.stats import false_discovery_control
from statsmodels.stats.multitest import multipletests

HERE = Path(__file__).resolve().parent
RAW = Path("/work/shared/data/philadelphia-ppd/raw")
CELL = 150.0
YEARS = range(2019, 2026)
TARGET_YEAR = 2024
PERMUTATIONS = 999
SEED = 12345
# lon/lat clip from SOURCE.md (drops zero and out-of-city coordinates)
BBOX = (-75.3, 39.86, -74.95, 40.14)
CITY_HALL = (-75.1635, 39.9526)
WINDOW = 40
# (name, threshold m, binary, alpha, transform)
CASES = [
    ("b300_B", 300.0, True, -1.0, "B"),
    ("b300_R", 300.0, True, -1.0, "R"),
    ("idw450_R", 450.0, False, -1.0, "R"),
]

warnings.filterwarnings("ignore")
to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True)


def read_year(year):
    raw = subprocess.run(
        ["zstd", "-d", "--long=27", "-c", str(RAW / f"incidents_{year}.csv.zst")],
        check=True,
        capture_output=True,
    ).stdout
    df = pd.read_csv(io.BytesIO(raw), usecols=["point_x", "point_y"])
    df = df.dropna()
    keep = (
        (df.point_x >= BBOX[0]) & (df.point_x <= BBOX[2])
        & (df.point_y >= BBOX[1]) & (df.point_y <= BBOX[3])
    )
    df = df[keep]
    x, y = to_utm.transform(df.point_x.to_numpy(), df.point_y.to_numpy())
    return np.asarray(x), np.asarray(y)


def main():
    pts = {year: read_year(year) for year in YEARS}
    allx = np.concatenate([p[0] for p in pts.values()])
    ally = np.concatenate([p[1] for p in pts.values()])
    x0 = math.floor(allx.min() / CELL) * CELL
    y0 = math.floor(ally.min() / CELL) * CELL
    cols = np.floor((allx - x0) / CELL).astype(np.int64)
    rows = np.floor((ally - y0) / CELL).astype(np.int64)
    ncols = int(cols.max()) + 1
    mask_keys = np.unique(rows * ncols + cols)  # sorted = row-major (south to north)
    tx, ty = pts[TARGET_YEAR]
    tkeys = np.floor((ty - y0) / CELL).astype(np.int64) * ncols + np.floor(
        (tx - x0) / CELL
    ).astype(np.int64)
    idx = np.searchsorted(mask_keys, tkeys)
    assert (mask_keys[idx] == tkeys).all()
    counts = np.bincount(idx, minlength=len(mask_keys)).astype(np.float64)
    cell_rows = mask_keys // ncols
    cell_cols = mask_keys % ncols
    n = len(mask_keys)
    print(f"{n} masked cells, {int(counts.sum())} incidents in {TARGET_YEAR}", file=sys.stderr)
    pd.DataFrame({"row": cell_rows, "col": cell_cols, "count": counts.astype(np.int64)}).to_csv(
        HERE / "cells.csv", index=False
    )

    # Queen contiguity from the cells' square polygons, as a PySAL user would build it.
    from shapely.geometry import box

    polys = [
        box(x0 + c * CELL, y0 + r * CELL, x0 + (c + 1) * CELL, y0 + (r + 1) * CELL)
        for r, c in zip(cell_rows, cell_cols)
    ]
    wq = libpysal.weights.Queen.from_iterable(polys)
    islands = list(wq.islands)
    moments = {}
    for transform in ("B", "R"):
        g = G_Local(counts, libpysal.weights.Queen.from_iterable(polys), transform=transform,
                    permutations=PERMUTATIONS, star=True, seed=SEED)
        with open(HERE / f"queen_{transform}.csv", "w") as f:
            f.write("z,p_sim\n")
            for z, p in zip(g.Zs, g.p_sim):
                f.write(f"{float(z)!r},{np.float32(p)}\n")
        for i in range(n):
            k = wq.cardinalities[i] + 1
            moments.setdefault(k, {})[transform] = (float(g.EGs[i]), float(g.VGs[i]))
    with open(HERE / "queen_moments.csv", "w") as f:
        f.write("k,EG_B,VG_B,EG_R,VG_R\n")
        for k in sorted(moments):
            (eb, vb), (er, vr) = moments[k]["B"], moments[k]["R"]
            f.write(f"{k},{eb!r},{vb!r},{er!r},{vr!r}\n")

    # Distance bands on a 40 x 40 window centred on City Hall's cell.
    hx, hy = to_utm.transform(*CITY_HALL)
    hr, hc = int((hy - y0) // CELL), int((hx - x0) // CELL)
    r_lo, c_lo = hr - WINDOW // 2, hc - WINDOW // 2
    sub = (cell_rows >= r_lo) & (cell_rows < r_lo + WINDOW) & (cell_cols >= c_lo) & (
        cell_cols < c_lo + WINDOW
    )
    srows, scols, scounts = cell_rows[sub], cell_cols[sub], counts[sub]
    pd.DataFrame({"row": srows, "col": scols, "count": scounts.astype(np.int64)}).to_csv(
        HERE / "band.csv", index=False
    )
    centroids = np.column_stack([x0 + (scols + 0.5) * CELL, y0 + (srows + 0.5) * CELL])
    for name, threshold, binary, alpha, transform in CASES:
        wd = DistanceBand(centroids, threshold=threshold, binary=binary, alpha=alpha,
                          silence_warnings=True)
        g = G_Local(scounts, wd, transform=transform, permutations=PERMUTATIONS, star=True,
                    seed=SEED)
        p = np.asarray(g.p_sim, dtype=np.float64)
        bh = false_discovery_control(p, method="bh")
        bh_sm = multipletests(p, method="fdr_bh")[1]
        assert np.allclose(bh, bh_sm, rtol=0, atol=1e-15)
        with open(HERE / f"band_{name}.csv", "w") as f:
            f.write("z,p_sim,bh\n")
            for z, pp, b in zip(g.Zs, g.p_sim, bh):
                f.write(f"{float(z)!r},{np.float32(pp)},{float(b)!r}\n")

    meta = {
        "x0": x0, "y0": y0, "cell": CELL, "crs": "EPSG:26918",
        "mask": f"cells with >= 1 incident {YEARS.start}-{YEARS.stop - 1}",
        "counts_year": TARGET_YEAR, "cells": n, "incidents": int(counts.sum()),
        "queen_islands": islands,
        "band_window": {"row0": r_lo, "col0": c_lo, "size": WINDOW, "cells": int(sub.sum())},
        "band_cases": [dict(zip(["name", "threshold", "binary", "alpha", "transform"], c))
                       for c in CASES],
        "permutations": PERMUTATIONS, "seed": SEED,
        "versions": {"esda": esda.__version__, "libpysal": libpysal.__version__,
                     "numpy": np.__version__, "scipy": scipy.__version__,
                     "statsmodels": statsmodels.__version__, "pyproj": pyproj.__version__,
                     "python": sys.version.split()[0]},
    }
    (HERE / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
