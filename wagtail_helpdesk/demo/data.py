"""The demo's catalogue and people, as plain data (Italian). What people write
along a ticket's life is in :mod:`.texts`.

Placeholders in report texts: ``{strada}`` (the street, e.g. "via Roma"),
``{luogo}`` (street and number) and ``{civico}`` (the number).
"""

EMAIL_DOMAIN = "comune.example.it"
CITIZEN_DOMAIN = "example.org"
BIRTHPLACE = "Torino"

#: slug, name, e-mail, phone
OFFICES = [
    ("urp", "Ufficio Relazioni con il Pubblico (URP)", "urp@comune.example.it", "011 555 0100"),
    ("polizia-locale-mobilita", "Polizia Locale e Mobilità", "polizialocale@comune.example.it",
     "011 555 0200"),
    ("lavori-pubblici", "Lavori pubblici e manutenzioni", "lavoripubblici@comune.example.it",
     "011 555 0300"),
    ("servizi-demografici", "Servizi demografici", "anagrafe@comune.example.it", "011 555 0400"),
    ("tributi", "Tributi", "tributi@comune.example.it", "011 555 0500"),
    ("servizi-sociali", "Servizi sociali", "servizisociali@comune.example.it", "011 555 0600"),
    ("ambiente-verde", "Ambiente e verde pubblico", "ambiente@comune.example.it", "011 555 0700"),
]

#: Where a ticket of an office is plausibly transferred to.
TRANSFER_TARGETS = {
    "urp": ["servizi-demografici", "tributi", "lavori-pubblici", "servizi-sociali",
            "polizia-locale-mobilita", "ambiente-verde"],
    "polizia-locale-mobilita": ["lavori-pubblici", "ambiente-verde"],
    "lavori-pubblici": ["ambiente-verde", "polizia-locale-mobilita"],
    "servizi-demografici": ["urp", "polizia-locale-mobilita"],
    "tributi": ["urp", "ambiente-verde"],
    "servizi-sociali": ["urp", "servizi-demografici"],
    "ambiente-verde": ["lavori-pubblici", "polizia-locale-mobilita"],
}

#: username, first name, last name, group key, office slugs, description of the login.
#: Group keys: "operators", "supervisors", "administrators" (see groups.py).
STAFF = [
    ("operatore", "Giulia", "Rinaldi", "operators", ["urp", "lavori-pubblici"],
     "operatrice: URP e Lavori pubblici e manutenzioni"),
    ("responsabile", "Marco", "Ferraris", "supervisors",
     ["urp", "polizia-locale-mobilita", "lavori-pubblici", "servizi-demografici"],
     "responsabile: URP, Polizia Locale e Mobilità, Lavori pubblici, Servizi demografici"),
    ("admin", "Elena", "Bertolotti", "administrators", [],
     "amministratrice dell'helpdesk e superuser"),
    ("s.greco", "Sara", "Greco", "operators", ["urp", "ambiente-verde"], ""),
    ("m.bianchi", "Mauro", "Bianchi", "operators", ["polizia-locale-mobilita"], ""),
    ("a.vitale", "Anna", "Vitale", "operators", ["polizia-locale-mobilita"], ""),
    ("l.ferrero", "Luca", "Ferrero", "operators", ["lavori-pubblici"], ""),
    ("d.bruno", "Davide", "Bruno", "operators", ["lavori-pubblici", "ambiente-verde"], ""),
    ("g.romano", "Grazia", "Romano", "operators", ["servizi-demografici"], ""),
    ("a.colombo", "Andrea", "Colombo", "operators", ["tributi"], ""),
    ("c.fontana", "Chiara", "Fontana", "operators", ["tributi"], ""),
    ("f.ricci", "Francesca", "Ricci", "supervisors", ["servizi-sociali"], ""),
    ("p.marino", "Paolo", "Marino", "operators", ["ambiente-verde"], ""),
]
#: The accounts that get the known demo password; the others cannot log in.
LOGIN_ACCOUNTS = ("operatore", "responsabile", "admin")

#: slug, service category slug (preloaded by migration 0002), name, office slug, SLA days,
#: and the (subject, description) pairs of its demo requests.
SERVICES = [
    ("carta-identita-elettronica", "anagrafe-e-stato-civile", "Carta d'identità elettronica",
     "servizi-demografici", 10, [
         ("Appuntamento per la carta d'identità",
          "Devo rinnovare la carta d'identità che scade il mese prossimo, ma sull'agenda online "
          "non trovo appuntamenti liberi. Come posso fare?"),
         ("Carta d'identità non ancora arrivata",
          "Ho richiesto la CIE allo sportello più di dieci giorni fa e non mi è ancora arrivata "
          "a casa. Potete dirmi a che punto è la spedizione?"),
         ("Carta d'identità per un minore",
          "Vorrei fare la carta d'identità a mio figlio di 8 anni per un viaggio all'estero. "
          "Devono essere presenti entrambi i genitori?"),
     ]),
    ("cambio-di-residenza", "anagrafe-e-stato-civile", "Cambio di residenza",
     "servizi-demografici", 20, [
         ("Stato della pratica di cambio residenza",
          "Ho presentato la dichiarazione di cambio di residenza tre settimane fa e non ho "
          "ancora avuto notizie dell'accertamento della Polizia Locale."),
         ("Documenti per il cambio di residenza",
          "Mi trasferisco in città con la mia famiglia: quali documenti devo allegare alla "
          "dichiarazione di residenza? Ho anche un cane da registrare."),
     ]),
    ("certificati-anagrafici", "anagrafe-e-stato-civile", "Certificati anagrafici",
     "servizi-demografici", 5, [
         ("Certificato di stato di famiglia",
          "Mi serve un certificato di stato di famiglia per la banca. Si può scaricare online "
          "o devo venire allo sportello?"),
         ("Errore sul certificato di residenza",
          "Sul certificato di residenza che ho scaricato dal sito il numero civico è sbagliato: "
          "abito al 14, non al 41."),
     ]),
    ("tari", "tributi-finanze-e-contravvenzioni", "TARI - Tassa sui rifiuti", "tributi", 30, [
        ("Avviso TARI con superficie errata",
         "Nell'avviso TARI di quest'anno l'appartamento risulta di 120 mq, ma è di 85 mq come "
         "da planimetria catastale. Chiedo la correzione dell'importo."),
        ("Riduzione TARI per compostaggio domestico",
         "Faccio il compostaggio domestico da due anni: posso avere la riduzione sulla TARI? "
         "Come si presenta la domanda?"),
        ("Avviso TARI non ricevuto",
         "Quest'anno non ho ricevuto l'avviso di pagamento della TARI. Come posso avere i "
         "bollettini per pagare entro la scadenza?"),
    ]),
    ("imu", "tributi-finanze-e-contravvenzioni", "IMU - Imposta municipale", "tributi", 30, [
        ("Aliquota IMU per casa in comodato",
         "Non riesco a capire quale aliquota IMU applicare all'appartamento che ho dato in "
         "comodato d'uso gratuito a mia figlia."),
        ("Rimborso IMU versata due volte",
         "Per errore ho pagato due volte l'acconto IMU di giugno. Come posso chiedere il "
         "rimborso o la compensazione con il saldo?"),
    ]),
    ("contravvenzioni", "tributi-finanze-e-contravvenzioni", "Contravvenzioni e pagamento multe",
     "polizia-locale-mobilita", 15, [
         ("Verbale per divieto di sosta contestato",
          "Ho ricevuto un verbale per divieto di sosta, ma quel giorno l'auto era ferma "
          "dal meccanico. Posso inviare la ricevuta dell'officina?"),
         ("Codice pagoPA del verbale non valido",
          "Quando provo a pagare la multa online il codice pagoPA del verbale risulta non "
          "valido. Come posso pagare senza perdere lo sconto del 30%?"),
     ]),
    ("permessi-ztl", "mobilita-e-trasporti", "Permessi ZTL e sosta residenti",
     "polizia-locale-mobilita", 15, [
         ("Cambio targa sul permesso ZTL",
          "Ho cambiato auto e devo aggiornare la targa del permesso ZTL per residenti. "
          "Devo venire allo sportello o si può fare online?"),
         ("Rinnovo del permesso di sosta residenti",
          "Il mio permesso di sosta per residenti scade a fine mese. Quanto costa il "
          "rinnovo e come si paga?"),
     ]),
    ("contrassegno-disabili", "mobilita-e-trasporti", "Contrassegno per persone con disabilità",
     "polizia-locale-mobilita", 20, [
         ("Rinnovo del contrassegno disabili",
          "Il contrassegno di mia madre scade a fine mese. Quali documenti servono per il "
          "rinnovo? Lei non può muoversi da casa."),
     ]),
    ("contributi-economici", "salute-benessere-e-assistenza",
     "Contributi economici e sostegno al reddito", "servizi-sociali", 30, [
         ("Contributo per l'affitto",
          "Ho perso il lavoro a marzo e faccio fatica a pagare l'affitto. Esiste un contributo "
          "comunale? Ho due figli a carico."),
         ("Bonus per le bollette",
          "Vorrei sapere se il Comune prevede aiuti per le bollette di luce e gas per le "
          "famiglie con ISEE basso."),
     ]),
    ("assistenza-domiciliare", "salute-benessere-e-assistenza", "Assistenza domiciliare anziani",
     "servizi-sociali", 20, [
         ("Assistenza domiciliare per mio padre",
          "Mio padre ha 86 anni, vive da solo e dopo una caduta non riesce più a fare la spesa. "
          "Come si richiede l'assistenza domiciliare?"),
         ("Pasti a domicilio",
          "Mia zia è anziana e non cucina più. Il Comune ha un servizio di pasti a domicilio?"),
     ]),
    ("mensa-trasporto-scolastico", "educazione-e-formazione", "Mensa e trasporto scolastico",
     "servizi-sociali", 10, [
         ("Dieta speciale in mensa",
          "Mia figlia è celiaca: come richiedo la dieta speciale per la mensa della scuola "
          "primaria? Serve un certificato del pediatra?"),
         ("Iscrizione allo scuolabus",
          "Abbiamo cambiato casa a settembre: possiamo ancora iscrivere nostro figlio al "
          "trasporto scolastico?"),
     ]),
    ("ritiro-ingombranti", "ambiente", "Raccolta differenziata e ritiro ingombranti",
     "ambiente-verde", 10, [
         ("Ritiro di un divano",
          "Vorrei prenotare il ritiro a domicilio di un divano e di una rete del letto. "
          "Abito al terzo piano senza ascensore."),
         ("Calendario della raccolta porta a porta",
          "Non ho ricevuto il calendario della raccolta porta a porta per la mia via. "
          "Quando passa la carta?"),
     ]),
    ("informazioni-generali", "relazioni-con-il-pubblico", "Informazioni generali", "urp", 5, [
        ("Orari degli uffici comunali",
         "Quali sono gli orari di apertura degli sportelli dell'anagrafe? Sono aperti anche "
         "il sabato mattina?"),
        ("Come attivare SPID",
         "Non ho ancora SPID: il Comune aiuta ad attivarlo? Ho provato da solo ma non riesco "
         "a completare il riconoscimento."),
    ]),
    ("accesso-agli-atti", "relazioni-con-il-pubblico", "Accesso agli atti", "urp", 30, [
        ("Richiesta di accesso agli atti",
         "Chiedo di poter visionare e avere copia della pratica edilizia del condominio in cui "
         "abito, per una verifica sulle parti comuni."),
    ]),
    ("reclami-suggerimenti", "relazioni-con-il-pubblico", "Reclami e suggerimenti", "urp", None, [
        ("Reclamo per l'attesa allo sportello",
         "Ieri mattina ho aspettato più di un'ora allo sportello nonostante avessi "
         "l'appuntamento. Vorrei che il servizio venisse organizzato meglio."),
        ("Suggerimento per il sito del Comune",
         "Sul sito del Comune è difficile trovare la modulistica: suggerisco una pagina unica "
         "con tutti i moduli divisi per ufficio."),
    ]),
    ("occupazione-suolo-pubblico", "autorizzazioni", "Occupazione di suolo pubblico",
     "lavori-pubblici", 30, [
         ("Ponteggio per il rifacimento della facciata",
          "Come amministratore di condominio devo chiedere l'occupazione di suolo pubblico per "
          "un ponteggio di 40 giorni. Quali sono i tempi di rilascio?"),
         ("Dehors per il bar",
          "Gestisco un bar e vorrei mettere quattro tavolini sul marciapiede per la stagione "
          "estiva. Che documenti servono?"),
     ]),
    ("passo-carrabile", "autorizzazioni", "Passo carrabile", "lavori-pubblici", 30, [
        ("Richiesta di nuovo passo carrabile",
         "Ho ristrutturato il cortile e vorrei aprire un passo carrabile. A chi devo "
         "presentare la domanda e quanto costa il cartello?"),
    ]),
    ("biblioteca-eventi", "cultura-e-tempo-libero", "Biblioteca civica ed eventi", "urp", None, [
        ("Iscrizione alla biblioteca civica",
         "Vorrei iscrivere alla biblioteca anche mia figlia di 6 anni: posso farlo online?"),
    ]),
]

#: slug, name, office slug, SLA days, sort order, (subject, description) pairs.
REPORT_CATEGORIES = [
    ("buche-stradali", "Buche stradali e marciapiedi dissestati", "lavori-pubblici", 10, 10, [
        ("Buca pericolosa in {strada}",
         "In {luogo} si è aperta una buca profonda una decina di centimetri al centro della "
         "carreggiata. Con la pioggia si riempie d'acqua e non si vede."),
        ("Marciapiede dissestato in {strada}",
         "Le radici degli alberi hanno sollevato le lastre del marciapiede all'altezza del "
         "civico {civico}: con un passeggino o in carrozzina non si passa."),
        ("Tombino sprofondato in {strada}",
         "Il tombino davanti al civico {civico} è sprofondato rispetto all'asfalto e crea un "
         "gradino pericoloso per bici e motorini."),
    ]),
    ("illuminazione-pubblica", "Illuminazione pubblica", "lavori-pubblici", 5, 20, [
        ("Lampione spento in {strada}",
         "Il lampione davanti al civico {civico} è spento da almeno una settimana. La sera "
         "il tratto è completamente al buio."),
        ("Tratto di strada al buio in {strada}",
         "In {strada} sono spenti tre lampioni di fila a partire dal civico {civico}. Di sera "
         "molte persone passano a piedi per andare alla fermata."),
        ("Palo della luce inclinato",
         "Il palo dell'illuminazione in {luogo} è inclinato, forse urtato da un camion, e "
         "sembra instabile."),
    ]),
    ("rifiuti-abbandonati", "Rifiuti abbandonati", "ambiente-verde", 5, 30, [
        ("Rifiuti abbandonati in {strada}",
         "Accanto ai cassonetti in {luogo} qualcuno ha lasciato sacchi neri, un materasso e "
         "alcune cassette di legno."),
        ("Discarica abusiva in fondo a {strada}",
         "Lungo il fosso in fondo a {strada} si sta formando una piccola discarica: "
         "pneumatici, calcinacci e sacchi di plastica."),
        ("Cassonetti stracolmi",
         "I cassonetti in {luogo} sono pieni da giorni e i sacchi sono a terra. C'è un forte "
         "cattivo odore."),
    ]),
    ("verde-pubblico", "Verde pubblico e alberature", "ambiente-verde", 15, 40, [
        ("Ramo pericolante in {strada}",
         "Un grosso ramo dell'albero davanti al civico {civico} è spezzato e pende sopra il "
         "marciapiede. Con il vento potrebbe cadere."),
        ("Erba alta nei giardini di {strada}",
         "L'aiuola in {luogo} non viene falciata da settimane: l'erba è alta e ci sono "
         "molte zanzare."),
        ("Siepe che invade il marciapiede",
         "La siepe dell'area verde in {luogo} invade metà del marciapiede e copre il "
         "cartello della fermata."),
    ]),
    ("segnaletica-stradale", "Segnaletica stradale", "polizia-locale-mobilita", 10, 50, [
        ("Cartello di stop abbattuto",
         "Il cartello di stop all'incrocio in {luogo} è a terra, probabilmente urtato da "
         "un'auto. L'incrocio è pericoloso."),
        ("Strisce pedonali sbiadite in {strada}",
         "Le strisce pedonali davanti alla scuola in {strada} sono quasi invisibili, "
         "soprattutto la sera."),
        ("Semaforo guasto in {strada}",
         "Il semaforo all'altezza del civico {civico} è giallo lampeggiante da ieri sera."),
    ]),
    ("acqua-fognature", "Acqua e fognature", "lavori-pubblici", 5, 60, [
        ("Perdita d'acqua in {strada}",
         "Dall'asfalto in {luogo} esce acqua in continuazione: sembra una tubatura rotta."),
        ("Caditoia intasata in {strada}",
         "La caditoia in {luogo} è intasata di foglie: ogni volta che piove la strada si "
         "allaga e l'acqua entra nei garage."),
        ("Cattivo odore dalla fognatura",
         "Da qualche giorno dai tombini di {strada} esce un forte odore di fogna."),
    ]),
    ("graffiti-vandalismi", "Graffiti e vandalismi", "polizia-locale-mobilita", 20, 70, [
        ("Scritte sul muro della scuola",
         "Il muro esterno della scuola in {strada} è stato imbrattato con scritte offensive."),
        ("Pensilina dell'autobus vandalizzata",
         "Il vetro della pensilina in {luogo} è stato rotto: ci sono vetri per terra vicino "
         "alla panchina."),
        ("Panchine danneggiate in {strada}",
         "Due panchine del giardino in {luogo} sono state divelte durante la notte."),
    ]),
    ("animali", "Animali: randagi, carcasse, infestazioni", "ambiente-verde", 5, 80, [
        ("Cane randagio in {strada}",
         "Da due giorni un cane di taglia media senza collare gira in {strada}. Sembra "
         "spaventato e attraversa la strada di continuo."),
        ("Nido di vespe nel parco giochi",
         "Nel parco giochi in {luogo} c'è un nido di vespe sotto una panchina, vicino allo "
         "scivolo."),
        ("Topi vicino ai cassonetti",
         "La sera si vedono diversi topi vicino ai cassonetti in {luogo}."),
    ]),
    ("veicoli-abbandonati", "Veicoli abbandonati", "polizia-locale-mobilita", 30, 90, [
        ("Auto abbandonata in {strada}",
         "Un'auto senza targa è ferma da mesi in {luogo}, con le gomme a terra e un "
         "finestrino rotto."),
        ("Motorino abbandonato sul marciapiede",
         "Un motorino senza sella è legato al palo in {luogo} da più di due mesi."),
    ]),
    ("arredo-urbano", "Arredo urbano e giochi nei parchi", "lavori-pubblici", 15, 100, [
        ("Gioco rotto al parco di {strada}",
         "Lo scivolo del parco giochi in {strada} ha un gradino rotto: i bambini possono "
         "farsi male."),
        ("Fontanella che perde",
         "La fontanella in {luogo} perde acqua giorno e notte."),
    ]),
]

STREETS = [
    "Via Roma", "Corso Garibaldi", "Via Giuseppe Mazzini", "Piazza della Libertà", "Via Cavour",
    "Via Dante Alighieri", "Viale della Repubblica", "Via XX Settembre", "Corso Italia",
    "Via Vittorio Emanuele II", "Via dei Mille", "Via Alessandro Manzoni", "Via Matteotti",
    "Via Antonio Gramsci", "Piazza del Municipio", "Via delle Rose", "Via dei Tigli",
    "Via Monte Grappa", "Via Torino", "Strada della Collina", "Via del Lavoro", "Largo Mercato",
    "Via San Francesco", "Via Trieste", "Via Trento", "Via Piave", "Via Leonardo da Vinci",
    "Via Galileo Galilei", "Viale dei Partigiani", "Via Don Minzoni", "Via Cesare Battisti",
    "Piazza Stazione",
]

MALE_NAMES = [
    "Marco", "Luca", "Giuseppe", "Giovanni", "Andrea", "Francesco", "Alessandro", "Matteo",
    "Lorenzo", "Davide", "Stefano", "Paolo", "Roberto", "Simone", "Federico", "Antonio",
    "Riccardo", "Fabio", "Massimo", "Pietro", "Giorgio", "Claudio", "Enrico", "Tommaso",
    "Salvatore", "Michele", "Daniele", "Alberto", "Emanuele", "Vittorio",
]
FEMALE_NAMES = [
    "Giulia", "Francesca", "Chiara", "Sara", "Martina", "Elena", "Valentina", "Laura",
    "Alessandra", "Silvia", "Federica", "Paola", "Anna", "Maria", "Elisa", "Roberta", "Simona",
    "Giorgia", "Alice", "Beatrice", "Cristina", "Monica", "Barbara", "Marta", "Lucia", "Serena",
    "Ilaria", "Rosa", "Teresa", "Caterina",
]
SURNAMES = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
    "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso",
    "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale",
    "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Conte",
    "Ferraro", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini", "Sala", "Gatti",
    "Pellegrini", "Farina", "Monti", "Cattaneo", "Bertola", "Ferrero", "Gribaudo", "Chiesa",
]
