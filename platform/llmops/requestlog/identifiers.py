"""National identifiers, each validated by its own rules, and phone numbers in context.

- US Social Security numbers: area not 000, 666 or 900-999, group not 00, serial not
  0000; written 3-2-4 with dashes or spaces, or as 9 digits where the text names them.
- French NIR: sex (1 or 2), year, month, department (2A/2B for Corsica), commune, order,
  and the key 97 - (number mod 97).
- UK National Insurance numbers: the prefixes HMRC issues, six digits, a suffix A-D.
- Spanish DNI and NIE: the check letter of the number mod 23.
- Other countries' (``nationalids``): German, Austrian, Swiss, Belgian, Indian, Mexican,
  Chilean and Argentine identifiers.
- Phone numbers: libphonenumber's matcher (valid numbers only), international numbers
  from any region however spaced (``+``, or ``00``), and national numbers of a few
  regions, except where the words before call the number an order, a reference, a ticket
  and the like (an order number shaped like a French mobile stays).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterator, Sequence

import phonenumbers

from llmops.requestlog.nationalids import national_ids_elsewhere
from llmops.requestlog.spans import Span

_SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
_SSN_WORDS = re.compile(
    r"(?i)\b(?:ssn|social security|soc\.? sec\.?|taxpayer|itin|sécurité sociale|"
    r"seguridad social|sozialversicherung)\b"
)
_NIR = re.compile(
    r"(?<![\dA-Za-z])([12]) ?(\d{2}) ?(\d{2}) ?(\d{2}|2[AaBb]) ?(\d{3}) ?(\d{3}) ?(\d{2})(?![\d])"
)
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])"
    r"(?![A-Za-z0-9])"
)
_NINO_NOT_ISSUED = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_DNI = re.compile(r"(?<![\w-])(\d{8})[- ]?([A-Za-z])(?![\w-])")
_NIE = re.compile(r"(?<![\w-])([XYZxyz])[- ]?(\d{7})[- ]?([A-Za-z])(?![\w-])")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def national_ids(text: str) -> Iterator[Span]:
    for found in (_ssns, _nirs, _ninos, _dnis, national_ids_elsewhere):
        for start, end in found(text):
            yield Span(start, end, "NATIONAL_ID")


def _ssns(text: str) -> Iterator[tuple[int, int]]:
    for m in _SSN.finditer(text):
        named = _SSN_WORDS.search(text, max(0, m.start() - 40), m.start())
        other = not named and _called_an_identifier(text, m.start())  # "Policy number ..."
        if _ssn_valid(m.group(1), m.group(3), m.group(4)) and (m.group(2) or named) and not other:
            yield m.span()


def _nirs(text: str) -> Iterator[tuple[int, int]]:
    for m in _NIR.finditer(text):
        sex, year, month, dept, commune, order, key = m.groups()
        if not (1 <= int(month) <= 12 or 20 <= int(month) <= 42 or int(month) >= 50):
            continue
        department = {"2A": "19", "2B": "18"}.get(dept.upper(), dept)
        if 97 - int(sex + year + month + department + commune + order) % 97 == int(key):
            yield m.span()


def _ninos(text: str) -> Iterator[tuple[int, int]]:
    for m in _NINO.finditer(text):
        if m.group(1) not in _NINO_NOT_ISSUED:
            yield m.span()


def _dnis(text: str) -> Iterator[tuple[int, int]]:
    for m in _DNI.finditer(text):
        if _DNI_LETTERS[int(m.group(1)) % 23] == m.group(2).upper():
            yield m.span()
    for m in _NIE.finditer(text):
        number = "XYZ".index(m.group(1).upper()) * 10**7 + int(m.group(2))
        if _DNI_LETTERS[number % 23] == m.group(3).upper():
            yield m.span()


MIN_NATIONAL_DIGITS = 8
"""Shorter numbers without a country code are codes more often than phones."""
PHONE_REGIONS = ("US", "GB", "FR", "DE", "ES", "IN", "IT", "BE", "CH", "AT", "NL", "IE")
"""Regions whose national formats are read (international numbers always are)."""
CALLED_PHONE_REGIONS = (
    "CA", "AU", "NZ", "SG", "NG", "KE", "ZA", "SN", "CI", "MA", "MX", "CO", "AR", "CL", "PE",
    "BR", "PT", "PL", "SE",
)  # fmt: skip
"""Regions whose national formats are read where the words before call the number a phone
("mi cel es 300 218 4471", "phone 8123 4567")."""
_NOT_A_PHONE = re.compile(
    r"(?i)(?:order|commande|pedido|bestell\w*|auftrag|aktenzeichen|serien\w*|ref(?:erence|érence|erencia|\.)?|"
    r"réf\.?|ticket|case|dossier|caso|fall|invoice|facture|factura|rechnung|contra[ct]t?o?|"
    r"vertrag|tracking|suivi|seguimiento|sendung|colis|parcel|paquete|paket|booking|"
    r"réservation|reserva|buchung|policy|police|póliza|customer|client|cliente|kunden\w*|"
    r"account|compte|cuenta|konto|serial|série|serie|sku|job|work order|agreement|mandate|"
    r"subscription|abonnement|suscripci[oó]n|returns? (?:label|number|no)|retour|"
    r"devoluci[oó]n|rücksend|acct|"
    r"licen[cs]e|licencia|lizenz|subscriber|abonné|abonado|abonnent|expediente|"
    r"intervention|intervención|receipt|reçu|recibo|beleg|quittung|claim|sinistre|siniestro|"
    r"schaden|rental|location|alquiler|miete|n°|nº|n\.º|#|"
    r"orden|ordre|siren|siret|handelsregister|ust-?idnr|complaint|plainte|reclamo|queja|beschwerde|meter|compteur|medidor|zähler|"
    r"artikel\w*|article|art[ií]culo|steuer\w*|expte|env[ií]o|"
    r"(?<![^\W\d_])(?:no\.|nr\.?|id|rma|kassenbon|kassenzettel|bce|kbo|nit|cif|nif|tva|vat|"
    r"rcs|hrb))\w*(?:\s+[^\s.!?]+){0,6}?"
    r"[\s:#°º.-]*(?:n[°º]|no\.?|nr\.?|number|numéro|número|nummer)?[\s:#°º.-]*$"
)
_PHONE_WORDS = re.compile(
    r"(?i)\b(?:phone|tel|tél|téléphone|telefon|teléfono|móvil|movil|mobile|portable|handy|"
    r"ligne|línea|linea|leitung|fixe|fijo|festnetz|landline|gsm|mobil|celular|"
    r"cell|call|appel\w*|llam\w*|anruf\w*|ruf|whatsapp|sms|fax|joindre|contact\w*)\b"
)


_INTERNATIONAL = re.compile(r"(?<![\w+])(?<!\d[ .-])(?:\+|00)[1-9][\d ().-]{5,22}\d(?![\d-])")


def phones(text: str, regions: Sequence[str] = PHONE_REGIONS) -> Iterator[Span]:
    seen: set[tuple[int, int]] = set()
    for region in regions:
        for m in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            if (m.start, m.end) in seen or not _stands_alone(text, m.start, m.end):
                continue
            digits = sum(c.isdigit() for c in m.raw_string)
            international = m.raw_string.lstrip("(").startswith(("+", "00"))
            if digits < MIN_NATIONAL_DIGITS and not international:
                continue
            seen.add((m.start, m.end))
            before = text[max(0, m.start - 40) : m.start]
            kind = phonenumbers.number_type(m.number)
            mobile = kind in _MOBILE_NUMBERS
            if _service_line(m.raw_string, regions, before, kind) or (
                _a_firms_line(before) and not mobile
            ):
                continue  # a firm's hotline ("1-800-463-3339", "0800 22 44 644"), no person's
            plus = m.raw_string.lstrip("(").startswith("+")
            if plus or not _called_an_identifier(text, m.start):
                yield Span(m.start, m.end, "PHONE_NUMBER")
    yield from _called_phones(text, seen)
    # International numbers of a possible length for their country, valid or not (new
    # ranges, numbers reserved for examples): "+" and a country code say what they are.
    for found in _INTERNATIONAL.finditer(text):
        raw = found.group()
        try:
            number = phonenumbers.parse("+" + raw[2:] if raw.startswith("00") else raw, None)
        except phonenumbers.NumberParseException:
            continue
        double_zero = raw.startswith("00")  # also how long numbers open: "contrat 0045 8812"
        if phonenumbers.is_possible_number(number) and not (
            double_zero and _called_an_identifier(text, found.start())
        ):
            yield Span(found.start(), found.end(), "PHONE_NUMBER")


_POSSESSIVES = r"my|mon|ma|mi|mein\w*|his|her|son|sa|su|sein\w*|ihr\w*"
"""Words that make a number someone's own ("my number", "sa ligne")."""
_CALLED_A_NUMBER = re.compile(
    rf"(?i)\b(?:{_POSSESSIVES})\s+(?:number|num|numéro|numero|número|nummer|cel|mob|mobile)\b"
)
"""A person's number ("my number", "mon num", "mi cel"), where no reference is named."""
_DIGIT_RUN = re.compile(r"(?<![\w+.-])\(?\d[\d ().-]{5,16}\d(?![\w-])")


_TIME_RANGE = re.compile(r"\d{1,2}[.:h]\d{2}\s*[-\u2013]\s*\d{1,2}[.:h]\d{2}")


def _called_phones(text: str, seen: set[tuple[int, int]]) -> Iterator[Span]:
    """National numbers of more regions, and numbers of any possible length, where the
    words just before call them a phone."""
    taken = sorted(seen)
    starts = [s for s, _ in taken]
    for m in _DIGIT_RUN.finditer(text):
        before = text[max(0, m.start() - 25) : m.start()]
        i = bisect.bisect_left(starts, m.end())
        if (i > 0 and taken[i - 1][1] > m.start()) or not (
            _PHONE_WORDS.search(before) or _CALLED_A_NUMBER.search(before)
        ):
            continue
        digits = sum(c.isdigit() for c in m.group())
        if digits < MIN_NATIONAL_DIGITS or _TIME_RANGE.search(m.group()):
            continue  # "call volume 120 340", "call 10.30 - 11.45"
        if _called_an_identifier(text, m.start()):
            continue  # "mon numéro client est 1002938471"
        for region in (*PHONE_REGIONS, *CALLED_PHONE_REGIONS):
            try:
                number = phonenumbers.parse(m.group(), region)
            except phonenumbers.NumberParseException:
                continue
            # Called a phone, a number of a possible length is one: ranges kept for
            # fiction ("020 7946 0321", "416-555-0142") are not valid, yet are numbers.
            if phonenumbers.is_possible_number(number) and _stands_alone(text, m.start(), m.end()):
                yield Span(m.start(), m.end(), "PHONE_NUMBER")
                break


_SERVICE_NUMBERS = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.UAN,
    }
)
"""Numbers that reach a business, not a subscriber: free, shared-cost and premium lines."""
_SUBSCRIBER_NUMBERS = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
)


def _service_line(raw: str, regions: Sequence[str], before: str, matched: int) -> bool:
    """Whether the number is a free, shared-cost or premium line: every region that reads
    it reads it so, or the region it was found in reads it as toll-free and none as a
    mobile, or one does and the words before offer it as a service's."""
    kinds = set()
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            kinds.add(phonenumbers.number_type(number))
    if not kinds & _SERVICE_NUMBERS:
        return False
    if matched == phonenumbers.PhoneNumberType.TOLL_FREE and not kinds & _MOBILE_NUMBERS:
        return True  # "0800 015 1498", "1-866-222-3456": no one's own line
    return not kinds & _SUBSCRIBER_NUMBERS or _SERVICE_WORDS.search(before) is not None


_FIRMS_LINE = re.compile(
    r"(?i)\b(?:hotline|helpline|help desk|helpdesk|front desk|reception|switchboard|dispatch|"
    r"infoline|service client|service clients|standard|accueil|agence|kundendienst|"
    r"zentrale|servicenummer|atención al cliente|centralita|consultas|"
    r"call us(?: on| at)?|contact us(?: on| at)?|reach us(?: on| at)?|main line|enquiries|"
    r"inquiries|office|customer care|service desk|servicedesk|emergency line|"
    r"notre (?:agence|standard|service)(?: de \w+)?(?: au)?|"
    r"service clients?|secrétariat|réclamations?|"
    r"ll[aá]m(?:enos|anos)(?: al)?|oficina|secretar[ií]a|sucursal|servicio t[eé]cnico|"
    r"aver[ií]as|reclamaciones|"
    r"erreichen sie uns(?: unter)?|rufen sie uns(?: unter)? an|auskünfte(?: unter)?|"
    r"reservierung(?: unter)?|notdienst|sekretariat|beantworten wir(?: unter)?|"
    r"if you did(?: not|n't) (?:authori[sz]e|make|recogni[sz]e) this[^\n]{0,20}|not you\?[^\n]{0,10}|"
    r"si no (?:reconoce|reconoces)[^\n]{0,40}|"
    r"si vous ne reconnaissez pas[^\n]{0,40}|"
    r"(?:of|from|du|de la|de l'|del|des|der|vom) (?:the )?(?:hospital|hôpital|clinic|"
    r"clinique|clínica|klinik|practice|cabinet|agency|agencia|bank|banque|banco|store|"
    r"shop|hotel|hôtel|office|bureau|oficina|büro|praxis))\b[^\n\d]{0,12}$"
)
_MOBILE_NUMBERS = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
"""A mobile is a person's, whatever words are around it ("Call Sarah in dispatch")."""
_PERSONS_LINE = re.compile(rf"(?i)\b(?:{_POSSESSIVES})\b")


def _a_firms_line(before: str) -> bool:
    """Words just before offer the number as a firm's line ("Hotline : 021 641 33 33",
    "Front desk (080 4612 0000)", "llame al ... (gratuito)"), with no one's own."""
    return _FIRMS_LINE.search(before) is not None and not _PERSONS_LINE.search(before)


_SERVICE_WORDS = re.compile(
    r"(?i)\b(?:hotline|support|service|toll[- ]?free|freephone|questions?|sans frais|gratuit|"
    r"numéro vert|gratuito|gratis|línea|atención|servicio|citas|kostenlos|kostenfrei|"
    r"gebührenfrei|servicenummer|remitir\w*|llamar al)\b"
)


_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _an_ip_address(found: str) -> bool:
    """ "192.168.10.24" is an address; "079.123.45.67" (leading zero) is a Swiss phone."""
    if not _DOTTED_QUAD.fullmatch(found):
        return False
    try:
        ipaddress.ip_address(found)
    except ValueError:
        return False
    return True


_MONTHS_OF_YEARS = re.compile(
    r"(?<!\d)(?:0?[1-9]|1[0-2])/(?:19|20)\d\d(?!\d)|\d{1,2}\.\d{1,2}\.(?:19|20)\d\d(?!\d)"
)
_DATE_SHAPE = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}/\d{4}"
)


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Not a part of a code: "552-JX-1180", "F-2024-08-1172" hold no phone number."""
    found = text[start:end]
    before, after = text[start - 1 : start], text[end : end + 2]
    return (
        not any(c.isalpha() for c in found)
        and not _DATE_SHAPE.fullmatch(found)
        and not _MONTHS_OF_YEARS.search(found)  # "08/2016 - 07/2019"
        and not _an_ip_address(found)
        and before not in {"-", "/"}
        and not (before == "." and text[start - 2 : start - 1].isalnum())  # "L7.042118/2024"
        and not before.isalnum()
        and not (after[:1] in {"-", "/"} and after[1:].isalnum())
    )


def _called_an_identifier(text: str, start: int) -> bool:
    """Whether the words before a number call it a reference rather than a phone; of a
    phone's word and a reference's, the nearer one says ("ligne fixe, contrat n° 06 55...":
    a contract)."""
    before = text[max(0, start - 40) : start]
    label = _NOT_A_PHONE.search(before.rstrip())
    if label is None:
        return False
    phone = [m.start() for m in _PHONE_WORDS.finditer(before) if m.start() >= len(before) - 25]
    return not phone or label.start() > phone[-1]
