# kernel/discpat: discovery's patterns: compiled once, matched against an Instance.
#
# Owns: compile_pattern() (a pattern string -> (field, mode, arg); ValueError, one line, for
# a bad one) and matches(). Patterns: glob by default (`glob:` too) on the name; `regex:`
# (re.match on the name); `tag:GLOB`, `kind:GLOB`; `health:passing|warning|critical`. A glob
# without wildcards is an exact name, `web@*` a prefix: neither needs a regex.
# Not here: caching results (kernel/disclook.py, kernel/discovery.py).
from micropython import const

from kernel import glob as globs
from kernel.discinst import STATUS_NAMES

# Pattern fields and modes (a compiled pattern is the tuple (field, mode, arg)).
NAME = const(0)
_TAG = const(1)
_KIND = const(2)
_HEALTH = const(3)
_ALL = const(0)  # '*'
EXACT = const(1)  # no wildcard
_PREFIX = const(2)  # 'web@*'
_REGEX = const(3)  # anything else (a glob becomes a regex)


def _glob(g, field):
    if g == "*":
        return (field, _ALL, None)
    star = g.find("*")
    if "?" not in g and "[" not in g:
        if star < 0:
            return (field, EXACT, g)
        if star == len(g) - 1:
            return (field, _PREFIX, g[:-1])
    return (field, _REGEX, _regex(globs.to_regex(g)))


def _regex(text):
    import re

    try:
        return re.compile(text)
    except Exception as e:  # noqa: BLE001 - MicroPython's re raises plain exceptions
        raise ValueError("discovery: bad regex %r: %s" % (text, e)) from None


def compile_pattern(pattern):
    """A pattern string -> (field, mode, arg); ValueError for a bad one (one line)."""
    if not isinstance(pattern, str):
        raise ValueError("discovery: a pattern is text, got %r" % (pattern,))
    if pattern.startswith("regex:"):
        return (NAME, _REGEX, _regex(pattern[6:]))
    if pattern.startswith("glob:"):
        return _glob(pattern[5:], NAME)
    if pattern.startswith("tag:"):
        return _glob(pattern[4:], _TAG)
    if pattern.startswith("kind:"):
        return _glob(pattern[5:], _KIND)
    if pattern.startswith("health:"):
        h = pattern[7:]
        if h not in STATUS_NAMES:
            raise ValueError(
                "discovery: 'health:' takes one of %s, got %r" % (", ".join(STATUS_NAMES), h)
            )
        return (_HEALTH, EXACT, h)
    return _glob(pattern, NAME)


def _match_one(mode, arg, v):
    if mode == _ALL:
        return True
    if v is None:
        return False
    if mode == EXACT:
        return v == arg
    if mode == _PREFIX:
        return v.startswith(arg)
    return arg.match(v) is not None


def matches(m, inst):
    """Does compiled pattern m match Instance inst?"""
    field, mode, arg = m
    if field == NAME:
        return _match_one(mode, arg, inst.name)
    if field == _KIND:
        return _match_one(mode, arg, inst.kind or "")
    if field == _HEALTH:
        return inst.health == arg
    for t in inst.tags:
        if _match_one(mode, arg, t):
            return True
    return False
