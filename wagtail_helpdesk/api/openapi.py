"""The OpenAPI document, completed with what ninja cannot know: every
operation's error answers (problem details, see ``problems.py``)."""

PROBLEM = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 7807 problem details.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string", "enum": ["unreadable", "unauthenticated", "forbidden",
                                            "not_found", "method_not_allowed", "not_now", "stale",
                                            "invalid",
                                            "too_many_requests"],
                 "description": "not_now: not possible in the ticket's state; stale: "
                                "the ticket changed since expected_version."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, in the caller's "
                                                    "language."},
        "errors": {"type": "array", "description": "The fields to fix.", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
ERRORS = {
    "400": "The request body cannot be read (not JSON, or not multipart/form-data for "
           "files).",
    "401": "No valid API token.",
    "403": "The token's user may not do this.",
    "404": "Not found, or not the caller's to see.",
    "409": "Not possible in the ticket's current state, or the ticket changed since "
           "expected_version.",
    "422": "Invalid input: errors names the fields.",
    "429": "Too many calls with this token: wait Retry-After seconds.",
}


def _answers(method, path, operation):
    codes = ["401", "403", "422", "429"]
    if "requestBody" in operation:
        codes.append("400")
    if "{ticket_id}" in path:
        codes.append("404")
    if method == "post" and "{ticket_id}" in path:
        codes.append("409")
    return codes


def with_problems(schema):
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _answers(method, path, operation):
                responses.setdefault(code, {
                    "description": ERRORS[code],
                    "content": {"application/problem+json": {"schema": reference}}})
    return schema
