"""Reference Poisson fits for sl-analytics' forecast::glm::fit_poisson.

A fixed synthetic design (numpy default_rng(4242)): n = 400 rows, three features
(x1 ~ N(0,1), x2 ~ U(0,2), x3 = Bernoulli(0.3)), integer weights in 1..3, and counts
y ~ Poisson(exp(-0.5 + 0.4 x1 - 0.3 x2 + 0.8 x3)). Written to design.csv with 17
significant digits, so Rust reads exactly the values Python fitted.

References (reference.json):
- `mle`: statsmodels GLM(y, [1, X], family=Poisson(), freq_weights=w).fit(tol=1e-14)
  (IRLS, maximum likelihood, no penalty);
- `ridge_<alpha>`: scikit-learn PoissonRegressor(alpha, solver="newton-cholesky",
  tol=1e-14, max_iter=1000).fit(X, y, sample_weight=w): minimises
  (1/(2 Σw)) Σ w_i deviance_i + alpha/2 ||coef||², the intercept unpenalised.

Usage: python make_reference.py   (in this folder)
"""
import json

import numpy as np
import sklearn
import statsmodels
import statsmodels.api as sm
from sklearn.linear_model import PoissonRegressor

rng = np.random.default_rng(4242)
n = 400
x1 = rng.normal(0.0, 1.0, n)
x2 = rng.uniform(0.0, 2.0, n)
x3 = (rng.uniform(0.0, 1.0, n) < 0.3).astype(float)
w = rng.integers(1, 4, n).astype(float)
eta = -0.5 + 0.4 * x1 - 0.3 * x2 + 0.8 * x3
y = rng.poisson(np.exp(eta)).astype(float)
X = np.column_stack([x1, x2, x3])
with open("design.csv", "w") as f:
    f.write("x1,x2,x3,y,w\n")
    for r in range(n):
        f.write(f"{x1[r]:.17g},{x2[r]:.17g},{x3[r]:.17g},{y[r]:.17g},{w[r]:.17g}\n")

ref = {"versions": {"numpy": np.__version__, "statsmodels": statsmodels.__version__,
                    "sklearn": sklearn.__version__}}
res = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), freq_weights=w).fit(tol=1e-14)
ref["mle"] = [float(v) for v in res.params]
for alpha in (0.01, 0.1):
    m = PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-14, max_iter=1000)
    m.fit(X, y, sample_weight=w)
    ref[f"ridge_{alpha}"] = [float(m.intercept_)] + [float(v) for v in m.coef_]
print(json.dumps(ref, indent=1))
with open("reference.json", "w") as f:
    json.dump(ref, f, indent=1)
