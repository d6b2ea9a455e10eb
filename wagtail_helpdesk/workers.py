"""django-q2's cluster, made to stop cleanly when SIGTERM reaches every process.

``manage.py qcluster`` stops on SIGINT (Ctrl-C) but hangs, "stopping", on a
SIGTERM sent to its whole process group — what systemd does by default
(``KillMode=control-group``), and what a container runtime or ``kill -TERM
-PGID`` does. django-q2 (1.11) gives its ``Sentinel`` process the default
SIGTERM action (die) and the pusher, monitor and workers inherit it, while
only SIGINT is ignored there. So a group SIGTERM:

* kills the sentinel while it sleeps in ``stop_event.wait()`` — a
  ``multiprocessing`` condition that counts its sleepers;
* runs the main process's handler, which calls ``stop_event.set()``:
  ``Condition.notify_all()`` then waits for the dead sleeper to wake, forever;
* kills the workers in the middle of their tasks (a task in progress is lost
  until the broker's ``retry`` hands it out again).

Here the sentinel ignores SIGTERM as it ignores SIGINT, and so do the pusher,
monitor and workers it forks (they inherit it): only the main process reacts,
by setting the stop event, and the sentinel stops the cluster in order — the
pusher first, each worker after its current task, the monitor once the
results are saved. A worker that overruns its timeout is still killed (with
SIGKILL, since it no longer dies of the SIGTERM django-q2 sends it).
"""

import os
import signal

from django_q import cluster as q_cluster


class Sentinel(q_cluster.Sentinel):
    def __init__(self, stop_event, start_event, cluster_id, broker=None, timeout=None,
                 start=True):
        # django-q2 restores SIGTERM's default action in __init__; keep it
        # blocked until it is ignored, so no SIGTERM can slip in between.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            super().__init__(stop_event, start_event, cluster_id, broker, timeout, start=False)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the processes forked next inherit it
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        if start:
            self.start()

    def reincarnate(self, process):
        timed_out = process in self.pool and process.timer.value == 0
        super().reincarnate(process)  # sends SIGTERM to a timed-out worker: ignored now
        if timed_out and process.is_alive():
            process.kill()


class Cluster(q_cluster.Cluster):
    """The main process: SIGTERM or SIGINT stops the cluster, once."""

    def __init__(self, broker=None):
        self.stop_requested = False
        super().__init__(broker)

    def start(self):
        # django-q2's Cluster.start() forks its module's Sentinel class.
        original, q_cluster.Sentinel = q_cluster.Sentinel, Sentinel
        try:
            return super().start()
        finally:
            q_cluster.Sentinel = original

    def sig_handler(self, signum, frame):
        # A signal that reaches the sentinel before it installs its own
        # handling runs this inherited handler there: not ours to act on.
        if os.getpid() != self.pid or self.stop_requested:
            return
        self.stop_requested = True
        super().sig_handler(signum, frame)

    def wait(self):
        """Block until the sentinel has exited; return its exit code."""
        while self.sentinel.is_alive():
            self.sentinel.join(1)
        return self.sentinel.exitcode
