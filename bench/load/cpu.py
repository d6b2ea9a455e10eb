"""Where the machine's CPU went during a load run, by part of the layout.

Read from /proc (Linux) before and after the run: every process's user +
system time, grouped into the layout's parts — the web server (gunicorn and
its workers), the ASGI server, the task workers (each ``qcluster`` and the
processes it forks), PostgreSQL, Redis, the object storage and the load
generator itself — and the whole machine's busy time from ``/proc/stat``.
What the parts do not explain ("other") is the busy time of everything
else: the kernel's own work, processes outside the layout, and those that
ended without their parent waiting for them.

PostgreSQL and Redis are recognised by their process names, so another
server of the same kind on the machine counts as theirs: measure on a
machine that runs nothing else. Steal time (the hypervisor giving the cores
to another machine) is not busy time here; on a virtual machine that loses
much of it the ceiling below is optimistic.

Divided by the submissions it says what one complete journey costs the
machine, part by part, and so how many submissions per second these cores
could sustain at best: the figure that tells a slow machine from a slow
product.
"""

import os
import time
from collections import namedtuple
from pathlib import Path

PROC = Path("/proc")

#: Parts named by the process's own name (``comm``) when no layout pid holds it.
BY_NAME = {"postgres": "PostgreSQL", "redis-server": "Redis", "weed": "object storage"}

#: The layout's pids (``var/layout/layout.json``) and the part each one heads.
BY_LAYOUT_PID = {"gunicorn": "web", "uvicorn": "ASGI", "seaweedfs": "object storage",
                 "smtp-sink": "SMTP sink"}

GENERATOR = "load generator"
OTHER = "other"
WORKERS = "task workers"

#: One process: its parent, name, CPU seconds, the CPU seconds of its ended
#: children (added by the kernel when it waited for them) and when it started
#: (clock ticks since boot: with the pid, what tells a process from a later
#: one that got the same pid).
Proc = namedtuple("Proc", "parent name own children started")


def cores():
    """The cores this process may run on (a container's or an affinity's
    limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count()


def _processes():
    """``{pid: Proc}`` of every process now."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = Proc(int(fields[1]), name,
                                      (int(fields[11]) + int(fields[12])) / tick,
                                      (int(fields[13]) + int(fields[14])) / tick,
                                      int(fields[19]))
    return found


def machine_busy():
    """The seconds every core together spent not idle since boot."""
    tick = os.sysconf("SC_CLK_TCK")
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    # user, nice, system, (idle, iowait), irq, softirq; not steal (another
    # machine's use of this one's cores) nor guest (already in user).
    busy = values[0] + values[1] + values[2] + sum(values[5:7])
    return busy / tick


def _heads(layout_pids):
    """``{pid: part}`` for the processes that head a part of the layout."""
    heads = {}
    for key, pid in (layout_pids or {}).items():
        if not pid:
            continue
        if key in BY_LAYOUT_PID:
            heads[int(pid)] = BY_LAYOUT_PID[key]
        elif key.startswith("qcluster"):
            heads[int(pid)] = WORKERS
    heads[os.getpid()] = GENERATOR
    return heads


def _part_of(pid, processes, heads):
    seen = set()
    current = pid
    while current and current not in seen:
        if current in heads:
            return heads[current]
        seen.add(current)
        current = processes[current].parent if current in processes else 0
    return BY_NAME.get(processes[pid].name if pid in processes else "", OTHER)


class Snapshot:
    """The CPU seconds of every process and of the machine, at one moment."""

    def __init__(self, layout_pids=None):
        self.available = PROC.joinpath("stat").exists()
        self.heads = _heads(layout_pids)
        self.processes = _processes() if self.available else {}
        self.busy = machine_busy() if self.available else 0.0

    def same(self, pid, other):
        """Whether ``pid`` is the same process here and in ``other``."""
        return (pid in self.processes and pid in other.processes
                and self.processes[pid].started == other.processes[pid].started)


def _spent(pid, before, after):
    """CPU seconds ``pid`` (as ``after`` has it) used since ``before``: its
    own, and that of its children which ended (counted by the kernel in the
    parent that waited for them)."""
    now = after.processes[pid]
    if not before.same(pid, after):  # new, or a reused pid: from zero
        return now.own + now.children
    earlier = before.processes[pid]
    return (now.own - earlier.own) + (now.children - earlier.children)


def used(before, after):
    """``{part: cpu seconds}`` between two snapshots, with ``other`` the
    machine's busy time that no part explains (never below zero), and the
    machine's total under ``"machine"``; None without /proc.

    A process that ended during the run (a database backend, a task worker
    recycled) is counted in its parent's part when the parent waited for it:
    the kernel then adds its whole life to the parent's children's time, so
    what it had used before the run is taken back from that part."""
    if not (before.available and after.available):
        return None
    parts = {}

    def add(part, seconds):
        parts[part] = parts.get(part, 0.0) + seconds

    for pid in after.processes:
        spent = _spent(pid, before, after)
        if spent > 0:
            add(_part_of(pid, after.processes, after.heads), spent)
    for pid, gone in before.processes.items():
        if not before.same(pid, after) and before.same(gone.parent, after):
            add(_part_of(gone.parent, after.processes, after.heads),
                -(gone.own + gone.children))
    parts = {part: max(0.0, seconds) for part, seconds in parts.items()}
    explained = sum(v for k, v in parts.items() if k != OTHER)
    # The processes' clocks and the machine's are read apart: never less
    # than what the parts used.
    machine = max(after.busy - before.busy, explained)
    parts[OTHER] = machine - explained
    parts["machine"] = machine
    return parts


def per_submission(parts, submissions, cores):
    """The parts in CPU ms per submission, and the most submissions per
    second ``cores`` could sustain at the machine's cost per submission."""
    if not parts or not submissions:
        return None
    ms = {part: round(1000 * seconds / submissions, 1) for part, seconds in parts.items()}
    ceiling = round(cores * 1000 / ms["machine"], 1) if ms.get("machine") else None
    return {"cpu_ms_per_submission": ms, "ceiling_submissions_per_s": ceiling}


def _part_cpu(snapshot, part):
    return sum(p.own + p.children for pid, p in snapshot.processes.items()
               if _part_of(pid, snapshot.processes, snapshot.heads) == part)


def drain(layout_pids, part=WORKERS, quiet=0.05, every=1.0, timeout=180.0):
    """Wait until ``part`` (the task workers) has finished what the run
    queued, judged by its CPU: until it used less than ``quiet`` CPU seconds
    in ``every`` seconds, twice in a row.

    Returns ``{"busy_s": how long it kept working, "idle": whether it went
    quiet before ``timeout``}``, or None when the layout has no such part."""
    if not PROC.joinpath("stat").exists() or not any(
            key.startswith("qcluster") for key in (layout_pids or {})):
        return None
    started = time.monotonic()
    last, calm, busy_until = _part_cpu(Snapshot(layout_pids), part), 0, started
    while time.monotonic() - started < timeout:
        time.sleep(every)
        now = _part_cpu(Snapshot(layout_pids), part)
        if now - last < quiet:
            calm += 1
        else:
            calm, busy_until = 0, time.monotonic()
        last = now
        if calm >= 2:
            return {"busy_s": round(busy_until - started, 1), "idle": True}
    return {"busy_s": round(time.monotonic() - started, 1), "idle": False}
