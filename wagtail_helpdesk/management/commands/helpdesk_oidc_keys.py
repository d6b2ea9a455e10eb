"""Create, list, rotate and prune the SPID/CIE relying party's keys.

    manage.py helpdesk_oidc_keys generate          # the missing ones
    manage.py helpdesk_oidc_keys list
    manage.py helpdesk_oidc_keys rotate sig [--overlap-days 7]
    manage.py helpdesk_oidc_keys prune             # keys whose overlap is over

Private keys never leave the keys folder (OIDC_KEYS_DIR); ``list`` shows
roles, key ids and dates only.
"""

from django.core.management.base import BaseCommand, CommandError

from ...conf import get_setting
from ...oidc import keys


class Command(BaseCommand):
    help = "Manage the SPID/CIE relying party's keys (federation, sig, enc)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["generate", "list", "rotate", "prune"])
        parser.add_argument("role", nargs="?", choices=keys.ROLES)
        parser.add_argument("--overlap-days", type=int, default=None,
                            help="How long a rotated key stays published (default: "
                                 "WAGTAIL_HELPDESK_OIDC_KEY_OVERLAP_DAYS).")

    def handle(self, action, role=None, overlap_days=None, **options):
        if action == "generate":
            made = keys.generate()
            for entry in made:
                self.stdout.write(f"created {entry['role']} key {entry['kid']}")
            if not made:
                self.stdout.write("every key exists already")
        elif action == "list":
            for entry in keys.load():
                state = f"retired after {entry['retire_at']}" if entry["retire_at"] else "in use"
                self.stdout.write(f"{entry['role']:<10} {entry['kid']}  created "
                                  f"{entry['created']}  {state}")
            self.stdout.write(f"folder: {keys.keys_dir()}")
        elif action == "rotate":
            if role is None:
                raise CommandError("Say which key to rotate: federation, sig or enc.")
            days = overlap_days if overlap_days is not None else int(
                get_setting("OIDC_KEY_OVERLAP_DAYS"))
            entry = keys.rotate(role, days)
            if entry["active_from"]:
                self.stdout.write(f"new {role} key {entry['kid']} published now, used from "
                                  f"{entry['active_from']}; the previous one signs until then "
                                  "(afterwards: prune)")
            else:
                self.stdout.write(f"new {role} key {entry['kid']} in use; the previous one "
                                  f"stays published for {days} days (then: prune)")
        else:
            self.stdout.write(f"removed {keys.prune()} retired key(s)")
