"""Helpers, fixtures and fakes shared by the tests."""
