#!/usr/bin/env python3
"""Peer of `repricer reprice` with no policy file (Gaussian model), as a pricing analyst would
write it with pandas, numpy and scipy.

    python3 bench/peers/reprice.py model.json catalog.csv prices.csv timings.json

Reads the catalogue with pandas, computes each row's mean competitor quote u = x.theta (the
product's theta, or the model's common theta for a product the model does not know), the
optimal quote of docs/math.md §1.5

    p* = u + sigma * phi^-1((c - u) / sigma),   phi(v) = v - (1 - Phi(v)) / pdf(v)

by a vectorised Newton iteration, keeps it inside the row's min_price / max_price, and writes
product_id,price with pandas. Timings (read -> written) go to timings.json. `repricer bench`
compares the prices with repricer's.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import special

SQRT_PI_2 = np.sqrt(np.pi / 2)


def vv_inverse(a):
    """Solve phi(v) = a for the standard Gaussian (phi increasing and concave: Newton from the left)."""
    v = (3 * a + np.sqrt(a * a + 8)) / 4  # Birnbaum's bound: left of the root
    for _ in range(100):
        m = SQRT_PI_2 * special.erfcx(v / np.sqrt(2))  # Mills ratio (1 - Phi(v)) / pdf(v)
        step = (v - m - a) / (2 - v * m)
        v = v - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(1, np.abs(v))):
            break
    return v


def main(model_path, catalog_path, out_path, timings_path):
    t0 = time.perf_counter()
    with open(model_path) as f:
        model = json.load(f)
    if model['noise']['family'] != 'gaussian':
        sys.exit('reprice.py: only the gaussian noise family')
    df = pd.read_csv(catalog_path)
    t1 = time.perf_counter()

    sigma = model['noise']['scale']
    ids = list(model['products'])
    thetas = np.array([model['common']['theta']] + [model['products'][k]['theta'] for k in ids])
    row_of = pd.Series(np.arange(1, len(ids) + 1), index=ids)
    rows = df['product_id'].map(row_of).fillna(0).astype(np.int64).to_numpy()  # 0: cold start
    x = df[model['features']].to_numpy(dtype=np.float64)
    if model.get('intercept', True):
        x = np.column_stack([np.ones(len(df)), x])
    u = np.einsum('ij,ij->i', x, thetas[rows])
    c = df['cost'].fillna(model['reservation']).to_numpy() if 'cost' in df else np.full(len(df), model['reservation'])
    price = u + sigma * vv_inverse((c - u) / sigma)
    if 'min_price' in df:
        price = np.fmax(price, df['min_price'].to_numpy())  # fmax / fmin ignore a missing bound
    if 'max_price' in df:
        price = np.fmin(price, df['max_price'].to_numpy())
    t2 = time.perf_counter()

    pd.DataFrame({'product_id': df['product_id'], 'price': price}).to_csv(out_path, index=False)
    t3 = time.perf_counter()
    with open(timings_path, 'w') as f:
        json.dump({'rows': len(df), 'seconds': {'read': t1 - t0, 'price': t2 - t1, 'write': t3 - t2, 'total': t3 - t0}}, f)


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit('usage: reprice.py model.json catalog.csv prices.csv timings.json')
    main(*sys.argv[1:])
