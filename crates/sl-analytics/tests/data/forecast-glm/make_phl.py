"""Philadelphia residential burglaries 2019-2024 for the GLM backtest (forecast_glm tests).

Data: Philadelphia Police Department incidents (/work/shared/data/philadelphia-ppd, see
its SOURCE.md), text_general_code = "Burglary Residential", dispatch_date 2019-01-01 to
2024-12-31, with a location in the city's bounding box. Coordinates: point_x/point_y
(WGS84) -> EPSG:26918 (UTM 18N metres) with pyproj, rounded to 1 m. Time: whole days
since 2019-01-01 of the local dispatch date (ties kept: the GLM works on weekly counts).
The grid and mask are those of tests/data/forecast-etas (150 m, the 11,884 cells holding
any located incident of 2019-2025, the PEERS.md reference mask).

Usage: python make_phl.py /work/shared/data/philadelphia-ppd/raw  (writes phl_events.csv)
"""
import csv
import io
import sys

import numpy as np
import pyproj
import zstandard

raw = sys.argv[1]
to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:26918", always_xy=True)
rows = []
for year in range(2019, 2025):
    with open(f"{raw}/incidents_{year}.csv.zst", "rb") as fh:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh), encoding="utf-8")
        for row in csv.DictReader(text):
            if row["text_general_code"] != "Burglary Residential":
                continue
            d = row["dispatch_date"]
            if not ("2019-01-01" <= d <= "2024-12-31"):
                continue
            try:
                lon, lat = float(row["point_x"]), float(row["point_y"])
            except ValueError:
                continue
            if not (-75.3 < lon < -74.9 and 39.85 < lat < 40.15):
                continue
            rows.append((d, int(row["objectid"]), lon, lat))
rows.sort(key=lambda r: (r[0], r[1]))
x, y = to_utm.transform(np.array([r[2] for r in rows]), np.array([r[3] for r in rows]))
day0 = np.datetime64("2019-01-01")
days = [int((np.datetime64(r[0]) - day0) / np.timedelta64(1, "D")) for r in rows]
with open("phl_events.csv", "w") as f:
    f.write("x,y,day\n")
    for a, b, t in zip(np.round(x).astype(int), np.round(y).astype(int), days):
        f.write(f"{a},{b},{t}\n")
print(len(rows), "events")
