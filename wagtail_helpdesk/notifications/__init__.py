"""Delivery of the notification outbox: e-mail (and App IO), retries,
the sweeper. The services layer queues rows; these modules deliver them."""
