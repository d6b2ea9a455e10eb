"""Ready-made office-wide quick replies, in Italian, for the demo data."""


def default_office_replies():
    """A few office-wide replies in Italian (for the demo data and new installs):
    dicts with ``title``, ``shortcut``, ``category`` and ``body``."""
    return [
        {
            "title": "Presa in carico",
            "shortcut": "presa",
            "category": "Apertura",
            "body": (
                "Gentile {cittadino},\n"
                "la sua {tipo} {codice} relativa a «{servizio}» è stata presa in carico; "
                "se ne occupa: {ufficio}. La terremo aggiornata sull'avanzamento.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Richiesta di documenti",
            "shortcut": "documenti",
            "category": "Integrazioni",
            "body": (
                "Gentile {cittadino},\n"
                "per completare la pratica {codice} abbiamo bisogno di una copia di un "
                "documento d'identità valido. Può allegarla rispondendo a questo messaggio "
                "dalla sua area personale.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Orari di apertura",
            "shortcut": "orari",
            "category": "Informazioni",
            "body": (
                "Gentile {cittadino},\n"
                "riceviamo il pubblico ({ufficio}) dal lunedì al venerdì dalle 9:00 alle "
                "12:30 e il giovedì anche dalle 14:30 alle 17:00, su appuntamento.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Segnalazione inoltrata alla squadra",
            "shortcut": "sopralluogo",
            "category": "Segnalazioni",
            "body": (
                "Gentile {cittadino},\n"
                "grazie per la segnalazione {codice} ({servizio}). L'abbiamo inoltrata alla "
                "squadra tecnica, che effettuerà un sopralluogo nei prossimi giorni.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Non di competenza",
            "shortcut": "competenza",
            "category": "Chiusura",
            "body": (
                "Gentile {cittadino},\n"
                "la {tipo} {codice} non è di competenza del Comune. Le consigliamo di "
                "rivolgersi direttamente all'ente competente, che potrà aiutarla.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Chiusura della pratica",
            "shortcut": "chiusura",
            "category": "Chiusura",
            "body": (
                "Gentile {cittadino},\n"
                "in data {data} consideriamo conclusa la {tipo} {codice}. Se il problema "
                "dovesse ripresentarsi può rispondere a questo messaggio e la {tipo} "
                "verrà riaperta.\n\n"
                "Cordiali saluti,\n{operatore}\n{ufficio}"
            ),
        },
    ]
