"""The peer pipeline on the same Philadelphia fixture cube as benches/emerging.rs:
space-time W (queen + 1 previous step) -> esda G_Local(star=True, transform='B',
permutations=0) -> two-sided normal p -> scipy BH (q = 0.10) -> pymannkendall
original_test on each location's z series. Prints the median of 20 runs in ms.
(Building the W is timed too: Streetlight builds its neighbourhood inside the call.)

Run: python benches/emerging_peer.py tests/data/emerging/phl_burglary_1500m_2023_2024.json
"""
import json
import sys
import time

import esda
import libpysal
import numpy as np
import pymannkendall as mk
from scipy import stats

doc = json.load(open(sys.argv[1]))
g = doc["grid"]
rows, cols, T = g["rows"], g["cols"], doc["n_steps"]
counts = np.array(doc["counts"], dtype=float).reshape(T, rows * cols)


def run():
    with_data = np.flatnonzero(counts.sum(axis=0) > 0)
    na = len(with_data)
    pos = {int(u): a for a, u in enumerate(with_data)}
    queen = []
    for u in with_data:
        r, c = divmod(int(u), cols)
        queen.append([pos[(r + dr) * cols + c + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                      if (dr or dc) and 0 <= r + dr < rows and 0 <= c + dc < cols
                      and (r + dr) * cols + c + dc in pos])
    nb = {}
    for t in range(T):
        for a in range(na):
            b = t * na + a
            nb[b] = [s * na + j for s in range(max(0, t - 1), t + 1) for j in queen[a] + [a] if s * na + j != b]
    w = libpysal.weights.W(nb, silence_warnings=True)
    z = np.asarray(esda.G_Local(counts[:, with_data].reshape(-1), w, transform="B", star=True, permutations=0).Zs)
    p = 2.0 * stats.norm.sf(np.abs(z))
    sig = stats.false_discovery_control(p, method="bh") <= 0.10
    zz = z.reshape(T, na)
    return sig, [mk.original_test(zz[:, a]) for a in range(na)]


run()
times = []
for _ in range(20):
    t0 = time.perf_counter()
    run()
    times.append(time.perf_counter() - t0)
print(f"peer_ms {1000 * np.median(times):.3f}")
