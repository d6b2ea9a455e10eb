"""Helpers of the REST API tests: tokens, authenticated calls, and the check
that every answer matches the published OpenAPI document."""

import json
import re

import pytest
from jsonschema import Draft202012Validator
from wagtail.models import APIToken

BASE = "/api/helpdesk/v1"


def token_for(user, name="test"):
    return APIToken.create_token(user=user, name=name)[1]


_document = {}


def openapi_document():
    """The published OpenAPI document (read once per test process)."""
    if not _document:
        from wagtail_helpdesk.api import api

        _document.update(json.loads(json.dumps(api.get_openapi_schema())))
    return _document


def _operation(method, path):
    for template, operations in openapi_document()["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return operations[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def conforms(method, path, response):
    """``response`` is one the document declares for this operation: its status,
    its content type, and (JSON) a body valid against the declared schema."""
    operation = _operation(method, path)
    declared = operation["responses"].get(str(response.status_code))
    assert declared, (f"{method} {path}: HTTP {response.status_code} is not documented "
                      f"({sorted(operation['responses'])})")
    content_type = response["Content-Type"].split(";")[0]
    content = declared.get("content", {})
    if "application/octet-stream" in content or not content:
        return  # a file download
    assert content_type in content, (method, path, content_type, list(content))
    schema = {**content[content_type]["schema"], "components": openapi_document()["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.json()), key=str)
    assert not errors, f"{method} {path}: the answer does not match the schema: {errors[0]}"


class Caller:
    """A Django test client that sends a bearer token and checks every answer
    against the OpenAPI document."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _headers(self, extra):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}

    def _checked(self, method, path, response):
        conforms(method, BASE + path.split("?")[0], response)
        return response

    def get(self, path, params=None, **extra):
        return self._checked("GET", path, self.client.get(BASE + path, params or {},
                                                          **self._headers(extra)))

    def post(self, path, data=None, **extra):
        return self._checked("POST", path, self.client.post(
            BASE + path, json.dumps(data or {}), content_type="application/json",
            **self._headers(extra)))

    def upload(self, path, data, **extra):
        return self._checked("POST", path, self.client.post(BASE + path, data,
                                                            **self._headers(extra)))


@pytest.fixture
def caller(client):
    def make(user):
        return Caller(client, token_for(user))
    return make
