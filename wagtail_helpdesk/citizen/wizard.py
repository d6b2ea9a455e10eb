"""The state of one citizen's journey through one form block, kept in the
session under ``(page id, block id)``: the current step, what each step
cleaned, the files already accepted (stored privately, waiting for the
ticket), the last refused input (so the page shows it with its errors), and
the result once sent.

Files survive back and forward: they are checked and stored when their step
is posted, listed with a "remove" box, and attached when the ticket is
created. Abandoned pending files are removed by ``helpdesk_cleanup``.
"""

import secrets
import time
import uuid

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from ..attachments import check_upload, private_storage

SESSION_KEY = "wagtail_helpdesk_wizards"
PENDING_DIR = "wagtail_helpdesk/pending"


class Wizard:
    def __init__(self, session, page_id, block_id):
        self.session = session
        self.key = f"{page_id}:{block_id}"
        stored = (session.get(SESSION_KEY) or {}).get(self.key)
        self.state = stored or self._fresh()

    @staticmethod
    def _fresh():
        return {"step": 1, "data": {}, "files": [], "raw": None, "file_errors": [], "notices": [],
                "token": secrets.token_urlsafe(24), "done": None, "draft_id": None,
                "saved": False}

    # -- reading -------------------------------------------------------------------
    @property
    def step(self):
        return self.state["step"]

    @property
    def data(self):
        return self.state["data"]

    @property
    def files(self):
        return self.state["files"]

    @property
    def done(self):
        return self.state["done"]

    @property
    def token(self):
        return self.state["token"]

    @property
    def has_errors(self):
        """Whether the current step comes back with errors (refused input,
        refused files or notices about the whole step)."""
        state = self.state
        return bool(state.get("raw") is not None or state.get("file_errors")
                    or state.get("notices"))

    @property
    def focus(self):
        """What the page focuses when it shows this journey again: the
        confirmation ("done"), the error summary ("errors") or the step ("step")."""
        if self.done:
            return "done"
        return "errors" if self.has_errors else "step"

    # -- writing (only from the submission view) ------------------------------------
    def save(self):
        wizards = dict(self.session.get(SESSION_KEY) or {})
        self.state["at"] = time.time()  # the latest journey names the page's title
        wizards[self.key] = self.state
        self.session[SESSION_KEY] = wizards
        self.session.modified = True

    def go(self, step):
        self.state["step"] = step
        self.state["raw"] = None
        self.state["file_errors"] = []
        self.state["notices"] = []
        self.state["saved"] = False

    def notice(self, message):
        """An error about the whole step (limits, a refusal of the services layer)."""
        self.state.setdefault("notices", []).append(str(message))

    def keep(self, cleaned):
        self.state["data"].update(cleaned)

    def refuse(self, raw, file_errors=()):
        """Remember refused input to show it again, with its errors."""
        self.state["raw"] = raw
        self.state["file_errors"] = list(file_errors)
        self.state["saved"] = False

    def restart(self):
        self.discard_files()
        self.state = self._fresh()

    def finish(self, result):
        """The ticket was created (and holds its own copies of the files)."""
        self.discard_files()
        self.state.update(done=result, data={}, raw=None, file_errors=[])

    # -- files -----------------------------------------------------------------------
    def add_files(self, uploads, limit):
        """Check and store ``uploads``; return the error messages of those refused.
        Files beyond ``limit`` (counting those already kept) are refused too."""
        errors = []
        storage = private_storage()
        for uploaded in uploads:
            if len(self.files) >= limit:
                errors.append(_("“%(name)s” was not added: at most %(limit)d files.")
                              % {"name": uploaded.name, "limit": limit})
                continue
            try:
                checked = check_upload(uploaded)
            except ValidationError as exc:
                errors.append(exc.messages[0])
                continue
            self._keep_file(storage, checked.content, checked.original_name,
                            checked.content_type, checked.size)
        return errors

    def _keep_file(self, storage, content, name, content_type, size):
        path = storage.save(f"{PENDING_DIR}/{uuid.uuid4().hex}", content)
        self.files.append({"id": uuid.uuid4().hex[:12], "path": path, "name": name,
                           "type": content_type, "size": size})

    def adopt(self, attachments):
        """Copy a saved draft's attachments into this journey's pending files."""
        storage = private_storage()
        for attachment in attachments:
            with attachment.file.open("rb") as handle:
                self._keep_file(storage, handle, attachment.original_name,
                                attachment.content_type, attachment.size)

    def remove_files(self, ids):
        storage = private_storage()
        kept = []
        for entry in self.files:
            if entry["id"] in ids:
                storage.delete(entry["path"])
            else:
                kept.append(entry)
        self.state["files"] = kept

    def uploads(self):
        """The kept files as uploads for the services layer. A file removed
        meanwhile (``helpdesk_cleanup`` after a long pause) is dropped, with a
        notice asking to attach it again."""
        storage = private_storage()
        result, kept = [], []
        for entry in self.files:
            try:
                with storage.open(entry["path"], "rb") as handle:
                    result.append(SimpleUploadedFile(entry["name"], handle.read(), entry["type"]))
            except FileNotFoundError:
                self.notice(_("“%(name)s” is no longer available: attach it again.")
                            % {"name": entry["name"]})
                continue
            kept.append(entry)
        self.state["files"] = kept
        return result

    def discard_files(self, delete=True):
        if delete:
            storage = private_storage()
            for entry in self.files:
                storage.delete(entry["path"])
        self.state["files"] = []


