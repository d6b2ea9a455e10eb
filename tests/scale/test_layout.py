"""The multi-process production layout (deploy/layout.py) end to end: gunicorn,
uvicorn, two django-q2 clusters on Redis, PostgreSQL, SeaweedFS' S3 gateway.
A citizen sends a request with an attachment through the real form journey;
the file lands in the private bucket, a worker process e-mails the citizen
the ticket's link, and the file comes back only through the
permission-checked views (the citizen's signed link, the office's operator)."""

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import uuid

import httpx
import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from bench.load.journeys import Citizen
from bench.load.seed import seed
from deploy.layout import Layout
from tests.support.asgi import REDIS_URL, ROOT, database_url
from tests.support.images import PDF_BYTES
from tests.support.polling import wait_for
from tests.support.smtp import Recorder, free_port
from wagtail_helpdesk.models import Attachment, Ticket

pytestmark = pytest.mark.postgres


@pytest.fixture
def mailbox():
    recorder = Recorder()
    recorder.port = free_port()
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture
def layout(django_db_serialized_rollback, transactional_db, tmp_path, mailbox):
    from django.db import connection

    with Layout(
        database_url=database_url(connection.settings_dict), redis_url=REDIS_URL,
        var_dir=tmp_path / "layout", web_workers=2, threads=2, qclusters=2, q_workers=1,
        smtp=("127.0.0.1", mailbox.port), migrate=False, prefix=f"t-{uuid.uuid4().hex[:10]}",
        extra_env={"HELPDESK_STATIC_STORAGE":
                   "django.contrib.staticfiles.storage.StaticFilesStorage",
                   "HELPDESK_TRUSTED_PROXY_HEADER": "HTTP_X_FORWARDED_FOR"},
    ) as running:
        yield running



def send_request_with_attachment(url):
    async def journey():
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            citizen = Citizen(client, random.Random(5), "10.1.2.3")
            result = await citizen.assistance_request(
                attachment=("modulo.pdf", PDF_BYTES, "application/pdf"))
            return citizen, result
    return asyncio.run(journey())


def operator_session(url, username):
    """Sign in to the admin through its form, as a browser behind the TLS proxy."""
    session = requests.Session()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"}
    page = session.get(f"{url}/admin/login/", headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    cookies = {c.name: c.value for c in session.cookies}
    response = session.post(f"{url}/admin/login/", data={
        "csrfmiddlewaretoken": token, "username": username, "password": "pw"},
        headers={**headers, "Referer": f"https://{url.split('//')[1]}/admin/login/"},
        cookies=cookies, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    cookies.update({c.name: c.value for c in response.cookies})
    return lambda path: requests.get(f"{url}{path}", headers=headers, cookies=cookies,
                                     allow_redirects=False, timeout=10)


def test_a_citizen_request_with_an_attachment_across_the_layout(layout, mailbox, factories):
    office = seed()
    operator = factories.user("operatrice", offices=[office])
    outsider = factories.user("estraneo", offices=[factories.office(name="Altro")])
    for user in (operator, outsider):  # a hash the layout's settings verify (PBKDF2)
        user.password = PBKDF2PasswordHasher().encode("pw", "layoutsalt123", iterations=1000)
        user.save(update_fields=["password"])

    citizen, result = send_request_with_attachment(layout.url)
    assert not result.error, result.error
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.status != "draft" and ticket.office_id == office.pk
    assert ticket.citizen.declared_fiscal_code == citizen.person["fiscal_code"]

    # The file is in the private bucket, not readable there without the identity.
    attachment = Attachment.objects.get(ticket=ticket)
    stored = layout.s3.client().get_object(Bucket=layout.s3.bucket, Key=attachment.file.name)
    assert stored["Body"].read() == PDF_BYTES
    assert requests.get(f"{layout.s3.endpoint}/{layout.s3.bucket}/{attachment.file.name}",
                        timeout=5).status_code == 403

    # A worker process (another qcluster than the web) e-mails the citizen.
    message = wait_for(lambda: next((m for m in mailbox.messages
                                     if citizen.person["email"] in (m["To"] or "")), None))
    assert message is not None, "no e-mail reached the SMTP server"
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://[^\s]+/helpdesk/pratica/([^/\s]+)/", body)
    assert link, body

    # The citizen's signed link serves the file, streamed from the bucket.
    path = reverse("wagtail_helpdesk_ticket_link_file", args=[link.group(1), attachment.pk])
    headers = {"X-Forwarded-Proto": "https"}
    response = requests.get(f"{layout.url}{path}", headers=headers, timeout=10)
    assert response.status_code == 200 and response.content == PDF_BYTES
    assert "no-store" in response.headers["Cache-Control"]
    forged = path.replace(link.group(1), link.group(1)[:-2] + "xx")
    assert requests.get(f"{layout.url}{forged}", headers=headers, timeout=10).status_code == 404

    # The office's operator downloads it from the admin; another office's cannot.
    admin_path = reverse("helpdesk_tickets:attachment", args=[ticket.pk, attachment.pk])
    response = operator_session(layout.url, operator.username)(admin_path)
    assert response.status_code == 200 and response.content == PDF_BYTES
    assert operator_session(layout.url, outsider.username)(admin_path).status_code == 404

    # Every process is still up (nothing crashed along the way).
    assert all(process.poll() is None for _name, process, _log in layout.processes)


def test_the_command_stops_every_process_on_sigint_even_started_in_the_background(
        django_db_serialized_rollback, transactional_db, tmp_path):
    """``python -m deploy.layout`` started in the background by a script
    (SIGINT ignored, as a non-interactive shell does for ``&``): SIGINT (as
    SIGTERM) still stops the layout and every process it started."""
    from django.db import connection

    var = tmp_path / "layout"
    command = [sys.executable, "-m", "deploy.layout",
               "--database-url", database_url(connection.settings_dict),
               "--redis-url", REDIS_URL, "--var", str(var), "--web-workers", "1",
               "--threads", "1", "--qclusters", "1",
               "--env", "HELPDESK_STATIC_STORAGE="
                        "django.contrib.staticfiles.storage.StaticFilesStorage"]
    errors = tmp_path / "layout.err"
    with errors.open("wb") as err:
        layout = subprocess.Popen(  # noqa: S603 (our interpreter, our module)
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    pids = {}
    try:
        ready = var / "layout.json"
        assert wait_for(lambda: ready.exists() or layout.poll() is not None, timeout=120)
        assert layout.poll() is None, errors.read_text()[-3000:]
        pids = json.loads(ready.read_text())["pids"]
        assert set(pids) == {"seaweedfs", "smtp-sink", "gunicorn", "uvicorn", "qcluster-1"}
        assert all(alive(pid) for pid in pids.values())
        layout.send_signal(signal.SIGINT)
        assert layout.wait(60) == 0
        assert wait_for(lambda: not any(alive(pid) for pid in pids.values()), timeout=30)
        assert not ready.exists()
    finally:  # what did not stop: the layout (it stops its processes), then any left
        if layout.poll() is None:
            os.killpg(layout.pid, signal.SIGTERM)
            try:
                layout.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(layout.pid, signal.SIGKILL)
                layout.wait(10)
        for pid in pids.values():  # each its own group
            try:
                if alive(pid):
                    os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but was not reaped yet is a zombie: not running.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
