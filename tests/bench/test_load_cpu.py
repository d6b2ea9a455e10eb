"""The load harness's CPU accounting (bench/load/cpu.py): each process's
time lands in the part of the layout it belongs to, what no part explains
is "other", and the cost per submission gives the machine's ceiling."""

import os
import subprocess
import sys
import time

import pytest

from bench.load import cpu

BURN = ("import time\nend = time.process_time() + {seconds}\n"
        "while time.process_time() < end: pass\ntime.sleep(60)\n")


def burner(seconds, child=False):
    """A process that burns ``seconds`` of CPU (in a child of its own when
    ``child``: the part must follow the process tree down), then sleeps."""
    code = BURN.format(seconds=seconds)
    if child:
        code = ("import subprocess, sys\n"
                f"subprocess.run([sys.executable, '-c', {code!r}])\n")
    return subprocess.Popen([sys.executable, "-c", code],  # noqa: S603 (our own code)
                            start_new_session=True)


def stop(process):
    os.killpg(process.pid, 9)
    process.wait()


def wait_for_cpu(process, seconds, timeout=30):
    """Until ``process`` and its children have used ``seconds`` of CPU."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        snapshot = cpu.Snapshot()
        mine = [pid for pid, (parent, *_rest) in snapshot.processes.items()
                if process.pid in (pid, parent)]
        spent = sum(sum(snapshot.processes[pid][2:]) for pid in mine)
        if spent >= seconds * 0.9:
            return
        time.sleep(0.1)
    raise AssertionError("the burner did not burn")


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
    assert 0.3 <= parts["task workers"] <= 0.8
    assert parts["machine"] >= parts["web"] + parts["task workers"] - 0.1
    assert parts["other"] >= 0
    # The generator is the process that measures.
    assert cpu.GENERATOR in cpu._heads({}).values()


def test_a_process_of_no_part_is_other_or_named_by_what_it_runs():
    processes = {10: (1, "postgres", 1.0, 0), 11: (10, "postgres", 2.0, 0),
                 12: (1, "bash", 0.5, 0), 13: (20, "python", 3.0, 0), 20: (1, "python", 0.1, 0)}
    heads = {20: "web"}
    assert cpu._part_of(11, processes, heads) == "PostgreSQL"
    assert cpu._part_of(12, processes, heads) == cpu.OTHER
    assert cpu._part_of(13, processes, heads) == "web"


def test_what_no_part_explains_is_other_and_never_negative():
    before, after = cpu.Snapshot(), cpu.Snapshot()
    before.processes = {1: (0, "python", 1.0, 0), 2: (0, "redis-server", 5.0, 0)}
    after.processes = {1: (0, "python", 1.5, 0), 2: (0, "redis-server", 5.2, 0),
                       3: (0, "postgres", 0.3, 0)}  # born during the run: all of it counts
    before.heads = after.heads = {1: cpu.GENERATOR}
    before.busy, after.busy = 100.0, 102.0
    parts = cpu.used(before, after)
    assert parts[cpu.GENERATOR] == pytest.approx(0.5)
    assert parts["Redis"] == pytest.approx(0.2)
    assert parts["PostgreSQL"] == pytest.approx(0.3)
    assert parts[cpu.OTHER] == pytest.approx(1.0)
    assert parts["machine"] == pytest.approx(2.0)
    after.busy = 100.5  # the processes' clocks ran ahead of the machine's
    assert cpu.used(before, after)[cpu.OTHER] == 0.0


def test_a_reused_pid_counts_from_zero():
    before, after = cpu.Snapshot(), cpu.Snapshot()
    before.processes = {7: (0, "postgres", 9.0, 0)}
    after.processes = {7: (0, "python", 0.4, 0)}
    before.heads = after.heads = {}
    before.busy, after.busy = 0.0, 1.0
    assert cpu.used(before, after)[cpu.OTHER] == pytest.approx(1.0)  # 0.4 + 0.6 unexplained


def test_a_process_that_ended_counts_in_its_parents_part_once():
    before, after = cpu.Snapshot(), cpu.Snapshot()
    # The sentinel (5) of a worker cluster recycles its worker (6): the
    # kernel adds the worker's whole life (2.0 s, of which 1.5 s before the
    # run) to the sentinel's children's time; a new worker (7) takes over.
    before.processes = {4: (1, "python", 1.0, 0), 5: (4, "python", 0.2, 0.0),
                        6: (5, "python", 1.5, 0.0)}
    after.processes = {4: (1, "python", 1.0, 0), 5: (4, "python", 0.3, 2.0),
                       7: (5, "python", 0.4, 0.0)}
    before.heads = after.heads = {4: "task workers"}
    before.busy, after.busy = 0.0, 1.0
    parts = cpu.used(before, after)
    assert parts["task workers"] == pytest.approx(0.1 + 0.5 + 0.4)
    assert parts[cpu.OTHER] == pytest.approx(0.0)


def test_an_ended_process_really_lands_in_its_part():
    """A real child that burns CPU and ends while its parent waits."""
    code = ("import subprocess, sys, time\n"
            f"subprocess.run([sys.executable, '-c', {BURN.format(seconds=0.5).split('time.sleep')[0]!r}])\n"
            "time.sleep(60)\n")
    before = cpu.Snapshot()
    parent = subprocess.Popen([sys.executable, "-c", code],  # noqa: S603 (our own code)
                              start_new_session=True)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            snapshot = cpu.Snapshot({"gunicorn": parent.pid})
            if snapshot.processes.get(parent.pid, (0, "", 0, 0))[3] >= 0.45:
                break
            time.sleep(0.1)
        parts = cpu.used(before, snapshot)
    finally:
        stop(parent)
    assert 0.4 <= parts["web"] <= 1.0


def test_cost_per_submission_and_the_ceiling():
    cost = cpu.per_submission({"web": 1.0, "task workers": 0.5, "machine": 2.0}, 10, cores=2)
    assert cost["cpu_ms_per_submission"] == {"web": 100.0, "task workers": 50.0,
                                             "machine": 200.0}
    assert cost["ceiling_submissions_per_s"] == 10.0
    assert cpu.per_submission({"machine": 2.0}, 0, cores=2) is None
    assert cpu.per_submission(None, 10, cores=2) is None


def test_drain_waits_for_busy_workers_and_not_without_them():
    assert cpu.drain({"gunicorn": os.getpid()}) is None
    worker = burner(1.5)
    try:
        waited = cpu.drain({"qcluster-1": worker.pid}, every=0.25, timeout=20)
    finally:
        stop(worker)
    assert waited is not None and waited >= 0.8
