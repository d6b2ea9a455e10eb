"""Kept so that site templates loading ``helpdesk_public`` keep working; the
tags live in ``helpdesk_citizen``."""

from .helpdesk_citizen import register

__all__ = ["register"]
