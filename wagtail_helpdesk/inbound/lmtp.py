"""The LMTP receiver: the municipality's own mail server (Postfix, Exim…)
hands the help desk's mail to it, as it would to a local mailbox.

It does one thing: keep each message (:func:`.store.store`, which queues its
processing) and answer. Understanding the message is the worker's job, so
a burst of mail never waits for tickets to be written.

LMTP (RFC 2033) differs from SMTP in that the server answers the end of
the data once for every accepted recipient, in order. aiosmtpd's ``LMTP``
speaks the LHLO greeting but sends a single reply (aiosmtpd issue #517):
:meth:`Receiver.handle_DATA` returns one line per recipient itself.

Recipients accepted: the address of an active LMTP :class:`Mailbox`, or its
plus-addressed form (``assistenza+anything@…``: the signed reply addresses
of notifications), or anything at all with the setting
``INBOUND_LMTP_ACCEPT_ANY``.
"""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from django.db import close_old_connections

from ..conf import get_setting
from ..models import Mailbox, MailboxProtocol
from . import store as storage

log = logging.getLogger(__name__)

#: The largest message accepted, in bytes (an attachment of 20 MB takes about 27).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Seconds the list of mailboxes is trusted before it is read again.
MAILBOX_CACHE_SECONDS = 10


def _setting(name, default):
    value = get_setting(name)
    return default if value is None else value


def base_address(address):
    """``local@domain`` of ``local+tag@domain``, lowercased."""
    address = (address or "").strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


class Receiver:
    """aiosmtpd handler: check recipients, store messages (in a thread of
    its own: the ORM is synchronous)."""

    def __init__(self, accept_any=None):
        self.accept_any = accept_any
        self.executor = None
        self._mailboxes = {}
        self._read_at = 0.0

    # Work done in the executor's thread -----------------------------------

    def _mailbox_map(self):
        now = time.monotonic()
        if now - self._read_at > MAILBOX_CACHE_SECONDS:
            close_old_connections()
            self._mailboxes = {
                box.address.lower(): box
                for box in Mailbox.objects.filter(protocol=MailboxProtocol.LMTP)}
            self._read_at = now
        return self._mailboxes

    def _find_mailbox(self, address, *, switched_off=False):
        """The active mailbox of ``address`` (or, with ``switched_off``, one
        an administrator switched off: its mail waits at the sender's server)."""
        box = self._mailbox_map().get(base_address(address))
        if box is None or box.active == switched_off:
            return None
        return box

    def _accepts_any(self):
        if self.accept_any is not None:
            return self.accept_any
        return bool(_setting("INBOUND_LMTP_ACCEPT_ANY", False))

    def _store(self, raw, mail_from, recipients):
        close_old_connections()
        try:
            mailbox = next((box for box in map(self._find_mailbox, recipients) if box), None)
            return storage.store(raw, mailbox=mailbox, envelope_from=mail_from or "",
                                 envelope_to=recipients)
        finally:
            close_old_connections()

    async def _run(self, fn, *args):
        if self.executor is None:
            # One thread writes: messages are stored in the order they came,
            # and SQLite (the demo) never sees two writers from here.
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="helpdesk-lmtp")
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # aiosmtpd hooks ------------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            known = await self._run(self._find_mailbox, address)
            accept = known is not None or await self._run(self._accepts_any)
        except Exception:
            log.exception("LMTP: could not check the recipient %s", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not accept:
            if await self._run(partial(self._find_mailbox, address, switched_off=True)):
                # Switched off for now: the sender's server keeps it and tries again.
                return f"450 4.2.1 <{address}>: mailbox switched off, try again later"
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        recipients = list(envelope.rcpt_tos)
        raw = envelope.original_content or b""
        try:
            message, created = await self._run(self._store, raw, envelope.mail_from, recipients)
        except Exception:
            log.exception("LMTP: could not store a message from %s", envelope.mail_from)
            reply = "451 4.3.0 Could not store the message, try again later"
        else:
            log.info("LMTP: message %s %s (%d bytes) for %s", message.pk,
                     "stored" if created else "already stored", len(raw), ", ".join(recipients))
            reply = f"250 2.0.0 OK {message.pk}"
        # One reply per accepted recipient (RFC 2033, 4.2).
        return "\r\n".join([reply] * max(1, len(recipients)))

    def close(self):
        if self.executor is not None:
            self.executor.submit(close_old_connections)  # the thread's own connection
            self.executor.shutdown(wait=True)
            self.executor = None


class LMTPController(Controller):
    """aiosmtpd's threaded controller, speaking LMTP."""

    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, *args, **kwargs):
        try:
            super().stop(*args, **kwargs)
        finally:
            if isinstance(self.handler, Receiver):
                self.handler.close()


def controller(host="127.0.0.1", port=8024, *, accept_any=None, max_bytes=None):
    """A receiver listening on ``host:port`` once ``.start()`` is called
    (``.stop()`` ends it)."""
    limit = max_bytes or int(_setting("INBOUND_MAX_MESSAGE_BYTES", MAX_MESSAGE_BYTES))
    return LMTPController(Receiver(accept_any=accept_any), hostname=host, port=port,
                          data_size_limit=limit, ident="wagtail-helpdesk LMTP",
                          server_hostname=host)
