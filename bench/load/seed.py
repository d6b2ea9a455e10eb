"""The catalogue the load journeys need on a fresh layout database: an
office, a service (in the first service category) and a report category,
created once (idempotent). Run with the layout's environment::

    DJANGO_SETTINGS_MODULE=example_site.settings_scale DATABASE_URL=… REDIS_URL=… \\
        python -m bench.load.seed
"""


def seed():
    from wagtail_helpdesk.models import Office, ReportCategory, Service, ServiceCategory

    office, _ = Office.objects.get_or_create(slug="carico-urp", defaults={"name": "URP (carico)"})
    category = ServiceCategory.objects.order_by("pk").first() or ServiceCategory.objects.create(
        name="Relazioni con il pubblico", slug="relazioni-con-il-pubblico")
    Service.objects.get_or_create(slug="carico-certificati", defaults={
        "name": "Certificati anagrafici", "category": category, "office": office})
    ReportCategory.objects.get_or_create(slug="carico-buche", defaults={
        "name": "Buche stradali", "office": office})
    return office


if __name__ == "__main__":
    import django

    django.setup()
    seed()
    print("catalogue ready")
