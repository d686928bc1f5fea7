"""Reference Mann-Kendall results (pymannkendall.original_test) on real series:
monthly counts of Philadelphia 'Burglary Residential' incidents per police district
(dc_dist), January 2019 to December 2025 (84 months, months in America/New_York time).

Run: python make_fixture.py /work/shared/data/philadelphia-ppd/raw > phl_burglary_district_months.json
"""
import io
import json
import sys

import numpy as np
import pandas as pd
import pymannkendall as mk
import zstandard

raw = sys.argv[1]
frames = []
for year in range(2019, 2026):
    d = zstandard.ZstdDecompressor(max_window_size=2**27)
    with open(f"{raw}/incidents_{year}.csv.zst", "rb") as f:
        df = pd.read_csv(
            io.TextIOWrapper(d.stream_reader(f), encoding="utf-8"),
            usecols=["dispatch_date_time", "dc_dist", "text_general_code"],
            dtype=str,
        )
    frames.append(df[df.text_general_code == "Burglary Residential"])
df = pd.concat(frames)
t = pd.to_datetime(df.dispatch_date_time, format="%Y-%m-%d %H:%M:%S%z", utc=True)
local = t.dt.tz_convert("America/New_York")
df = df.assign(month=(local.dt.year - 2019) * 12 + local.dt.month - 1)
df = df[(df.month >= 0) & (df.month < 84)]
counts = df.groupby(["dc_dist", "month"]).size().unstack(fill_value=0)
counts = counts.reindex(columns=range(84), fill_value=0)

series = []
for dist, row in counts.iterrows():
    x = row.to_numpy(dtype=float)
    r = mk.original_test(x, alpha=0.10)
    series.append(
        {
            "district": dist,
            "values": x.tolist(),
            "s": float(r.s),
            "var_s": float(r.var_s),
            "z": float(r.z),
            "p": float(r.p),
            "tau": float(r.Tau),
            "sen_slope": float(r.slope),
            "intercept": float(r.intercept),
            "trend_at_0_10": r.trend,
        }
    )
json.dump(
    {
        "source": "philadelphia-ppd incidents 2019-2025, text_general_code == 'Burglary Residential', monthly counts per dc_dist",
        "peer": f"pymannkendall {mk.__version__ if hasattr(mk, '__version__') else '1.4.3'} original_test(x, alpha=0.10), numpy {np.__version__}",
        "series": series,
    },
    sys.stdout,
    indent=1,
)
