# Building a string with += (CPython resizes it in place).
def work():
    s = ""
    for i in range(20000):
        s += str(i)
    return len(s)
