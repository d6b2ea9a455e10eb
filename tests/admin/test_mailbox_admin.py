""""Caselle di posta": administrators only; the password is write-only; the
IMAP settings are required of IMAP mailboxes only; "Test connection" says
whether logging in works (against a real Dovecot too)."""

import uuid

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.urls import reverse

from wagtail_helpdesk.models import Mailbox

pytestmark = pytest.mark.django_db

SECRET = "S3greta-Imap!"
INDEX = "/admin/helpdesk/mailboxes/"


@pytest.fixture
def mailbox(factories):
    return Mailbox.objects.create(
        name="Assistenza", address="assistenza@comune.example.it", protocol="imap",
        office=factories.office(name="URP"), host="imap.example.it", port=993,
        username="assistenza", password=SECRET, last_error="LOGIN failed")


@pytest.fixture
def admin_client(client, factories):
    client.force_login(factories.administrator())
    return client


def url(name, *args):
    return reverse(f"helpdesk_mailboxes:{name}", args=args)


def form_data(mailbox=None, **changes):
    data = {"name": "Assistenza", "address": "assistenza@comune.example.it",
            "protocol": "imap", "office": "", "active": "on", "host": "imap.example.it",
            "port": "993", "security": "ssl", "username": "assistenza", "password": "",
            "folder": "INBOX", "processed_folder": "Elaborati"}
    if mailbox is not None and mailbox.office_id:
        data["office"] = mailbox.office_id
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_operators_and_supervisors_cannot_manage_mailboxes(client, factories, mailbox, rf):
    from wagtail_helpdesk.admin.mailboxes import mailbox_viewset

    office = mailbox.office
    for user in (factories.operator(office), factories.supervisor(office)):
        client.force_login(user)
        for address in (INDEX, url("add"), url("edit", mailbox.pk), url("delete", mailbox.pk)):
            assert client.get(address).status_code in (302, 403), address
        assert client.post(url("edit", mailbox.pk), form_data(
            mailbox, host="evil.example.net")).status_code in (302, 403)
        assert client.post(url("test", mailbox.pk)).status_code in (302, 403)
        request = rf.get("/admin/")
        request.user = user
        assert not mailbox_viewset.get_menu_item().is_shown(request)
    assert Mailbox.objects.get(pk=mailbox.pk).host == "imap.example.it"


def test_administrators_and_superusers_list_the_mailboxes(client, factories, mailbox):
    for user in (factories.administrator(),
                 factories.user(group=None, is_superuser=True, is_staff=True)):
        client.force_login(user)
        response = client.get(INDEX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "assistenza@comune.example.it" in html and "LOGIN failed" in html
        assert SECRET not in html


def test_the_password_is_never_sent_back(admin_client, mailbox):
    html = admin_client.get(url("edit", mailbox.pk)).content.decode()
    assert SECRET not in html
    field = BeautifulSoup(html, "html.parser").select_one("input[name=password]")
    assert field["type"] == "password" and not field.get("value")
    assert "A password is saved: leave empty to keep it" in html
    # The IMAP settings show only while the protocol is IMAP (Wagtail's w-rules).
    page = BeautifulSoup(html, "html.parser")
    rules = page.select_one("[data-controller=w-rules]")
    assert rules["data-action"] == "change->w-rules#resolve"
    imap = rules.select_one("[data-w-rules-target=show]")
    assert imap["data-w-rules"] == '{"protocol": ["imap"]}' and imap.select_one("#id_host")
    # Neither after a refused save nor in the history.
    html = admin_client.post(url("edit", mailbox.pk), form_data(
        mailbox, password="Nuova-Password", host="")).content.decode()
    assert "Nuova-Password" not in html and SECRET not in html
    assert SECRET not in admin_client.get(url("history", mailbox.pk)).content.decode()


def test_an_empty_password_keeps_the_saved_one(admin_client, mailbox):
    response = admin_client.post(url("edit", mailbox.pk), form_data(mailbox, name="URP"))
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.password) == ("URP", SECRET)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Mailbox “URP &lt;assistenza@comune.example.it&gt;” updated.")


def test_a_new_password_replaces_it_and_the_box_removes_it(admin_client, mailbox):
    admin_client.post(url("edit", mailbox.pk), form_data(mailbox, password="Altra-Password"))
    mailbox.refresh_from_db()
    assert mailbox.password == "Altra-Password"
    response = admin_client.post(url("edit", mailbox.pk), form_data(
        mailbox, password="Terza", clear_password="on"))
    assert "Either type a new password or remove the saved one, not both." in (
        response.content.decode())
    admin_client.post(url("edit", mailbox.pk), form_data(mailbox, clear_password="on"))
    mailbox.refresh_from_db()
    assert mailbox.password == ""


def test_an_imap_mailbox_needs_its_server_and_user_an_lmtp_one_does_not(admin_client, factories):
    response = admin_client.post(url("add"), form_data(host="", username=""))
    assert response.status_code == 200
    assert response.content.decode().count("An IMAP mailbox needs this.") == 2
    office = factories.office(name="Protocollo")
    response = admin_client.post(url("add"), form_data(
        address="protocollo@comune.example.it", protocol="lmtp", office=office.pk,
        host="", username="", security="ssl"))
    assert response.status_code == 302
    created = Mailbox.objects.get(address="protocollo@comune.example.it")
    assert (created.protocol, created.office, created.password) == ("lmtp", office, "")
    # An LMTP mailbox has no "Test connection".
    html = admin_client.get(url("edit", created.pk)).content.decode()
    assert url("test", created.pk) not in html


def test_a_new_imap_mailbox_keeps_its_password(admin_client):
    response = admin_client.post(url("add"), form_data(password=SECRET))
    assert response.status_code == 302
    assert Mailbox.objects.get(address="assistenza@comune.example.it").password == SECRET


def test_test_connection_says_how_it_went(admin_client, mailbox, monkeypatch):
    answers = iter(["", "Login failed: wrong user name or password."])
    monkeypatch.setattr("wagtail_helpdesk.inbound.imap.check_connection",
                        lambda box: next(answers))
    html = admin_client.get(url("edit", mailbox.pk)).content.decode()
    button = BeautifulSoup(html, "html.parser").select_one(
        f"[data-w-action-url-value='{url('test', mailbox.pk)}']")
    assert button is not None and "Test connection" in button.get_text()
    assert admin_client.get(url("test", mailbox.pk)).status_code == 405
    response = admin_client.post(url("test", mailbox.pk), follow=True)
    assert "Connected to imap.example.it: the login and the folder “INBOX” work." in (
        response.content.decode())
    response = admin_client.post(url("test", mailbox.pk), follow=True)
    assert ("The connection to imap.example.it failed: Login failed: wrong user name or "
            "password.") in response.content.decode()


@pytest.mark.imap
def test_test_connection_against_a_real_imap_server(admin_client, dovecot):
    login, password = dovecot.user(f"box{uuid.uuid4().hex[:10]}")
    box = Mailbox.objects.create(
        name="Dovecot", address=f"{login}@comune.example.it", protocol="imap",
        host=dovecot.host, port=dovecot.port, security="none", username=login,
        password=password, folder="INBOX")
    response = admin_client.post(url("test", box.pk), follow=True)
    assert "the login and the folder “INBOX” work" in response.content.decode()
    assert password not in response.content.decode()
