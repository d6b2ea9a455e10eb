"""``manage.py helpdesk_lmtp``: receive the help desk's mail by LMTP from the
municipality's own mail server, until SIGTERM or SIGINT.

Storing is all it does (processing is the worker's): one process serves any
number of messages, unlike a program started by the mail server for each.
"""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Receive the help desk's e-mail by LMTP (from the municipality's mail server) and "
        "keep each message for the worker to process. Runs until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1",
                            help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8024,
                            help="Port to listen on (default 8024).")

    def handle(self, *args, host="127.0.0.1", port=8024, **options):
        from wagtail_helpdesk.inbound.lmtp import controller

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        receiver = controller(host, port)
        try:
            receiver.start()
        except Exception as error:
            raise CommandError(f"Cannot receive mail by LMTP on {host}:{port}: {error}") from error
        self.stdout.write(f"Receiving e-mail by LMTP on {host}:{port}.")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            receiver.stop()
        self.stdout.write("LMTP receiver stopped.")
