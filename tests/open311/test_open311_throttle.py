"""Open311 POST requests with wrong api_keys are slowed down per client
address, with the REST API's policy (throttle.BAD_KEYS_PER_WINDOW a window):
then every key from that address is refused, the right one too, in the
spec's error shape, and nothing is filed."""

from types import SimpleNamespace

import pytest

from tests.support.open311 import INSIDE, errors, make_category, new_client, url
from wagtail_helpdesk import throttle
from wagtail_helpdesk.models import Ticket

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]
LIMIT = throttle.BAD_KEYS_PER_WINDOW
ATTACKER, INTEGRATION = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, pinned at the start of a window (a test never
    straddles two windows) and moved on by hand."""
    now = SimpleNamespace(value=1_800_000_000.0 - 1_800_000_000 % throttle.BAD_KEY_WINDOW)
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: now.value))
    return now


@pytest.fixture
def category(factories):
    return make_category(factories)


def post(client, category, key, fmt="json", address=ATTACKER, **headers):
    data = {"api_key": key, "service_code": str(category.pk),
            "description": "Buca profonda in via Roma.", **INSIDE}
    return client.post(url("requests", fmt), data, REMOTE_ADDR=address, **headers)


def guess(client, category, times, fmt="json", address=ATTACKER):
    """The statuses of ``times`` POSTs with wrong keys."""
    return [post(client, category, f"o311_wrong-{n}", fmt, address).status_code
            for n in range(times)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_first_wrong_key_over_the_allowance_is_answered_429(client, category, clock, fmt):
    assert guess(client, category, LIMIT, fmt) == [403] * LIMIT
    refused = post(client, category, "o311_wrong-again", fmt)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= throttle.BAD_KEY_WINDOW + 1  # rounded up
    assert [code for code, _text in errors(refused, fmt)] == [429]
    assert Ticket.objects.count() == 0


def test_revoked_keys_count_as_wrong_ones(client, category, clock):
    _revoked, revoked_key = new_client("Vecchia app", active=False)
    assert guess(client, category, LIMIT - 1) == [403] * (LIMIT - 1)
    assert post(client, category, revoked_key).status_code == 403
    assert post(client, category, revoked_key).status_code == 429


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_right_key_is_refused_too_while_the_address_is_throttled(
        client, category, clock, fmt):
    _app, key = new_client()
    guess(client, category, LIMIT + 1)
    refused = post(client, category, key, fmt)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert [code for code, _text in errors(refused, fmt)] == [429]
    assert Ticket.objects.count() == 0
    # The next window starts afresh.
    clock.value += throttle.BAD_KEY_WINDOW
    assert post(client, category, key, fmt).status_code == 200
    assert Ticket.objects.count() == 1


def test_the_right_key_from_another_address_still_works(client, category, clock):
    _app, key = new_client()
    assert guess(client, category, LIMIT + 5)[-6:] == [403] + [429] * 5
    assert post(client, category, key, address=INTEGRATION).status_code == 200
    assert Ticket.objects.count() == 1
    # …and the integration's own wrong keys are counted apart.
    assert guess(client, category, 1, address=INTEGRATION) == [403]


def test_a_right_key_before_the_limit_works_and_is_not_counted(client, category, clock):
    _app, key = new_client()
    guess(client, category, LIMIT)
    assert post(client, category, key).status_code == 200
    assert post(client, category, "o311_wrong").status_code == 429


def test_behind_a_proxy_the_addresses_come_from_its_header(client, category, clock, settings):
    settings.WAGTAIL_HELPDESK_TRUSTED_PROXY_HEADER = "HTTP_X_REAL_IP"
    _app, key = new_client()
    for n in range(LIMIT + 1):
        post(client, category, f"o311_wrong-{n}", address="10.0.0.2", HTTP_X_REAL_IP=ATTACKER)
    assert post(client, category, key, address="10.0.0.2",
                HTTP_X_REAL_IP=ATTACKER).status_code == 429
    assert post(client, category, key, address="10.0.0.2",
                HTTP_X_REAL_IP=INTEGRATION).status_code == 200


def test_a_missing_key_is_not_a_guess(client, category, clock):
    for _n in range(LIMIT + 5):
        assert post(client, category, "").status_code == 403
    _app, key = new_client()
    assert post(client, category, key).status_code == 200
