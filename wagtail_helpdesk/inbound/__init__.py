"""Inbound e-mail and PEC: two ways in (an IMAP job, an LMTP receiver), one
pipeline. Every message is first stored as received (:mod:`.store`), then
processed by a worker (:mod:`.tasks`, :mod:`.pipeline`): understood
(:mod:`.classify`) and applied to tickets through the services layer
(:mod:`wagtail_helpdesk.services.inbound`)."""
