    xs = sorted(xs)
    return xs[-1] + xs[-2]
