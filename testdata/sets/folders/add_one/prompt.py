def add_one(x: int) -> int:
    """Return x plus one.

    >>> add_one(1)
    2
    """
