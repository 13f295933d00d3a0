assert max_pair([1, 2, 3]) == 5
assert max_pair([-5, -1, -3]) == -4
assert max_pair([7, 7]) == 14
