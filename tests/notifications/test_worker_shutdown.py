"""The worker stops cleanly when SIGTERM reaches all of its processes, as
systemd's default stop (``KillMode=control-group``) sends it: the systemd
unit in docs/notifications.md is run as written (its ``ExecStart``, with this
interpreter and the test's settings) on a migrated SQLite file and the ORM
broker, and stopped with ``killpg(SIGTERM)``."""

import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.polling import wait_for as wait_until

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "notifications.md"


def unit_from_docs():
    """The ``[Service]`` section of the systemd unit in the docs, as a dict."""
    blocks = re.findall(r"```ini\n(.*?)```", DOC.read_text(), re.S)
    units = [block for block in blocks if "[Service]" in block]
    assert len(units) == 1, "docs/notifications.md should show one systemd unit"
    service = units[0].split("[Service]", 1)[1].split("\n[", 1)[0]
    return dict(line.split("=", 1) for line in service.splitlines()
                if "=" in line and not line.startswith("#"))


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory):
    """Settings of the worker processes: tests/cluster_settings on a SQLite
    file migrated here (not the test database: another process reads it)."""
    tmp = tmp_path_factory.mktemp("worker")
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="tests.cluster_settings", VAR_DIR=str(tmp),
               HELPDESK_TEST_DB=str(tmp / "db.sqlite3"), HELPDESK_SMTP_PORT="9",
               HELPDESK_Q_NAME=f"shutdown-{uuid.uuid4().hex[:8]}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return env


def live_members(pgid):
    """PIDs of the processes of a process group that have not exited."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, …
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            pids.append(int(entry.name))
    return pids



@pytest.fixture
def unit(worker_env, tmp_path):
    """Start the docs' unit's ExecStart in a process group of its own; yield
    (process, log path). Whatever is left at the end is killed."""
    service = unit_from_docs()
    # The unit relies on systemd's default stop: SIGTERM to every process.
    assert "KillMode" not in service and "KillSignal" not in service
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name.startswith("python") and argv[1] == "manage.py"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the docs' own ExecStart)
            [sys.executable, *argv[1:]], cwd=ROOT, env=worker_env,
            start_new_session=True, stdout=out, stderr=out)
    yield process, log
    if live_members(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def running(process, log):
    """Wait for the cluster's main, sentinel, worker, pusher and monitor."""
    assert wait_until(lambda: "running." in log.read_text() and len(live_members(process.pid)) >= 5,
                      timeout=60), log.read_text()


def stop_as_systemd_does(process):
    """SIGTERM to every process; return the seconds until all have exited."""
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    wait_until(lambda: process.poll() is not None and not live_members(process.pid), timeout=20)
    return time.monotonic() - started


def test_sigterm_to_the_process_group_stops_an_idle_worker_within_seconds(unit):
    process, log = unit
    running(process, log)
    elapsed = stop_as_systemd_does(process)
    assert not live_members(process.pid), log.read_text()
    assert elapsed < 5, log.read_text()
    assert process.returncode == 0, log.read_text()


def test_the_task_in_progress_finishes_and_is_recorded(worker_env, unit):
    """SIGTERM while a worker runs a task: the task completes, its result is
    saved and acknowledged, then every process exits."""
    process, log = unit
    running(process, log)
    enqueue = ("from django_q.tasks import async_task; "
               "async_task('time.sleep', 2, task_name='in-progress')")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", enqueue],  # noqa: S603
                   cwd=ROOT, env=worker_env, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(worker_env["HELPDESK_TEST_DB"])
    # The pusher has taken it off the broker (locked it): a worker runs it.
    assert wait_until(lambda: db.execute(
        "SELECT count(*) FROM django_q_ormq WHERE lock IS NOT NULL").fetchone()[0], 20)
    time.sleep(0.5)
    elapsed = stop_as_systemd_does(process)
    assert not live_members(process.pid), log.read_text()
    assert elapsed < 10, log.read_text()
    assert db.execute("SELECT name, success FROM django_q_task").fetchall() == [("in-progress", 1)]
    assert db.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0] == 0  # acknowledged
    db.close()
