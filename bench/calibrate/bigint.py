# Big integers: multiplication, powers, division.
def work():
    x = 3 ** 20000
    y = 7 ** 15000
    return (x * y) % (10 ** 9 + 7) + (x // y).bit_length()
