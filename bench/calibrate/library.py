# collections, heapq, itertools, functools.
import collections
import functools
import heapq
import itertools


@functools.lru_cache(maxsize=None)
def paths(a, b):
    return 1 if a == 0 or b == 0 else paths(a - 1, b) + paths(a, b - 1)


def work():
    paths.cache_clear()
    c = collections.Counter(i % 97 for i in range(30000))
    h = list(range(20000, 0, -1))
    heapq.heapify(h)
    small = [heapq.heappop(h) for _ in range(5000)]
    pairs = sum(1 for a, b in itertools.combinations(range(150), 2) if (a + b) % 5 == 0)
    q = collections.deque(range(10000))
    q.rotate(1234)
    return len(c) + small[-1] + pairs + q[0] + paths(40, 40) % 1000
