"""Read integers, one per line, until the end of input; print their sum."""
