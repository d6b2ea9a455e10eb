"""The load harness's CPU accounting (bench/load/cpu.py): each process's
time lands in the part of the layout it belongs to, a process that ended is
counted once in its parent's part, what no part explains is "other", and
the cost per submission gives the machine's ceiling."""

import os
import subprocess
import sys
import time

import pytest

from bench.load import cpu
from bench.load.cpu import Proc

#: Burns ``seconds`` of CPU, then touches ``done`` (if given) and sleeps.
BURN = """import sys, time
end = time.process_time() + {seconds}
while time.process_time() < end:
    pass
if {done!r}:
    open({done!r}, "w").close()
time.sleep(60)
"""
#: Burns 0.5 s of CPU and ends (the child its parent waits for).
BURN_AND_END = """import time
end = time.process_time() + 0.5
while time.process_time() < end:
    pass
"""


def spawn(code):
    return subprocess.Popen([sys.executable, "-c", code],  # noqa: S603 (our own code)
                            start_new_session=True)


def burner(seconds, child=False, done=""):
    """A process that burns ``seconds`` of CPU (in a child of its own when
    ``child``: the part must follow the process tree down), then sleeps."""
    code = BURN.format(seconds=seconds, done=done)
    if child:
        code = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {code!r}])\n"
    return spawn(code)


def stop(process):
    os.killpg(process.pid, 9)
    process.wait()


def wait_for_cpu(process, seconds, timeout=30):
    """Until ``process`` and its children have used ``seconds`` of CPU."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        snapshot = cpu.Snapshot()
        spent = sum(p.own + p.children for pid, p in snapshot.processes.items()
                    if process.pid in (pid, p.parent))
        if spent >= seconds * 0.9:
            return
        time.sleep(0.1)
    raise AssertionError("the burner did not burn")


def snapshots(before_processes, after_processes, heads, busy):
    before, after = cpu.Snapshot(), cpu.Snapshot()
    before.processes, after.processes = before_processes, after_processes
    before.heads = after.heads = heads
    before.busy, after.busy = busy
    return before, after


def test_each_process_is_counted_in_the_part_it_heads_or_descends_from():
    before = cpu.Snapshot({})
    web, worker = burner(0.6), burner(0.4, child=True)
    try:
        wait_for_cpu(web, 0.6)
        wait_for_cpu(worker, 0.4)
        parts = cpu.used(before, cpu.Snapshot({"gunicorn": web.pid, "qcluster-1": worker.pid}))
    finally:
        stop(web)
        stop(worker)
    assert 0.5 <= parts["web"] <= 1.0
    assert 0.3 <= parts[cpu.WORKERS] <= 0.8


def test_a_process_of_no_part_is_other_or_named_by_what_it_runs():
    processes = {10: Proc(1, "postgres", 1.0, 0, 5), 11: Proc(10, "postgres", 2.0, 0, 6),
                 12: Proc(1, "bash", 0.5, 0, 7), 13: Proc(20, "python", 3.0, 0, 8),
                 20: Proc(1, "python", 0.1, 0, 4)}
    heads = {20: "web"}
    assert cpu._part_of(11, processes, heads) == "PostgreSQL"
    assert cpu._part_of(12, processes, heads) == cpu.OTHER
    assert cpu._part_of(13, processes, heads) == "web"
    # The process that measures heads its own part.
    assert cpu._heads({})[os.getpid()] == cpu.GENERATOR


def test_what_no_part_explains_is_other_and_never_negative():
    before, after = snapshots(
        {1: Proc(0, "python", 1.0, 0, 1), 2: Proc(0, "redis-server", 5.0, 0, 2)},
        {1: Proc(0, "python", 1.5, 0, 1), 2: Proc(0, "redis-server", 5.2, 0, 2),
         3: Proc(0, "postgres", 0.3, 0, 9)},  # born during the run: all of it counts
        {1: cpu.GENERATOR}, (100.0, 102.0))
    parts = cpu.used(before, after)
    assert parts[cpu.GENERATOR] == pytest.approx(0.5)
    assert parts["Redis"] == pytest.approx(0.2)
    assert parts["PostgreSQL"] == pytest.approx(0.3)
    assert parts[cpu.OTHER] == pytest.approx(1.0)
    assert parts["machine"] == pytest.approx(2.0)
    # The processes' clocks ran ahead of the machine's: the machine is at
    # least what the parts used, and nothing is left for "other".
    after.busy = 100.5
    parts = cpu.used(before, after)
    assert parts[cpu.OTHER] == 0.0
    assert parts["machine"] == pytest.approx(1.0)


def test_a_reused_pid_is_a_new_process_even_with_the_same_name():
    # Backend 7 ended and a new backend got its pid; the postmaster (5)
    # waited for the old one, whose whole life (9.2 s, 9.0 before the run)
    # the kernel added to the postmaster's children's time.
    before, after = snapshots(
        {5: Proc(1, "postgres", 1.0, 0.0, 3), 7: Proc(5, "postgres", 9.0, 0, 40)},
        {5: Proc(1, "postgres", 1.0, 9.2, 3), 7: Proc(5, "postgres", 0.4, 0, 90)},
        {}, (0.0, 1.0))
    parts = cpu.used(before, after)
    assert parts["PostgreSQL"] == pytest.approx(0.2 + 0.4)
    assert parts[cpu.OTHER] == pytest.approx(0.4)


def test_a_process_that_ended_counts_in_its_parents_part_once():
    # The sentinel (5) of a worker cluster recycles its worker (6): the
    # kernel adds the worker's whole life (2.0 s, of which 1.5 s before the
    # run) to the sentinel's children's time; a new worker (7) takes over.
    before, after = snapshots(
        {4: Proc(1, "python", 1.0, 0, 1), 5: Proc(4, "python", 0.2, 0.0, 2),
         6: Proc(5, "python", 1.5, 0.0, 3)},
        {4: Proc(1, "python", 1.0, 0, 1), 5: Proc(4, "python", 0.3, 2.0, 2),
         7: Proc(5, "python", 0.4, 0.0, 8)},
        {4: cpu.WORKERS}, (0.0, 1.0))
    parts = cpu.used(before, after)
    assert parts[cpu.WORKERS] == pytest.approx(0.1 + 0.5 + 0.4)
    assert parts[cpu.OTHER] == pytest.approx(0.0)


def test_an_ended_process_really_lands_in_its_part():
    """A real child that burns CPU and ends while its parent waits."""
    code = (f"import subprocess, sys, time\n"
            f"subprocess.run([sys.executable, '-c', {BURN_AND_END!r}])\n"
            "time.sleep(60)\n")
    before = cpu.Snapshot()
    parent = spawn(code)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            snapshot = cpu.Snapshot({"gunicorn": parent.pid})
            if parent.pid in snapshot.processes and \
                    snapshot.processes[parent.pid].children >= 0.45:
                break
            time.sleep(0.1)
        parts = cpu.used(before, snapshot)
    finally:
        stop(parent)
    assert 0.4 <= parts["web"] <= 1.0


def test_cost_per_submission_and_the_ceiling():
    cost = cpu.per_submission({"web": 1.0, cpu.WORKERS: 0.5, "machine": 2.0}, 10, cores=2)
    assert cost["cpu_ms_per_submission"] == {"web": 100.0, cpu.WORKERS: 50.0,
                                             "machine": 200.0}
    assert cost["ceiling_submissions_per_s"] == 10.0
    assert cpu.per_submission({"machine": 2.0}, 0, cores=2) is None
    assert cpu.per_submission(None, 10, cores=2) is None


def test_drain_waits_until_the_workers_have_finished(tmp_path):
    assert cpu.drain({"gunicorn": os.getpid()}) is None  # no workers in the layout
    done = tmp_path / "done"
    worker = burner(1.5, done=str(done))
    try:
        # Quiet means under 2 % of a core: a worker starved by a busy
        # machine still gets more than that.
        drained = cpu.drain({"qcluster-1": worker.pid}, quiet=0.005, every=0.25, timeout=60)
        finished = done.exists()
    finally:
        stop(worker)
    assert drained["idle"] and finished
    assert drained["busy_s"] >= 1.0


def test_drain_says_when_it_gave_up():
    worker = burner(30)
    try:
        drained = cpu.drain({"qcluster-1": worker.pid}, every=0.25, timeout=1.0)
    finally:
        stop(worker)
    assert drained == {"busy_s": pytest.approx(1.0, abs=0.5), "idle": False}
