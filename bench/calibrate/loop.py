# Plain bytecode: a counting loop with arithmetic.
def work():
    s = 0
    for i in range(200000):
        s += i * i % 7
    return s
