"""A fake OpenAI-compatible server (``POST /v1/chat/completions``) on loopback,
built on pytest-httpserver: it answers what the test tells it and keeps every
request it received, so tests can check what left the help desk."""

import json
import time

from werkzeug import Response


class FakeOpenAI:
    def __init__(self, httpserver):
        self.server = httpserver
        self.requests = []  # the JSON bodies received
        self.answer = lambda prompt: prompt  # echo by default
        self.status = 200
        self.delay = 0.0
        self.raw = None  # a raw body to send instead of a proper answer
        httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(
            self._handle)

    @property
    def url(self):
        return self.server.url_for("/v1")

    def _handle(self, request):
        body = json.loads(request.get_data(as_text=True))
        self.requests.append({"json": body, "headers": dict(request.headers)})
        if self.delay:
            time.sleep(self.delay)
        if self.status != 200:
            return Response("boom", status=self.status)
        if self.raw is not None:
            return Response(self.raw, status=200, content_type="application/json")
        prompt = body["messages"][-1]["content"]
        return Response(json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.answer(prompt)}}],
        }), status=200, content_type="application/json")

    def sent_texts(self):
        """Everything the help desk sent, as one string."""
        return "\n".join(m["content"] for r in self.requests for m in r["json"]["messages"])


def configure(fake, **overrides):
    """Switch the language model on, pointing at ``fake``."""
    from tests.support import factories
    from wagtail_helpdesk.models import AssistSettings

    settings = AssistSettings.for_site(factories.default_site())
    settings.generative_enabled = True
    settings.generative_url = fake.url
    settings.generative_model = "fake-model"
    settings.generative_timeout = 2
    for key, value in overrides.items():
        setattr(settings, key, value)
    settings.save()
    return settings
