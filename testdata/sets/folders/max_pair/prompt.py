from typing import List


def max_pair(xs: List[int]) -> int:
    """The largest sum of two different elements of xs (len(xs) >= 2)."""
