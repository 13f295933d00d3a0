# Floating point and the math module.
import math


def work():
    s = 0.0
    for i in range(1, 60000):
        s += math.sqrt(i) * math.sin(i) / math.log(i + 1)
    return round(s, 6)
