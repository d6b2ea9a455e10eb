"""What people write along a demo ticket's life (Italian): operators' replies,
notes and questions, citizens' messages, resolutions.

Transfer notes use ``{ufficio}``, the name of the office the ticket goes to.
"""

REQUEST_REPLIES = [
    "Buongiorno, abbiamo preso in carico la sua richiesta e stiamo verificando con l'ufficio "
    "competente. Le daremo una risposta entro pochi giorni.",
    "Gentile cittadino, stiamo controllando i dati in nostro possesso e la ricontatteremo al "
    "più presto.",
    "Buongiorno, trova le informazioni e la modulistica sul sito del Comune, nella sezione "
    "Servizi. Se ha bisogno di altro aiuto può rispondere a questo messaggio.",
    "La pratica risulta in lavorazione: abbiamo sollecitato il collega che se ne occupa.",
    "Per questo servizio può prenotare un appuntamento allo sportello dal sito del Comune "
    "oppure chiamando il numero 011 555 0100 dal lunedì al venerdì, dalle 9 alle 12.",
]
REPORT_REPLIES = [
    "Grazie per la segnalazione: nei prossimi giorni una squadra farà un sopralluogo.",
    "Il sopralluogo è stato fatto e l'intervento è stato programmato con la ditta incaricata "
    "della manutenzione.",
    "Abbiamo messo in sicurezza l'area in attesa dell'intervento definitivo.",
    "La segnalazione è stata inoltrata alla squadra di zona, che interverrà appena possibile.",
]
#: kind → (question of the operator, answer of the citizen)
WAITING = {
    "request": [
        ("Per procedere ci serve il numero della pratica indicato sulla ricevuta: può inviarcelo "
         "rispondendo a questo messaggio?",
         "Il numero della pratica è 1187, lo trova anche sulla ricevuta che mi avete dato."),
        ("Ci manca una copia del documento d'identità: può inviarla rispondendo a questo "
         "messaggio?",
         "Ho inviato la copia del documento anche via PEC. Grazie per la pazienza."),
        ("Può indicarci il codice fiscale dell'intestatario? Senza non troviamo la posizione.",
         "L'intestatario è mio marito, vi scrivo il suo codice fiscale nel modulo allegato."),
        ("Può lasciarci un numero di telefono? Il collega vorrebbe chiarire alcuni dettagli.",
         "Potete chiamarmi al 333 555 0199, preferibilmente al mattino."),
    ],
    "report": [
        ("Può indicarci con più precisione il punto, per esempio il civico più vicino o un punto "
         "di riferimento?",
         "Il punto esatto è davanti al bar all'angolo, di fronte alla farmacia."),
        ("Può inviarci una fotografia del problema? Ci aiuta a capire quale squadra mandare.",
         "Ho scattato la foto stamattina, la trovate in allegato alla segnalazione."),
        ("Il problema è ancora presente? La squadra non l'ha trovato durante il sopralluogo.",
         "Sì, è ancora lì: è sul lato sinistro della strada andando verso il centro."),
        ("Può lasciarci un numero di telefono? Il tecnico vorrebbe contattarla.",
         "Potete chiamarmi al 333 555 0199, preferibilmente al mattino."),
    ],
}
CITIZEN_FOLLOWUPS = [
    "Buongiorno, volevo sapere se ci sono novità.",
    "Aggiungo che dopo la pioggia di ieri la situazione è peggiorata.",
    "Scusate, ho dimenticato di dire che sono disponibile anche il sabato mattina.",
    "Sollecito la mia richiesta: non ho ancora ricevuto nessuna risposta.",
]
CITIZEN_REOPENS = [
    "Il problema si è ripresentato dopo pochi giorni: per favore intervenite di nuovo.",
    "La risposta non risolve il mio problema, la situazione è la stessa di prima.",
    "Mi scuso, ma non è cambiato nulla: vi chiedo di verificare di nuovo.",
]
CITIZEN_CANCELS = [
    "Ho risolto da solo, potete chiudere la richiesta. Grazie.",
    "Non serve più, grazie comunque per la disponibilità.",
]
NOTES = [
    "Chiamato il cittadino: richiamerà domani mattina.",
    "Verificato in banca dati: i dati risultano corretti.",
    "Chiesto alla ditta di manutenzione un preventivo per l'intervento.",
    "Segnalazione simile arrivata la settimana scorsa: controllare se è la stessa.",
    "Sopralluogo fissato per giovedì con la squadra esterna.",
    "In attesa di risposta dall'ufficio tecnico.",
    "Il cittadino è già passato allo sportello due volte per questa pratica.",
    "Sentito il responsabile: si può procedere.",
]
TRANSFER_NOTES = [
    "Non è di nostra competenza: trasferisco a {ufficio}.",
    "La richiesta riguarda {ufficio}, la passo a loro.",
    "Trasferita a {ufficio} su indicazione del responsabile.",
]
OPERATOR_REOPENS = [
    "Il cittadino ha telefonato: il problema non è risolto.",
    "Riaperta dopo il controllo del responsabile: manca la risposta definitiva.",
]
#: resolution type slug → texts ("risolta" has one list per kind).
RESOLUTIONS = {
    "risolta/report": [
        "L'intervento è stato eseguito dalla squadra di manutenzione. Grazie per la "
        "collaborazione.",
        "Abbiamo risolto il problema segnalato: grazie per averci aiutato a migliorare la città.",
        "La ditta incaricata ha completato i lavori.",
    ],
    "risolta/request": [
        "La pratica è stata completata. Per ogni altra necessità può aprire una nuova "
        "richiesta.",
        "Abbiamo dato seguito alla sua richiesta come concordato al telefono. Grazie per "
        "averci contattato.",
        "Le abbiamo fornito tutte le informazioni richieste: chiudiamo quindi la richiesta.",
    ],
    "non-di-competenza": [
        "La questione è di competenza di un altro ente, al quale abbiamo inoltrato la "
        "richiesta.",
        "L'area indicata è privata: la manutenzione spetta al proprietario, che abbiamo "
        "avvisato.",
    ],
    "duplicata": ["La stessa richiesta è già in lavorazione con un altro codice: la seguiamo lì."],
    "respinta": [
        "La richiesta non può essere accolta perché mancano i requisiti previsti dal "
        "regolamento comunale.",
    ],
    "annullata-su-richiesta": ["Chiusa su richiesta del cittadino."],
}
