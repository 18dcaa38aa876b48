# kernel/glob: shell-style name patterns ('web@*', 'db?', 'a[b') as anchored regex text.
#
# Owns: to_regex(). `*` is any run of characters, `?` one character; every other character,
# brackets included, stands for itself (so 'a[b' is a literal, never a bad regex).
# Not here: compiling or caching (the callers: kernel/discovery.py, kernel/svc.py).


def to_regex(g):
    """The glob g as regex text matching whole names: 'web@*' -> '^web@.*$'."""
    out = "^"
    for c in g:
        if c == "*":
            out += ".*"
        elif c == "?":
            out += "."
        elif c in ".^$+()[]{}|\\":
            out += "\\" + c
        else:
            out += c
    return out + "$"
