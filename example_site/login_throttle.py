"""How the example site slows down password guessing on the admin's sign-in:
django-axes (settings.AXES_*), with three small adjustments of its own.

* The backend checks logins made over HTTP. ``authenticate()`` called without
  a request (the test client's ``login()``, a shell) has no client to count:
  it goes on to the next backend instead of failing.
* A successful login forgets the failures of that account only. Axes' own
  reset also deletes every failure recorded from the client's address, so
  anyone with an account of their own could wipe the count of guesses made
  on a colleague's account from the same address.
* Locked-out clients get a page (429, Retry-After) saying for how long.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.shortcuts import render


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, for the logins that come with a request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler (shared by every process of the site, reset
    with ``manage.py axes_reset_username`` / ``axes_reset_ip``)."""

    def reset_user_attempts(self, request, credentials=None):
        username = get_client_username(request, credentials)
        if not username:
            return 0
        return self.reset_attempts(username=username)


def lockout_response(request, original_response=None, credentials=None):
    """The page of a locked-out sign-in: 429, and when to try again."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    context = {"failure_limit": get_failure_limit(request, credentials),
               "minutes": math.ceil(seconds / 60) if seconds else None}
    response = render(request, "login_locked_out.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
