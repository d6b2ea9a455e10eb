"""A local App IO server built from the messages API spec (see
shared/reference/app-io.md §9), on pytest-httpserver: profiles allowed, not
allowed, unknown or throttled; 401 for unknown keys; 400 for messages outside
the spec's limits; 201 with a ULID-like id; every request recorded."""

import json
import re
import secrets

import pytest
from werkzeug import Response

CF = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$")
KEY = "io-test-key"


def problem(status, title, detail=""):
    return Response(json.dumps({"type": "about:blank", "title": title, "status": status,
                                "detail": detail}), status=status,
                    content_type="application/problem+json")


class FakeIO:
    def __init__(self):
        self.allowed, self.not_allowed = set(), set()
        self.throttle = 0  # answer 429 to this many next requests
        self.fail = 0      # answer 500 to this many next requests
        self.requests = []
        self.messages = []

    def _guard(self, request):
        self.requests.append((request.path, dict(request.headers), request.get_json(silent=True)))
        if request.headers.get("Ocp-Apim-Subscription-Key") != KEY:
            return problem(401, "Unauthorized")
        if self.throttle:
            self.throttle -= 1
            return problem(429, "Too many requests")
        if self.fail:
            self.fail -= 1
            return problem(500, "Internal error")
        return None

    def profiles(self, request):
        refused = self._guard(request)
        if refused:
            return refused
        code = (request.get_json(silent=True) or {}).get("fiscal_code", "")
        if code in self.allowed or code in self.not_allowed:
            return Response(json.dumps({"sender_allowed": code in self.allowed,
                                        "preferred_languages": ["it_IT"]}),
                            content_type="application/json")
        return problem(404, "Profile not found")

    def send(self, request):
        refused = self._guard(request)
        if refused:
            return refused
        body = request.get_json(silent=True) or {}
        content = body.get("content") or {}
        if not CF.match(body.get("fiscal_code", "")):
            return problem(400, "Invalid fiscal code")
        if not 10 <= len(content.get("subject", "")) <= 120:
            return problem(400, "Invalid subject")
        if not 80 <= len(content.get("markdown", "")) <= 10000:
            return problem(400, "Invalid markdown")
        message_id = "01" + secrets.token_hex(12).upper()
        self.messages.append(body)
        return Response(json.dumps({"id": message_id}), status=201,
                        content_type="application/json",
                        headers={"Location": f"/api/v1/messages/{body['fiscal_code']}/{message_id}"})


@pytest.fixture
def fake_io(httpserver, settings):
    fake = FakeIO()
    httpserver.expect_request("/api/v1/profiles", method="POST").respond_with_handler(
        fake.profiles)
    httpserver.expect_request("/api/v1/messages", method="POST").respond_with_handler(fake.send)
    settings.WAGTAIL_HELPDESK_APP_IO_URL = httpserver.url_for("/api/v1")
    settings.WAGTAIL_HELPDESK_APP_IO_API_KEY = KEY
    return fake
