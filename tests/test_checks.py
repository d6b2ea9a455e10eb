from django.core import checks


def ids(**kwargs):
    return {m.id for m in checks.run_checks(**kwargs) if m.id.startswith("wagtail_helpdesk")}


def test_default_configuration_is_clean():
    assert ids() == set()


def test_private_files_under_media_root_are_flagged(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    assert "wagtail_helpdesk.W001" in ids()
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = str(tmp_path)
    assert "wagtail_helpdesk.W001" in ids()


def test_missing_apps_are_reported():
    from unittest import mock

    from wagtail_helpdesk import checks as helpdesk_checks

    missing = {"django_q", "wagtail.contrib.settings"}
    with mock.patch.object(helpdesk_checks.apps, "is_installed", lambda name: name not in missing):
        found = {m.id for m in helpdesk_checks.check_required_apps(None)}
    assert found == {"wagtail_helpdesk.W002", "wagtail_helpdesk.E001"}
