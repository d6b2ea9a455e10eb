"""Waiting on another process: poll a check until it holds or time runs out."""

import time


def wait_for(check, timeout=40.0, interval=0.1):
    """What ``check()`` returns once it is truthy, or None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    return None
