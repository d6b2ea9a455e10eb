"""The multi-process production layout on one machine (docs/scale.md):

* gunicorn (``--web-workers`` processes × ``--threads`` threads) serving the
  site (WSGI: pages, citizen forms, admin, API),
* uvicorn serving the ASGI application for the live chat (WebSockets; a
  reverse proxy routes ``/ws/`` and ``/helpdesk/chat/`` to it),
* ``--qclusters`` django-q2 clusters (``manage.py helpdesk_worker``) on the
  Redis broker,
* PostgreSQL (``DATABASE_URL``, migrated here) and Redis (``REDIS_URL``:
  broker, cache, sessions, channel layer) that already run,
* SeaweedFS' S3 gateway on loopback holding the private attachments
  (django-storages),
* an SMTP server: the one given (``--smtp HOST:PORT``) or aiosmtpd's sink.

Run it (Ctrl-C stops everything)::

    python -m deploy.layout --database-url postgres://postgres@127.0.0.1:5432/hf \\
        --redis-url redis://127.0.0.1:6379/0 --web-workers 4 --threads 4

It writes ``<var>/layout.json`` (addresses) once every process answers; the
load harness (``python -m bench.load``) reads it. :class:`Layout` is the same
thing as a context manager, for the tests.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .seaweedfs import SeaweedFS, free_port

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "example_site.settings_scale"


def wait_for_port(port, process, timeout, name, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} ended:\n" + _tail(log))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} in {timeout:.0f} s:\n" + _tail(log))


def _tail(path, size=3000):
    path = Path(path)
    return path.read_text(errors="replace")[-size:] if path.exists() else ""


class Layout:
    """Every process of the layout, started in order, stopped in reverse."""

    def __init__(self, *, database_url, redis_url, var_dir, web_workers=2, threads=4,
                 qclusters=2, q_workers=1, smtp=None, migrate=True, collectstatic=False,
                 extra_env=None, prefix=None):
        self.var_dir = Path(var_dir).resolve()
        self.database_url, self.redis_url = database_url, redis_url
        self.web_workers, self.threads = web_workers, threads
        self.qclusters, self.q_workers = qclusters, q_workers
        self.smtp, self.migrate, self.collectstatic = smtp, migrate, collectstatic
        self.extra_env = extra_env or {}
        self.prefix = prefix or f"layout-{secrets.token_hex(4)}"
        self.processes = []  # (name, Popen, log)
        self.s3 = None
        self.web_port = self.chat_port = None

    # -- the environment every Django process shares ------------------------------------
    def environ(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DJANGO_", "WAGTAIL_HELPDESK_REDIS", "HELPDESK_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=SETTINGS, PYTHONPATH=str(ROOT), DEBUG="0",
            SECRET_KEY=self.secret_key, ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
            HELPDESK_REDIS_PREFIX=self.prefix, HELPDESK_Q_WORKERS=str(self.q_workers),
            VAR_DIR=str(self.var_dir), EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=self.smtp[0], EMAIL_PORT=str(self.smtp[1]),
            WAGTAILADMIN_BASE_URL=self.url, HELPDESK_GEOCODER_URL="",
        )
        env.update(self.s3.environ())
        env.update(self.extra_env)
        return env

    @property
    def url(self):
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def chat_url(self):
        return f"http://127.0.0.1:{self.chat_port}"

    # -- starting -----------------------------------------------------------------------
    def _spawn(self, name, argv, env):
        log = self.var_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(  # noqa: S603 (our interpreter, our modules)
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.processes.append((name, process, log))
        return process, log

    def _manage(self, env, *args):
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, check=False)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def start(self, timeout=90.0):
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.secret_key = secrets.token_urlsafe(40)
        self.web_port, self.chat_port = free_port(), free_port()
        try:
            self.s3 = SeaweedFS(self.var_dir / "seaweedfs").start(timeout)
            if self.smtp is None:
                port = free_port()
                process, log = self._spawn("smtp-sink", [
                    sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                    "-c", "aiosmtpd.handlers.Sink"], dict(os.environ))
                wait_for_port(port, process, timeout, "the SMTP sink", log)
                self.smtp = ("127.0.0.1", port)
            env = self.environ()
            if self.migrate:
                self._manage(env, "migrate", "--noinput")
            if self.collectstatic:
                self._manage(env, "collectstatic", "--noinput", "-v0")
            web, web_log = self._spawn("gunicorn", [
                sys.executable, "-m", "gunicorn", "example_site.wsgi:application",
                "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(self.web_workers),
                "--threads", str(self.threads)], env)
            chat, chat_log = self._spawn("uvicorn", [
                sys.executable, "-m", "uvicorn", "example_site.asgi:application",
                "--host", "127.0.0.1", "--port", str(self.chat_port),
                "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log",
                "--log-level", "warning", "--timeout-graceful-shutdown", "3"], env)
            for n in range(self.qclusters):
                self._spawn(f"qcluster-{n + 1}",
                            [sys.executable, "manage.py", "helpdesk_worker"], env)
            wait_for_port(self.web_port, web, timeout, "gunicorn", web_log)
            wait_for_port(self.chat_port, chat, timeout, "uvicorn", chat_log)
            self._check_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def _check_workers(self):
        time.sleep(0.5)
        for name, process, log in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} ended:\n" + _tail(log))

    def describe(self):
        return {"url": self.url, "chat_url": self.chat_url, "database_url": self.database_url,
                "redis_url": self.redis_url, "prefix": self.prefix,
                "s3": self.s3.endpoint if self.s3 is not None else None,
                "smtp": f"{self.smtp[0]}:{self.smtp[1]}", "web_workers": self.web_workers,
                "threads": self.threads, "qclusters": self.qclusters,
                "pids": {**({"seaweedfs": self.s3.process.pid}
                            if self.s3 is not None and self.s3.process is not None else {}),
                         **{name: p.pid for name, p, _log in self.processes}}}

    # -- stopping -----------------------------------------------------------------------
    def stop(self, timeout=15.0):
        for _name, process, _log in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, _log in reversed(self.processes):
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        self.processes = []
        if self.s3 is not None:
            self.s3.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL")
                        or "redis://127.0.0.1:6379/0")
    parser.add_argument("--var", default=str(ROOT / "var" / "layout"))
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--qclusters", type=int, default=2)
    parser.add_argument("--q-workers", type=int, default=1, help="processes per qcluster")
    parser.add_argument("--smtp", help="HOST:PORT of the SMTP server (default: aiosmtpd's sink)")
    parser.add_argument("--collectstatic", action="store_true")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for every process")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required: a PostgreSQL database")
    smtp = None
    if args.smtp:
        host, port = args.smtp.rsplit(":", 1)
        smtp = (host, int(port))
    layout = Layout(database_url=args.database_url, redis_url=args.redis_url, var_dir=args.var,
                    web_workers=args.web_workers, threads=args.threads,
                    qclusters=args.qclusters, q_workers=args.q_workers, smtp=smtp,
                    collectstatic=args.collectstatic,
                    extra_env=dict(item.split("=", 1) for item in args.env))
    # SIGINT too, explicitly: a layout started in the background by a script
    # inherits SIGINT ignored, and Python then raises no KeyboardInterrupt
    # for it — Ctrl-C or ``kill -INT`` would leave every process running.
    # SIGHUP unless ignored (``nohup``: the layout outlives the terminal).
    numbers = [signal.SIGTERM, signal.SIGINT]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        numbers.append(signal.SIGHUP)

    def interrupt(*_args):
        for number in numbers:  # a second signal must not cut the stopping short
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    for number in numbers:
        signal.signal(number, interrupt)
    ready = Path(args.var) / "layout.json"
    with layout:
        try:
            described = json.dumps(layout.describe(), indent=2)
            partial = ready.with_suffix(".json.part")
            partial.write_text(described)
            os.replace(partial, ready)  # whoever waits for it reads it whole
            print(described, flush=True)
            print("Layout running; Ctrl-C stops it.", flush=True)
            while all(p.poll() is None for _n, p, _l in layout.processes):
                time.sleep(1)
            print("A process ended: stopping the layout.", file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            ready.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
