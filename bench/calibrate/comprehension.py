# List comprehensions, slicing and builtins over lists.
def work():
    xs = [i * 3 % 101 for i in range(100000)]
    ys = [x for x in xs if x % 2]
    return max(xs) + min(ys) + sum(xs[::3]) + len(list(reversed(ys)))
