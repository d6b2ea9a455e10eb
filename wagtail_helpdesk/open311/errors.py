"""The errors of the Open311 endpoints: an HTTP status and one or more
``(code, description)`` pairs, rendered as the spec's error list."""


class Open311Error(Exception):
    """404 unknown resource, jurisdiction or service_code; 403 missing or bad
    api_key; 400 anything else (429 too many requests)."""

    def __init__(self, status, description=None, *, code=None, errors=None, retry_after=None):
        self.status = status
        self.retry_after = retry_after  # seconds, for 429
        self.errors = list(errors or [(code or status, description)])
        super().__init__("; ".join(str(d) for _c, d in self.errors))

    def as_list(self):
        return [{"code": code, "description": str(description)}
                for code, description in self.errors]
