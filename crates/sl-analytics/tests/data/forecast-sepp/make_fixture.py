"""Reference fixture for Streetlight's continuous SEPP (sl_analytics::forecast::sepp).

An independent, dense (all pairs, no cutoffs, no spatial index) numpy implementation of
the same EM (Mohler et al. 2011 parametric form; background = weighted Gaussian KDE as in
Zhuang et al. 2002; edge-corrected M-step for theta and omega), run to a tight
tolerance on a simulated data set, and the forecast's expected counts per cell
(exact Gaussian cell masses via erf).

Writes events.csv (x, y, t), reference.json (fitted parameters, background weights'
sum, log-likelihood) and expected.csv (row, col, expected count over the horizon).
Run: python make_fixture.py  (Python 3.11, numpy 2.x)
"""
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260
SIDE = 2000.0  # metres
T = 200.0  # days, window [0, T)
RATE = 2.0  # background events per day
TRUE = dict(theta=0.4, omega=0.2, sigma=60.0)
SIGMA_B = 200.0
INIT = dict(theta=0.5, omega=0.1, sigma=50.0)
TOL = 1e-11
HORIZON = 7.0
CELL = 100.0


def simulate(rng):
    t, ev = 0.0, []
    while True:
        t += rng.exponential(1.0 / RATE)
        if t >= T:
            break
        ev.append((rng.uniform(0, SIDE), rng.uniform(0, SIDE), t))
    k = 0
    while k < len(ev):
        x, y, t0 = ev[k]
        k += 1
        for _ in range(rng.poisson(TRUE["theta"])):
            t1 = t0 + rng.exponential(1.0 / TRUE["omega"])
            if t1 < T:
                ev.append((x + TRUE["sigma"] * rng.normal(), y + TRUE["sigma"] * rng.normal(), t1))
    ev.sort(key=lambda e: e[2])
    return np.array(ev)


def solve_omega(P, D, tau):
    def f(w):
        e = np.exp(-w * tau)
        return P * (1.0 / w - (tau * e).sum() / (-np.expm1(-w * tau)).sum()) - D

    lo, hi = 1e-3 / T, 1e4
    if f(lo) <= 0:
        return lo
    a, b = math.log(lo), math.log(hi)
    for _ in range(200):
        m = 0.5 * (a + b)
        if f(math.exp(m)) > 0:
            a = m
        else:
            b = m
    return math.exp(0.5 * (a + b))


def fit(ev, edge):
    x, y, t = ev[:, 0], ev[:, 1], ev[:, 2]
    n = len(t)
    d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    dt = t[:, None] - t[None, :]  # [j, i] = t_j - t_i
    later = dt > 0
    dtp = np.where(later, dt, 0.0)
    kb = np.exp(-d2 / (2 * SIGMA_B**2)) / (2 * math.pi * SIGMA_B**2)
    tau = T - t
    th, w, s = INIT["theta"], INIT["omega"], INIT["sigma"]
    bg = np.full(n, min(max(1 - th, 0.1), 1.0))
    for it in range(1, 100000):
        mu = kb @ bg / T
        g = np.where(later, th * w * np.exp(-w * dtp) * np.exp(-d2 / (2 * s * s)) / (2 * math.pi * s * s), 0.0)
        lam = mu + g.sum(axis=1)
        comp = bg.sum() + th * (-np.expm1(-w * tau)).sum()
        ll = np.log(lam).sum() - comp
        p = g / lam[:, None]
        new_bg = mu / lam
        P, D, S = p.sum(), (p * dtp).sum(), (p * d2).sum()
        s_new = math.sqrt(S / (2 * P))
        if edge:
            w_new = solve_omega(P, D, tau)
            th_new = P / (-np.expm1(-w_new * tau)).sum()
        else:
            w_new, th_new = P / D, P / n
        done = all(abs(a - b) / abs(b) < TOL for a, b in ((th_new, th), (w_new, w), (s_new, s)))
        bg, th, w, s = new_bg, th_new, w_new, s_new
        if done:
            return dict(theta=th, omega=w, sigma=s, background_events=float(bg.sum()),
                        log_likelihood=float(ll), iterations=it), bg
    raise RuntimeError("no convergence")


def phi(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def cell_masses(v, s, ncell):
    edges = [phi((k * CELL - v) / s) for k in range(ncell + 1)]
    return np.diff(edges)


def forecast(ev, params, bg):
    ncell = int(SIDE // CELL)
    out = np.zeros((ncell, ncell))  # [row (y), col (x)]
    th, w, s = params["theta"], params["omega"], params["sigma"]
    for (x, y, t), b in zip(ev, bg):
        wb = HORIZON * b / T
        out += wb * np.outer(cell_masses(y, SIGMA_B, ncell), cell_masses(x, SIGMA_B, ncell))
        wt = th * (math.exp(-w * (T - t)) - math.exp(-w * (T + HORIZON - t)))
        out += wt * np.outer(cell_masses(y, s, ncell), cell_masses(x, s, ncell))
    return out


def main():
    rng = np.random.default_rng(SEED)
    ev = simulate(rng)
    ev = ev[(ev[:, 0] >= 0) & (ev[:, 0] < SIDE) & (ev[:, 1] >= 0) & (ev[:, 1] < SIDE)]
    with open(os.path.join(HERE, "events.csv"), "w") as f:
        f.write("x,y,t\n")
        for x, y, t in ev:
            f.write(f"{float(x)!r},{float(y)!r},{float(t)!r}\n")
    ref = {"n": int(len(ev)), "sigma_b": SIGMA_B, "span": T, "horizon": HORIZON, "cell": CELL,
           "initial": INIT, "truth": TRUE}
    fe, bg = fit(ev, True)
    fn, _ = fit(ev, False)
    ref["edge_corrected"] = fe
    ref["no_edge_correction"] = fn
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    out = forecast(ev, fe, bg)
    with open(os.path.join(HERE, "expected.csv"), "w") as f:
        f.write("row,col,expected\n")
        for r in range(out.shape[0]):
            for c in range(out.shape[1]):
                f.write(f"{r},{c},{float(out[r, c])!r}\n")
    print(json.dumps(ref, indent=1))


if __name__ == "__main__":
    main()
