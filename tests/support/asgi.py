"""The project's ASGI application (Django over HTTP, static files, and the
live chat's WebSockets) served by uvicorn in a thread of the test process,
like pytest-django's ``live_server`` for WSGI: it shares the test database
(PostgreSQL, or SQLite's in-memory database, shared between threads), so a
test's rows are the server's rows. Request it in a test (it brings
``transactional_db`` with serialized rollback)::

    from tests.support.asgi import asgi_live_server_fixture  # noqa: F401 (registers it)

    def test_chat(asgi_live_server, page):
        page.goto(asgi_live_server.url + "/...")
        ws_url = asgi_live_server.ws_url + "/ws/helpdesk/chat/"

The channel layer is switched to Redis (``RedisPubSubChannelLayer``) for the
test: the in-memory layer belongs to one event loop (its queues are asyncio
queues), while here the server's loop, the test's services
(``async_to_sync`` on a loop of their own) and Playwright's loop all live in
one process. Each server gets a prefix of its own, so concurrent test runs on
one Redis never hear each other.

``in_thread(fn, *args, **kwargs)`` runs ``fn`` in a fresh thread (Playwright's
sync API keeps an event loop running in the test's thread, where the chat
services' ``async_to_sync`` refuses to run) and returns its result or raises
its exception; the thread's database connections are closed at its end.

``asgi_processes(count, database_url=…, var_dir=…, prefix=…)`` starts real
uvicorn processes of the example site instead (the two-process tests on
PostgreSQL, ``bench/chat_load.py``).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parent.parent.parent


def in_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a new thread: its result, or its exception
    raised here. Meant for transactional tests (a test's rows inside its
    transaction are not visible to another thread's connection)."""
    from django.db import connections

    outcome = {}

    def run():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=f"in_thread:{getattr(fn, '__name__', fn)}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on now (for servers started in another process)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, timeout=20.0, alive=None):
    """Wait until ``host:port`` accepts connections; ``alive()`` returning
    False (a child process that died) stops the wait at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the server for port {port} ended before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout} s")


def redis_layer(prefix, url=REDIS_URL):
    return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                        "CONFIG": {"hosts": [url], "prefix": prefix}}}


def build_application():
    """What ``example_site/asgi.py`` builds, with static files served from the
    apps' folders (as pytest-django's ``live_server`` does: DEBUG is off)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from wagtail_helpdesk.conversations.asgi import application

    return application(ASGIStaticFilesHandler(get_asgi_application()))


@dataclass
class AsgiLiveServer:
    host: str
    port: int
    channel_layers: dict

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self):
        return f"ws://{self.host}:{self.port}"

    def __str__(self):
        return self.url


class _ServerThread:
    """uvicorn in a daemon thread, listening on a socket bound before it starts."""

    def __init__(self, app, host="127.0.0.1"):
        import uvicorn

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = host, self.sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", ws="websockets-sansio", log_level="warning",
                                timeout_graceful_shutdown=2, access_log=False)
        self.server = uvicorn.Server(config)
        self.error = None
        self.thread = threading.Thread(target=self._run, name=f"asgi-live-server:{self.port}",
                                       daemon=True)

    def _run(self):
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as error:  # reported by start()
            self.error = error

    def start(self, timeout=10.0):
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"the ASGI live server did not start: {self.error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("the ASGI live server did not start in time")
            time.sleep(0.01)

    def stop(self, timeout=10.0):
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():  # a socket that would not close
            self.server.force_exit = True
            self.thread.join(timeout)
        self.sock.close()


def wait_for_shared_cache_locks(monkeypatch, patience=10.0):
    """SQLite's in-memory test database is one shared cache: a connection
    (here: each server thread has its own) touching a table another one is
    writing gets "database table is locked" at once, with no busy timeout.
    Retry such statements for up to ``patience`` seconds, as a file database
    would wait for its lock (only one write transaction runs at a time, so
    the wait always ends)."""
    import sqlite3

    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    def patient(method):
        def run(self, *args, **kwargs):
            deadline = None
            while True:
                try:
                    return method(self, *args, **kwargs)
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error):
                        raise
                    deadline = deadline or time.monotonic() + patience
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.002)

        return run

    monkeypatch.setattr(SQLiteCursorWrapper, "execute", patient(SQLiteCursorWrapper.execute))
    monkeypatch.setattr(SQLiteCursorWrapper, "executemany",
                        patient(SQLiteCursorWrapper.executemany))


@pytest.fixture(name="asgi_live_server")
def asgi_live_server_fixture(django_db_serialized_rollback, transactional_db, settings,
                             monkeypatch):
    """The site and the chat's sockets on ``http://127.0.0.1:<free port>``
    (``.url``, ``.ws_url``), with a Redis channel layer of its own. The test
    is transactional with serialized rollback, as the suite's other
    transactional tests (a plain flush would leave the next one's rows in
    the way)."""
    from channels.layers import channel_layers
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        wait_for_shared_cache_locks(monkeypatch)
    settings.CHANNEL_LAYERS = redis_layer(f"helpdesk-test-{uuid.uuid4().hex[:12]}")
    channel_layers.backends.clear()
    server = _ServerThread(build_application())
    server.start()
    try:
        yield AsgiLiveServer(server.host, server.port, settings.CHANNEL_LAYERS)
    finally:
        server.stop()
        channel_layers.backends.clear()


def database_url(settings_dict):
    """A ``DATABASE_URL`` for another process, from a connection's settings
    (the test database once pytest-django has set it up)."""
    engine, name = settings_dict["ENGINE"], settings_dict["NAME"]
    if engine.endswith("sqlite3"):
        if str(name).startswith("file:") or name == ":memory:":
            raise ValueError("another process cannot open an in-memory SQLite database")
        return f"sqlite:///{name}"
    user = settings_dict.get("USER") or ""
    if settings_dict.get("PASSWORD"):
        user += ":" + settings_dict["PASSWORD"]
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{'@' if user else ''}{host}:{port}/{name}"


def _stop(process, timeout=5.0):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # uvicorn closes its sockets and exits
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def _child_env(*, database_url, var_dir, prefix, redis_url, extra_env):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "REDIS_URL", "WAGTAIL_HELPDESK_REDIS"))}
    env.update(DJANGO_SETTINGS_MODULE="example_site.settings", DEBUG="1",
               DATABASE_URL=database_url, VAR_DIR=str(var_dir),
               WAGTAIL_HELPDESK_REDIS_URL=redis_url, WAGTAIL_HELPDESK_REDIS_PREFIX=prefix,
               PYTHONPATH=str(ROOT), **(extra_env or {}))
    return env


def _spawn(host, port, env, log):
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "uvicorn", "example_site.asgi:application",
             "--host", host, "--port", str(port), "--ws", "websockets-sansio",
             "--lifespan", "off", "--log-level", "warning", "--no-access-log",
             "--timeout-graceful-shutdown", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def asgi_processes(count, *, database_url, var_dir, prefix, redis_url=REDIS_URL,
                   host="127.0.0.1", extra_env=None, timeout=60.0):
    """``count`` uvicorn processes, started side by side, each serving
    ``example_site.asgi`` (the whole site and the chat) on a free port, on the
    database ``database_url`` and the Redis pub/sub layer ``redis_url`` with
    the channel ``prefix``. Yields their base URLs (``http://host:port``)
    once all listen; ends them on exit (their output: ``var_dir/asgi-N.log``)."""
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    env = _child_env(database_url=database_url, var_dir=var_dir, prefix=prefix,
                     redis_url=redis_url, extra_env=extra_env)
    logs = [Path(var_dir) / f"asgi-{n}.log" for n in range(count)]
    ports = [free_port(host) for _ in range(count)]
    processes = []
    try:
        processes += [_spawn(host, port, env, log) for port, log in zip(ports, logs, strict=True)]
        for n, port in enumerate(ports):
            for attempt in range(3):
                try:
                    wait_for_port(host, port, timeout=timeout,
                                  alive=lambda p=processes[n]: p.poll() is None)
                    break
                except RuntimeError:  # it ended: its free port was taken meanwhile?
                    if attempt == 2:
                        raise RuntimeError(f"ASGI server {n} ended:\n"
                                           + logs[n].read_text()[-2000:]) from None
                    ports[n] = port = free_port(host)
                    processes[n] = _spawn(host, port, env, logs[n])
        yield [f"http://{host}:{port}" for port in ports]
    finally:
        for process in processes:
            _stop(process)


# Either name registers the fixture ``asgi_live_server`` in a test module or
# conftest; ``asgi_live_server_fixture`` keeps ruff's F811 quiet in modules
# whose tests take ``asgi_live_server`` as an argument.
asgi_live_server = asgi_live_server_fixture
