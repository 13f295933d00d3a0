def check(candidate):
    assert candidate(1) == 2
    assert candidate(-1) == 0
    assert candidate(10 ** 20) == 10 ** 20 + 1
