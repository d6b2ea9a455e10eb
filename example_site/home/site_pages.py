"""The example site's institutional pages, created by migration 0007: the
privacy notice the citizen forms link to (chosen in Settings → Helpdesk), the
accessibility statement, the legal notes, and "Servizi" with one service page
whose contacts lead to the assistance request (AgID criteria C.SI.2.2,
C.SI.3.2, C.SI.3.3, C.SI.3.4).

Their text is content, in Italian, as an editor would type it: it is not
translated. The parts in square brackets are for the municipality to fill in.
"""

import json
import uuid

PRIVACY_SLUG = "informativa-privacy"
ACCESSIBILITY_SLUG = "dichiarazione-di-accessibilita"
LEGAL_NOTES_SLUG = "note-legali"
SERVICES_SLUG = "servizi"
SERVICE_SLUG = "carta-identita-elettronica"

#: The wording C.SI.3.4 requires, word for word, under "Licenza dei contenuti".
LICENCE_TEXT = (
    "In applicazione del principio open by default ai sensi dell’articolo 52 del decreto "
    "legislativo 7 marzo 2005, n. 82 (CAD) e salvo dove diversamente specificato (compresi i "
    "contenuti incorporati di terzi), i dati, i documenti e le informazioni pubblicati sul sito "
    "sono rilasciati con licenza CC-BY 4.0. Gli utenti sono quindi liberi di condividere "
    "(riprodurre, distribuire, comunicare al pubblico, esporre in pubblico), rappresentare, "
    "eseguire e recitare questo materiale con qualsiasi mezzo e formato e modificare "
    "(trasformare il materiale e utilizzarlo per opere derivate) per qualsiasi fine, anche "
    "commerciale con il solo onere di attribuzione, senza apporre restrizioni aggiuntive."
)

PRIVACY = [
    ("Titolare del trattamento",
     "<p>Il titolare del trattamento è il <b>Comune di Esempio</b>, Piazza del Municipio 1, "
     "10100 Esempio (TO), telefono 011 555 0100, PEC protocollo@pec.comune.example.it.</p>"),
    ("Responsabile della protezione dei dati",
     "<p>Il Comune ha designato un Responsabile della protezione dei dati (RPD/DPO), che puoi "
     "contattare per ogni domanda sul trattamento dei tuoi dati: [nome del Responsabile], "
     "e-mail rpd@comune.example.it, PEC rpd@pec.comune.example.it.</p>"),
    ("Perché trattiamo i tuoi dati",
     "<p>Trattiamo i dati che ci dai con una richiesta di assistenza o una segnalazione di "
     "disservizio (dal sito, per telefono, allo sportello o per e-mail) per:</p>"
     "<ul><li>prendere in carico la richiesta o la segnalazione, assegnarla all'ufficio "
     "competente e risolverla;</li>"
     "<li>risponderti e tenerti informato sul suo stato, per e-mail o nella tua area "
     "personale;</li>"
     "<li>chiederti, se vuoi, una valutazione del servizio ricevuto;</li>"
     "<li>produrre statistiche sul servizio, in forma anonima.</li></ul>"),
    ("Base giuridica",
     "<p>Il trattamento è necessario per l'esecuzione di un compito di interesse pubblico o "
     "connesso all'esercizio di pubblici poteri di cui è investito il Comune (art. 6, "
     "paragrafo 1, lettera e) del Regolamento UE 2016/679 e art. 2-ter del d.lgs. 196/2003): "
     "l'ascolto dei cittadini, l'informazione e la cura del territorio e dei servizi "
     "comunali.</p>"
     "<p>Non inserire nel testo della richiesta o negli allegati dati sulla salute o altri "
     "dati particolari se non sono indispensabili per la tua richiesta.</p>"),
    ("Quali dati trattiamo",
     "<ul><li>dati che ti identificano e ti permettono di essere ricontattato: nome, cognome, "
     "codice fiscale, indirizzo e-mail, numero di telefono;</li>"
     "<li>il contenuto della richiesta o della segnalazione: servizio o tipo di problema, "
     "testo, allegati e fotografie (dalle foto togliamo i dati di posizione che contengono), "
     "il luogo indicato (indirizzo e coordinate sulla mappa);</li>"
     "<li>se accedi con SPID o CIE, i dati che il gestore dell'identità ci trasmette: nome, "
     "cognome, codice fiscale e, se presenti, e-mail e telefono;</li>"
     "<li>dati tecnici necessari al funzionamento e alla sicurezza del sito, come l'indirizzo "
     "IP e un cookie tecnico di sessione. Il sito non usa cookie di profilazione.</li></ul>"
     "<p>I dati indicati come obbligatori nei moduli servono a gestire la richiesta: senza di "
     "essi non possiamo prenderla in carico.</p>"),
    ("Chi tratta i tuoi dati",
     "<p>I dati sono trattati dal personale del Comune autorizzato e istruito, solo negli "
     "uffici che si occupano della tua richiesta. Li trattano per conto del Comune, come "
     "responsabili del trattamento (art. 28 del Regolamento), i fornitori che gestiscono il "
     "sito, i server e la posta elettronica: [elenco dei fornitori]. Li comunichiamo ad altri "
     "soggetti solo se la legge lo prevede o se servono a risolvere la segnalazione (ad "
     "esempio il gestore del servizio di igiene urbana), limitandoci ai dati necessari. Le "
     "segnalazioni possono essere pubblicate sul sito senza dati che ti identifichino.</p>"
     "<p>Gli strumenti che aiutano gli operatori a trovare richieste simili o a preparare le "
     "risposte funzionano sui server del Comune: nessuna decisione che ti riguarda è presa in "
     "modo automatizzato.</p>"),
    ("Servizi di terzi usati dai moduli",
     "<ul><li><b>Mappa</b>: le immagini della mappa del modulo di segnalazione sono fornite "
     "dai server di OpenStreetMap Foundation (tile.openstreetmap.org, Regno Unito, paese con "
     "decisione di adeguatezza della Commissione europea). Quando la mappa si apre, il tuo "
     "browser chiede loro le immagini della zona mostrata, comunicando il tuo indirizzo IP. "
     "Vedi l'<a href=\"https://osmfoundation.org/wiki/Privacy_Policy\">informativa di "
     "OpenStreetMap Foundation</a>.</li>"
     "<li><b>Ricerca degli indirizzi</b>: quando cerchi un indirizzo, è il server del Comune a "
     "chiederlo al servizio Nominatim di OpenStreetMap, senza il tuo indirizzo IP né altri "
     "tuoi dati.</li>"
     "<li><b>SPID e CIE</b>: se scegli di accedere, ti autentica il gestore dell'identità "
     "digitale SPID che hai scelto, oppure il Ministero dell'Interno per la Carta d'identità "
     "elettronica, come titolari autonomi secondo le loro informative; al Comune trasmettono "
     "solo i dati elencati sopra.</li></ul>"),
    ("Per quanto tempo conserviamo i dati",
     "<p>Conserviamo i dati per il tempo necessario a gestire la richiesta e, dopo la sua "
     "chiusura, per [5] anni, per rispondere a eventuali contestazioni e riaperture; poi i "
     "dati che ti identificano sono cancellati e le richieste restano solo in forma anonima, "
     "salvo gli obblighi di conservazione degli archivi pubblici. I dati tecnici di "
     "sicurezza sono conservati per [6 mesi].</p>"),
    ("I tuoi diritti",
     "<p>Puoi chiedere al Comune l'accesso ai tuoi dati, la loro rettifica, la cancellazione "
     "nei casi previsti, la limitazione del trattamento, e puoi opporti al trattamento per "
     "motivi legati alla tua situazione particolare (articoli da 15 a 21 del Regolamento UE "
     "2016/679), scrivendo al Responsabile della protezione dei dati. Se ritieni che il "
     "trattamento violi il Regolamento, puoi proporre reclamo al "
     "<a href=\"https://www.garanteprivacy.it\">Garante per la protezione dei dati "
     "personali</a> (art. 77).</p>"),
]

ACCESSIBILITY = [
    ("Dichiarazione di accessibilità",
     "<p>Il Comune di Esempio si impegna a rendere il proprio sito accessibile, conformemente "
     "alla legge 9 gennaio 2004, n. 4 e alle Linee guida AgID sull'accessibilità degli "
     "strumenti informatici, che rimandano alla norma UNI EN 301549 e alle WCAG 2.1 di "
     "livello AA.</p>"
     "<p>La dichiarazione di accessibilità è compilata e pubblicata ogni anno, entro il 23 "
     "settembre, sulla piattaforma di AgID: [indirizzo https://form.agid.gov.it/view/… della "
     "dichiarazione del Comune].</p>"),
    ("Segnalare un problema di accessibilità",
     "<p>Se trovi contenuti o funzioni del sito che non riesci a usare, scrivi a "
     "urp@comune.example.it oppure usa la richiesta di assistenza: ti risponderemo entro 30 "
     "giorni. Se la risposta non ti soddisfa puoi rivolgerti al Difensore civico per il "
     "digitale presso AgID.</p>"),
]

LEGAL_NOTES = [
    ("Copyright",
     "<p>I contenuti del sito sono del Comune di Esempio, salvo dove indicato diversamente. "
     "Il logo e gli stemmi del Comune non possono essere usati senza autorizzazione.</p>"),
    ("Collegamenti ad altri siti",
     "<p>Il Comune non è responsabile dei contenuti dei siti esterni raggiungibili con i "
     "collegamenti presenti su questo sito.</p>"),
    ("Privacy",
     "<p>Il trattamento dei dati personali è descritto nell'informativa privacy, raggiungibile "
     "dal piè di pagina di ogni pagina.</p>"),
]

SERVICES_INTRO = "Tutti i servizi del Comune: scegli il servizio per sapere come fare e chi contattare."
SERVICE = {
    "title": "Carta d'identità elettronica",
    "intro": "Richiedere la carta d'identità elettronica (CIE) o rinnovarla quando scade.",
    "body": [
        ("Cos'è",
         "<p>La carta d'identità elettronica è il documento di identità dei cittadini italiani; "
         "permette anche di accedere ai servizi online della pubblica amministrazione.</p>"),
        ("Come fare",
         "<p>Prenota un appuntamento presso i Servizi demografici e porta una fototessera "
         "recente e il documento scaduto o la denuncia di smarrimento.</p>"),
    ],
    "office_name": "Servizi demografici",
    "office_email": "anagrafe@comune.example.it",
    "office_phone": "011 555 0400",
}


def stream(sections):
    """A StreamField value: a heading and a paragraph per (title, html)."""
    body = []
    for title, html in sections:
        body.append({"type": "heading", "value": title, "id": str(uuid.uuid4())})
        body.append({"type": "paragraph", "value": html, "id": str(uuid.uuid4())})
    return json.dumps(body)


def _next_child_path(Page, parent):
    last = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1) \
        .order_by("-path").values_list("path", flat=True).first()
    if last is None:
        return parent.path + "0001"
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    step = last[-4:]
    number = 0
    for char in step:
        number = number * 36 + alphabet.index(char)
    number += 1
    digits = ""
    for _ in range(4):
        number, rest = divmod(number, 36)
        digits = alphabet[rest] + digits
    return parent.path + digits


def add_child(apps, parent, model_name, **fields):
    """Create a live child page of ``parent`` with historical models (no
    treebeard API in migrations), unless its slug is already taken there."""
    Page = apps.get_model("wagtailcore", "Page")
    ContentType = apps.get_model("contenttypes", "ContentType")
    model = apps.get_model("home", model_name)
    existing = Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1,
                                   slug=fields["slug"]).first()
    if existing is not None:
        return existing
    content_type, _ = ContentType.objects.get_or_create(app_label="home",
                                                        model=model_name.lower())
    page = model.objects.create(
        path=_next_child_path(Page, parent), depth=parent.depth + 1, numchild=0,
        url_path=f"{parent.url_path}{fields['slug']}/", content_type=content_type,
        locale_id=parent.locale_id, live=True, draft_title=fields["title"], **fields)
    Page.objects.filter(pk=parent.pk).update(numchild=parent.numchild + 1)
    parent.numchild += 1
    return page


def create(apps, schema_editor):
    Site = apps.get_model("wagtailcore", "Site")
    Page = apps.get_model("wagtailcore", "Page")
    HelpdeskSettings = apps.get_model("wagtail_helpdesk", "HelpdeskSettings")
    site = Site.objects.filter(is_default_site=True).first()
    home = Page.objects.filter(pk=site.root_page_id).first() if site else None
    if home is None:
        return
    privacy = add_child(apps, home, "StandardPage", slug=PRIVACY_SLUG,
                        title="Informativa privacy",
                        intro="Informativa sul trattamento dei dati personali di chi chiede "
                              "assistenza o segnala un disservizio (art. 13 del Regolamento "
                              "UE 2016/679).",
                        body=stream(PRIVACY))
    add_child(apps, home, "StandardPage", slug=ACCESSIBILITY_SLUG,
              title="Dichiarazione di accessibilità", intro="", body=stream(ACCESSIBILITY))
    add_child(apps, home, "LegalNotesPage", slug=LEGAL_NOTES_SLUG, title="Note legali",
              intro="Le condizioni di utilizzo del sito e dei suoi contenuti.",
              licence_heading="Licenza dei contenuti", licence_text=LICENCE_TEXT,
              body=stream(LEGAL_NOTES))
    services = add_child(apps, home, "ServiceIndexPage", slug=SERVICES_SLUG, title="Servizi",
                         intro=SERVICES_INTRO, show_in_menus=True)
    assistance = Page.objects.filter(path__startswith=home.path, depth=home.depth + 1,
                                     slug="richiedi-assistenza").first()
    add_child(apps, services, "ServicePage", slug=SERVICE_SLUG, title=SERVICE["title"],
              intro=SERVICE["intro"], body=stream(SERVICE["body"]),
              office_name=SERVICE["office_name"], office_email=SERVICE["office_email"],
              office_phone=SERVICE["office_phone"],
              assistance_page_id=assistance.pk if assistance else None)
    settings, _ = HelpdeskSettings.objects.get_or_create(site_id=site.pk)
    if settings.privacy_page_id is None:
        settings.privacy_page_id = privacy.pk
        settings.save(update_fields=["privacy_page_id"])
