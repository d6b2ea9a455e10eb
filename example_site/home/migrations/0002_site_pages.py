"""The example site's pages: a home page replacing Wagtail's welcome page, and
the two pages where the citizen forms live."""

from django.db import migrations


def create_pages(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    Locale = apps.get_model("wagtailcore", "Locale")
    HomePage = apps.get_model("home", "HomePage")
    StandardPage = apps.get_model("home", "StandardPage")

    home_type, _ = ContentType.objects.get_or_create(app_label="home", model="homepage")
    page_type, _ = ContentType.objects.get_or_create(app_label="home", model="standardpage")
    locale = Locale.objects.first()
    # Wagtail's welcome page (depth 2, path 00010001) makes room for ours.
    Page.objects.filter(depth=2, content_type__model="page").delete()
    home = HomePage.objects.create(
        title="Comune di Esempio", draft_title="Comune di Esempio", slug="home",
        content_type=home_type, path="00010001", depth=2, numchild=2, url_path="/home/",
        locale=locale, live=True,
        intro="Il sito di esempio di un Comune che usa wagtail_helpdesk.",
    )
    children = [
        ("richiedi-assistenza", "Richiedi assistenza",
         "Chiedi aiuto su un servizio del Comune: ti risponderemo via e-mail."),
        ("segnala-disservizio", "Segnala disservizio",
         "Segnala un problema sul territorio comunale: buche, illuminazione, rifiuti…"),
    ]
    for index, (slug, title, intro) in enumerate(children, start=1):
        StandardPage.objects.create(
            title=title, draft_title=title, slug=slug, content_type=page_type,
            path=f"00010001{index:04d}", depth=3, numchild=0, url_path=f"/home/{slug}/",
            locale=locale, live=True, show_in_menus=True, intro=intro,
        )
    Page.objects.filter(depth=1).update(numchild=1)
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page_id": home.pk,
                  "site_name": "Comune di Esempio"},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
