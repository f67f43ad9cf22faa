#!/usr/bin/env python3
"""Writes events.csv, the small market event log of the README's marketplace examples.

Run from this folder: python3 make-events.py  (numpy; the same file every time).

Two zones (north, south) x two asset types (suv, hatch) x four time buckets (weekday and weekend,
morning and evening) = 16 segments. Consumers are shown one item at a price near the (zone, asset)
clearing price of market.json and book it with probability sigma(a + b log(p / base)); weekend
evenings are busier (higher a), hatchbacks more price-sensitive (more negative b). A booked search
is one booking row; views, listings and searches that showed no item are mixed in.
"""
import csv
import datetime as dt
import math

import numpy as np

rng = np.random.default_rng(7)
BASE = {("north", "suv"): 72.0, ("north", "hatch"): 42.0, ("south", "suv"): 66.0, ("south", "hatch"): 36.0}
BUCKETS = {  # bucket -> (first day, first hour, log-odds shift)
    "weekday-morning": (dt.datetime(2026, 3, 2, 6, tzinfo=dt.timezone.utc), 5, -0.25),
    "weekday-evening": (dt.datetime(2026, 3, 2, 18, tzinfo=dt.timezone.utc), 5, 0.0),
    "weekend-morning": (dt.datetime(2026, 3, 7, 6, tzinfo=dt.timezone.utc), 2, -0.1),
    "weekend-evening": (dt.datetime(2026, 3, 7, 18, tzinfo=dt.timezone.utc), 2, 0.3),
}
rows = []
for (zone, asset), base in BASE.items():
    b = -2.5 if asset == "hatch" else -1.8
    # log-odds at the base price near logit(1 + 1/b), where revenue peaks: the optimum is near base
    a0 = math.log(-(1 + 1 / b) / (1 / b))
    for bucket, (start, days, shift) in BUCKETS.items():
        a = a0 + shift + (0.1 if zone == "north" else 0.0)
        free = 6
        for t in range(int(rng.integers(120, 200))):
            when = start + dt.timedelta(days=int(rng.integers(0, days)), seconds=int(rng.integers(0, 6 * 3600)))
            p = round(base * math.exp(rng.uniform(-0.3, 0.3)), 1)
            item = f"{zone}-{asset}-{int(rng.integers(1, 7))}"
            booked = rng.random() < 1 / (1 + math.exp(-(a + b * math.log(p / base))))
            rows.append((when, "booking" if booked else "search", zone, asset, item, p, int(booked), free, "", round(p * rng.uniform(0.9, 1.1), 1)))
            if t % 10 == 0:
                rows.append((when, "view", zone, asset, item, p, 0, free, "", ""))
                rows.append((when, "search", zone, asset, "", "", 0, 0, "", ""))
                rows.append((when, "listing", zone, asset, item, round(base, 1), 0, free, 1, ""))
rows.sort(key=lambda r: r[0])
with open("events.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["time", "type", "zone", "asset", "item_id", "price_shown", "booked", "available", "quantity", "competitor_price"])
    for r in rows:
        w.writerow([r[0].strftime("%Y-%m-%dT%H:%M:%SZ")] + list(r[1:]))
print(len(rows), "rows")
