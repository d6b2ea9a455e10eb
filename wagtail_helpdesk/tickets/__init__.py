"""The read side of tickets: what the admin, the API, the dashboards and the
notifications read, never change (changes go through
:mod:`wagtail_helpdesk.services`).

- :mod:`.queries`: the tickets a user may see (or act on) and who can be
  assigned a ticket: the permission policy's answers, spelled once.
- :mod:`.queues`: the ticket list's queues ("tabs"), each a filter.
- :mod:`.filters`: the ticket list's filter set (the admin's and the API's).
- :mod:`.search`: the operators' ticket search (code, number, fiscal code, words).
- :mod:`.timeline`: a ticket's timeline, ready to show.
- :mod:`.actions`: the workflow actions a user may offer on a ticket now.

Nothing is imported here: import the module you need (some of them import the
services layer, which imports :mod:`.queries`).
"""
