"""Helpers of the admin's browser tests."""

import re

#: The password of the factories' users.
PASSWORD = "pw"


def log_in(page, live_server, username):
    """Log ``username`` (a factories' user) into the Wagtail admin in ``page``."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    assert "/login/" not in page.url, "the login was refused"
