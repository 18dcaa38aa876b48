# kernel/breakcfg: a circuit breaker's options: the names set_breaker and the unit field
# `breaker` take, checked once into a Config with one-line errors; defaults from params
# (resilience4j's).
#
# Owns: Config (plain attributes: durations in ms, rates in per mille, the window kind as a
# code), OPTIONS (option -> attribute, checker) and parse(label, options).
# Invariants: a Config is checked whole before it is returned and never changed after, so
# breakers and unit templates can share one; an error names the option, what was wrong and
# what was expected ('breaker web: 'window_size' must be an int in 1..10000, got 0').
# Not here: the state machine (kernel/circuit.py).
from micropython import const

from kernel import params

COUNT = const(0)
TIME = const(1)
WINDOW_NAMES = ("count", "time")


class Config:
    """Checked options; defaults are params' (resilience4j's)."""

    window = COUNT
    size = params.BREAKER_WINDOW_SIZE
    min_calls = params.BREAKER_MIN_CALLS
    fail_pm = params.BREAKER_FAILURE_RATE * 10  # per mille
    slow_ms = params.BREAKER_SLOW_CALL_MS
    slow_pm = params.BREAKER_SLOW_RATE * 10
    wait_ms = params.BREAKER_WAIT_OPEN_MS
    half_open = params.BREAKER_HALF_OPEN_CALLS
    multiplier = params.BREAKER_WAIT_MULTIPLIER
    wait_max_ms = params.BREAKER_WAIT_MAX_MS

    def options(self):
        """The options as set_breaker takes them (for display)."""
        return {
            "window_type": WINDOW_NAMES[self.window],
            "window_size": self.size,
            "minimum_calls": self.min_calls,
            "failure_rate_threshold": _pct(self.fail_pm),
            "slow_call_duration_ms": self.slow_ms,
            "slow_call_rate_threshold": _pct(self.slow_pm),
            "wait_open_sec": _sec(self.wait_ms),
            "half_open_calls": self.half_open,
            "wait_multiplier": self.multiplier,
            "wait_max_sec": _sec(self.wait_max_ms),
        }


def _pct(pm):
    return pm // 10 if pm % 10 == 0 else pm / 10


def _sec(ms):
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _num(v):
    if isinstance(v, str):
        try:
            return float(v) if "." in v or "e" in v else int(v)
        except ValueError:
            return None
    return None if isinstance(v, bool) or not isinstance(v, (int, float)) else v


def _int(key, v, lo, hi):
    n = _num(v)
    if not isinstance(n, int) or not lo <= n <= hi:
        raise ValueError("'%s' must be an int in %d..%d, got %r" % (key, lo, hi, v))
    return n


def _rate(key, v):
    n = _num(v)
    if n is None or not 0 < n <= 100:
        raise ValueError("'%s' must be a percentage in (0, 100], got %r" % (key, v))
    return max(1, int(n * 10 + 0.5))


def _ms(key, v, scale):
    # A number in `scale` ms (1: ms, 1000: seconds), or text with a unit ('500ms', '2s').
    n = _num(v)
    if n is None and isinstance(v, str):
        s = v.strip()
        for suffix, k in (("ms", 1), ("min", 60000), ("s", 1000)):
            if s.endswith(suffix):
                n = _num(s[: -len(suffix)].strip())
                if n is not None:
                    n, scale = n * k, 1
                break
    if n is not None:
        n = int(n * scale)
    if n is None or not 1 <= n <= params.BREAKER_WAIT_LIMIT_MS:
        unit = "ms" if scale == 1 else "seconds"
        raise ValueError(
            "'%s' must be %s (e.g. %s, '500ms', '2s'), 1 ms..%d s, got %r"
            % (
                key,
                unit,
                "250" if scale == 1 else "5, 0.5",
                params.BREAKER_WAIT_LIMIT_MS // 1000,
                v,
            )
        )
    return n


def _window(key, v):
    if v not in WINDOW_NAMES:
        raise ValueError("'%s' must be 'count' or 'time', got %r" % (key, v))
    return WINDOW_NAMES.index(v)


def _multiplier(key, v):
    n = _num(v)
    if n is None or not 1 <= n <= 100:
        raise ValueError("'%s' must be a number in 1..100 (1: no growth), got %r" % (key, v))
    return n


# option -> (Config attribute, checker(key, v))
OPTIONS = {
    "window_type": ("window", _window),
    "window_size": ("size", lambda k, v: _int(k, v, 1, params.BREAKER_COUNT_MAX)),
    "minimum_calls": ("min_calls", lambda k, v: _int(k, v, 1, 1 << 24)),
    "failure_rate_threshold": ("fail_pm", _rate),
    "slow_call_duration_ms": ("slow_ms", lambda k, v: _ms(k, v, 1)),
    "slow_call_rate_threshold": ("slow_pm", _rate),
    "wait_open_sec": ("wait_ms", lambda k, v: _ms(k, v, 1000)),
    "half_open_calls": ("half_open", lambda k, v: _int(k, v, 1, params.BREAKER_COUNT_MAX)),
    "wait_multiplier": ("multiplier", _multiplier),
    "wait_max_sec": ("wait_max_ms", lambda k, v: _ms(k, v, 1000)),
}


def parse(label, options):
    """A dict of options -> Config; ValueError 'LABEL: what was wrong, what was expected'."""
    if isinstance(options, Config):
        return options
    if not isinstance(options, dict):
        raise ValueError("%s: options must be a dict, got %r" % (label, options))
    cfg = Config()
    try:
        for key, v in options.items():
            o = OPTIONS.get(key)
            if o is None:
                raise ValueError(
                    "unknown option '%s' (expected %s)" % (key, ", ".join(sorted(OPTIONS)))
                )
            setattr(cfg, o[0], o[1](key, v))
        if cfg.window == TIME and cfg.size > params.BREAKER_TIME_MAX_SEC:
            raise ValueError(
                "'window_size' of a time window must be 1..%d seconds, got %d"
                % (params.BREAKER_TIME_MAX_SEC, cfg.size)
            )
        if cfg.wait_max_ms < cfg.wait_ms:
            raise ValueError(
                "'wait_max_sec' must be at least 'wait_open_sec' (%s s), got %s s"
                % (_sec(cfg.wait_ms), _sec(cfg.wait_max_ms))
            )
    except ValueError as e:
        raise ValueError("%s: %s" % (label, e)) from None
    return cfg
