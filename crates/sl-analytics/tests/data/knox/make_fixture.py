"""Regenerates the Knox fixtures from the real Philadelphia data.

Writes, next to this script:
  phl_burglary_2024.csv   x,y (EPSG:26918 metres, 0.01 m), day (local dispatch date,
                          days since 2024-01-01), secs (UTC dispatch time, seconds since
                          2024-01-01T00:00Z), sorted by secs then objectid
  pointpats_knox.json     pointpats.spacetime.Knox outputs on that subset

Run from the repository root with the venv described in README.md:
  python crates/sl-analytics/tests/data/knox/make_fixture.py
"""

import io
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import pointpats
import pyproj
import scipy
import zstandard
from pointpats.spacetime import Knox

RAW = "/work/shared/data/philadelphia-ppd/raw"
HERE = os.path.dirname(os.path.abspath(__file__))


def load(year):
    with open(f"{RAW}/incidents_{year}.csv.zst", "rb") as f:
        reader = zstandard.ZstdDecompressor(max_window_size=2**27).stream_reader(f)
        return pd.read_csv(io.TextIOWrapper(reader, encoding="utf-8"), dtype=str)


def burglaries(first_year, last_year):
    """Residential burglaries whose local dispatch date falls in [first_year, last_year].

    The raw files are split by UTC month, so the neighbouring years are read too.
    Points outside the city's bounding box (SOURCE.md, Quirks) are dropped.
    """
    years = range(max(2019, first_year - 1), min(2025, last_year + 1) + 1)
    df = pd.concat([load(y) for y in years], ignore_index=True)
    df = df[df.text_general_code == "Burglary Residential"].copy()
    year = df.dispatch_date.str.slice(0, 4).astype(int)
    df = df[(year >= first_year) & (year <= last_year)]
    lon = pd.to_numeric(df.point_x, errors="coerce")
    lat = pd.to_numeric(df.point_y, errors="coerce")
    ok = lon.between(-75.3, -74.95) & lat.between(39.86, 40.14)
    df, lon, lat = df[ok], lon[ok], lat[ok]
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True)
    x, y = to_utm.transform(lon.to_numpy(), lat.to_numpy())
    origin = np.datetime64(f"{first_year}-01-01")
    day = (pd.to_datetime(df.dispatch_date).to_numpy().astype("datetime64[D]") - origin).astype(int)
    utc = pd.to_datetime(df.dispatch_date_time.str.replace("+00", "", regex=False))
    secs = ((utc - pd.Timestamp(f"{first_year}-01-01")).dt.total_seconds()).astype(np.int64)
    out = pd.DataFrame(
        {"x": np.round(x, 2), "y": np.round(y, 2), "day": day, "secs": secs.to_numpy(),
         "objectid": df.objectid.astype(int).to_numpy()}
    )
    return out.sort_values(["secs", "objectid"], kind="mergesort").reset_index(drop=True)


def main():
    pts = burglaries(2024, 2024)
    pts[["x", "y", "day", "secs"]].to_csv(os.path.join(HERE, "phl_burglary_2024.csv"), index=False)
    # Read back exactly what the Rust test reads (coordinates rounded to 0.01 m).
    pts = pd.read_csv(os.path.join(HERE, "phl_burglary_2024.csv"))
    s = pts[["x", "y"]].to_numpy()
    times = {
        # whole local calendar days, as NearRepeat computes them from dates
        "day": pts[["day"]].to_numpy().astype(float),  # shape (n, 1), as pointpats needs
        # fractional days from the UTC timestamp (the setting behind PEERS.md's 726 / 587.7)
        "secs/86400": pts[["secs"]].to_numpy() / 86400.0,
    }
    runs = []
    for tcol, delta, tau in [("day", 200.0, 14.0), ("day", 400.0, 7.0), ("day", 100.0, 3.0),
                             ("secs/86400", 200.0, 14.0)]:
        t = times[tcol]
        np.random.seed(20240101)
        t0 = time.perf_counter()
        k = Knox(s, t, delta=delta, tau=tau, permutations=999, keep=True)
        secs = time.perf_counter() - t0
        runs.append(
            {
                "time": tcol,
                "delta": delta,
                "tau": tau,
                "permutations": 999,
                "numpy_seed": 20240101,
                "nst": int(k.nst),
                "observed": k.observed.tolist(),
                "expected": k.expected.tolist(),
                "p_sim": float(k.p_sim),
                "p_poisson": float(k.p_poisson),
                "sim_mean": float(np.mean(k.sim)),
                "sim_sd": float(np.std(k.sim, ddof=1)),
                "seconds": secs,
            }
        )
        print(tcol, runs[-1]["delta"], runs[-1]["tau"], runs[-1]["nst"], runs[-1]["expected"][0][0],
              runs[-1]["p_sim"], runs[-1]["sim_mean"], f"{secs:.2f}s", file=sys.stderr)
    meta = {
        "n": int(len(pts)),
        "python": sys.version.split()[0],
        "pointpats": pointpats.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pyproj": pyproj.__version__,
        "pandas": pd.__version__,
        "runs": runs,
    }
    with open(os.path.join(HERE, "pointpats_knox.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
