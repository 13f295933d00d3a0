# Objects: a small class, attribute access and method calls.
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm1(self):
        return abs(self.x) + abs(self.y)


def work():
    pts = [Point(i, -i) for i in range(20000)]
    return sum(p.norm1() for p in pts)
