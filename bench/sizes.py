"""Dataset sizes of the benchmarks, as typed on the command line ("10k",
"100K", "1m", "250000") and as named in databases and files ("10k", "1m").
Standard library only: bench/djhelpdesk/run.py imports it from any Python."""

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def parse_size(text):
    """"10k", "100K", "1m", "250000" → number of tickets."""
    value = str(text).strip().lower().replace("_", "")
    if value in SIZES:
        return SIZES[value]
    if value.endswith("k"):
        return int(float(value[:-1]) * 1_000)
    if value.endswith("m"):
        return int(float(value[:-1]) * 1_000_000)
    return int(value)


def size_label(size):
    """10k, 100k, 1m, else the number itself."""
    for label, value in SIZES.items():
        if value == size:
            return label
    return str(size)
