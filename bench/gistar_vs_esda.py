"""Gi* with 999 conditional permutations: Streetlight vs PySAL esda, side by side.

Input: the Philadelphia fixture (crates/sl-analytics/tests/data/gistar/cells.csv):
11,884 cells of 150 m (EPSG:26918) with their 2024 incident counts, queen contiguity,
star=True, transform 'B' (and 'R'), 999 permutations.

esda is timed on G_Local alone (its queen W is built once, outside the timing) with
numba JIT (after a warm-up call that compiles) and with numba hidden from import
(esda's pure numpy fallback). Streetlight is timed by the gistar_timing example, which builds its
queen weights inside the timed region. Medians over repeated runs, in one process
run of this script, so both see the same machine load.

    /tmp/venv-esda/bin/python bench/gistar_vs_esda.py [esda_runs] [rust_runs]
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELLS = ROOT / "crates/sl-analytics/tests/data/gistar/cells.csv"

ESDA_CHILD = r"""
import json, os, statistics, sys, time, warnings
if os.environ.get("GISTAR_NO_NUMBA") == "1":
    sys.modules["numba"] = None  # esda falls back to its pure numpy path
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, libpysal
from shapely.geometry import box
from esda.getisord import G_Local
runs, transform = int(sys.argv[1]), sys.argv[2]
c = pd.read_csv(sys.argv[3])
y = c["count"].to_numpy().astype(float)
polys = [box(col * 150.0, row * 150.0, (col + 1) * 150.0, (row + 1) * 150.0)
         for row, col in zip(c["row"], c["col"])]
w = libpysal.weights.Queen.from_iterable(polys, silence_warnings=True)
t = time.perf_counter()
G_Local(y, w, transform=transform, permutations=999, star=True, seed=1)
first = time.perf_counter() - t
times = []
for _ in range(runs):
    t = time.perf_counter()
    g = G_Local(y, w, transform=transform, permutations=999, star=True, seed=1)
    times.append(time.perf_counter() - t)
try:
    import numba
    jit = "numba " + numba.__version__
except ImportError:
    jit = "none"
print(json.dumps({"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3,
                  "first_call_ms": first * 1e3, "jit": jit,
                  "significant": int((g.p_sim <= 0.05 + 1e-6).sum())}))
"""


def esda(runs, transform, jit):
    env = dict(os.environ)
    if not jit:
        env["GISTAR_NO_NUMBA"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", ESDA_CHILD, str(runs), transform, str(CELLS)],
        capture_output=True, text=True, env=env,
    )
    if out.returncode != 0:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def rust(runs, transform):
    subprocess.run(
        ["cargo", "build", "-q", "-p", "sl-analytics", "--release", "--example", "gistar_timing"],
        check=True, cwd=ROOT,
    )
    exe = ROOT / "target/release/examples/gistar_timing"
    out = subprocess.run([str(exe), str(runs), transform], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    esda_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rust_runs = int(sys.argv[2]) if len(sys.argv) > 2 else 51
    import esda as esda_pkg
    import libpysal
    import numpy as np

    print(f"esda {esda_pkg.__version__}, libpysal {libpysal.__version__}, numpy {np.__version__}, "
          f"cpus {os.cpu_count()}")
    for transform in ("B", "R"):
        ours = rust(rust_runs, transform)
        jit = esda(esda_runs, transform, jit=True)
        nojit = esda(esda_runs, transform, jit=False)
        ours_again = rust(rust_runs, transform)
        ours_ms = statistics.median([ours["median_ms"], ours_again["median_ms"]])
        print(f"[{transform}] streetlight gi_star: median {ours['median_ms']:.2f} / "
              f"{ours_again['median_ms']:.2f} ms (min {min(ours['min_ms'], ours_again['min_ms']):.2f}), "
              f"{ours['threads']} threads, {ours['significant']} cells p<=0.05")
        for label, e in (("esda numba", jit), ("esda no-jit", nojit)):
            print(f"[{transform}] {label} ({e['jit']}): median {e['median_ms']:.1f} ms "
                  f"(min {e['min_ms']:.1f}, first call {e['first_call_ms']:.0f} ms), "
                  f"{e['significant']} cells p<=0.05 -> ratio {e['median_ms'] / ours_ms:.0f}x")


if __name__ == "__main__":
    main()
