"""Postal addresses and dates of birth, found without a language model.

- Dates of birth: a date (numeric, or with a month's name in English, French, Spanish or
  German) shortly after words that call it one ("born", "DOB", "né le", "fecha de
  nacimiento", "geboren am"...). Other dates (deliveries, invoices) stay.
- Postal addresses: a street (a number and a street type of the four languages, either
  order), with what follows it as addresses are written: flat or floor, postal code and
  city (US ZIP with state, UK postcode, five-digit codes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from llmops.requestlog.cues import CALENDAR
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
    r"nacid[oa]|nací|naci[óo]|nac\.|cumple|cumpleaños|anniversaire|geboren|geburtsdatum|"
    r"geburtstag|"
    r"geb\b\.?)"
)
_BORN_AFTER = re.compile(r"(?i)^\W{0,3}(?:\w+\s+){0,1}(?:geboren|born|née?)\b")
"""A birth date the words follow: "wurde am 3. Oktober 2014 geboren"."""


_TIME_AFTER = re.compile(r"[ \t,]+(?:at |à |um |a las )?\d{1,2}[:h]\d{2}")


def _a_calendar_date(found: str) -> bool:
    """Whether a numeric date's parts can be a day, a month and a year ("7712-44-01", an
    insurance number, cannot)."""
    parts = [int(p) for p in re.split(r"[./-]", found) if p.isdigit()]
    if len(parts) != 3 or not re.fullmatch(r"[\d./-]+", found):
        return True  # a month written as a word: the pattern bounds the rest
    if parts[0] > 31:  # year first
        year, month, day = parts
    else:
        day, month, year = parts
        if month > 12:  # "03/21/1990": month first
            day, month = month, day
    return 1 <= month <= 12 and 1 <= day <= 31 and (year < 100 or 1850 <= year <= 2100)


def birth_dates(text: str) -> Iterator[Span]:
    last = -100
    for m in _DATE.finditer(text):
        if not _a_calendar_date(m.group()):
            continue
        before = text[max(0, m.start() - 45) : m.start()]
        named = list(_BIRTH.finditer(before))
        if not named and _TIME_AFTER.match(text, m.end()):
            continue  # "admitted 06/02/2024 07:55": a moment; "né le ... à 10h30" stays
        chained = m.start() - last <= 15 and not re.search(r"[.!?\n]", text[last : m.start()])
        if (
            (named and not _DATE.search(before, named[-1].end()))
            or _BORN_AFTER.match(text[m.end() : m.end() + 30])
            or chained  # "Dad's birthday is 19 April 1952 and mum's 2 December 1955"
        ):
            last = m.end()
            yield Span(m.start(), m.end(), "DATE_OF_BIRTH")


# -- postal addresses --------------------------------------------------------------------

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'\u2019-]*"
_NAME_PARTICLES = r"(?:de|del|de la|de los|de las|la|las|los|el|y|i|da|do|dos|das|di|della|dei|d')"
_CITY_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\u2019]+(?:-[A-Za-zÀ-ÖØ-öø-ÿ'\u2019]+)*"
_CITY = (
    rf"{_CITY_WORD}(?:\s(?:{_CITY_WORD}|sur|sous|en|de|la|le|les|am|an|der|im|del|di|"
    r"upon|on))"
    r"{0,3}"
)
_UNIT = (
    r"(?i:,?\s*(?:apt\.?|apartment|suite|ste\.?|unit|flat|floor|fl\.|#|appt\.?|app\.?|"
    r"appartement|bât\.?|bâtiment|bat\.?|escalier|esc\.?|étage|etage|piso|puerta|pta\.?|"
    r"planta|bloque|portal|depto\.?|dpto\.?|whg\.?|wohnung|stock|og|interno|int\.|scala|"
    r"bte|boîte|bus|stiege|top|tür|tuer)"
    r"\s*[\w/-]{1,6}(?:\s+(?:depto\.?|dpto\.?|puerta|pta\.?)\s*\w{1,3})?"
    r"|,?\s*(?:bajo|bajos|entresuelo|entresòl|ático|atico|principal|pral\.?|sótano|local)"
    r"(?:\s+\d{1,2}[a-zº°ª]?)?(?:\s+(?:izq(?:uierda)?\.?|izda\.?|dcha\.?|derecha))?"
    r"|,?\s*(?:col\.|colonia|barrio|bº)\s+[^,\n\d]{2,40}"
    r"|,?\s*\d{1,2}\s?(?:º|°|ª|e|er|ème|re)\s?(?:izq(?:uierda)?\.?|dcha\.?|derecha|"
    r"étage|gauche|droite|[A-Za-z](?![a-zà-ÿ]))?"
    r"|,?\s*\d{1,2}(?:r|n|t|º|ª)\s\d{1,2}(?:a|ª|º)?"
    r"|,?\s*\d{1,2}\.\s?(?:og|stock|etage|obergeschoss)(?:\s+(?:links|rechts|li\.?|re\.?|"
    r"mitte))?"
    r"|,?\s*(?:hinterhaus|vorderhaus|seitenflügel|gartenhaus|rez-de-chaussée|rdc))"
)
_STATE_CODE = r"(?:,?\s*[A-Z]{2,3}\s+(?:\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d))"
"""A state or province and its code: "TX 78731", "ON M5J 2N7", "NSW 2088"."""
_US_TAIL = rf"(?:,?\s*{_CITY})?{_STATE_CODE}|,\s*{_CITY}"
_UK_POSTCODE = (
    r"(?:(?:,\s*" + _CITY + r"){0,2},?\s*(?:" + _CITY + r"\s+)?[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
)
_POSTAL_CITY = (
    r"(?:,?\s*(?:(?:[A-Z]-?)?\d{4,5}|[A-Z]\d{4}[A-Z]{3})\s+(?:"
    + _CITY
    + r"|[a-zà-ÿ][\w'\u2019-]+|[A-Z]{2,6}\b)"
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
    r"(?:[A-ZÄÖÜ][\wäöüß.-]*(?i:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt|graben|wall|kamp|stieg|zeile|promenade)|"
    r"(?:Am|An der|An den|Im|In der|Auf der|Auf dem|Zum|Zur|Unter den|Alte|Neue|Große|"
    r"Kleine)\s[A-ZÄÖÜ][\wäöüß-]+|"
    r"[A-ZÄÖÜ][\wäöüß-]+\s(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer))"
)
_BEFORE_STREET = (
    r"(?:(?i:flat|unit|apt\.?|apartment|suite|résidence|immeuble|bâtiment|bât\.?)\s*"
    r"[\w'\u2019 -]{1,30}?,\s*(?:(?i:bât\.?|bâtiment|escalier|apt\.?|appt\.?|appartement|"
    r"étage|porte)\s*\w{1,4},\s*){0,2})?"
)
"""What may come before the street: "Flat 2, ", "Résidence Les Acacias, Bât. B, "."""
_ADDRESSES = tuple(
    re.compile(p)
    for p in (
        # "221B Baker Street, London NW1 6XE", "4521 Oak Ridge Dr, Austin, TX 78731"
        rf"{_BEFORE_STREET}(?<![\w,.£$€-])\d{{1,5}}[A-Za-z]?,?[ \t]+(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th))"
        rf"[ \t]+){{1,4}}(?i:{_EN_TYPES})\b\.?(?:\s[NSEW]{{1,2}}\b)?{_UNIT}*"
        rf"(?:{_UK_POSTCODE}|{_US_TAIL}|(?:,\s*{_CITY})?{_POSTAL_CITY})?",
        # "12 rue des Lilas, 75011 Paris", "27 bis avenue Jean Jaurès, Bât. C, 69007 Lyon"
        rf"{_BEFORE_STREET}(?<![\w-])\d{{1,4}}(?:\s?(?:bis|ter|[A-H]))?,?\s+(?i:{_FR_TYPES})\s+"
        rf"[^,\n\d]{{2,50}}?(?={_UNIT}|{_POSTAL_CITY}|[,.;\n]|$){_UNIT}*"
        rf"(?:{_POSTAL_CITY}|{_US_TAIL})?",
        # "Calle Mayor 5, 3º B, 28013 Madrid", "Via Garibaldi 28, 10122 Torino": the number
        # right after the street's name (capitalised words and particles), no amount
        rf"(?<![\w-])(?:{_ROMANCE_TYPES})\s*(?:(?:de|del|de la|de los|de las|dos|da|dei|degli|"
        rf"della|delle|dello|di)\s+)?"
        rf"{_CAP}(?:[ \t]+(?:{_CAP}|{_NAME_PARTICLES})){{0,4}}?,?\s*(?:n[º°o]\.?\s*)?\d{{1,4}}"
        rf"(?![\d]|[.,]\d|\s?(?:€|\$|%|(?i:eur|euros?|pesos|usd|kg|km|cm|mm|gb|mb)\b))[A-Za-z]?"
        rf"{_UNIT}*{_POSTAL_CITY}?",
        # "Rue Royale 118 bte 3, 1000 Bruxelles": a Belgian or Swiss street, number after
        rf"(?<![\w-])(?i:rue|avenue|chaussée|boulevard|place|quai|chemin)\s+"
        rf"(?:(?:de la|de l'|des|du|de|d')\s*)?{_CAP}"
        rf"[^,\n\d]{{0,40}}?\s\d{{1,4}}[A-Za-z]?{_UNIT}*{_POSTAL_CITY}",
        # "Hauptstraße 17, 10827 Berlin", "Am Markt 3a"
        rf"(?<![\w-]){_DE_STREET}[ \t]+\d{{1,4}}\s?[a-zA-Z]?(?:[-/]\d{{1,3}}){{0,3}}(?![\d])"
        rf"{_UNIT}*{_POSTAL_CITY}?",
        # "PO Box 1187, Decatur, GA 30031", "BP 42, 75001 Paris"
        rf"(?i:p\.?\s?o\.?\s?box|postfach|boîte postale|bp|apartado(?: de correos)?)\s*\d{{1,6}}"
        rf"(?:{_POSTAL_CITY}|{_US_TAIL})?",
    )
)


_BUSINESS_NEAR = re.compile(
    r"(?i)\b(?:for lease|for sale|for rent|to let|à louer|à vendre|se alquila|se vende|"
    r"zu vermieten|zu verkaufen)\b|\b(?:gmbh|ltd|inc|sarl|llc)\b[^.\n]{0,6}$|"
    r"\b(?:our|notre|nuestr[ao]|unser\w*)\s+(?:new\s+|nouvea?u\s+|"
    r"neue[nsr]?\s+)?(?:office|offices|flagship|store|shop|branch|warehouse|showroom|premises|"
    r"bureau|bureaux|boutique|magasin|agence|local|siège|entrepôt|oficina|tienda|sucursal|"
    r"almacén|local|sede|büro|filiale|laden|geschäft|lager|zentrale|standort|praxis)\b"
)
"""Words that make an address a firm's, not a person's: "our office at ...", a listing, a
firm's name just before."""
_HOME = re.compile(
    r"(?i)\b(?:my|mon|ma|mi|mein\w*|home|casa|domicile|domicilio|wohne|wohnung|habite|"
    r"j'habite|vivo|live|lives|resid\w*)\b"
)


def addresses(text: str) -> Iterator[Span]:
    for pattern in _ADDRESSES:
        for m in pattern.finditer(text):
            if any(w.casefold() in CALENDAR for w in m.group().split()):
                continue  # "Avenida de la Victoria del viernes 13": a day, no number
            before = text[max(0, m.start() - 50) : m.start()]
            if _HOME.search(before):
                pass  # "ship to my home: ...", "mi casa: ..."
            elif _BUSINESS_NEAR.search(before) or re.match(
                r"\s*(?:office|store|shop|branch|büro|filiale)\b(?!\s+hours)",
                text[m.end() : m.end() + 30],
                re.I,
            ):
                continue
            yield Span(m.start(), m.end().__index__() - _trailing(m.group()), "ADDRESS")


def _trailing(found: str) -> int:
    return len(found) - len(found.rstrip(" ,.;"))
