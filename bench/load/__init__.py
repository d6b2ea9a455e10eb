"""Load harness of the citizens' journeys against the production layout."""
