"""The Italian-ish vocabulary the dataset is written with: names (with their
fiscal-code letters), words for subjects and sentences for descriptions.

Deterministic: the same lists in the same order on every run, so a dataset of
a given size is the same everywhere.
"""

import random

FAMILY_NAMES = """
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo
Conti DeLuca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro
Mariani Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale
Lombardo Serra Coppola DeSantis DAngelo Marchetti Parisi Villa Conte Ferraro Ferri
Fabbri Bianco Marini Grasso Valentini Messina Sala DeAngelis Gatti Pellegrini Palumbo
Sanna Farina Rizzi Monti Cattaneo Morelli Amato Silvestri Mazza Testa Grassi
Pellegrino Carbone Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri
Bernardi Martino Fiore DeRosa Ferretti Bellini Basile Riva Donati Piras Vitali
Battaglia Sartori Neri Costantini Milani Pagano Ruggiero Sorrentino DAmico Orlando
Damico Negri Bassi Fumagalli Giorgi Ventura Cirillo Mele Poli Mariotti Cocco
Zanetti Colonna Brambilla Pace Bonetti Guidi Ruggeri Marras Pastore Tedesco Morra
Sarti Fiorentino Rota Bertolini Mazzola Calabrese Cristiani Lorenzi Vaccaro Orsini
""".split()

MALE_NAMES = """
Marco Giuseppe Giovanni Antonio Mario Luigi Francesco Andrea Alessandro Paolo Roberto
Stefano Luca Matteo Lorenzo Davide Simone Federico Riccardo Gabriele Emanuele Tommaso
Salvatore Vincenzo Pietro Michele Carlo Claudio Massimo Fabio Daniele Enrico Sergio
Alberto Nicola Filippo Giorgio Leonardo Edoardo Bruno
""".split()

FEMALE_NAMES = """
Maria Anna Giulia Francesca Chiara Sara Laura Valentina Elena Alessandra Martina
Federica Silvia Paola Roberta Giorgia Elisa Cristina Simona Barbara Sofia Aurora
Alice Ginevra Beatrice Camilla Serena Monica Daniela Claudia Lucia Rita Teresa
Angela Carla Rosa Caterina Veronica Ilaria Marta
""".split()

SUBJECT_WORDS = """
certificato residenza anagrafe carta identità passaporto tessera elettorale cambio
indirizzo iscrizione mensa scolastica trasporto scuolabus asilo nido retta rimborso
tari tassa rifiuti raccolta differenziata ingombranti compostiera cassonetto pieno
buca strada marciapiede dissestato illuminazione pubblica lampione spento semaforo
guasto segnaletica cartello parcheggio permesso disabili zona traffico limitato
multa contravvenzione ricorso verbale pagamento bollettino avviso scadenza imu
acconto saldo dichiarazione esenzione contributo affitto bonus bando graduatoria
domanda pratica edilizia permesso costruire condono agibilità sanatoria catasto
visura planimetria verde potatura albero caduto giardino parco giochi rotto fontana
acqua perdita tombino allagamento fognatura odore rumore schiamazzi cantiere
polvere animali randagi colonia felina cane abbandonato biblioteca prestito libro
museo biglietto evento patrocinio sala concessione suolo pubblico occupazione
mercato ambulante licenza commercio orario apertura sportello appuntamento ufficio
informazioni modulo allegato ricevuta protocollo accesso atti segnalazione degrado
graffiti vandalismo rifiuti abbandonati discarica abusiva bici rubata sosta vietata
passo carrabile lavori stradali neve ghiaccio sale fermata autobus pensilina
""".split()

STREETS = """
Garibaldi Mazzini Cavour Roma Dante Verdi Marconi Matteotti Gramsci Manzoni
Vittorio\u00a0Emanuele Kennedy Leopardi Puccini Carducci Colombo Galilei Volta
Fermi Pascoli Foscolo Petrarca Diaz Nazionale Repubblica Libertà Indipendenza
""".split()

#: Birthplace codes of Italian municipalities that have existed unchanged
#: since 1861 (a fiscal code's place must have existed on the birth date).
PLACES = """
A013 A050 A091 A160 A188 A224 A264 A295 A338 A383 A402 A485 A541 A587 A638 A671 A713
A756 A820 A851 A887 A910 A965 A991 B049 B098 B142 B217 B264 B285 B351 B394 B437 B453
B486 B555 B603 B651 B692 B759 B803 B845 B866 B902 B993 C060 C090 C128 C174 C218 C261
C314 C341 C387 C436 C485 C515 C557 C600 C648 C676 C709 C763 C806 C855 C905 C958 C984
D044 D108 D162 D229 D304 D352 D434 D495 D531 D597 D644 D693 D755 D793 D828 D873 D920
D967 E006 E034 E090 E118 E170 E209 E235 E255 E307 E364 E409 E438 E486 E541 E571 E621
E706 E750 E815 E876 E915 E968 E993 F030 F101 F147 F202 F256 F318 F397 F445 F492 F564
F595 F656 F713 F749 F781 F830 F886 F915 F990 G034 G079 G129 G192 G226 G263 G295 G320
G378 G435 G478 G522 G590 G653 G710 G752 G793 G837 G877 G932 H015 H074 H150 H186 H227
H281 H337 H389 H428 H473 H507 H560 H593 H688 H767 H831 H900 H959 H985 I098 I155 I262
I291 I422 I455 I504 I543 I599 I628 I653 I723 I756 I827 I872 I909 I956 L004 L048 L109
L180 L224 L259 L308 L357 L427 L482 L526 L580 L656 L747 L784 L837
""".split()

VOWELS = set("AEIOU")


def _letters(name):
    return [c for c in name.upper() if c.isalpha() and c.isascii()]


def family_code(name):
    """The three fiscal-code letters of a family name."""
    letters = _letters(name)
    cons = [c for c in letters if c not in VOWELS]
    vows = [c for c in letters if c in VOWELS]
    return "".join(cons + vows + ["X", "X", "X"])[:3]


def given_code(name):
    """The three fiscal-code letters of a given name (1st, 3rd, 4th consonant
    when there are four or more)."""
    letters = _letters(name)
    cons = [c for c in letters if c not in VOWELS]
    if len(cons) >= 4:
        cons = [cons[0], cons[2], cons[3]]
    vows = [c for c in letters if c in VOWELS]
    return "".join(cons + vows + ["X", "X", "X"])[:3]


def display_family(name):
    """"DeLuca" → "De Luca", "DAngelo" → "D'Angelo"."""
    if name.startswith("D") and len(name) > 1 and name[1] in "AEIOU" and name[1].isupper():
        return "D'" + name[1:]
    if name.startswith("De") and len(name) > 2 and name[2].isupper():
        return "De " + name[2:]
    return name


def sentences(count=4000, seed=20):
    """Descriptions' sentences: a citizen's words about their problem."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible text, not secrets
    openers = ["Buongiorno, vorrei segnalare", "Salve, chiedo informazioni su",
               "Scrivo per", "Come da telefonata, richiedo", "Segnalo da giorni",
               "Vorrei sapere lo stato di", "Chiedo cortesemente", "Da settimane c'è"]
    closers = ["Grazie.", "Resto in attesa di riscontro.", "Cordiali saluti.",
               "È urgente.", "Allego foto.", "Attendo una risposta.", ""]
    out = []
    for _ in range(count):
        words = [SUBJECT_WORDS[int(len(SUBJECT_WORDS) * rng.random() ** 1.5)]
                 for _ in range(rng.randint(6, 16))]
        street = rng.choice(STREETS).replace("\u00a0", " ")
        out.append(f"{rng.choice(openers)} {' '.join(words)} in via {street} "
                   f"{rng.randint(1, 180)}. {rng.choice(closers)}".strip())
    return out
