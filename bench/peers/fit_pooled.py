#!/usr/bin/env python3
"""Peer of `repricer fit --strategy pooled` (Gaussian noise, scale estimated), as a pricing analyst
would write it with numpy and scipy.

    python3 bench/peers/fit_pooled.py observations.csv result.json

Reads the observations CSV of docs/formats.md (product_id, feature columns, price, won,
competitor_price) with numpy, maximises the pooled censored Gaussian log-likelihood of
docs/math.md §1.4 over (theta, log sigma) with scipy's L-BFGS-B and the analytic gradient, and
writes theta, sigma and the log-likelihood at the optimum as JSON, with its own timings (read ->
written). `repricer bench` runs it on the file it fits and compares the answers.

    won row  (y revealed):  l = log phi(z) - log sigma,   z = (y - x.theta) / sigma
    lost row (y < p):       l = log Phi(z),               z = (p - x.theta) / sigma
"""
import json
import sys
import time

import numpy as np
from scipy import optimize, special

RESERVED = ('product_id', 'price', 'won', 'competitor_price', 'weight')
LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def main(src, dst):
    t0 = time.perf_counter()
    with open(src) as f:
        header = f.readline().strip().split(',')
    cols = header[1:]  # product_id is not needed for a pooled fit
    data = np.genfromtxt(src, delimiter=',', skip_header=1, usecols=range(1, len(header)))
    data = data.reshape(-1, len(cols))
    price = data[:, cols.index('price')]
    won = data[:, cols.index('won')]
    comp = data[:, cols.index('competitor_price')]
    features = [c for c in cols if c not in RESERVED]
    X = np.column_stack([np.ones(len(price)), data[:, [cols.index(c) for c in features]]])
    t1 = time.perf_counter()

    n, d = X.shape
    w = won == 1
    v = np.where(w, comp, price)
    n_won = w.sum()

    def loglik(params):
        theta, s = params[:d], params[d]
        z = (v - X @ theta) / np.exp(s)
        log_cdf = special.log_ndtr(z)
        ll = np.where(w, -0.5 * z * z - LOG_SQRT_2PI - s, log_cdf)
        # d l / d z: -z on a won row, the inverse Mills ratio phi(z)/Phi(z) on a lost row
        g1 = np.where(w, -z, np.exp(-0.5 * z * z - LOG_SQRT_2PI - log_cdf))
        grad_theta = -(X.T @ g1) / np.exp(s)
        grad_s = -(z * g1).sum() - n_won
        return ll.sum(), np.append(grad_theta, grad_s)

    def objective(params):  # the average negative log-likelihood, as repricer minimises it
        ll, g = loglik(params)
        return -ll / n, -g / n

    start = np.zeros(d + 1)
    start[0] = price.mean()
    start[d] = np.log(max(1e-6, 0.5 * price.std(ddof=1)))
    res = optimize.minimize(objective, start, jac=True, method='L-BFGS-B',
                            options={'maxiter': 10000, 'maxcor': 20, 'ftol': 0.0, 'gtol': 1e-11})
    ll, _ = loglik(res.x)
    t2 = time.perf_counter()

    out = {
        'rows': int(n),
        'features': features,
        'theta': res.x[:d].tolist(),
        'sigma': float(np.exp(res.x[d])),
        'logLikelihood': float(ll),
        'iterations': int(res.nit),
        'message': str(res.message),
    }
    with open(dst, 'w') as f:
        json.dump(out, f)
    t3 = time.perf_counter()
    out['seconds'] = {'read': t1 - t0, 'fit': t2 - t1, 'write': t3 - t2, 'total': t3 - t0}
    with open(dst, 'w') as f:  # the timings go into the same file, after the clock stopped
        json.dump(out, f)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: fit_pooled.py observations.csv result.json')
    main(sys.argv[1], sys.argv[2])
