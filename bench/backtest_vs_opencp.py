"""Backtest: open_cp's hot-spot predictors against Streetlight's `backtest`, side by side
in one run, on exactly the same events, grid, origins and scoring rules.

- Events: Philadelphia `residential_burglary` (dataset philadelphia-ppd) as Streetlight
  exports them (`streetlight export`: x, y in EPSG:26918 metres, time = occurred_from UTC),
  so both sides see identical points; events without a location are dropped (Streetlight's
  backtest drops them too).
- Grid: Streetlight's 150 m grid masked to cells that ever held an event
  (`streetlight hotspots ... --mask events --json` gives units.origin, rows, cols and every
  masked cell's row/col; row 0 south, col 0 west). open_cp gets the same grid as an
  `open_cp.data.MaskedGrid` (xoffset = x0, yoffset = y0, 150 m, mask True for cells NOT in
  the list; open_cp's mask is indexed mask[gy][gx] with gy counted from the y offset
  upward, i.e. the same row convention as Streetlight).
- Origins: `start + k · 7` days (k < --origins) from 2024-01-01 00:00 America/New_York
  (Streetlight's own `start`, read from its JSON), training events `o − 365 d ≤ t < o`,
  test events `o ≤ t < o + 7 d` counted in the masked cells. The script checks that its
  train and test counts equal Streetlight's at every origin. (Streetlight's `glm`, and so
  its `ensemble`, read 4 years of history before each origin whatever --train-days says;
  the train counts are checked against the first model that uses the 365-day window.)
- open_cp predictors (PEERS.md settings), each fitted on that origin's training events only:
  naive counts (`naive.CountingGridKernel`), retrospective (`retrohotspot.RetroHotSpot`,
  `Quartic(200)`, gridded on the masked cells with a 2 x 2 regular subgrid, samples=-2:
  Streetlight's `retrospective` setting), prospective (`prohotspot.ProspectiveHotSpot`,
  `ClassicWeight()` defaults, `DistanceDiagonalsSame`, 1-week unit, predicted at the
  origin), KDE (`kde.KDE`, `ExponentialTimeKernel(30)` days, its default space kernel
  `GaussianBaseProvider` (Scott-rule Gaussian), samples=-2 on the masked cells) and grid
  ETAS (`seppexp.SEPPTrainer`, 20 iterations, plain M-step, the intensity at the origin
  from `SEPPPredictor.predict`). Times are to the minute and spread through the day, so no
  jitter is applied (see the tie count printed at start).
- Scoring (Streetlight's rules, sl_analytics::forecast::metrics): cells ranked by score,
  ties in a seeded random order (stable sort of a seeded shuffle; numpy's generator, so
  the tie order is not Streetlight's own), k = round(c · cells) (half away from zero, at
  least 1), PAI = (hits/N)/(k/cells), means over origins with N > 0, SE = sd/sqrt(n).
- Time per fit: wall time of fitting and gridding one prediction (not scoring) for
  open_cp (one Python process); for Streetlight its own `ms_per_fit` (wall time of all
  origins / origins, rayon on every core) and, from a second run with
  RAYON_NUM_THREADS=1, on one thread. Ratios are open_cp / Streetlight.

open_cp is never copied into the repository: it is imported from a scratch folder
(`git archive HEAD open_cp setup.py` of a QuantCrimAtLeeds/PredictCode mirror), with the
numpy aliases it needs restored below. Python: numpy, scipy (e.g. /tmp/venv-opencp-hotspot).

Usage, from the repository root:

    /tmp/venv-opencp-hotspot/bin/python bench/backtest_vs_opencp.py \
        --bin target/release/streetlight --db streetlight.db --opencp /tmp/opencp-hotspot \
        [--origins 52] [--models naive,retro,prospective,kde,seppexp] \
        [--sl-models naive,historical,retrospective,prospective,stkde,etas-grid,sepp,glm,ensemble] \
        [--no-single-thread] [--work DIR]

The full 52 origins take about 20–30 minutes on 2 cores (open_cp's five predictors ≈ 21 s
per origin, of which seppexp ≈ 12 s, on a quiet machine; 28 s and 17 s with a load average
of 3–6); Streetlight's backtest of all nine models, run twice (default threads, then one
thread), about 30 s each time. `--origins 4` checks everything in about 2.5 minutes.

`--summarise FILE.jsonl` re-prints the tables from an earlier (possibly unfinished) run's
per-origin records without fitting anything.
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import numpy.ma  # noqa: E402,F401  (loaded before the aliases below, which it must not see)

# open_cp (2018) uses aliases numpy 2 removed.
for _name, _typ in [("int", int), ("float", float), ("object", object), ("bool", bool)]:
    if _name not in np.__dict__:
        setattr(np, _name, _typ)
if "product" not in np.__dict__:
    np.product = np.prod

DAY = 86_400
CELL = 150.0
COVERAGES = [0.5, 1.0, 2.0, 5.0]
DATASET = "philadelphia-ppd"
CATEGORY = "residential_burglary"
OPENCP_MODELS = ["naive", "retro", "prospective", "kde", "seppexp"]
OPENCP_LABEL = {
    "naive": "naive counts (CountingGridKernel)",
    "retro": "retrospective (quartic 200 m, 2x2)",
    "prospective": "prospective (ClassicWeight)",
    "kde": "KDE (exp. time 30 d, Scott Gaussian)",
    "seppexp": "grid ETAS (seppexp, 20 it.)",
}
SL_MODELS = ["naive", "historical", "retrospective", "prospective", "stkde", "etas-grid", "sepp",
             "glm", "ensemble"]
# Streetlight models whose training history is longer than --train-days.
LONG_HISTORY = {"glm", "ensemble"}
# Same-method pairs: (open_cp, Streetlight).
PAIRS = [
    ("naive", "historical", "naive counts / historical"),
    ("retro", "retrospective", "retrospective"),
    ("prospective", "prospective", "prospective"),
    ("kde", "stkde", "KDE / stkde"),
    ("seppexp", "etas-grid", "grid ETAS"),
]


def run(args, env=None):
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


# ---------------------------------------------------------------- inputs from Streetlight

def load_events(binary, db, work):
    path = os.path.join(work, "ev.csv")
    run([binary, "export", "--db", db, "--dataset", DATASET, "--category", CATEGORY,
         "--output", path])
    xs, ys, ts = [], [], []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not r["x"] or not r["y"] or r.get("retracted", "0") not in ("0", "", "false"):
                continue
            xs.append(float(r["x"]))
            ys.append(float(r["y"]))
            ts.append(r["occurred_from"].rstrip("Z"))
    t = np.array(ts, dtype="datetime64[s]").astype(np.int64)
    order = np.argsort(t, kind="stable")
    return np.array(xs)[order], np.array(ys)[order], t[order]


def load_grid(binary, db):
    out = run([binary, "hotspots", "--db", db, "--dataset", DATASET, "--method", "kde",
               "--bandwidth", "300", "--cell-size", str(int(CELL)), "--mask", "events", "--json"])
    d = json.loads(out)
    u = d["units"]
    assert u["cell_size"] == CELL and u["kind"] == "grid", u
    rows = np.array([c["row"] for c in d["cells"]], dtype=np.int64)
    cols = np.array([c["col"] for c in d["cells"]], dtype=np.int64)
    assert len(rows) == u["cells"]
    return u, rows, cols


def streetlight_backtest(binary, db, origins, sl_models, env_threads=None):
    args = [binary, "backtest", "--db", db, "--dataset", DATASET, "--category", CATEGORY,
            "--cell-size", str(int(CELL)), "--mask", "events", "--train-days", "365",
            "--horizon-days", "7", "--origins", str(origins), "--start", "2024-01-01",
            "--coverage", ",".join(str(c).rstrip("0").rstrip(".") for c in COVERAGES),
            "--models", ",".join(sl_models), "--json"]
    env = dict(os.environ)
    if env_threads is not None:
        env["RAYON_NUM_THREADS"] = str(env_threads)
    t0 = time.perf_counter()
    d = json.loads(run(args, env=env))
    return d, time.perf_counter() - t0, " ".join(args)


def streetlight_forecast_scores(binary, db, model, at, work, rows, cols):
    """Streetlight's scores for every masked cell at one origin, in (rows, cols) order."""
    path = os.path.join(work, f"fc_{model}.csv")
    run([binary, "forecast", "--db", db, "--dataset", DATASET, "--category", CATEGORY,
         "--cell-size", str(int(CELL)), "--mask", "events", "--model", model, "--at", at,
         "--train-days", "365", "--horizon-days", "7", "--csv", path])
    score = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            score[(int(r["row"]), int(r["col"]))] = float(r["score"])
    return np.array([score[(r, c)] for r, c in zip(rows.tolist(), cols.tolist())])


# ---------------------------------------------------------------- scoring (Streetlight's rules)

def cells_for(c, n):
    return min(max(int(math.floor(c * n + 0.5)), 1), max(n, 1))


def score(scores, actual, seed):
    """PAI and hit rate per coverage level; ties in a seeded random order."""
    n = len(scores)
    s = np.where(np.isnan(scores), -np.inf, scores)
    perm = np.random.default_rng(seed).permutation(n)
    order = perm[np.argsort(-s[perm], kind="stable")]
    total = actual.sum()
    pai, hit = [], []
    for c in COVERAGES:
        k = cells_for(c / 100.0, n)
        hits = actual[order[:k]].sum()
        hr = hits / total if total > 0 else float("nan")
        hit.append(float(hr))
        pai.append(float(hr / (k / n)))
    return pai, hit


def mean_se(values):
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    if len(v) < 2:
        return float(v.mean()), float("nan"), 1
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))), len(v)


# ---------------------------------------------------------------- open_cp predictors

def opencp_fitters(opencp, mgrid):
    import open_cp.data
    import open_cp.kde
    import open_cp.naive
    import open_cp.predictors
    import open_cp.prohotspot
    import open_cp.retrohotspot
    import open_cp.seppexp

    region = mgrid.region()

    def naive(points, origin):
        p = open_cp.naive.CountingGridKernel(CELL, region=region)
        p.data = points
        return p.predict().intensity_matrix

    def retro(points, origin):
        p = open_cp.retrohotspot.RetroHotSpot()
        p.weight = open_cp.retrohotspot.Quartic(200)
        p.data = points
        cts = p.predict(end_time=origin)
        return open_cp.predictors.grid_prediction_from_kernel_and_masked_grid(
            cts.to_kernel(), mgrid, samples=-2).intensity_matrix

    def prospective(points, origin):
        p = open_cp.prohotspot.ProspectiveHotSpot(grid=mgrid)
        p.data = points
        return p.predict(origin, origin).intensity_matrix

    def kde(points, origin):
        p = open_cp.kde.KDE(grid=mgrid)
        p.time_kernel = open_cp.kde.ExponentialTimeKernel(30)
        p.data = points
        cts = p.cts_predict(start_time=origin - np.timedelta64(365, "D"), end_time=origin)
        return open_cp.predictors.grid_prediction_from_kernel_and_masked_grid(
            cts.to_kernel(), mgrid, samples=-2).intensity_matrix

    def seppexp(points, origin):
        trainer = open_cp.seppexp.SEPPTrainer(grid=mgrid)
        trainer.data = points
        predictor = trainer.train(iterations=20, use_corrected=False)
        predictor.data = points
        fit = {"theta": float(predictor.theta), "omega_per_day": float(predictor.omega) * 1440}
        return predictor.predict(origin).intensity_matrix, fit

    return {"naive": naive, "retro": retro, "prospective": prospective, "kde": kde,
            "seppexp": seppexp}


# ---------------------------------------------------------------- tables

def fmt_pai(m, se):
    return f"{m:5.2f} ±{se:4.2f}" if np.isfinite(se) else f"{m:5.2f}      "


def fmt_time(sec):
    if sec >= 1:
        return f"{sec:8.2f} s"
    return f"{sec * 1000:7.1f} ms"


def summarise(records, sl, sl1, n_use, out=print):
    """records: per-origin open_cp results; sl, sl1: Streetlight JSON (default threads, 1 thread)."""
    models = [m for m in OPENCP_MODELS if any(m in r["models"] for r in records)]
    n_oc = {m: sum(1 for r in records if m in r["models"]) for m in models}
    sl_models = {m["name"]: m for m in sl["models"]}
    sl1_models = {m["name"]: m for m in sl1["models"]} if sl1 else {}
    rows = []  # name, side, origins, per-coverage (mean, se), sec/fit, per-origin PAI lists
    for m in models:
        recs = [r for r in records if m in r["models"]][:n_use]
        per = [[r["models"][m]["pai"][k] for r in recs] for k in range(len(COVERAGES))]
        secs = float(np.mean([r["models"][m]["seconds"] for r in recs]))
        rows.append(("open_cp", OPENCP_LABEL[m], m, len(recs), per, secs, None))
    for name in sl_models:
        o = [x for x in sl_models[name]["origins"]][:n_use]
        per = [[(x["pai"][k] if x["error"] is None else None) for x in o]
               for k in range(len(COVERAGES))]
        secs = sl_models[name]["ms_per_fit"] / 1000.0
        secs1 = sl1_models[name]["ms_per_fit"] / 1000.0 if name in sl1_models else None
        rows.append(("Streetlight", name, name, len(o), per, secs, secs1))

    head = (f"{'side':<12} {'predictor':<38} {'n':>3} "
            + " ".join(f"{'PAI@' + str(c).rstrip('0').rstrip('.') + '%':>12}" for c in COVERAGES)
            + f" {'per fit':>11} {'per fit 1 thr':>13}")
    out(head)
    out("-" * len(head))
    stats = {}
    for side, label, key, n, per, secs, secs1 in rows:
        ms = [mean_se(p) for p in per]
        stats[(side, key)] = {"pai": [(a, b) for a, b, _ in ms], "per": per, "sec": secs,
                              "sec1": secs1, "n": n}
        t1 = fmt_time(secs1) if secs1 is not None else ("(1 process)" if side == "open_cp" else "")
        out(f"{side:<12} {label:<38} {n:>3} " + " ".join(f"{fmt_pai(a, b):>12}" for a, b, _ in ms)
            + f" {fmt_time(secs):>11} {t1:>13}")
    out("")
    out("Same-method pairs (speed: open_cp s/fit over Streetlight s/fit; "
        "ΔPAI@1% = Streetlight − open_cp, paired SE over origins):")
    for oc, sln, label in PAIRS:
        a, b = stats.get(("open_cp", oc)), stats.get(("Streetlight", sln))
        if not a or not b:
            continue
        r_def = a["sec"] / b["sec"] if b["sec"] > 0 else float("inf")
        r_one = a["sec"] / b["sec1"] if b["sec1"] else float("nan")
        pa, pb = a["per"][1], b["per"][1]
        d = [y - x for x, y in zip(pa, pb)
             if x is not None and y is not None and np.isfinite(x) and np.isfinite(y)]
        dm, dse, dn = mean_se(d)
        out(f"  {label:<26} open_cp {fmt_time(a['sec']).strip():>9}  Streetlight "
            f"{fmt_time(b['sec']).strip():>9} (1 thread {fmt_time(b['sec1']).strip() if b['sec1'] else '-':>9})"
            f"  ratio {r_def:9.0f}x (1 thread {r_one:7.0f}x)   ΔPAI@1% {dm:+.2f} ±{dse:.2f} (n={dn})")
    out("")
    best_oc = max(((k, v) for (s, k), v in stats.items() if s == "open_cp"),
                  key=lambda kv: kv[1]["pai"][1][0], default=None)
    best_sl = max(((k, v) for (s, k), v in stats.items() if s == "Streetlight"),
                  key=lambda kv: kv[1]["pai"][1][0], default=None)
    if best_oc and best_sl:
        (ko, vo), (ks, vs) = best_oc, best_sl
        pct = 100.0 * (vs["pai"][1][0] / vo["pai"][1][0] - 1.0)
        d = [y - x for x, y in zip(vo["per"][1], vs["per"][1])
             if x is not None and y is not None and np.isfinite(x) and np.isfinite(y)]
        dm, dse, dn = mean_se(d)
        out(f"Best mean PAI@1%: Streetlight {ks} {vs['pai'][1][0]:.2f} vs open_cp "
            f"{OPENCP_LABEL[ko]} {vo['pai'][1][0]:.2f}: {pct:+.1f}% "
            f"(paired difference {dm:+.2f} ±{dse:.2f} over {dn} origins)")
    return stats


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/streetlight")
    ap.add_argument("--db", default="streetlight.db")
    ap.add_argument("--opencp", default="/tmp/opencp-hotspot",
                    help="folder holding the open_cp package (put on sys.path)")
    ap.add_argument("--origins", type=int, default=52)
    ap.add_argument("--models", default=",".join(OPENCP_MODELS),
                    help="open_cp predictors: " + ",".join(OPENCP_MODELS))
    ap.add_argument("--sl-models", default=",".join(SL_MODELS),
                    help="Streetlight models for its backtest (any `backtest --models` knows)")
    ap.add_argument("--seed", type=int, default=1, help="tie-breaking seed (origin j: [seed, j])")
    ap.add_argument("--work", default=None, help="scratch folder (default: a new temp folder)")
    ap.add_argument("--no-single-thread", action="store_true",
                    help="skip the second Streetlight run with RAYON_NUM_THREADS=1")
    ap.add_argument("--summarise", default=None,
                    help="re-print the tables from this run's records.jsonl (no fitting)")
    a = ap.parse_args()
    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in OPENCP_MODELS:
            sys.exit(f"unknown open_cp model {m}; choose from {','.join(OPENCP_MODELS)}")

    if a.summarise:
        with open(a.summarise) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        meta = lines[0]
        records = lines[1:]
        n = len(records)
        print(f"{n} origins with open_cp records; Streetlight restricted to the same origins")
        summarise(records, meta["streetlight"], meta.get("streetlight_1thread"), n)
        return

    sys.path.insert(0, a.opencp)
    import open_cp  # noqa: F401
    import open_cp.data
    import scipy

    work = a.work or tempfile.mkdtemp(prefix="backtest-vs-opencp-")
    os.makedirs(work, exist_ok=True)
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, python {sys.version.split()[0]}, "
          f"cpus {os.cpu_count()}, open_cp from {a.opencp}, work {work}", flush=True)

    # Inputs, from Streetlight.
    x, y, t = load_events(a.bin, a.db, work)
    units, crow, ccol = load_grid(a.bin, a.db)
    x0, y0 = units["origin"]
    nrows, ncols, ncells = units["rows"], units["cols"], units["cells"]
    mask = np.ones((nrows, ncols), dtype=bool)
    mask[crow, ccol] = False
    mgrid = open_cp.data.MaskedGrid(CELL, CELL, x0, y0, mask)
    assert mgrid.xextent == ncols and mgrid.yextent == nrows
    for r, c in zip(crow[:50].tolist(), ccol[:50].tolist()):
        assert mgrid.is_valid(c, r)  # open_cp indexes (gx, gy) = (col, row), row 0 south
    cell_index = -np.ones((nrows, ncols), dtype=np.int64)
    cell_index[crow, ccol] = np.arange(ncells)
    ec = np.floor((x - x0) / CELL).astype(np.int64)
    er = np.floor((y - y0) / CELL).astype(np.int64)
    inside = (ec >= 0) & (ec < ncols) & (er >= 0) & (er < nrows)
    ecell = np.full(len(x), -1, dtype=np.int64)
    ecell[inside] = cell_index[er[inside], ec[inside]]
    print(f"{len(x)} located events of {CATEGORY} ({(~inside).sum()} outside the grid rectangle, "
          f"{(ecell < 0).sum()} outside the mask); grid {nrows} x {ncols} from ({x0}, {y0}), "
          f"{ncells} masked cells", flush=True)

    # Streetlight's side (default threads, then one thread for per-fit speed).
    sl_models = [m for m in a.sl_models.split(",") if m]
    sl, sl_secs, sl_cmd = streetlight_backtest(a.bin, a.db, a.origins, sl_models)
    print(f"Streetlight backtest ({sl_secs:.1f} s wall): {sl_cmd}", flush=True)
    sl1 = None
    if not a.no_single_thread:
        sl1, sl1_secs, _ = streetlight_backtest(a.bin, a.db, a.origins, sl_models,
                                               env_threads=1)
        print(f"Streetlight backtest with RAYON_NUM_THREADS=1: {sl1_secs:.1f} s wall", flush=True)
    assert sl["units"]["origin"] == units["origin"] and sl["units"]["cells"] == ncells \
        and sl["units"]["rows"] == nrows and sl["units"]["cols"] == ncols, sl["units"]
    start = int(np.datetime64(sl["start"].rstrip("Z"), "s").astype(np.int64))
    step = int(round(sl["step_days"] * DAY))
    train, horizon = int(sl["train_days"] * DAY), int(sl["horizon_days"] * DAY)
    # glm (and the ensemble, which contains it) train on 4 years, not the 365-day window.
    ref = next((m for m in sl["models"] if m["name"] not in LONG_HISTORY), sl["models"][0])
    sl_origins = ref["origins"]

    fitters = opencp_fitters(a.opencp, mgrid)
    records_path = os.path.join(work, "records.jsonl")
    rec_f = open(records_path, "w")
    rec_f.write(json.dumps({"streetlight": sl, "streetlight_1thread": sl1, "command": sl_cmd,
                            "models": models, "origins": a.origins}) + "\n")
    rec_f.flush()
    print(f"per-origin records: {records_path}", flush=True)

    # Same-minute events in the same cell (zero time gaps make seppexp's omega update diverge).
    same = 0
    key = ecell * 10**11 + t
    _, counts = np.unique(key[ecell >= 0], return_counts=True)
    same = int((counts - 1).clip(0).sum())
    print(f"events sharing a cell and an exact timestamp with an earlier one: {same}", flush=True)

    records = []
    for j in range(a.origins):
        o = start + j * step
        lo, hi, end = np.searchsorted(t, [o - train, o, o + horizon], side="left")
        actual = np.bincount(ecell[hi:end][ecell[hi:end] >= 0], minlength=ncells).astype(float)
        n_test = int(actual.sum())
        so = sl_origins[j]
        assert np.datetime64(so["origin"].rstrip("Z"), "s").astype(np.int64) == o, (so, o)
        if so["train_events"] != hi - lo or so["test_events"] != n_test:
            print(f"  WARNING origin {so['origin']}: train {hi - lo} vs Streetlight "
                  f"{so['train_events']}, test {n_test} vs {so['test_events']}", flush=True)
        stamps = (t[lo:hi] * 1000).astype("datetime64[ms]")
        points = open_cp.data.TimedPoints.from_coords(stamps, x[lo:hi], y[lo:hi])
        origin = np.datetime64(o * 1000, "ms")
        rec = {"origin": so["origin"], "train_events": int(hi - lo), "test_events": n_test,
               "models": {}}
        for m in models:
            t0 = time.perf_counter()
            try:
                res = fitters[m](points, origin)
            except Exception as e:  # an open_cp failure is recorded, not fatal
                rec["models"][m] = {"error": repr(e), "seconds": time.perf_counter() - t0,
                                    "pai": [None] * len(COVERAGES), "hit_rate": [None] * len(COVERAGES)}
                continue
            secs = time.perf_counter() - t0
            extra = {}
            if isinstance(res, tuple):
                res, extra = res
            matrix = np.ma.getdata(np.asarray(res) if not np.ma.isMaskedArray(res) else res)
            assert matrix.shape == (nrows, ncols), matrix.shape
            scores = np.asarray(matrix[crow, ccol], dtype=float)
            pai, hit = score(scores, actual, [a.seed, j])
            rec["models"][m] = {"pai": pai, "hit_rate": hit, "seconds": secs, **extra}
            if j == 0:
                rec["models"][m]["_scores"] = scores  # for the cell-for-cell check below
        if j == 0:
            check_cells(a.bin, a.db, work, sl["start"], crow, ccol, rec)
        for m in rec["models"].values():
            m.pop("_scores", None)
        records.append(rec)
        rec_f.write(json.dumps(rec) + "\n")
        rec_f.flush()
        print(f"origin {j + 1:>2}/{a.origins} {so['origin']} train {hi - lo} test {n_test}: "
              + ", ".join(f"{m} PAI@1% {rec['models'][m]['pai'][1] if rec['models'][m]['pai'][1] is not None else float('nan'):.2f} "
                          f"({rec['models'][m]['seconds']:.2f} s)"
                          for m in models), flush=True)
    rec_f.close()

    print()
    print(f"Philadelphia {CATEGORY}: {a.origins} weekly origins from {sl['start']}, 365-day training, "
          f"7-day horizon, {ncells} cells of 150 m (PAI ± SE over origins with events)")
    summarise(records, sl, sl1, a.origins)


def check_cells(binary, db, work, start_iso, crow, ccol, rec):
    """At the first origin, compares open_cp's scores cell for cell with Streetlight's
    `forecast` for the models both define the same way (up to a constant factor)."""
    at = "2024-01-01"
    pairs = [("naive", "historical"), ("retro", "retrospective"), ("prospective", "prospective")]
    for oc, sln in pairs:
        if oc not in rec["models"] or "_scores" not in rec["models"][oc]:
            continue
        a = rec["models"][oc]["_scores"]
        b = streetlight_forecast_scores(binary, db, sln, at, work, crow, ccol)
        f = b.sum() / a.sum() if a.sum() > 0 else float("nan")
        rel = float(np.max(np.abs(b - f * a)) / np.max(np.abs(b)))
        print(f"  cell check at {start_iso}: open_cp {oc} x {f:.6g} vs Streetlight {sln}: "
              f"max |diff| / max score = {rel:.2e}, zero cells {int((a == 0).sum())} vs {int((b == 0).sum())}",
              flush=True)


if __name__ == "__main__":
    main()
