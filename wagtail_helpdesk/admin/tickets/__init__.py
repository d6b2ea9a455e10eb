"""The operators' ticket screens: list ("Elenco ticket"), ticket page, actions."""
