"""Overviews (resoconti): the desk's figures over a period and offices, as a
PDF and an XLSX generated in the background (:mod:`.tasks`), and the monthly
e-mail to the subscribers (:mod:`.mail`)."""
