"""PII redaction of request texts before anything is stored.

Recognizers find spans of these kinds: email addresses, phone numbers
(libphonenumber's matcher, which validates numbers per region), card numbers
(13 to 19 digits passing the Luhn check), IBANs (the ISO 13616 mod-97 check), IP
addresses (v4 and v6, parsed by :mod:`ipaddress`), and credentials: API keys and tokens
by their providers' formats, JWTs, PEM private keys, and passwords and secrets where the
text names them. Each span is replaced by its
kind in angle brackets, ``<EMAIL_ADDRESS>``. Checksums and parsing keep ordinary
numbers (order ids, amounts, dates, times) out. Why not Presidio: see
docs/decisions/0008-request-log-redaction.md.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from llmops.requestlog.cues import words
from llmops.requestlog.identifiers import national_ids, phones
from llmops.requestlog.namereader import people
from llmops.requestlog.people import addresses, birth_dates
from llmops.requestlog.spans import Span

__all__ = ["PiiRedactor", "Redacted", "Redactor", "Span"]


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    spans: int
    """How many PII spans were replaced."""


class Redactor(Protocol):
    def redact(self, text: str) -> Redacted: ...


Recognizer = Callable[[str], Iterator[Span]]

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}\b"
)
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_CARD_GROUPS = re.compile(
    r"9{13,19}|9{4}([ -])9{4}\1(?:9{4}\1)?9{1,4}(?:\1(?:9{1,3}))?|9{4}([ -])9{6}\2(?:9{4,5})"
)
"""How cards are written: one run of digits, groups of four (the last shorter), or four,
six and five (American Express, Diners)."""
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


SERVICE_MAILBOXES = words(
    "support help helpdesk care customer customercare customerservice service services client clients "
    "clientes kundenservice kundendienst servicio atencion atencioncliente serviceclient "
    "sav info information informations contact contacto kontakt "
    "noreply no-reply donotreply do-not-reply ne-pas-repondre nepasrepondre no-responder "
    "noresponder keine-antwort noreply-service notifications notification notify alerts "
    "news newsletter reception accueil empfang recepcion webmaster postmaster abuse "
    "privacy dpo rgpd gdpr datenschutz security press presse prensa suppliers fournisseurs "
    "proveedores lieferanten refunds remboursements reembolsos erstattung returns retours "
    "devoluciones orders commandes pedidos bestellungen bookings reservations reservas "
    "partners partenaires socios partner careers jobs recrutement empleo karriere marketing sales ventes ventas vertrieb "
    "accounts accounting billing invoices compta comptabilite factures facturation paie "
    "payroll expenses hr rh personalabteilung buchhaltung rechnungen cartera "
    "cobranza facturas finanzas finance claims sinistres siniestros schaden legal juridique "
    "facturacion feedback avis opiniones rueckmeldung securite seguridad sicherheit cert csirt "
    "purchasing procurement achats compras einkauf beschaffung travel voyages viajes reisen "
    "reisekosten frais gastos admin administration administracion verwaltung office "
    "secretariat secretaria sekretariat bureau oficina direction direccion management "
    "operations informatique informatica logistics logistique logistica logistik shipping "
    "expedition envios versand complaints reclamations reclamaciones reclamos beschwerden "
    "enquiries inquiries consultas demandes anfragen hello hola bonjour hallo quality qualite "
    "calidad compliance conformite cumplimiento ethics hotline tickets incidents incidencias "
    "admissions inscriptions inscripciones scolarite registrar"
)
"""Mailboxes of organisations that answer the public (RFC 2142's role names, "no reply"
senders, help desks): written in support traffic as an address, not a person's. A local
part made only of these words (and "team", digits, separators; also written together,
"customerservices@") is kept; an accounting or department's mailbox stays too ("compta@",
"expenses@", "schaden@"): it names a function, not who reads it."""
_ROLE_PART = re.compile(
    "(?:"
    + "|".join(sorted((w for w in SERVICE_MAILBOXES if len(w) >= 4), key=len, reverse=True))
    + ")+"
)
"""Role words of four letters or more written together ("customerservices")."""
_MAILBOX_PARTS = re.compile(r"[._+-]")
WEBMAIL = words(
    "gmail.com googlemail.com yahoo.com yahoo.fr yahoo.es yahoo.de yahoo.co.uk hotmail.com "
    "hotmail.fr hotmail.es outlook.com outlook.fr outlook.es outlook.de live.com live.fr "
    "msn.com icloud.com me.com aol.com proton.me protonmail.com gmx.de gmx.net gmx.at gmx.ch "
    "web.de t-online.de orange.fr free.fr laposte.net sfr.fr wanadoo.fr bluewin.ch "
    "libero.it mail.ru yandex.ru"
)
"""Mailboxes anyone opens for themselves: a role's name there is still one person's."""


def emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        local, domain = m.group().casefold().split("@", 1)
        if _service_mailbox(local) and domain not in WEBMAIL:
            continue
        yield Span(m.start(), m.end(), "EMAIL_ADDRESS")


def _service_mailbox(local: str) -> bool:
    if local in SERVICE_MAILBOXES or re.match(r"(?:svc|bot|daemon|robot)[._-]", local):
        return True  # "svc-deploy@": a service account
    parts = [p for p in _MAILBOX_PARTS.split(local) if p and not p.isdigit()]
    return (
        bool(parts) and all(_role(p) or p == "team" for p in parts) and any(_role(p) for p in parts)
    )


def _role(part: str) -> bool:
    return part in SERVICE_MAILBOXES or _ROLE_PART.fullmatch(part) is not None


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_PART_OF_A_LONGER_CODE = re.compile(r"[A-Za-z]*\d\w*[ -]$")
"""A group with a digit just before: the digits are the rest of an IBAN or a reference."""


def cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        if _PART_OF_A_LONGER_CODE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        digits = re.sub(r"[ -]", "", m.group())
        if not _CARD_GROUPS.fullmatch(re.sub(r"\d", "9", m.group())):
            continue  # "398 344 417 47661": a SIRET, grouped as no card is
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits):
            yield Span(m.start(), m.end(), "CREDIT_CARD")


def iban_valid(candidate: str) -> bool:
    code = candidate.replace(" ", "")
    if not 15 <= len(code) <= 34:
        return False
    rearranged = code[4:] + code[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        # The pattern may take a trailing word; the longest valid prefix is the IBAN.
        candidate = m.group()
        while len(candidate.replace(" ", "")) >= 15:
            if iban_valid(candidate):
                yield Span(m.start(), m.start() + len(candidate), "IBAN_CODE")
                break
            candidate = candidate[:-1].rstrip()


_VERSION_BEFORE = re.compile(
    r"(?i)\b(?:version|versión|firmware|release|build|ver\.?|v|fw|sw|app|os)\s*:?\s*$"
)


_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    )
)  # fmt: skip
"""Private, loopback and link-local networks (RFC 1918, RFC 4193): machines, not
subscribers. Tunnels and shared ranges that carry a subscriber's address are not here."""


def ip_addresses(text: str) -> Iterator[Span]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            if _VERSION_BEFORE.search(text[max(0, m.start() - 20) : m.start()]):
                continue  # "firmware 8.10.0.7"
            try:
                address = ipaddress.ip_address(m.group())
            except ValueError:
                continue
            if any(address in network for network in _PRIVATE_NETWORKS):
                continue  # a machine of a private network ("10.0.3.17:8080"), no subscriber's
            yield Span(m.start(), m.end(), "IP_ADDRESS")


_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "PRIVATE_KEY",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
        ),
        (
            "API_KEY",
            r"(?<![\w-])sk-(?:llmops-|proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{20,}",
        ),
        ("API_KEY", r"(?<!\w)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("API_KEY", r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"),
        ("API_KEY", r"(?<!\w)gh[pousr]_[A-Za-z0-9]{30,}|(?<!\w)github_pat_[A-Za-z0-9_]{30,}"),
        ("API_KEY", r"(?<!\w)glpat-[A-Za-z0-9_-]{20,}"),
        ("API_KEY", r"(?<!\w)xox[abposr]-[A-Za-z0-9-]{10,}"),
        ("API_KEY", r"(?<!\w)AIza[0-9A-Za-z_-]{35}"),
        ("API_KEY", r"(?<!\w)npm_[A-Za-z0-9]{36}(?!\w)|(?<!\w)hf_[A-Za-z0-9]{30,}(?!\w)"),
        ("API_KEY", r"(?<!\w)pypi-[A-Za-z0-9_-]{50,}"),
        ("API_KEY", r"(?<!\w)SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
        ("API_KEY", r"(?<![\w-])[a-z]{2,8}_live_[A-Za-z0-9]{16,}"),
        ("API_KEY", r"(?<!\w)(?:glsa|glc)_[A-Za-z0-9_]{20,}"),
        ("API_KEY", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}"),
        ("JWT", r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
    )
)
"""Credentials recognisable by their own format (providers' documented prefixes)."""
_TOKEN_PREFIX = re.compile(
    r"sk-|sk_|rk_|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AIza|eyJ|-----BEGIN|"
    r"npm_|hf_|pypi-|SG\.|hooks\.slack|_live_|glsa_|glc_"
)
"""What every one of the formats above starts with: a text holding none is skipped."""
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<secret>[^\s@/]+)@")
_NAMED_SECRET = re.compile(
    r"(?i)\b(?:aws_secret_access_key|secret_access_key|client_secret|api[_-]?key|"
    r"access[_-]?token|auth[_-]?token|secret[_-]?key|secret)\b[\"']?\s*[:=]\s*[\"']?"
    r"(?P<secret>[A-Za-z0-9_\-./+=]{16,})"
)
_NAMED_TOKEN = re.compile(
    r"(?i)\b(?:api[ _-]?key|access[ _-]?token|auth[ _-]?token|_?authtoken|bearer|token|"
    r"jeton|clé d'api|clé api|clave de api|schlüssel|secret|key)\b\s*[:=]?\s*[\"']?"
    r"(?P<secret>[A-Za-z0-9_+/=-]{20,})(?![\w.-])"
)
"""A key or token named in words and written after them ("API key 3f9a6c...", "Token
0FgSPAzt..."): twenty characters or more that mix letters and digits, no UUID."""
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


# The words that name a password (no password themselves).
_PASSWORD_WORDS = (
    r"password|passwd|pwd|pw|mot de passe|mdp|contrase(?:ñ|n)a|clave|passwort|kennwort"  # noqa: S105
)
_SETTING = re.compile(
    r"\b[A-Z][A-Z0-9]*_(?:[A-Z0-9]+_)*(?:PASS|PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY|KEY)\s*"
    r"[:=]\s*[\"']?(?P<secret>[^\s\"']{4,})"
)
"""A setting that holds a secret ("SMTP_PASS=...", "DB_PASSWORD=...")."""
_PLACEHOLDER = re.compile(
    r"\.\.\.|^<|^\$\{?[A-Z_][A-Z0-9_]*\}?$|^(?:x+|changeme|your\w*|none|null|empty)$", re.I
)
_NO_SECRET = re.compile(r"(?i)^(?:true|false|yes|no|on|off|\d+|[a-z]+(?:_[a-z]+)+)$")
"""Values a setting named like a key holds without being one: "REQUIRE_TOKEN=true",
"PRIMARY_KEY=customer_id"."""
_PASSWORD_SET = re.compile(
    rf"(?i)(?:\b(?:{_PASSWORD_WORDS})|(?<=[a-zäöü])(?:passwort|password|kennwort))\b[\"']?\s*[:=]\s*[\"']?(?P<secret>(?![/~])[^\s\"',;]{{4,}})"
)
_PASSWORD_SAID = re.compile(
    rf"(?i)\b(?:{_PASSWORD_WORDS})\b\s+(?:is|est|es|ist|was|war|era|c'est)\s+[\"'«]?\s*"
    r"(?P<secret>[^\s\"',;»]{4,})"
)


_PASSWORD_WORD = re.compile(
    rf"(?i)(?:\b(?:{_PASSWORD_WORDS})|(?<=[a-zäöü])(?:passwort|password|kennwort))\b"
)
_TOKEN = re.compile(r"[^\s\"',;«»()]+")
_CODE = re.compile(r"^(?:[A-Z]{2,6}[-_]?\d[\w-]*|\d[\d./-]*|v?\d+(?:\.\d+)+)$")
"""Identifiers and versions that sit near the word password: "TCK-558201", "2.4.1"."""


_SIGNS = "!#$%&*+=?@^_~"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _strongly_made_up(word: str) -> bool:
    """Letters with digits or signs, as a password is chosen: "Tr0mb0ne!Sunset77"."""
    letters = any(c.isalpha() for c in word)
    digits = any(c.isdigit() for c in word)
    signs = any(c in _SIGNS for c in word)
    mixed = word[1:] != word[1:].lower()
    return (
        letters
        and (digits or signs or mixed)
        and word[:1] not in {"=", "/", "~"}  # "PWD=/srv/app": a path, no password
        and not _ASSIGNMENT.match(word)  # "TTY=pts/0", "USER=root": a setting
        and not _CODE.match(word)
        and "@" not in word[1:-1]
        and "://" not in word
    )


def _chosen_as_password(word: str) -> bool:
    """Lowercase, capitals and digits together, and a sign or ten characters or more:
    "Tulip!Harbour82", "7hQ2-mZ9x-Lp4W"."""
    return (
        8 <= len(word) <= 64
        and any(c.islower() for c in word)
        and any(c.isupper() for c in word)
        and any(c.isdigit() for c in word)
        and (len(word) >= 10 or any(c in _SIGNS + "-" for c in word))
        and _strongly_made_up(word)
    )


def _looks_made_up(word: str) -> bool:
    """A password said in words ("my password is X") holds a digit or a sign, or mixed
    case past its first letter: "my password is correct" names none."""
    return any(not c.isalpha() for c in word.rstrip(".!?")) or word[1:] != word[1:].lower()


def credentials(text: str) -> Iterator[Span]:
    """Keys, tokens and private keys by their formats; passwords and secrets where the
    text says what they are ("password: ...", "client_secret=...", "user:pass@host")."""
    if _TOKEN_PREFIX.search(text):
        for kind, pattern in _TOKENS:
            for m in pattern.finditer(text):
                yield Span(m.start(), m.end(), kind)
    if "://" in text:
        for m in _URL_PASSWORD.finditer(text):
            yield Span(m.start("secret"), m.end("secret"), "PASSWORD")
    lowered = text.casefold()
    if "secret" in lowered or "key" in lowered or "token" in lowered:  # what it names
        for m in _NAMED_SECRET.finditer(text):
            yield Span(m.start("secret"), m.end("secret"), "SECRET")
        for m in _NAMED_TOKEN.finditer(text):
            value = m.group("secret")
            letters, digits = any(c.isalpha() for c in value), any(c.isdigit() for c in value)
            if letters and digits and not _UUID.fullmatch(value):
                yield Span(m.start("secret"), m.end("secret"), "SECRET")
    yield from passwords(text)


_PASSWORD_STEMS = ("pass", "pw", "mdp", "contrase", "clave", "kennwort")
"""What each of the words that name a password holds, in lower case: a text holding none
skips the (case-blind, slower) search for the words themselves."""


def passwords(text: str) -> Iterator[Span]:
    """ "password: X", "my password is X", "changed the password to X"."""
    if "_" not in text:  # each pattern starts with a password word or a setting's name
        lowered = text.casefold()
        if not any(stem in lowered for stem in _PASSWORD_STEMS):
            return
        if not _PASSWORD_WORD.search(text):
            return
    for m in _PASSWORD_SET.finditer(text):
        yield Span(m.start("secret"), m.end("secret"), "PASSWORD")
    for m in _SETTING.finditer(text):
        value = m.group("secret")
        if not _PLACEHOLDER.search(value) and not _NO_SECRET.match(value):
            yield Span(m.start("secret"), m.end("secret"), "PASSWORD")
    for m in _PASSWORD_SAID.finditer(text):
        secret = m.group("secret").rstrip(".!?")
        if _looks_made_up(secret):
            yield Span(m.start("secret"), m.start("secret") + len(secret), "PASSWORD")
    yield from _passwords_near(text)


def _passwords_near(text: str) -> Iterator[Span]:
    words = list(_PASSWORD_WORD.finditer(text))
    for word in words:
        after = text[word.end() : word.end() + 60].split("\n", 1)[0]
        for token in _TOKEN.finditer(after):
            secret = token.group().rstrip(".?")
            if 6 <= len(secret) <= 64 and _strongly_made_up(secret):
                start = word.end() + token.start()
                yield Span(start, start + len(secret), "PASSWORD")
                break
            if token.group()[-1:] in {".", "?", "!"} and len(token.group()) > 1:
                break  # the sentence ends
    # A message about a password: a token chosen as passwords are, wherever it stands.
    if words:
        for token in _TOKEN.finditer(text):
            secret = token.group().rstrip(".?!,")
            if _chosen_as_password(secret):
                yield Span(token.start(), token.start() + len(secret), "PASSWORD")


DEFAULT_RECOGNIZERS: tuple[Recognizer, ...] = (
    credentials,
    emails,
    ibans,
    cards,
    ip_addresses,
    national_ids,
    phones,
    birth_dates,
    addresses,
    people,
)


class PiiRedactor:
    """Replaces what the recognizers find; where finds overlap the longest wins."""

    def __init__(self, recognizers: Sequence[Recognizer] = DEFAULT_RECOGNIZERS) -> None:
        self._recognizers = tuple(recognizers)

    def find(self, text: str) -> list[Span]:
        found = [span for recognize in self._recognizers for span in recognize(text)]
        return _without_overlaps(found)

    def redact(self, text: str) -> Redacted:
        if not text:
            return Redacted(text, 0)
        spans = self.find(text)
        out: list[str] = []
        last = 0
        for span in spans:
            out.append(text[last : span.start])
            out.append(f"<{span.kind}>")
            last = span.end
        out.append(text[last:])
        return Redacted("".join(out), len(spans))


CREDENTIAL_KINDS = frozenset({"PRIVATE_KEY", "API_KEY", "JWT", "PASSWORD", "SECRET"})
"""Kinds that win an overlap whatever its length: in "user:pa55@db.host" the password, not
the address-like "pa55@db.host"."""


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Spans in text order, none overlapping: a credential wins, then the longer one."""
    kept: list[Span] = []  # in text order, none overlapping
    starts: list[int] = []
    ranked = sorted(
        spans, key=lambda s: (s.kind not in CREDENTIAL_KINDS, -(s.end - s.start), s.start)
    )
    for s in ranked:
        i = bisect.bisect_left(starts, s.start)
        if (i > 0 and kept[i - 1].end > s.start) or (i < len(kept) and kept[i].start < s.end):
            continue
        kept.insert(i, s)
        starts.insert(i, s.start)
    return kept
