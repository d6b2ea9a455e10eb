"""What `make demo` prints: the demo command as the Makefile runs it (read
with `make -n`), its progress, the port it was given, the logins once."""

import io
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGINS = ("operatore", "responsabile", "admin")


def makefile_demo_command(port):
    """The arguments `make demo PORT=…` gives helpdesk_demo (a dry run)."""
    dry = subprocess.run(["make", "-n", "demo", f"PORT={port}"],  # noqa: S603,S607 (a dry run)
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    lines = [line for line in dry.splitlines() if "manage.py helpdesk_demo" in line]
    assert len(lines) == 1, dry
    argv = shlex.split(lines[0])
    return argv[argv.index("helpdesk_demo") + 1:]


def run_demo(*args, verbosity=1):
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("helpdesk_demo", *args, verbosity=verbosity, stdout=out)
    return out.getvalue()


def listed(text, username):
    """Lines that list ``username`` as a login (indented, then spaces)."""
    return [line for line in text.splitlines() if re.match(rf"\s+{username}\s\s", line)]


def test_the_open311_example_uses_the_port_make_demo_was_given():
    out = run_demo(*makefile_demo_command(8100), "--tickets", "0")
    assert "curl -d api_key=o311_demo" in out
    assert "http://127.0.0.1:8100/open311/v2/requests.json" in out
    assert ":8000" not in out


def test_without_a_base_url_the_example_uses_the_sites_base_url():
    with override_settings(WAGTAILADMIN_BASE_URL="http://demo.example.it:8123/"):
        out = run_demo("--tickets", "0")
    assert "http://demo.example.it:8123/open311/v2/requests.json" in out


def test_make_demo_lists_each_login_once():
    """The demo command as `make demo` runs it, then run-demo.sh's page."""
    out = run_demo(*makefile_demo_command(8100), "--tickets", "0")
    page = (ROOT / "scripts" / "run-demo.sh").read_text()
    for username in LOGINS:
        assert len(listed(out, username)) + len(listed(page, username)) == 1, username


def test_run_on_its_own_the_command_lists_the_logins_once_in_english():
    out = run_demo("--tickets", "0")
    assert 'Logins (password "demo"):' in out
    for username in LOGINS:
        assert len(listed(out, username)) == 1, username
    assert listed(out, "operatore")[0].split(None, 1)[1].startswith("operator (")
    assert "superuser" in listed(out, "admin")[0]
    assert "operatrice" not in out and "amministratrice" not in out


def test_progress_is_shown_per_step_and_per_tenth_of_the_tickets():
    out = run_demo("--tickets", "20")
    lines = out.splitlines()
    assert "  Offices, services, report categories, accounts and settings…" in lines
    assert "  Demo citizens…" in lines
    tickets = [line for line in lines if "Tickets and their history" in line]
    assert tickets[0] == "  Tickets and their history: 2/20 (10%)"
    assert tickets[-1] == "  Tickets and their history: 20/20 (100%), saving…"
    assert len(tickets) == 10
    assert lines.index("  Demo citizens…") < lines.index(tickets[0])


def test_no_progress_at_verbosity_zero():
    out = run_demo("--tickets", "20", verbosity=0)
    assert "Tickets and their history" not in out and "Demo citizens" not in out
    assert "Created 20 demo tickets" in out  # the report itself stays
