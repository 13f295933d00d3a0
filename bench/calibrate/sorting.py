# Sorting lists of numbers, strings and tuples, with keys.
import random


def work():
    rng = random.Random(1)
    xs = [rng.random() for _ in range(30000)]
    ws = [str(x)[2:8] for x in xs]
    ts = list(zip(ws, xs))
    return sorted(xs)[0] + len(sorted(ws, key=len)) + sorted(ts, reverse=True)[0][1]
