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


def axe_serious(page):
    """axe-core's serious and critical violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
