"""People's names, postal addresses and dates of birth, found without a language model.

- Dates of birth: a date (numeric, or with a month's name in English, French, Spanish or
  German) shortly after words that call it one ("born", "DOB", "né le", "fecha de
  nacimiento", "geboren am"...). Other dates (deliveries, invoices) stay.
- Postal addresses: a street (a number and a street type of the four languages, either
  order), with what follows it as addresses are written: flat or floor, postal code and
  city (US ZIP with state, UK postcode, five-digit codes).
- Names: runs of capitalised words (with particles: "de la", "van der", "bin") judged on
  what surrounds them and on the first names and surnames of 105 countries
  (:mod:`llmops.requestlog.namelists`). A title ("Mr", "Mme", "Sra.", "Herr") or an
  introduction ("my name is", "je m'appelle", "me llamo", "ich heiße", a greeting, a
  signature after "Thanks,") makes its run a name, lowercase ones included when they are
  known names; without one, a run is a name when it reads as first name and surname and
  holds no common word of the text's languages, a brand or a place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops.requestlog.namelists import names
from llmops.requestlog.spans import Span

# -- dates of birth ----------------------------------------------------------------------

_MONTHS = (
    r"jan(?:uary|vier|\.)?|feb(?:ruary|\.)?|fév(?:rier|\.)?|fev(?:rier)?|febrero|februar|"
    r"mar(?:ch|s|zo|\.)?|märz|maerz|apr(?:il|\.)?|avr(?:il|\.)?|abr(?:il)?|may|mai|mayo|"
    r"jun(?:e|\.|io|i)?|juin|jul(?:y|\.|io|i)?|juil(?:let|\.)?|aug(?:ust|\.)?|août|aout|"
    r"ago(?:sto)?|sep(?:t|tember|tembre|tiembre|\.)?|setiembre|oct(?:ober|obre|ubre|\.)?|"
    r"okt(?:ober)?|nov(?:ember|embre|iembre|\.)?|dec(?:ember|\.)?|déc(?:embre|\.)?|"
    r"dic(?:iembre)?|dez(?:ember)?|enero|ene\.?|januar"
)
_DATE = re.compile(
    rf"(?i)(?<![\w/.-])(?:"
    rf"\d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+|of\s+)?(?:{_MONTHS})\.?,?\s+"
    rf"(?:de\s+)?\d{{4}})|"
    rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    rf")(?![\w/-])"
)
_BIRTH = re.compile(
    r"(?i)\b(?:born|birth|birthday|dob|d\.o\.b|né|née|nee|naissance|naiss\.|nacimiento|"
    r"nacid[oa]|nací|nac\.|cumple|cumpleaños|anniversaire|geboren|geburtsdatum|geburtstag|"
    r"geb\.)"
)


def birth_dates(text: str) -> Iterator[Span]:
    for m in _DATE.finditer(text):
        before = text[max(0, m.start() - 45) : m.start()]
        cues = list(_BIRTH.finditer(before))
        if cues and not _DATE.search(before, cues[-1].end()):
            yield Span(m.start(), m.end(), "DATE_OF_BIRTH")


# -- postal addresses --------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019-]*"
_CITY_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\u2019]+(?:-[A-Za-zÀ-ÖØ-öø-ÿ'\u2019]+)*"
_CITY = (
    rf"{_CITY_WORD}(?:\s(?:{_CITY_WORD}|sur|sous|en|de|la|le|les|am|an|der|im|del|di|"
    r"upon|on))"
    r"{0,3}"
)
_UNIT = (
    r"(?i:,?\s*(?:apt\.?|apartment|suite|ste\.?|unit|flat|floor|fl\.|#|appt\.?|app\.?|"
    r"appartement|bât\.?|bâtiment|bat\.?|escalier|esc\.?|étage|etage|piso|puerta|pta\.?|"
    r"planta|bloque|portal|depto\.?|dpto\.?|whg\.?|wohnung|stock|og|interno|int\.|scala)"
    r"\s*[\w/-]{1,6}(?:\s+(?:depto\.?|dpto\.?|puerta|pta\.?)\s*\w{1,3})?"
    r"|,?\s*\d{1,2}\s?(?:º|°|ª|e|er|ème|re)\s?(?:izq(?:uierda)?\.?|dcha\.?|derecha|"
    r"étage|[A-Za-z](?![a-zà-ÿ]))?"
    r"|,?\s*\d{1,2}\.\s?(?:og|stock|etage|obergeschoss)(?:\s+(?:links|rechts|li\.?|re\.?|"
    r"mitte))?"
    r"|,?\s*(?:hinterhaus|vorderhaus|seitenflügel|gartenhaus|rez-de-chaussée|rdc))"
)
_STATE_CODE = r"(?:,?\s*[A-Z]{2,3}\s+(?:\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d))"
"""A state or province and its code: "TX 78731", "ON M5J 2N7", "NSW 2088"."""
_US_TAIL = rf"(?:,?\s*{_CITY})?{_STATE_CODE}|,\s*{_CITY}"
_UK_POSTCODE = r"(?:,?\s*(?:" + _CITY + r"\s+)?[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
_POSTAL_CITY = (
    r"(?:,?\s*(?:[A-Z]-?)?\d{4,5}\s+(?:" + _CITY + r"|[a-zà-ÿ][\w'\u2019-]+)"
    r"(?:\s+(?i:cedex)(?:\s+\d{1,2})?)?)"
)
_EN_TYPES = (
    r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|"
    r"terrace|close|crescent|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|row|"
    r"gardens|grove|hill|mews|walk|rise|view|park"
)
_FR_TYPES = (
    r"rue|avenue|av\.|bd|boulevard|place|chemin|impasse|allée|allee|quai|cours|route|rte|"
    r"square|passage|faubourg|fg|rond-point|villa|cité|résidence|sentier|voie|esplanade|"
    r"promenade|parvis|hameau|lotissement|traverse|montée|chaussée|ruelle|mail"
)
_ROMANCE_TYPES = (
    r"(?i:c/|calle|avda\.?|av\.|avenida|paseo|p[º°]|plaza|pza\.?|camino|carretera|ctra\.?|"
    r"ronda|travesía|glorieta|rambla|callejón|urbanización|urb\.|carrer|rúa|praza|rua|"
    r"travessa|largo)|Via|Viale|Piazza|Corso|Vicolo|Strada"
)
_DE_STREET = (
    r"(?:[A-ZÄÖÜ][\wäöüß.-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt|graben|wall|kamp|stieg|zeile|promenade)|"
    r"(?:Am|An der|An den|Im|In der|Auf der|Auf dem|Zum|Zur|Unter den|Alte|Neue|Große|"
    r"Kleine)\s[A-ZÄÖÜ][\wäöüß-]+)"
)
_BEFORE_STREET = (
    r"(?:(?i:flat|unit|apt\.?|apartment|suite|résidence|immeuble|bâtiment|bât\.?)\s*"
    r"[\w'\u2019 -]{1,30}?,\s*(?:(?i:bât\.?|bâtiment|escalier)\s*\w{1,3},\s*)?)?"
)
"""What may come before the street: "Flat 2, ", "Résidence Les Acacias, Bât. B, "."""
_ADDRESSES = tuple(
    re.compile(p)
    for p in (
        # "221B Baker Street, London NW1 6XE", "4521 Oak Ridge Dr, Austin, TX 78731"
        rf"{_BEFORE_STREET}(?<![\w-])\d{{1,5}}[A-Za-z]?,?\s+(?:{_CAP}\s+){{1,4}}"
        rf"(?i:{_EN_TYPES})\b\.?(?:\s[NSEW]{{1,2}}\b)?{_UNIT}*(?:{_UK_POSTCODE}|{_US_TAIL})?",
        # "12 rue des Lilas, 75011 Paris", "27 bis avenue Jean Jaurès, Bât. C, 69007 Lyon"
        rf"{_BEFORE_STREET}(?<![\w-])\d{{1,4}}(?:\s?(?:bis|ter|[A-H]))?,?\s+(?i:{_FR_TYPES})\s+"
        rf"[^,\n\d]{{2,50}}?(?={_UNIT}|{_POSTAL_CITY}|[,.;\n]|$){_UNIT}*{_POSTAL_CITY}?",
        # "Calle Mayor 5, 3º B, 28013 Madrid", "Via Garibaldi 28, 10122 Torino"
        rf"(?<![\w-])(?:{_ROMANCE_TYPES})\s*(?:(?:de|del|de la|de los|de las|dos|da)\s+)?"
        rf"{_CAP}[^,\n\d]{{0,40}}?,?\s*(?:n[º°o]\.?\s*)?\d{{1,4}}(?![\d])[A-Za-z]?"
        rf"{_UNIT}*{_POSTAL_CITY}?",
        # "Hauptstraße 17, 10827 Berlin", "Am Markt 3a"
        rf"(?<![\w-]){_DE_STREET}\s+\d{{1,4}}\s?[a-zA-Z]?(?:[-/]\d{{1,3}})?(?![\d])"
        rf"{_UNIT}*{_POSTAL_CITY}?",
        # "PO Box 1187, Decatur, GA 30031", "BP 42, 75001 Paris"
        rf"(?i:p\.?\s?o\.?\s?box|postfach|boîte postale|bp|apartado(?: de correos)?)\s*\d{{1,6}}"
        rf"(?:{_POSTAL_CITY}|{_US_TAIL})?",
    )
)


def addresses(text: str) -> Iterator[Span]:
    for pattern in _ADDRESSES:
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end().__index__() - _trailing(m.group()), "ADDRESS")


def _trailing(found: str) -> int:
    return len(found) - len(found.rstrip(" ,.;"))


# -- names -------------------------------------------------------------------------------

_TITLES = (
    r"mr|mrs|ms|miss|mx|dr|prof|sir|madam|mister|m|mme|mlle|mmes|me|monsieur|madame|"
    r"mademoiselle|sr|sra|srta|señor|señora|señorita|don|doña|dña|d|herr|herrn|frau|hr|fr|"
    r"dott|sig|sig\.ra"
)
_TITLE = re.compile(rf"(?i)(?<!\w)(?:{_TITLES})\.?\s+$")
_INTRO = re.compile(
    r"(?i)(?:my name is|my name's|name is|i am|i'm|this is|signed|regards|kind regards|"
    r"best regards|thanks|thank you|many thanks|cheers|best|sincerely|hi|hello|hey|dear|"
    r"attn|je m'appelle|je m\u2019appelle|je suis|mon nom est|moi c'est|de la part de|signé|"
    r"bonjour|bonsoir|salut|cher|chère|merci|cordialement|bien à vous|bien cordialement|"
    r"me llamo|mi nombre es|soy|de parte de|hola|estimad[oa]|querid[oa]|gracias|saludos|"
    r"un saludo|atentamente|ich bin|ich heiße|ich heisse|mein name ist|hier ist|hallo|"
    r"liebe|lieber|grüße|viele grüße|beste grüße|gruß|mfg|danke|vielen dank|"
    r"ask for|spoke to|spoke with|talked to|parlé à|parlé avec|hablé con|"
    r"gesprochen mit|named|called|appelée?|llamad[oa]|namens|holder|titulaire|titular|"
    r"inhaber|inhaberin|"
    r"my (?:husband|wife|son|daughter|mother|father|mum|mom|dad|brother|sister|colleague|"
    r"manager|partner|friend|boss|tenant|neighbour|neighbor)|"
    r"(?:mon|ma) (?:mari|femme|fils|fille|mère|père|frère|sœur|soeur|collègue|conjoint|"
    r"voisin|voisine)|"
    r"mi (?:marido|mujer|esposa|esposo|hijo|hija|madre|padre|hermano|hermana|compañer[oa])|"
    r"(?:mein|meine|meinem|meiner) (?:mann|frau|sohn|tochter|mutter|vater|bruder|"
    r"schwester|kollege|kollegin|nachbar|nachbarin)|merci beaucoup|thanks a lot|"
    r"thanks so much|muchas gracias|mil gracias|vielen lieben dank|guten tag|"
    r"buenos días|buenas tardes|good morning|good afternoon)(?:[\s,:;-]*|[!.]\s*\n\s*)$"
)
_LEADS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "cheers",
        "regards",
        "best",
        "sincerely",
        "signed",
        "attn",
        "bonjour",
        "bonsoir",
        "salut",
        "cher",
        "chère",
        "merci",
        "cordialement",
        "hola",
        "estimado",
        "estimada",
        "querido",
        "querida",
        "gracias",
        "saludos",
        "atentamente",
        "hallo",
        "liebe",
        "lieber",
        "grüße",
        "gruß",
        "mfg",
        "danke",
        "titular",
        "titulaire",
        "inhaber",
        "inhaberin",
        "holder",
        "moin",
        "servus",
        "mutter",
        "vater",
        "sohn",
        "tochter",
        "bruder",
        "schwester",
        "kollege",
        "kollegin",
        "nachbar",
        "nachbarin",
        "i'm",
        "soy",
        "name",
        "nom",
        "nombre",
        "vorname",
        "nachname",
        "famille",
        "familia",
        "familie",
    ]
)
"""Capitalised words that open a run but are not the name: greetings, signatures."""
_TITLE_WORDS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "mister",
        "m",
        "mme",
        "mlle",
        "mmes",
        "me",
        "monsieur",
        "madame",
        "mademoiselle",
        "sr",
        "sra",
        "srta",
        "señor",
        "señora",
        "señorita",
        "don",
        "doña",
        "dña",
        "herr",
        "herrn",
        "frau",
        "hr",
        "fr",
        "dott",
        "sig",
    ]
)
_FIELD = re.compile(
    r"(?i)(?:name|full name|first name|last name|surname|given name|name on (?:the )?"
    r"(?:acct|account|card|booking|ticket|order)|nom|prénom|prenom|nom de famille|"
    r"nom d'usage|nom de naissance|nom de jeune fille|au nom de|à l'attention de|"
    r"a l'attention de|famille|nombre|apellidos?|nombre completo|a nombre de|"
    r"vorname|nachname|familienname|geburtsname|auf den namen|contact person|titular|"
    r"account holder|holder|beneficiary|bénéficiaire|beneficiario|empfänger|patient|"
    r"passenger|passager|pasajero|passagier|driver|conducteur|conductor|fahrer|signature|"
    r"firma|unterschrift|a certain|un certain|une certaine|un tal|una tal|ein gewisser|"
    r"eine gewisse|"
    r"(?:my|mon|ma|mi|mein|meine|meinem|meiner)\s+(?:fiancée?|fiance|grandma|grandmother|"
    r"grandfather|grandpa|aunt|uncle|niece|nephew|cousin|assistant|accountant|lawyer|"
    r"solicitor|landlord|grand-mère|grand-père|compagne|compagnon|tante|oncle|nièce|neveu|"
    r"cousine?|avocate?|abuel[oa]|t[íi][oa]|pareja|novi[oa]|sobrin[oa]|prim[oa]|abogad[oa]|"
    r"oma|opa|verlobte[rn]?|partner(?:in)?|tante|onkel|anwalt|anwältin))"
    r"\s*[:=,-]?\s*$"
)
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "das",
        "do",
        "dos",
        "du",
        "des",
        "del",
        "della",
        "di",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "le",
        "la",
        "bin",
        "ibn",
        "al",
        "el",
        "ben",
        "y",
        "e",
        "mac",
        "zu",
        "abu",
        "bint",
    ]
)
_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")
_BRANDS = frozenset(
    w.casefold()
    for w in (
        "Louis Vuitton", "Calvin Klein", "Hugo Boss", "Ralph Lauren", "Tommy Hilfiger",
        "Yves Saint Laurent", "Christian Dior", "Marc Jacobs", "Michael Kors",
        "Jean Paul Gaultier", "Karl Lagerfeld", "Estée Lauder", "Giorgio Armani",
        "Dolce Gabbana", "Johnson Johnson", "Ben Jerry's", "Mercedes-Benz", "Alfa Romeo",
        "Aston Martin", "Rolls-Royce", "Harley-Davidson", "Procter Gamble", "Marks Spencer",
        "Tom Ford", "Kate Spade", "Tory Burch", "Vera Wang", "Max Mara", "Paul Smith",
        "Ted Baker", "Stella McCartney", "Coco Chanel", "Jimmy Choo", "Pierre Cardin",
        "Guy Laroche", "Jean Coutu", "Dr Martens", "Walt Disney", "John Deere",
        "John Lewis", "Charles Schwab", "Wells Fargo", "Goldman Sachs", "Morgan Stanley",
        "Lloyds", "Barclays", "Ronald McDonald", "Martin Luther King", "Victoria Station",
        "Saint Laurent", "Bertrand Russell", "Mary Kay", "Dior", "Chanel", "Hermès",
        "Philips", "Siemens", "Bosch", "Dell", "Ford", "Porsche", "Ferrari", "Lamborghini",
        "Peugeot", "Renault", "Citroën", "Michelin", "Nestlé", "Carrefour", "Lidl", "Aldi",
        "Boulanger", "Darty", "Decathlon", "Leroy Merlin", "Zara", "Mango", "Adidas", "Puma",
        "Nike", "Jordan", "Tesla", "Disney", "Kellogg's", "Heinz", "Cadbury", "Boots",
        "Sainsbury's", "Tesco", "Morrisons", "Harrods", "Selfridges", "Abercrombie Fitch",
        "Jack Daniel's", "Johnnie Walker", "Jim Beam", "Dom Pérignon", "Moët Chandon",
        "Levi's", "Victoria's Secret", "McDonald's", "Wendy's", "Domino's", "Macy's",
        "Trader Joe's", "Papa John's", "Carl's Jr", "Tim Hortons", "Marie Claire",
        "Zara Home", "Massimo Dutti", "Emporio Armani", "Tommy Jeans",
    )
)  # fmt: skip
"""Brands named after people: never a person's name on their own."""
_BRAND = re.compile(
    r"(?i)(?<!\w)(?:"
    + "|".join(
        r"\s*(?:&|and|et|y|und)?\s*".join(re.escape(w) for w in brand.split())
        for brand in sorted(_BRANDS, key=len, reverse=True)
    )
    + r")(?!\w)"
)
_CAPITALISED = re.compile(r"^[A-ZÀ-ÖØ-ÞĀ-Ž]")


def _common(word: str) -> float:
    """How common ``word`` is as a word of the four languages (Zipf scale), for the names
    the lexicon knows; 0 for the others (they are no common words: those are all names
    somewhere)."""
    common = names().common
    key = word.casefold()
    if "-" in key and key not in common:
        return max(common.get(part, 0.0) for part in key.split("-"))
    return common.get(key, 0.0)


def _is_name_word(word: str) -> bool:
    return _CAPITALISED.match(word) is not None and (
        word[1:] != word[1:].upper() or len(word) <= 3 or word.isupper()
    )


def _runs(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """Runs of capitalised words (particles between them), as (start, end, words)."""
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        if not _is_name_word(words[i].group()):
            i += 1
            continue
        j = i
        k = i + 1
        while k < len(words):
            gap = text[words[k - 1].end() : words[k].start()]
            initial = len(words[k - 1].group()) == 1 and gap == ". "
            if gap not in {" ", "-"} and not initial:
                break
            w = words[k].group()
            if _is_name_word(w):
                j = k
            elif w.casefold() not in _PARTICLES:
                break
            k += 1
        yield words[i].start(), words[j].end(), [w.group() for w in words[i : j + 1]]
        i = j + 1


def _known(word: str) -> tuple[int | None, int | None]:
    """Its best ranks as a first name and as a surname (a hyphenated one: by its first
    part as a first name, its last part as a surname)."""
    lexicon = names()
    key = word.casefold()
    if "'" in key or "\u2019" in key:  # O'Malley, D'Angelo: as written, or as one word
        joined = re.sub(r"['\u2019]", "", key)
        last = lexicon.last.get(joined) or lexicon.last.get(re.split(r"['\u2019]", key)[-1])
        return lexicon.first.get(joined), last
    parts = key.split("-") if "-" in key else [key]
    return lexicon.first.get(parts[0]), lexicon.last.get(parts[-1])


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in '.!?:\n¡¿"«(' or text[:start].endswith("\n")


def _cued(text: str, start: int) -> bool:
    before = text[max(0, start - 40) : start]
    return bool(_TITLE.search(before) or _INTRO.search(before) or _FIELD.search(before))


def _titled(text: str, start: int) -> bool:
    return bool(_TITLE.search(text[max(0, start - 20) : start]))


_PLACE_OPENERS = frozenset(
    ["saint", "sainte", "san", "santa", "santo", "são", "sankt", "st", "ste"]
)
"""Words that open places ("Saint-Denis", "San Sebastián", "Sankt Gallen"), not people."""
_CALENDAR = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
        "januar",
        "februar",
        "märz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
    ]
)


def _plausible(text: str, start: int, end: int, words: list[str]) -> bool:
    """Not a brand named after someone, and no word in capitals ("ECONNREFUSED", "KLM")
    unless a form's field names it ("NOM : DUPONT")."""
    if any(w.casefold() in _CALENDAR for w in words):
        return False
    if words[0].casefold().split("-")[0] in _PLACE_OPENERS:
        return False
    if any(w.isupper() and len(w) > 1 for w in words) and not _FIELD.search(
        text[max(0, start - 40) : start]
    ):
        return False
    return not any(b.start() < end and b.end() > start for b in _BRAND.finditer(text))


def _reads_as_full_name(words: list[str]) -> bool:
    core = [w for w in words if w.casefold() not in _PARTICLES]
    if len(core) < 2 or len(core) > 4:
        return False
    first, _ = _known(core[0])
    _, last = _known(core[-1])
    if first is None or last is None:
        return False
    # A common word in the run ("Is Prime", "Magasin Auchan") is no name unless the name
    # is commoner than the word.
    return all(_common(w) < 5.0 for w in core if len(w) > 1) and (
        first <= 300 or _common(core[0]) < 4.0
    )


def _lone_name(word: str) -> bool:
    first, last = _known(word)
    return (first is not None or last is not None) and _common(word) < 3.2


def person_names(text: str) -> Iterator[Span]:
    for opening, end, run in _runs(text):
        words, start, titled, led = _trim(text, run, opening)
        if not words or not _plausible(text, start, end, words):
            continue
        cued = titled or led or _cued(text, start)
        known = known_name(words)
        if (
            (titled and words)
            or (cued and known)
            or _reads_as_full_name(words)
            or (known and _opens_with_first_name(words) and _signs_off(text, start, end))
            or (len(words) == 1 and not _sentence_start(text, start) and _lone_name(words[0]))
        ):
            yield Span(start, end, "PERSON")
    yield from _lowercase_names(text)


def _trim(text: str, run: list[str], start: int) -> tuple[list[str], int, bool, bool]:
    """The run without the greetings and titles that open it; whether a title or
    another lead was among them."""
    titled = led = False
    words = list(run)
    cut = max(
        (i for i, w in enumerate(words) if w.casefold().rstrip(".") in _TITLE_WORDS | _LEADS),
        default=-1,
    )
    for w in words[: cut + 1]:
        if w.casefold().rstrip(".") in _TITLE_WORDS:
            titled = True
        else:
            led = True
        start = text.index(w, start) + len(w)
    words = words[cut + 1 :]
    if words:
        start = text.index(words[0], start)
    if not titled:
        titled = _titled(text, start)
    return words, start, titled, led


def known_name(words: list[str]) -> bool:
    core = [w for w in words if w.casefold() not in _PARTICLES]
    return (
        bool(core)
        and _common(core[0]) < 6.0  # "Is", "Will": a word before a name
        and any(
            (first is not None and first <= FIRST_KNOWN) or last is not None
            for first, last in map(_known, core)
        )
    )


def _opens_with_first_name(words: list[str]) -> bool:
    core = [w for w in words if w.casefold() not in _PARTICLES]
    first, last = _known(core[0])
    if len(core) == 1 and first is None:
        return last is not None and _common(core[0]) < 3.5
    return first is not None and first <= FIRST_KNOWN


FIRST_KNOWN = 2000


def _signs_off(text: str, start: int, end: int) -> bool:
    """The run ends the message (or its line), on its own after a sentence, a comma or a
    dash: a signature."""
    after = text[end:].split("\n", 1)[0] if "\n" in text[end:] else text[end:]
    before = text[:start].rstrip()
    return not after.strip(" .!)") and (
        not before or before[-1] in ".!?:,;(\n—\u2013-" or text[:start].endswith("\n")
    )


def _lone_or_known(words: list[str]) -> bool:
    core = [w for w in words if w.casefold() not in _PARTICLES]
    return any(_known(w) != (None, None) or _common(w) < 3.5 for w in core)


_LOWER_INTRO = re.compile(
    r"(?i)(?:my name is|name is|name|name on \w+|i am|i'm|im|this is|it's|its|thanks|"
    r"thank you|thx|ty|cheers|regards|je m'appelle|je m\u2019appelle|je suis|c'est|cest|moi c'est|"
    r"merci|bisous|me llamo|soy|gracias|ich bin|bin die|bin der|ich heiße|mein name ist|"
    r"danke|gruß|lg|vg)[\s,:;!.-]*$"
)
_LOWER_STRONG = re.compile(
    r"(?i)(?:my name is|name is|je m'appelle|je m\u2019appelle|mon nom est|me llamo|"
    r"mi nombre es|ich heiße|ich heisse|mein name ist)\s+$"
)
_LOWER_WORD = re.compile(r"(?<![\w'\u2019@./-])[a-zà-ÿ]+(?:['\u2019-][a-zà-ÿ]+)*(?![\w@/-])")


def _lowercase_names(text: str) -> Iterator[Span]:
    """ "hi its marco rossi", "thx rob": known first names (and the surnames that follow)
    in lowercase after an introduction or a thanks, or alone at the end of a message."""
    words = list(_LOWER_WORD.finditer(text))
    i = 0
    while i < len(words):
        m = words[i]
        first, _ = _known(m.group())
        before = text[max(0, m.start() - 24) : m.start()]
        at_end = i == len(words) - 1 and not text[m.end() :].strip(" .!\n")
        signed = at_end and text[: m.start()].rstrip()[-1:] in {".", "!", "?", "-", "—", ","}
        strong = _LOWER_STRONG.search(before) is not None
        nxt = words[i + 1].group() if i + 1 < len(words) else ""
        surname = _known(nxt)[1] is not None and _common(nxt) < 4.0
        ceiling = 5.6 if strong or surname else 4.6
        if (
            first is None
            or first > FIRST_KNOWN
            or _common(m.group()) >= ceiling
            or not (strong or _LOWER_INTRO.search(before) or signed)
        ):
            i += 1
            continue
        end = m.end()
        k = i + 1
        while k < len(words) and k <= i + 3 and text[words[k - 1].end() : words[k].start()] == " ":
            w = words[k].group()
            if _known(w) == (None, None) or _common(w) >= ceiling - 0.6:
                break
            end = words[k].end()
            k += 1
        yield Span(m.start(), end, "PERSON")
        i = k
