"""Outside text made fit for one log line (CWE-117).

What a provider sends — its ``error`` and ``error_description``, a response
body, a claim — is written to the logs only through :func:`escape`: line
breaks and every other control or invisible separator character shown
escaped, as ``repr`` shows them, and the length bounded. Nobody can then
forge whole log lines, or flood the logs, through a callback URL.
"""

TEXT_LIMIT = 200  # characters kept of one piece of a provider's text
LINE_LIMIT = 1000  # characters kept of a whole reason written to the logs


def escape(text, limit=TEXT_LIMIT):
    """``text`` (any object: its ``str``) on one line, at most ``limit``
    characters (and an ellipsis when cut)."""
    raw = str(text)
    # Escaping only lengthens, so the first ``limit`` characters are enough.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw[:limit])
    if len(raw) > limit or len(shown) > limit:
        return shown[:limit] + "…"
    return shown
