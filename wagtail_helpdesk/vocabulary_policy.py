"""The permission policy shared by the helpdesk's office-scoped vocabularies
(labels, quick replies): things an office's supervisors keep for its people.

What they share:

* Wagtail's model permissions (given to the helpdesk groups) are needed, and
  only by active, signed-in users;
* who manages an office's part (:func:`managed_office_ids`): those who see
  every office manage every office's; supervisors (the ticket ``dashboard``
  permission) the offices they belong to; others none;
* "view" asks whether the user *sees* the thing, every other action whether
  they *manage* it; lists are filtered the same way, in the database;
* the policy registered with Wagtail is the one used, if there is one.

What each vocabulary decides for itself (the four hooks): labels have global
entries, seen by all and managed by administrators only; quick replies have
personal entries, seen and managed by their owner only.
"""

from abc import abstractmethod

from wagtail.permission_policies.base import ModelPermissionPolicy

from .permissions import office_ids_for, ticket_policy


def working(user):
    """An active, signed-in user."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.is_active)


def sees_all(user):
    return working(user) and ticket_policy().sees_all_offices(user)


def is_supervisor(user):
    return working(user) and ticket_policy().user_has_permission(user, "dashboard")


def managed_office_ids(user):
    """The offices whose part of a vocabulary ``user`` manages; ``None``:
    every office's."""
    if sees_all(user):
        return None
    if is_supervisor(user):
        return office_ids_for(user)
    return frozenset()


class OfficeVocabularyPolicy(ModelPermissionPolicy):
    """The model permissions plus a vocabulary's rules (the four hooks)."""

    @abstractmethod
    def can_see(self, user, instance):
        """May ``user`` see ``instance``?"""

    @abstractmethod
    def can_manage(self, user, instance):
        """May ``user`` change or delete ``instance``?"""

    @abstractmethod
    def visible_q(self, user):
        """Filter for what ``user`` sees."""

    @abstractmethod
    def manageable_q(self, user):
        """Filter for what ``user`` manages."""

    def user_has_permission(self, user, action):
        return working(user) and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action == "view":
            return self.can_see(user, instance)
        return self.can_manage(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        qs = self.model._default_manager.all()
        actions = list(actions)
        if not self.user_has_any_permission(user, actions):
            return qs.none()
        if "view" in actions and self.user_has_permission(user, "view"):
            return qs.filter(self.visible_q(user))
        return qs.filter(self.manageable_q(user))

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])


_fallbacks = {}


def policy_for(model, policy_class):
    """The policy for ``model``: the one registered with Wagtail if it is a
    ``policy_class``, else one made here (once)."""
    from wagtail.permissions import policy_registry

    registered = policy_registry.get_by_type(model, fallback=False)
    if isinstance(registered, policy_class):
        return registered
    if policy_class not in _fallbacks:
        _fallbacks[policy_class] = policy_class(model)
    return _fallbacks[policy_class]
