# Dicts and sets: insertion, lookup, membership.
def work():
    d = {}
    for i in range(50000):
        d[str(i)] = i
    seen = set()
    for k, v in d.items():
        if v % 3 == 0:
            seen.add(k)
    return len(seen) + sum(1 for i in range(50000) if str(i * 7) in d)
