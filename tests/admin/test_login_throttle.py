"""The example site's admin sign-in is throttled by django-axes
(example_site/settings.py): per account and per client address, each on its
own, for a cool-off; a success forgets the account's failures."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
HOME, OFFICE, ELSEWHERE = "203.0.113.10", "198.51.100.5", "192.0.2.77"


@pytest.fixture
def office(factories):
    return factories.office(name="URP")


@pytest.fixture
def anna(factories, office):
    return factories.operator(office, username="anna")  # password "pw"


@pytest.fixture
def bruno(factories, office):
    return factories.operator(office, username="bruno")


def sign_in(username, password, address=HOME, **headers):
    """A fresh browser signing in; its answer and whether it is now signed in."""
    browser = Client()
    response = browser.post(LOGIN, {"username": username, "password": password},
                            REMOTE_ADDR=address, **headers)
    signed_in = browser.get("/admin/", REMOTE_ADDR=address).status_code == 200
    return response, signed_in


def fail(username, times, address=HOME):
    return [sign_in(username, "wrong", address)[0].status_code for _ in range(times)]


def assert_locked_out(response, signed_in):
    assert response.status_code == 429 and not signed_in
    assert 'data-element="login-locked-out"' in response.content.decode()
    assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())


def test_the_right_password_works(anna):
    response, signed_in = sign_in("anna", "pw")
    assert response.status_code == 302 and signed_in


def test_an_account_is_locked_after_the_limit_even_with_the_right_password(anna):
    # Wrong passwords are answered by the form until the limit; the last one locks.
    assert fail("anna", LIMIT) == [200] * (LIMIT - 1) + [429]
    assert_locked_out(*sign_in("anna", "pw"))


def test_an_account_is_locked_whichever_address_the_guesses_come_from(anna):
    addresses = [f"203.0.113.{n}" for n in range(20, 20 + LIMIT)]
    for address in addresses:
        fail("anna", 1, address)
    assert_locked_out(*sign_in("anna", "pw", OFFICE))


def test_an_address_is_locked_whichever_accounts_it_tries(anna, bruno):
    fail("carla", 2)
    fail("dario", LIMIT - 2)  # five failures from HOME, none on Anna's account
    assert_locked_out(*sign_in("anna", "pw"))
    # Anna elsewhere, and other addresses, are not concerned.
    response, signed_in = sign_in("anna", "pw", OFFICE)
    assert response.status_code == 302 and signed_in


def test_the_page_says_how_long_to_wait(anna):
    fail("anna", LIMIT)
    response, _signed_in = sign_in("anna", "pw", HTTP_ACCEPT_LANGUAGE="en")
    assert "Try again in 15 minutes" in response.content.decode()


def test_a_success_before_the_limit_forgets_the_accounts_failures(anna):
    fail("anna", LIMIT - 1)
    assert sign_in("anna", "pw")[1]
    assert fail("anna", LIMIT - 1) == [200] * (LIMIT - 1)
    assert sign_in("anna", "pw")[1]


def test_a_success_does_not_forget_guesses_on_a_colleagues_account(anna, bruno):
    """Axes' own reset forgets every failure of the address too: a colleague
    at the same address could then guess Bruno's password without end."""
    fail("bruno", LIMIT - 1, OFFICE)
    assert sign_in("anna", "pw", OFFICE)[1]
    fail("bruno", 1, ELSEWHERE)
    assert_locked_out(*sign_in("bruno", "pw", HOME))


def test_sign_in_works_again_after_the_cool_off(anna):
    from axes.models import AccessAttempt

    fail("anna", LIMIT)
    assert_locked_out(*sign_in("anna", "pw"))
    # Fifteen minutes and a second go by with no attempt.
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    response, signed_in = sign_in("anna", "pw")
    assert response.status_code == 302 and signed_in


def test_an_attempt_during_the_lock_starts_the_wait_again(anna):
    from axes.models import AccessAttempt

    fail("anna", LIMIT)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    fail("anna", 1)  # ten minutes in: still locked, and the wait restarts
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    assert_locked_out(*sign_in("anna", "pw"))


def test_an_administrator_unlocks_an_account_from_the_shell(anna):
    fail("anna", LIMIT)
    call_command("axes_reset_username", "anna", stdout=StringIO())
    assert sign_in("anna", "pw")[1]


def test_behind_a_proxy_the_address_comes_from_its_header(anna, settings):
    settings.WAGTAIL_HELPDESK_TRUSTED_PROXY_HEADER = "HTTP_X_REAL_IP"
    for _n in range(LIMIT):
        sign_in("nobody", "wrong", "10.0.0.2", HTTP_X_REAL_IP=HOME)
    assert_locked_out(*sign_in("anna", "pw", "10.0.0.2", HTTP_X_REAL_IP=HOME))
    assert sign_in("anna", "pw", "10.0.0.2", HTTP_X_REAL_IP=OFFICE)[1]


def test_logins_without_a_request_are_not_counted(anna, client):
    """The test client's login() calls authenticate() without a request:
    nothing to count it against, so it goes through to the next backend."""
    assert client.login(username="anna", password="pw")
    assert not Client().login(username="anna", password="wrong")
