"""The example site: pages exist and render, settings come from the environment."""

import pytest
from wagtail.models import Page, Site


@pytest.mark.django_db
def test_home_and_form_pages_render(client):
    site = Site.objects.get(is_default_site=True)
    assert site.root_page.specific_class.__name__ == "HomePage"
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert 'data-element="report-inefficiency"' in html
    assert 'href="/segnala-disservizio/"' in html
    for path, title in (("/richiedi-assistenza/", "Richiedi assistenza"),
                        ("/segnala-disservizio/", "Segnala disservizio")):
        response = client.get(path)
        assert response.status_code == 200
        assert f"<h1>{title}</h1>" in response.content.decode()
    assert Page.objects.filter(depth=2).count() == 1


@pytest.mark.django_db
def test_admin_login_page(client):
    assert client.get("/admin/login/").status_code == 200


def test_database_url_selects_the_database(monkeypatch):
    import importlib

    import example_site.settings as site_settings

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    try:
        reloaded = importlib.reload(site_settings)
        assert reloaded.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
        assert reloaded.DATABASES["default"]["NAME"] == "helpdesk"
        assert reloaded.Q_CLUSTER["redis"] == "redis://127.0.0.1:6379/3"
        assert reloaded.CACHES["default"]["BACKEND"].endswith("RedisCache")
    finally:
        monkeypatch.delenv("DATABASE_URL")
        monkeypatch.delenv("REDIS_URL")
        reloaded = importlib.reload(site_settings)
    assert reloaded.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert "orm" in reloaded.Q_CLUSTER


def test_production_needs_a_secret_key(monkeypatch):
    import importlib

    import example_site.settings as site_settings

    monkeypatch.setenv("DEBUG", "0")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            importlib.reload(site_settings)
    finally:
        monkeypatch.setenv("DEBUG", "1")
        importlib.reload(site_settings)


@pytest.mark.django_db
def test_public_pages_speak_italian(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert '<html lang="it">' in html
    assert "Segnala disservizio" in html and "Report a problem" not in html
    assert "Vai al contenuto" in html


def test_the_demo_spid_providers_are_read_only_with_debug_on(monkeypatch, tmp_path):
    """`make demo` points HELPDESK_DEMO_SPID at the reference test providers'
    settings (scripts/demo_spid.py); a site with DEBUG off refuses them."""
    import importlib
    import json

    from django.core.exceptions import ImproperlyConfigured

    import example_site.settings as site_settings

    demo = tmp_path / "settings.json"
    demo.write_text(json.dumps({
        "OIDC_CLIENT_ID": "http://127.0.0.1:8000/oidc/rp/",
        "OIDC_TRUST_ANCHOR": {"entity_id": "http://127.0.0.1:8001/", "jwks": {"keys": []}},
        "OIDC_TRUST_MARKS": [], "citizens": {},
        "OIDC_PROVIDERS": [{"entity_id": "http://127.0.0.1:8001/oidc/op/", "name": "SPID",
                            "profile": "spid"}]}))
    monkeypatch.setenv("HELPDESK_DEMO_SPID", str(demo))
    try:
        reloaded = importlib.reload(site_settings)
        assert reloaded.WAGTAIL_HELPDESK_OIDC_CLIENT_ID == "http://127.0.0.1:8000/oidc/rp/"
        assert reloaded.WAGTAIL_HELPDESK_OIDC_PROVIDERS[0]["profile"] == "spid"
        monkeypatch.setenv("DEBUG", "0")
        monkeypatch.setenv("SECRET_KEY", "x" * 50)
        with pytest.raises(ImproperlyConfigured, match="DEBUG"):
            importlib.reload(site_settings)
    finally:
        monkeypatch.delenv("HELPDESK_DEMO_SPID")
        monkeypatch.delenv("DEBUG")
        for name in list(vars(site_settings)):  # reload() keeps the module's old names
            if name.startswith(("WAGTAIL_HELPDESK_OIDC_", "_demo_spid")):
                delattr(site_settings, name)
        reloaded = importlib.reload(site_settings)
    assert not hasattr(reloaded, "WAGTAIL_HELPDESK_OIDC_CLIENT_ID")
