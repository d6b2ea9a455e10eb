"""The citizens' pages' assets: Bootstrap Italia's web fonts load from the
site's own static files (AgID C.SI.1.1: Titillium Web, no CDN); the example
site serves its static files compressed, under hashed names, cacheable for a
year; it has a favicon."""

import re
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

import example_site.settings as site_settings

YEAR = 365 * 24 * 3600


# --- fonts, in Chromium ---------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_the_titillium_web_font_is_loaded_from_our_own_static_files(browser, live_server):
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/segnala-disservizio/", wait_until="load")
    page.evaluate("document.fonts.ready")
    fonts = [url for url in requested if re.search(r"\.(woff2?|ttf|otf|eot)(\?|$)", url)]
    assert any("/Titillium_Web/" in url and url.endswith(".woff2") for url in fonts), requested
    origin = urlparse(live_server.url).netloc
    assert all(urlparse(url).netloc == origin for url in requested), "no third-party request"
    # check() is also true when no face is declared at all: ask for a loaded face too.
    assert page.evaluate("""() => document.fonts.check('16px "Titillium Web"') &&
        [...document.fonts].some(f => f.family.replace(/"/g, '') === 'Titillium Web'
                                      && f.status === 'loaded')""")
    body = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert body.startswith('"Titillium Web"'), body
    context.close()


# --- compressed, cacheable static files (the example site's settings) ------------------


def _example_site_static(root):
    """The example site's static files storage and middleware, DEBUG off (the
    two apps the citizens' pages draw from, to keep `collectstatic` quick)."""
    return override_settings(
        DEBUG=False, STATIC_ROOT=str(root),
        STORAGES=site_settings.STORAGES, MIDDLEWARE=site_settings.MIDDLEWARE,
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        STATICFILES_DIRS=[str(settings.BASE_DIR / "wagtail_helpdesk" / "static"),
                          str(settings.BASE_DIR / "example_site" / "home" / "static")],
    )


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    with _example_site_static(root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected(static_root, db):
    """A client of the example site serving what `collectstatic` wrote."""
    with _example_site_static(static_root):
        yield Client()


def _assets(html):
    return re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', html)


def _long_lived(response):
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])
    return max_age >= YEAR and "immutable" in response["Cache-Control"]


def test_css_and_js_are_served_compressed_and_cacheable_for_a_year(collected):
    html = collected.get("/segnala-disservizio/").content.decode()
    assets = [url for url in _assets(html) if url.endswith((".css", ".js"))]
    assert any("bootstrap-italia.min." in url and url.endswith(".css") for url in assets)
    assert any("bootstrap-italia.bundle.min." in url for url in assets)
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), f"{url}: not a hashed name"
        response = collected.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response.status_code == 200, url
        assert response["Content-Encoding"] in ("br", "gzip"), url
        assert _long_lived(response), (url, response["Cache-Control"])
    plain = collected.get(assets[0])
    assert plain.status_code == 200 and "Content-Encoding" not in plain


def test_the_font_files_have_hashed_cacheable_names(collected):
    html = collected.get("/segnala-disservizio/").content.decode()
    stylesheet = next(url for url in _assets(html) if "/fonts." in url)
    css = b"".join(collected.get(stylesheet).streaming_content).decode()
    font = re.search(r'url\("([^"]*Titillium_Web/[^"]*regular\.[0-9a-f]{12}\.woff2)"\)', css)
    assert font, "the fonts' URLs are rewritten to hashed names"
    path = stylesheet.rsplit("/", 1)[0] + "/" + font[1]
    response = collected.get(path.replace("/citizen/../", "/"))
    assert response.status_code == 200 and _long_lived(response)


def test_the_example_site_has_a_favicon(collected):
    html = collected.get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert icon
    response = collected.get(icon[1])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
