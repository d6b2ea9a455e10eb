"""What every signed-in request needs of its user, in fewer queries (see
:mod:`.backends`)."""
