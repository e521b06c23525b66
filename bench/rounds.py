"""rounds - the results of a benchmark's rounds, for its summary.

bench_rounds (tests/e2e/lib.sh) gathers the lines a run printed that
start with "cfg=": one line of key=value words per run.  A benchmark's
summary (python3 from the repository's top, with "bench" on sys.path)
reads them here, by configuration, in the order they ran.

A value that is missing or not a number reads as NaN, which the medians
leave out: a run that failed to report one figure still shows the rest.
"""
import statistics


def load(path):
    """Every run of the file at PATH: {configuration: [run, ...]}, each
    run a dict of its words."""
    runs = {}
    with open(path) as f:
        for line in f:
            d = dict(kv.split("=", 1) for kv in line.split())
            runs.setdefault(d["cfg"], []).append(d)
    return runs


def num(d, k):
    """The value of K in the run D as a number; NaN when it is none."""
    try:
        return float(d.get(k, "nan"))
    except ValueError:
        return float("nan")


def median(values):
    """The median of VALUES without the NaNs; NaN when nothing is left."""
    v = [x for x in values if x == x]
    return statistics.median(v) if v else float("nan")
