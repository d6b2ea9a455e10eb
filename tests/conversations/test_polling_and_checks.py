"""The short-polling fallback and the transport's system checks."""

from unittest import mock

import pytest
from django.core.checks import run_checks

from wagtail_helpdesk.conversations import checks
from wagtail_helpdesk.services import conversations

URL = "/helpdesk/chat/messages/"


@pytest.mark.django_db
def test_the_citizen_polls_with_the_token_header(desk, client):
    c = desk.start()
    conversations.send(c, conversations.citizen_actor(c), "Secondo messaggio", "c-2")
    answer = client.get(URL, {"after": 1}, HTTP_X_HELPDESK_CHAT_TOKEN=c.token)
    assert answer.status_code == 200 and "no-cache" in answer["Cache-Control"]
    data = answer.json()
    assert (data["conversation"], data["last_seq"], data["state"]) == (c.pk, 2, "waiting")
    assert [(r["seq"], r["body"]) for r in data["messages"]] == [(2, "Secondo messaggio")]
    # The time as the site shows it (its time zone), not the browser's.
    from django.utils import timezone

    stored = c.messages.get(seq=2).created_at
    assert data["messages"][0]["time"] == timezone.localtime(stored).strftime("%H:%M")
    assert client.get(URL, {"after": "x"}, HTTP_X_HELPDESK_CHAT_TOKEN=c.token).status_code == 400
    assert client.get(URL, {"after": 0}).status_code == 403
    assert client.get(URL, HTTP_X_HELPDESK_CHAT_TOKEN=c.token[::-1]).status_code == 403


@pytest.mark.django_db
def test_operators_poll_only_the_conversations_they_may_see(desk, client):
    c = desk.start()
    url = f"/helpdesk/chat/{c.pk}/messages/"
    assert client.get(url).status_code == 403  # not logged in
    client.force_login(desk.stranger)
    assert client.get(url).status_code == 403
    client.force_login(desk.operator)
    rows = client.get(url, {"after": 0}).json()["messages"]
    assert [r["author"] for r in rows] == ["citizen"]
    assert client.get(f"/helpdesk/chat/{c.pk + 99}/messages/").status_code == 403


@pytest.mark.django_db
def test_polling_a_live_chat_is_for_its_operator_or_a_supervisor_who_is_recorded(
        desk, client, factories):
    from wagtail_helpdesk.models import EventKind, TicketEvent

    c = conversations.accept(desk.start(), desk.operator)
    conversations.send(c, desk.operator, "Solo tra noi", "o-1", private=True)
    url = f"/helpdesk/chat/{c.pk}/messages/"
    client.force_login(desk.colleague)  # same office, no supervisor
    assert client.get(url, {"after": 0}).status_code == 403
    boss = factories.supervisor(desk.office)
    client.force_login(boss)
    rows = client.get(url, {"after": 0}).json()["messages"]
    assert "Solo tra noi" in [r["body"] for r in rows]
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED,
                                      actor=boss).exists()


@pytest.mark.django_db
def test_a_citizen_polling_too_fast_is_slowed_down_and_told(desk, client):
    from wagtail_helpdesk.conversations.views import POLLS_PER_MINUTE

    c = desk.start()
    with mock.patch("wagtail_helpdesk.throttle.time.time", return_value=1_800_000_030.0):
        for _n in range(POLLS_PER_MINUTE):  # all within one minute
            assert client.get(URL, {"after": 0}, HTTP_X_HELPDESK_CHAT_TOKEN=c.token
                              ).status_code == 200
        refused = client.get(URL, {"after": 0}, HTTP_X_HELPDESK_CHAT_TOKEN=c.token)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()["error"]


def ids():
    return [m.id for m in (*checks.check_chat_transport(None),
                           *checks.check_chat_layer_shared(None))]


def test_the_in_memory_layer_is_fine_in_debug_only(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": checks.IN_MEMORY}}
    settings.DEBUG = True
    assert ids() == []
    settings.DEBUG = False
    assert ids() == ["wagtail_helpdesk.W031"]
    deploy = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "wagtail_helpdesk.W031" in deploy
    assert "wagtail_helpdesk.W031" not in {m.id for m in run_checks()}
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"]}}}
    assert ids() == []


def test_a_missing_layer_or_a_missing_redis_package_is_reported(settings):
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {}
    assert ids() == ["wagtail_helpdesk.W030"]
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"}}
    assert ids() == []
    real = checks.importlib.util.find_spec

    def without_redis(name, *args):
        return None if name == "channels_redis" else real(name, *args)

    with mock.patch.object(checks.importlib.util, "find_spec", side_effect=without_redis):
        (error,) = [*checks.check_chat_transport(None)]
        assert error.id == "wagtail_helpdesk.E030" and "[redis]" in error.hint
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": checks.IN_MEMORY}}
        assert ids() == ["wagtail_helpdesk.W031"]  # Channels itself is always there
        settings.WAGTAIL_HELPDESK_CHAT_ENABLED = False
        assert ids() == []
