import sys
print(sum(int(l) for l in sys.stdin if l.strip()))
