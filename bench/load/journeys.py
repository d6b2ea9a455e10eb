"""The two citizen journeys as a browser does them, without JavaScript:
GET the page, POST each step to the block's submission URL (CSRF token from
the cookie, the honeypot left empty), follow the redirect back to the page,
until the confirmation. Each journey is a new citizen: a new session (fresh
cookies), its own client address (``X-Forwarded-For``, trusted by the
layout when the harness starts it), its own name, fiscal code and e-mail.

The client plays the browser *and* the TLS-terminating reverse proxy of a
real deployment: it sends ``X-Forwarded-Proto: https`` (the site then
requires HTTPS referers and sets ``Secure`` cookies, as in production) and
keeps the cookies itself, since plain HTTP on loopback would drop them.
"""

import asyncio
import re
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

SUBMIT_URL = re.compile(r'action="(/helpdesk/submit/\d+/[^"]+/)"')
OPTION = r'<select name="{name}"[^>]*>(.*?)</select>'
VALUE = re.compile(r'<option value="(\d+)"')
DONE = re.compile(r"data-helpdesk-done")
RECEIPT = re.compile(r"/helpdesk/receipt/(\d+)/")

REQUEST_PAGE = "/richiedi-assistenza/"
REPORT_PAGE = "/segnala-disservizio/"

GIVEN = ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Davide"]
FAMILY = ["Rossi", "Bianchi", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco"]
WORDS = ("certificato residenza carta identità rinnovo buca strada lampione spento "
         "rifiuti marciapiede semaforo parcheggio tributi scuola mensa").split()


class JourneyError(Exception):
    pass


@dataclass
class Timing:
    """What one request took, by journey and step."""

    journey: str
    step: str
    seconds: float
    status: int


@dataclass
class Result:
    journey: str
    ticket_id: int = None
    error: str = ""
    timings: list = field(default_factory=list)


def fiscal_code(rng):
    from codicefiscale import codicefiscale

    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2004)}"
    code = codicefiscale.encode(lastname=family, firstname=given, gender=rng.choice("MF"),
                                birthdate=birth, birthplace="Roma")
    return given, family, code


def text(rng, words=18):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


class Citizen:
    """One simulated citizen: an ``httpx.AsyncClient`` of its own."""

    def __init__(self, client, rng, address, think=0.0):
        """``think``: the mean seconds a citizen spends on a step before
        sending it (reading, typing; uniformly 0.5–1.5 times it); 0: none."""
        self.client, self.rng, self.think = client, rng, think
        self.headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
        self.cookies = {}
        given, family, code = fiscal_code(rng)
        n = rng.randrange(10**9)
        self.person = {"given_name": given, "family_name": family, "fiscal_code": code,
                       "email": f"{given.lower()}.{family.lower()}.{n}@example.org",
                       "phone": ""}

    async def pause(self, seconds):
        """The citizen reading and typing before sending a step."""
        await asyncio.sleep(seconds)

    async def _request(self, result, step, method, url, data=None, files=None):
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Referer"] = f"https://{self.client.base_url.netloc.decode()}{self.page}"
        started = time.perf_counter()
        response = await self.client.request(method, url, data=data, files=files,
                                             headers=headers)
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        result.timings.append(Timing(result.journey, step, time.perf_counter() - started,
                                     response.status_code))
        if response.status_code >= 400:
            raise JourneyError(f"{step}: HTTP {response.status_code}")
        return response

    async def _page(self, result, step, url):
        self.page = url
        response = await self._request(result, step, "GET", url)
        return response.text

    async def _post(self, result, step, page_url, action_url, data, files=None):
        if self.think:
            await self.pause(self.think * self.rng.uniform(0.5, 1.5))
        payload = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
                   "website": "", **data}
        response = await self._request(result, step, "POST", action_url, payload, files)
        if response.status_code not in (302, 303):
            raise JourneyError(f"{step}: expected a redirect, got {response.status_code}")
        return await self._page(result, f"{step}:page", page_url)

    @staticmethod
    def _action(html, step):
        found = SUBMIT_URL.search(html)
        if not found:
            raise JourneyError(f"{step}: no form on the page")
        return found.group(1)

    @staticmethod
    def _first_option(html, name):
        select = re.search(OPTION.format(name=name), html, re.S)
        values = VALUE.findall(select.group(1)) if select else []
        if not values:
            raise JourneyError(f"no choice for {name}: seed the catalogue (bench.load.seed)")
        return values[0]

    @staticmethod
    def _done(result, html):
        if not DONE.search(html):
            raise JourneyError("no confirmation after sending")
        receipt = RECEIPT.search(html)
        if not receipt:
            raise JourneyError("confirmation without a receipt link")
        result.ticket_id = int(receipt.group(1))

    async def assistance_request(self, attachment=None):
        """``attachment``: an optional (name, bytes, content type) sent with the details."""
        result = Result("request")
        try:
            html = await self._page(result, "page", REQUEST_PAGE)
            action = self._action(html, "page")
            html = await self._post(result, "details", REQUEST_PAGE, action, {
                "action": "next", "category": self._first_option(html, "category"),
                "service": self._first_option(html, "service"), "details": text(self.rng)},
                files={"attachments": attachment} if attachment else None)
            html = await self._post(result, "person", REQUEST_PAGE, action,
                                    {"action": "next", **self.person})
            html = await self._post(result, "submit", REQUEST_PAGE, action,
                                    {"action": "submit", "privacy": "on"})
            self._done(result, html)
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"[:200]
        return result

    async def report(self):
        result = Result("report")
        rng = self.rng
        try:
            html = await self._page(result, "page", REPORT_PAGE)
            action = self._action(html, "page")
            html = await self._post(result, "privacy", REPORT_PAGE, action,
                                    {"action": "next", "privacy": "on"})
            html = await self._post(result, "details", REPORT_PAGE, action, {
                "action": "next", "address": f"Via del Corso {rng.randint(1, 300)}",
                "latitude": f"{41.9028 + rng.uniform(-0.02, 0.02):.6f}",
                "longitude": f"{12.4964 + rng.uniform(-0.02, 0.02):.6f}",
                "category": self._first_option(html, "category"),
                "title": text(rng, 4)[:100], "details": text(rng),
                **{f"author-{k}": v for k, v in self.person.items()}})
            html = await self._post(result, "submit", REPORT_PAGE, action, {"action": "submit"})
            self._done(result, html)
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"[:200]
        return result
