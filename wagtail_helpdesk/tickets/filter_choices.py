"""The choices of the ticket list's filters (offices, services, problem types,
assignees, labels), read once and kept in the cache.

Five queries a page for menus nobody opens most of the time: the list reads
them once per user and keeps them in the cache (``TTL`` seconds at most), under
a version that every change to offices, services, problem types, labels,
memberships, users, groups and permissions (a user's or a group's: who sees
every office, who can be assigned) bumps — once the change is committed, so
that no request caches what it read before the commit under the new version.
Saves that touch only fields the menus never show (a login's
``last_login``, auto-assignment's ``last_auto_assigned_at``…) bump nothing. The filters still *validate* a submitted value
against the live queryset (one query, only when that filter is used), so a
stale menu never lets anybody filter by what they may not see — and a filter
by an office only narrows the visible tickets anyway.

With a per-process cache (``LocMemCache``) another process's menu may lag by
up to ``TTL``; with a shared one (Redis) a change shows at once.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.forms.models import ModelChoiceIterator
from django_filters import fields as filter_fields
from django_filters import filters as filter_filters

TTL = 300
_VERSION_KEY = "wagtail_helpdesk:ticket_filter_choices:version"


def _version():
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, 1, None)
        version = cache.get(_VERSION_KEY, 1)
    return version


#: Fields whose change no menu shows: a save touching only these bumps nothing.
IRRELEVANT_FIELDS = frozenset({
    "last_login", "last_login_at", "password", "last_auto_assigned_at", "updated_at",
})


def bump():
    """Forget every user's cached choices, now."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # not there yet (or evicted): start a new series
        cache.add(_VERSION_KEY, 2, None)


def invalidate(update_fields=None, using=None, **kwargs):
    """Forget every user's cached choices once the current transaction commits
    (a signal receiver), unless the save touched only :data:`IRRELEVANT_FIELDS`."""
    if update_fields is not None and set(update_fields) <= IRRELEVANT_FIELDS:
        return
    transaction.on_commit(bump, using=using)


def choices_for(user, querysets):
    """``{name: [(pk, label), …]}`` for ``querysets`` (``{name: queryset}``)
    as ``user`` sees them: from the cache, else read (one query each) and kept."""
    key = f"wagtail_helpdesk:ticket_filter_choices:{user.pk}:{_version()}"
    found = cache.get(key)
    if found is None or set(found) != set(querysets):
        found = {name: [(obj.pk, str(obj)) for obj in queryset]
                 for name, queryset in querysets.items()}
        cache.set(key, found, TTL)
    return found


class _CachedChoiceIterator(ModelChoiceIterator):
    """Yields the field's cached ``(pk, label)`` pairs instead of querying."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.field.cached_choices()

    def __len__(self):
        return len(self.field.cached_choices()) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.cached_choices())


class _CachedChoicesMixin:
    iterator = _CachedChoiceIterator

    def __init__(self, *args, choices_source=None, **kwargs):
        self.choices_source = choices_source
        super().__init__(*args, **kwargs)

    def cached_choices(self):
        if self.choices_source is None:  # no cache wired: the queryset's
            return [(obj.pk, self.label_from_instance(obj)) for obj in self.queryset]
        return self.choices_source()


class CachedModelChoiceField(_CachedChoicesMixin, filter_fields.ModelChoiceField):
    pass


class CachedModelMultipleChoiceField(_CachedChoicesMixin,
                                     filter_fields.ModelMultipleChoiceField):
    pass


class CachedModelChoiceFilter(filter_filters.ModelChoiceFilter):
    field_class = CachedModelChoiceField


class CachedModelMultipleChoiceFilter(filter_filters.ModelMultipleChoiceFilter):
    field_class = CachedModelMultipleChoiceField


def _connect():
    from ..models import Label, Office, OfficeMembership, ReportCategory, Service

    user = get_user_model()
    for model in (Office, Service, ReportCategory, Label, OfficeMembership, user, Group):
        uid = f"wagtail_helpdesk_filter_choices_{model._meta.label_lower}"
        post_save.connect(invalidate, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"{uid}_delete")
    # Groups and permissions give or take ``view_all`` (every office's names)
    # and ``change`` (the assignees).
    # Office members added through the relation (a form's save: bulk_create,
    # no post_save per membership).
    for name, through in (("groups", user.groups.through),
                          ("user_permissions", user.user_permissions.through),
                          ("group_permissions", Group.permissions.through),
                          ("office_members", Office.members.through)):
        m2m_changed.connect(_m2m_invalidate, sender=through,
                            dispatch_uid=f"wagtail_helpdesk_filter_choices_{name}")


def _m2m_invalidate(action, using=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        transaction.on_commit(bump, using=using)


_connect()


_CATALOGUE_KEY = "wagtail_helpdesk:label_catalogue"


def label_catalogue():
    """``{pk: (name, colour, office_id)}`` of every label (a vocabulary of
    dozens): cached under the same version as the menus, so a label's change
    shows at once with a shared cache."""
    from ..models import Label

    key = f"{_CATALOGUE_KEY}:{_version()}"
    found = cache.get(key)
    if found is None:
        found = {pk: (name, colour, office_id) for pk, name, colour, office_id
                 in Label.objects.values_list("pk", "name", "colour", "office_id")}
        cache.set(key, found, TTL)
    return found
