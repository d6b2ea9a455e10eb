"""The citizens' side: the form blocks' submission views, the wizard, the
receipt, the geocoding proxy."""
