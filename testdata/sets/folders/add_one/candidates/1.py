    return x + 2
