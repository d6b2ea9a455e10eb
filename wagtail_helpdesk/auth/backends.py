"""Django's ``ModelBackend``, two queries fewer on every signed-in request.

Every admin page reads the signed-in user (one query), Wagtail's profile of
that user (its language, time zone and theme: one more) and the user's
permissions (two: their own and their groups'). :class:`ModelBackend` reads
the user with the profile joined in, and both sets of permissions in one
query (``UNION ALL``). What it answers is Django's ``ModelBackend``'s, cached
on the user object for the request just as Django caches it (nothing is kept
between requests: a changed permission or group counts at once)::

    AUTHENTICATION_BACKENDS = [..., "wagtail_helpdesk.auth.backends.ModelBackend"]

in place of ``django.contrib.auth.backends.ModelBackend`` (the sessions signed
in with Django's backend are then signed out once: they name it).
"""

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist
from django.db.models import IntegerField, Value

#: Wagtail's user profile (``wagtail.users``), joined in when installed.
PROFILE = "wagtail_userprofile"

_USER, _GROUP = 0, 1


def _profile_joinable(user_model):
    try:
        field = user_model._meta.get_field(PROFILE)
    except FieldDoesNotExist:
        return False
    return field.one_to_one and field.auto_created


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        users = user_model._default_manager
        if _profile_joinable(user_model):
            users = users.select_related(PROFILE)
        try:
            user = users.get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def _get_permissions(self, user_obj, obj, from_name):
        if (user_obj.is_active and not user_obj.is_anonymous and obj is None
                and not hasattr(user_obj, f"_{from_name}_perm_cache")):
            self._read_permissions(user_obj)
        return super()._get_permissions(user_obj, obj, from_name)

    def _read_permissions(self, user_obj):
        """Fill Django's two caches on ``user_obj`` (its own permissions,
        its groups') in one query."""
        if user_obj.is_superuser:
            rows = Permission.objects.values_list("content_type__app_label", "codename")
            every = {f"{app}.{codename}" for app, codename in rows.order_by()}
            user_obj._user_perm_cache, user_obj._group_perm_cache = every, set(every)
            return
        found = {_USER: set(), _GROUP: set()}
        for source, app, codename in self._union(user_obj):
            found[source].add(f"{app}.{codename}")
        user_obj._user_perm_cache, user_obj._group_perm_cache = found[_USER], found[_GROUP]

    def _union(self, user_obj):
        def tagged(permissions, source):
            return (permissions.order_by()
                    .annotate(_source=Value(source, output_field=IntegerField()))
                    .values_list("_source", "content_type__app_label", "codename"))

        return tagged(self._get_user_permissions(user_obj), _USER).union(
            tagged(self._get_group_permissions(user_obj), _GROUP), all=True)
