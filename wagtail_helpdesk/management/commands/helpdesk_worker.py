"""``manage.py helpdesk_worker``: run the background worker (django-q2's
cluster) so that SIGTERM to all of its processes — systemd's default stop,
a container's — stops it cleanly, as SIGINT (Ctrl-C) does.

The cluster is :class:`wagtail_helpdesk.workers.Cluster` (why: see there);
use this command instead of ``qcluster``.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run the help desk's background worker (a django-q2 cluster): notifications, "
        "scheduled jobs. SIGTERM or SIGINT stops it once the tasks in progress finish."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-n", "--name", dest="cluster_name", default=None,
            help="Cluster (queue) name instead of the one in Q_CLUSTER, as qcluster --name.",
        )

    def handle(self, *args, cluster_name=None, **options):
        from wagtail_helpdesk.workers import Cluster

        settings.SECRET_KEY  # noqa: B018 (django-q2 signs tasks with it: fail early)
        if cluster_name:
            os.environ["Q_CLUSTER_NAME"] = cluster_name
        cluster = Cluster()
        cluster.start()
        exitcode = cluster.wait()
        if exitcode and not cluster.stop_requested:
            raise CommandError(f"The worker's cluster stopped unexpectedly (exit code {exitcode}).")
