# Regular expressions: findall and sub on text.
import re


def work():
    text = "hello world 123, foo-bar 45.6 baz_qux! " * 400
    return len(re.findall(r"\w+", text)) + len(re.sub(r"\d+", "#", text))
