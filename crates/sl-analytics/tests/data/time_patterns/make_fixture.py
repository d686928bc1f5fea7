"""Reference aoristic hour x weekday matrix and monthly sums on real St. Louis data.

Reads the SLMPD 2019 monthly files bundled in the repository (data/stlouis-slmpd/raw/2019),
keeps residential burglaries (Crime 51000-51999) with Count = 1 (Count = -1 rows are
retractions), and turns DateOccur ("%m/%d/%Y %H:%M", local America/Chicago) into the
UTC window [t, t + 60) (known to the minute). Placeholder dates (year 1900) are dropped.

The reference spreads each window with Ratcliffe's equal share over the local clock
hours it touches. America/Chicago has whole-hour offsets, so its local hour boundaries
are the UTC hour boundaries; each UTC hour is labelled with its local weekday and hour
by zoneinfo (so DST is handled by the tz database, independently of jiff). Months
likewise: equal share over the local months touched.

Usage: python make_fixture.py /work/main/data/stlouis-slmpd/raw/2019
"""
import csv
import gzip
import os
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

tz = ZoneInfo("America/Chicago")
folder = sys.argv[1]
windows = []
for name in sorted(os.listdir(folder)):
    with gzip.open(os.path.join(folder, name), "rt", encoding="windows-1252", newline="") as f:
        for row in csv.DictReader(f):
            if row["Count"] != "1" or not (51000 <= int(row["Crime"]) <= 51999):
                continue
            local = datetime.strptime(row["DateOccur"], "%m/%d/%Y %H:%M")
            if local.year == 1900:
                continue
            t = int(local.replace(tzinfo=tz).timestamp())
            windows.append((t, t + 60))
windows.sort()

matrix = [[0.0] * 24 for _ in range(7)]
months = {}
for a, b in windows:
    first = a - a % 3600
    hours = list(range(first, b, 3600))
    for h in hours:
        d = datetime.fromtimestamp(h, tz)
        matrix[d.weekday()][d.hour] += 1.0 / len(hours)
    la = datetime.fromtimestamp(a, tz)
    lb = datetime.fromtimestamp(b - 1, tz)
    touched = []
    y, m = la.year, la.month
    while (y, m) <= (lb.year, lb.month):
        touched.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for key in touched:
        months[key] = months.get(key, 0.0) + 1.0 / len(touched)

with open("incidents.csv", "w") as f:
    f.write("from,to\n")
    for a, b in windows:
        f.write(f"{a},{b}\n")
with open("hour_week.csv", "w") as f:
    f.write("weekday," + ",".join(f"h{h}" for h in range(24)) + "\n")
    for d in range(7):
        f.write(f"{d}," + ",".join(repr(v) for v in matrix[d]) + "\n")
with open("monthly.csv", "w") as f:
    f.write("year,month,value\n")
    for (y, m), v in sorted(months.items()):
        f.write(f"{y},{m},{v!r}\n")
print(len(windows), "windows,", len(months), "months")
