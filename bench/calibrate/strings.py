# String methods: split, join, replace, find, case, formatting.
def work():
    words = ("alpha beta gamma delta epsilon " * 2000).split()
    out = []
    for w in words:
        out.append(w.upper().replace("A", "4")[::-1])
    text = " ".join(out)
    return text.count("4") + text.find("ZZZ") + len(f"{len(text):08d}")
