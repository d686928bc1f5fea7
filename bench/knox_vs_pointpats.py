"""Knox test: Streetlight (sl-analytics) against PySAL pointpats, side by side in one run.

Input: Philadelphia residential burglaries (real data, /work/shared/data/philadelphia-ppd),
projected to EPSG:26918 metres, time = local dispatch date as a day number (see
crates/sl-analytics/tests/data/knox/make_fixture.py, which this script reuses).

1. 2024 (3,289 events), 200 m x 14 days, 999 permutations, the same pairs in both:
   pointpats counts Euclidean d <= 200 and |dt| <= 14, so Streetlight runs right-closed
   bands [0, 200] x [0, 14] (plus the open-ended rest) with Euclidean distance. Both must
   report the same observed count; the speed ratio is pointpats / Streetlight.
2. Streetlight alone on 2019-2024 (about 20,000 events), 999 permutations: the 2x2 table
   and a NearRepeat-style table (Manhattan, left-closed, same-location band).

Usage, from the repository root (venv: python -m venv /tmp/venv-knox &&
/tmp/venv-knox/bin/pip install pointpats pyproj pandas zstandard):

    /tmp/venv-knox/bin/python bench/knox_vs_pointpats.py [--pointpats-repeats 3] [--repeats 5]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "crates/sl-analytics/tests/data/knox"))
import make_fixture  # noqa: E402  (the fixture's own loader: same filter, CRS, day numbers)


def bench_binary():
    out = subprocess.run(
        ["cargo", "bench", "-p", "sl-analytics", "--bench", "knox", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "knox" \
                and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("could not find the knox bench executable")


def streetlight(binary, csv, repeats, **kw):
    args = [binary, "--oneshot", f"input={csv}", f"repeats={repeats}"]
    args += [f"{k}={v}" for k, v in kw.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pointpats-repeats", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()

    import pointpats
    from pointpats.spacetime import Knox

    binary = bench_binary()
    tmp = tempfile.mkdtemp(prefix="knox-bench-")
    p24 = make_fixture.burglaries(2024, 2024)
    csv24 = os.path.join(tmp, "phl_2024.csv")
    p24[["x", "y", "day"]].to_csv(csv24, index=False)
    p24 = p24[["x", "y", "day"]]
    print(f"pointpats {pointpats.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, cpus {os.cpu_count()}")

    # 1. Side by side on 2024.
    s = p24[["x", "y"]].to_numpy()
    t = p24[["day"]].to_numpy().astype(float)  # shape (n, 1)
    pp_secs = []
    for r in range(a.pointpats_repeats):
        np.random.seed(r)
        t0 = time.perf_counter()
        k = Knox(s, t, delta=200.0, tau=14.0, permutations=999)
        pp_secs.append(time.perf_counter() - t0)
    sl = streetlight(binary, csv24, a.repeats, space="0,200,inf", time="0,14,inf",
                     intervals="right", distance="euclidean", permutations=999, seed=1)
    pp_med = float(np.median(pp_secs))
    print(f"\n2024 residential burglaries, n = {len(p24)}, 200 m x 14 days, 999 permutations")
    print(f"  pointpats Knox : {pp_med:8.3f} s (median of {len(pp_secs)}: "
          f"{', '.join(f'{v:.3f}' for v in pp_secs)}); nst {k.nst}, "
          f"expected {k.expected[0][0]:.2f}, p_sim {k.p_sim}")
    print(f"  Streetlight    : {sl['median_seconds']:8.4f} s (median of {a.repeats}, "
          f"{sl['threads']} threads); nst {sl['observed'][0]}, expected "
          f"{sl['expected_00']:.2f}, mean simulated {sl['mean_simulated_00']:.2f}, p {sl['p_00']}")
    assert sl["observed"][0] == k.nst, "the observed counts must agree"
    print(f"  ratio pointpats / Streetlight: {pp_med / sl['median_seconds']:.0f}x")

    # 2. Streetlight on 2019-2024.
    pall = make_fixture.burglaries(2019, 2024)
    csvall = os.path.join(tmp, "phl_2019_2024.csv")
    pall[["x", "y", "day"]].to_csv(csvall, index=False)
    print(f"\n2019-2024 residential burglaries, n = {len(pall)}, 999 permutations (Streetlight only)")
    for label, kw in [
        ("2x2 [0,200]m x [0,14]d, Euclidean",
         dict(space="0,200,inf", time="0,14,inf", intervals="right", distance="euclidean")),
        ("5x4 NearRepeat-style: space [0,1) [1,200) [200,400) [400,600) [600,Inf) m, "
         "time [0,7) [7,14) [14,21) [21,Inf) d, Manhattan",
         dict(space="0,1,200,400,600,inf", time="0,7,14,21,inf", intervals="left",
              distance="manhattan")),
    ]:
        r = streetlight(binary, csvall, a.repeats, permutations=999, seed=1, **kw)
        print(f"  {label}: {r['median_seconds']:.3f} s (median of {a.repeats}: "
              f"{', '.join(f'{v:.3f}' for v in r['seconds'])}); indexed pairs "
              f"{r['indexed_pairs']}, first cell observed {r['observed'][0]}, "
              f"expected {r['expected_00']:.2f}")


if __name__ == "__main__":
    main()
