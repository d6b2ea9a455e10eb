"""Running calls at the same moment, one thread each (PostgreSQL tests)."""

import threading

from django.db import connections


def race(calls, *, refusals=()):
    """Run ``calls`` at once; their results and the ``refusals`` they raised.
    Any other exception is raised again here, so it fails the test."""
    barrier = threading.Barrier(len(calls))
    results, refused, failures, lock = [], [], [], threading.Lock()

    def work(call):
        try:
            barrier.wait(timeout=30)
            result = call()
            with lock:
                results.append(result)
        except refusals as exc:
            with lock:
                refused.append(exc)
        except Exception as exc:
            with lock:
                failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]
    return results, refused
