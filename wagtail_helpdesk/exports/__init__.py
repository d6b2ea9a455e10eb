"""Background exports of the ticket list (issue 20): :mod:`.tasks` prepares
the file, :mod:`.views` lists a user's exports and serves their files."""
