"""Where the machine's CPU went during a load run, by part of the layout.

Read from /proc (Linux) before and after the run: every process's user +
system time, grouped into the layout's parts — the web server (gunicorn and
its workers), the ASGI server, the task workers (each ``qcluster`` and the
processes it forks), PostgreSQL, Redis, the object storage and the load
generator itself — and the whole machine's busy time from ``/proc/stat``.
What the parts do not explain ("other") is the busy time of everything
else: the kernel's own work, processes outside the layout, and those that
ended without their parent waiting for them.

Divided by the submissions it says what one complete journey costs the
machine, part by part, and so how many submissions per second these cores
could sustain at best: the figure that tells a slow machine from a slow
product.
"""

import os
from pathlib import Path

PROC = Path("/proc")

#: Parts named by the process's own name (``comm``) when no layout pid holds it.
BY_NAME = {"postgres": "PostgreSQL", "redis-server": "Redis", "weed": "object storage"}

#: The layout's pids (``var/layout/layout.json``) and the part each one heads.
BY_LAYOUT_PID = {"gunicorn": "web", "uvicorn": "ASGI", "seaweedfs": "object storage",
                 "smtp-sink": "SMTP sink"}

GENERATOR = "load generator"
OTHER = "other"


def _processes():
    """``{pid: (parent pid, name, cpu seconds, its ended children's cpu
    seconds)}`` of every process now."""
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
        found[int(entry.name)] = (int(fields[1]), name,
                                  (int(fields[11]) + int(fields[12])) / tick,
                                  (int(fields[13]) + int(fields[14])) / tick)
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
            heads[int(pid)] = "task workers"
    heads[os.getpid()] = GENERATOR
    return heads


def _part_of(pid, processes, heads):
    seen = set()
    current = pid
    while current and current not in seen:
        if current in heads:
            return heads[current]
        seen.add(current)
        current = processes.get(current, (0,))[0]
    return BY_NAME.get(processes[pid][1] if pid in processes else "", OTHER)


class Snapshot:
    """The CPU seconds of every process and of the machine, at one moment."""

    def __init__(self, layout_pids=None):
        self.available = PROC.joinpath("stat").exists()
        self.heads = _heads(layout_pids)
        self.processes = _processes() if self.available else {}
        self.busy = machine_busy() if self.available else 0.0


def _spent(pid, before, after):
    """CPU seconds ``pid`` (as ``after`` has it) used since ``before``: its
    own, and that of its children which ended (counted by the kernel in the
    parent that waited for them)."""
    now = after.processes[pid]
    earlier = before.processes.get(pid)
    if earlier is None or earlier[1] != now[1]:  # new, or a reused pid: from zero
        return now[2] + now[3]
    return (now[2] - earlier[2]) + (now[3] - earlier[3])


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
    for pid, (parent, _name, cpu_s, children_s) in before.processes.items():
        if pid not in after.processes and parent in after.processes:
            add(_part_of(parent, after.processes, after.heads), -(cpu_s + children_s))
    parts = {part: max(0.0, seconds) for part, seconds in parts.items()}
    machine = max(0.0, after.busy - before.busy)
    explained = sum(v for k, v in parts.items() if k != OTHER)
    parts[OTHER] = max(0.0, machine - explained)
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
    return sum(own + children for pid, (_parent, _name, own, children)
               in snapshot.processes.items()
               if _part_of(pid, snapshot.processes, snapshot.heads) == part)


def drain(layout_pids, part="task workers", quiet=0.05, every=1.0, timeout=180.0):
    """Wait until ``part`` (the task workers) has finished what the run
    queued: until it used less than ``quiet`` CPU seconds in ``every`` seconds
    twice in a row. Returns the seconds waited (None: gave up at ``timeout``,
    or no such part)."""
    import time

    started = time.monotonic()
    if not PROC.joinpath("stat").exists() or not any(
            k.startswith("qcluster") for k in (layout_pids or {})):
        return None
    last, calm = _part_cpu(Snapshot(layout_pids), part), 0
    while time.monotonic() - started < timeout:
        time.sleep(every)
        now = _part_cpu(Snapshot(layout_pids), part)
        calm = calm + 1 if now - last < quiet else 0
        last = now
        if calm >= 2:
            return round(time.monotonic() - started - 2 * every, 1)
    return None
