# Dynamic programming over a 2-D table (edit distance).
def edit(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def work():
    return edit("kitten sitting on the mat" * 6, "sitting kitten at the mall" * 6)
