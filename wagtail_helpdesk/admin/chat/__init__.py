"""The live chat in the Wagtail admin: the operators' workspace
(:mod:`.workspace`) and the supervisors' board (:mod:`.board`)."""
