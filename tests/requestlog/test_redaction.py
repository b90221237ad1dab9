"""PII is replaced by its kind before a request's text is stored; ordinary text is kept."""

from __future__ import annotations

import pytest

from llmops.requestlog.redaction import PiiRedactor, iban_valid, luhn_valid

REDACTOR = PiiRedactor()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+work@mail.example.co.uk today", "write to <EMAIL_ADDRESS> today"),
        ("call +1 415-555-0132 now", "call <PHONE_NUMBER> now"),
        ("call (415) 555-0132", "call <PHONE_NUMBER>"),
        ("my number is 020 7946 0958.", "my number is <PHONE_NUMBER>."),
        ("ruf an: +49 30 901820", "ruf an: <PHONE_NUMBER>"),
        ("card 4111 1111 1111 1111 expires", "card <CREDIT_CARD> expires"),
        ("pay with 5500-0000-0000-0004", "pay with <CREDIT_CARD>"),
        ("amex 378282246310005", "amex <CREDIT_CARD>"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN <IBAN_CODE> please"),
        ("to GB82WEST12345698765432", "to <IBAN_CODE>"),
        ("from 81.2.69.160 via 146.70.12.3", "from <IP_ADDRESS> via <IP_ADDRESS>"),
        ("host 2a00:1450:4001:82b::200e is down", "host <IP_ADDRESS> is down"),
    ],
)
def test_each_kind_is_replaced_by_its_name(text: str, expected: str) -> None:
    redacted = REDACTOR.redact(text)
    assert redacted.text == expected
    assert redacted.spans == expected.count("<")


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678 costs 42.50 EUR",
        "meet on 2024-05-01 at 10:30, room 555",
        "the ratio is 10:20:30 and pi is 3.14159",
        "version 1.2.3.4.5 of the tool, build 20240501123456",
        "card 4111 1111 1111 1112 fails its Luhn check",
        "IBAN DE89 3704 0044 0532 0130 01 fails its checksum",
        "999.999.999.999 is not an address",
        "1111111111111111 is not a card",
        "user@localhost has no domain",
        "The capital of France is Paris.",
        "",
    ],
)
def test_ordinary_text_and_numbers_are_kept(text: str) -> None:
    assert REDACTOR.redact(text).text == text
    assert REDACTOR.redact(text).spans == 0


def test_several_kinds_in_one_text_and_overlaps_counted_once() -> None:
    text = "I'm a@b.io, card 4242424242424242, phone +44 20 7946 0958, IP 8.8.8.8."
    redacted = REDACTOR.redact(text)
    assert redacted.text == (
        "I'm <EMAIL_ADDRESS>, card <CREDIT_CARD>, phone <PHONE_NUMBER>, IP <IP_ADDRESS>."
    )
    assert redacted.spans == 4


def test_the_checks() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_valid("FR14 2004 1010 0505 0001 3M02 607")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-llmops-Zq8vN2kLp0RtY6wXc4Bd9MfGh1Js3Ue5 leaked", "key <API_KEY> leaked"),
        ("OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "OPENAI_API_KEY=<API_KEY>"),
        ("token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5 here", "token <API_KEY> here"),
        ("AWS key AKIAZ7Q4M2PLX9TB3KVN set", "AWS key <API_KEY> set"),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.SflKxwRJSMeKKF2QT4fwpMeJf36",
            "Bearer <JWT>",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----",
            "<PRIVATE_KEY>",
        ),
        (
            "postgres://app:Wint3r!x@db.internal:5432/app",
            "postgres://app:<PASSWORD>@db.internal:5432/app",
        ),
        ("le mot de passe est Azerty123 merci", "le mot de passe est <PASSWORD> merci"),
        ("Passwort: geheim99", "Passwort: <PASSWORD>"),
        ("client_secret = 'f3A9kL0pQ2wE7rT5yU8iO1'", "client_secret = '<SECRET>'"),
    ],
)
def test_credentials_are_redacted(text: str, expected: str) -> None:
    assert PiiRedactor().redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password, can you send a reset link?",
        "my password is correct but login fails",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 broke the build",
        "request id 3f6b2c1e-8d4a-4b7f-9c2e-1a5d7e9f0b3c",
        "set OPENAI_API_KEY=sk-... in your .env",
        "the sha256 is 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert PiiRedactor().redact(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # National identifiers, each by its own check.
        ("SSN 123-45-6789 on file", "SSN <NATIONAL_ID> on file"),
        ("my social security number is 123456789", "my social security number is <NATIONAL_ID>"),
        ("NIR : 1 85 05 78 006 084 91", "NIR : <NATIONAL_ID>"),
        ("numéro 2 69 05 2A 004 012 28", "numéro <NATIONAL_ID>"),
        ("NI number AB 12 34 56 C please", "NI number <NATIONAL_ID> please"),
        ("DNI 12345678Z", "DNI <NATIONAL_ID>"),
        ("NIE X1234567L", "NIE <NATIONAL_ID>"),
        # Other countries' identifiers: by their check digits, and named or written as such.
        ("Steuer-ID: 86 095 742 719.", "Steuer-ID: <NATIONAL_ID>."),
        (
            "meine Identifikationsnummer ist 47036892816",
            "meine Identifikationsnummer ist <NATIONAL_ID>",
        ),
        ("SVNR 1237 010180 bitte", "SVNR <NATIONAL_ID> bitte"),
        ("AHV-Nr. 756.1234.5678.97", "AHV-Nr. <NATIONAL_ID>"),
        ("registre national 85.07.30-033.28", "registre national <NATIONAL_ID>"),
        ("Aadhaar 4987 6543 2102 attached", "Aadhaar <NATIONAL_ID> attached"),
        ("mi CURP es BADD110313HCMLNS06", "mi CURP es <NATIONAL_ID>"),
        ("RUT 12.345.678-5", "RUT <NATIONAL_ID>"),
        ("DNI 30.123.456, Córdoba", "DNI <NATIONAL_ID>, Córdoba"),
        ("cédula 1.020.345.678", "cédula <NATIONAL_ID>"),
        ("my SIN is 046-454-286.", "my SIN is <NATIONAL_ID>."),
        ("SIN provided: 046 454 286", "SIN provided: <NATIONAL_ID>"),
        ("Steuer-ID (zur Kontrolle): 86095742719", "Steuer-ID (zur Kontrolle): <NATIONAL_ID>"),
        # Phones from any region however spaced; "00" for "+".
        ("WhatsApp +234 803 123 4567", "WhatsApp <PHONE_NUMBER>"),
        ("ring 0044 20 7946 0958", "ring <PHONE_NUMBER>"),
        ("mobile +33612345678.", "mobile <PHONE_NUMBER>."),
        ("+44 (0)20 7946 0958 is the office", "<PHONE_NUMBER> is the office"),
        # Dates of birth, named as such.
        ("born on 14/03/1987 in Leeds", "born on <DATE_OF_BIRTH> in Leeds"),
        ("née le 3 mai 1979", "née le <DATE_OF_BIRTH>"),
        ("fecha de nacimiento: 7 de marzo de 1976", "fecha de nacimiento: <DATE_OF_BIRTH>"),
        ("geboren am 7. Juni 1968", "geboren am <DATE_OF_BIRTH>"),
        # Postal addresses.
        ("send it to 221B Baker Street, London NW1 6XE.", "send it to <ADDRESS>."),
        ("4521 Oak Ridge Dr, Austin, TX 78731", "<ADDRESS>"),
        ("j'habite 12 rue des Lilas, 75011 Paris", "j'habite <ADDRESS>"),
        ("Calle Mayor 5, 3º B, 28013 Madrid", "<ADDRESS>"),
        ("Hauptstraße 17, 10827 Berlin", "<ADDRESS>"),
        # Names: after a title or an introduction, as first name and surname, signatures.
        ("please ask Mrs. Okafor to call", "please ask Mrs. <PERSON> to call"),
        ("Bonjour, je m'appelle Anne-Sophie Lefèvre.", "Bonjour, je m'appelle <PERSON>."),
        ("hi its marco rossi again", "hi its <PERSON> again"),
        ("The refund went to Priya Natarajan yesterday", "The refund went to <PERSON> yesterday"),
        ("Thanks for the help!\nOluwaseun", "Thanks for the help!\n<PERSON>"),
        ("Sehr geehrte Frau Yilmaz,", "Sehr geehrte Frau <PERSON>,"),
        ("Nombre: María del Carmen Fuentes", "Nombre: <PERSON>"),
        # Lowercase names after a greeting or an introduction, and a colleague's team.
        ("salut ines, tu peux m'aider", "salut <PERSON>, tu peux m'aider"),
        ("bonjour c est karim", "bonjour c est <PERSON>"),
        (
            "can u tell Jessica from billing that I paid",
            "can u tell <PERSON> from billing that I paid",
        ),
        # What stays a person's data whatever words are near: a home near "office", a birth
        # date with its hour, a mobile near "reception", a dotted Swiss phone, a role's
        # mailbox at a webmail, a tunnel's address, a surname after "von".
        (
            "Don't ship to the office, ship to my home: 12 Harbour Street, Bristol BS1 4QA.",
            "Don't ship to the office, ship to my home: <ADDRESS>.",
        ),
        ("né le 03/04/1985 à 10h30 à Lyon", "né le <DATE_OF_BIRTH> à 10h30 à Lyon"),
        (
            "My mobile at reception desk: 07700 900123",
            "My mobile at reception desk: <PHONE_NUMBER>",
        ),
        ("mobile 079.123.45.67", "mobile <PHONE_NUMBER>"),
        ("write to support@gmail.com", "write to <EMAIL_ADDRESS>"),
        ("ask anna.sales@example.com", "ask <EMAIL_ADDRESS>"),
        # User names and mentions made of a name; initials beside a name; forms' fields.
        ("hey @priya.nair can you check the build?", "hey @<PERSON> can you check the build?"),
        ("User: dkowalski (account locked)", "User: <PERSON> (account locked)"),
        ("Requested by: tom.whitcombe", "Requested by: <PERSON>"),
        ("Kind regards,\nM. Okonkwo-Hart", "Kind regards,\n<PERSON>"),
        ("Forenames: ELSPETH MARY", "Forenames: <PERSON>"),
        ("You can reach me on 07700 900 461", "You can reach me on <PHONE_NUMBER>"),
        (
            "Ich habe eine neue Handynummer: 0151 2345 6789",
            "Ich habe eine neue Handynummer: <PHONE_NUMBER>",
        ),
        ("client 2001:0:4136:e378:8000:63bf:3fff:fdd2 connected", "client <IP_ADDRESS> connected"),
        ("Signed: Johann Wolfgang von Goethe", "Signed: <PERSON>"),
        ("Le Dr Place a signé l'ordonnance", "Le Dr <PERSON> a signé l'ordonnance"),
        # Secrets in settings, registries' formats; phones of more regions when called so.
        ("DB_PASSWORD=Jacaranda$2024", "DB_PASSWORD=<PASSWORD>"),
        ("Initialpasswort: Herbst2023!Qz", "Initialpasswort: <PASSWORD>"),
        ("use rk_live_4eC39HqLyjWDarjtT1zdp7dc", "use <API_KEY>"),
        ("token glsa_" + "Ab12" * 6, "token <API_KEY>"),
        ("secret q8Zf+2kLw8/Qz1vXr6YtB0nHs4eDpC7aMg5i3KoZ", "secret <SECRET>"),
        ("SMTP_PASS=Xk9#mPq2!Lw", "SMTP_PASS=<PASSWORD>"),
        ("the admin pw is Gr@fana!2023", "the admin pw is <PASSWORD>"),
        ("y mi cel es 300 218 4471. Gracias", "y mi cel es <PHONE_NUMBER>. Gracias"),
        ("phone 8123 4567, interested in the sofa", "phone <PHONE_NUMBER>, interested in the sofa"),
        # Who speaks in a transcript, a name said again, a possessive.
        (
            "[09:12] Mireille: qui a la clé ?\n[09:13] Bart: moi\n[09:14] Mireille: merci",
            "[09:12] <PERSON>: qui a la clé ?\n[09:13] <PERSON>: moi\n[09:14] <PERSON>: merci",
        ),
        (
            "voir avec Grégoire demain. Grégoire Lambert valide.",
            "voir avec <PERSON> demain. <PERSON> valide.",
        ),
        ("Ian Johnson at Johnson Controls", "<PERSON> at Johnson Controls"),
        ("has anyone got Priya Natarajan's number?", "has anyone got <PERSON>'s number?"),
        ("Caller Bronwyn Fitzgerald asked for a refund", "Caller <PERSON> asked for a refund"),
        (
            "[09:02] priya.k: build is red\n[09:03] tom: on it",
            "[09:02] <PERSON>: build is red\n[09:03] <PERSON>: on it",
        ),
        (
            "21.03.24, 22:14 jule: hat jemand die Folien?",
            "21.03.24, 22:14 <PERSON>: hat jemand die Folien?",
        ),
        ("Apologies: Cllr Hope Ferris", "Apologies: Cllr <PERSON>"),
        ("Je soussignée Monique Rivière atteste", "Je soussignée <PERSON> atteste"),
        # Keys and tokens named in words, and registries' tokens.
        ("API key 3f9a6c1e8b2d4f7a0c5e9b1d3a6f8c2e is invalid", "API key <SECRET> is invalid"),
        ("_authToken=npm_" + "a" * 18 + "B1" * 9, "_authToken=<API_KEY>"),
        # A name that says where its bearer is from ends before the place.
        ("je m'appelle Mathilde Carrier de Marseille.", "je m'appelle <PERSON> de Marseille."),
        ("hola, soy Lucía Ferrer de Buenos Aires", "hola, soy <PERSON> de Buenos Aires"),
        ("Nombre: Ana de Souza", "Nombre: <PERSON>"),
        # Two people across an "&"; a surname in capitals as forms write it.
        ("Cheers, Mariana & Thiago Carvalho", "Cheers, <PERSON> & <PERSON>"),
        # The line under a signature's name is its firm.
        (
            "Best regards,\nTomasz Nowak\nRose Valley Ceramics",
            "Best regards,\n<PERSON>\nRose Valley Ceramics",
        ),
        ("Nom : MARTIN Juliette", "Nom : <PERSON>"),
        # A person's mailbox at a firm is personal; a department's is not (below).
        ("écrivez à j.leduc@garage-leduc.fr", "écrivez à <EMAIL_ADDRESS>"),
        # A phone word nearer the number than a reference's label.
        ("contract 4471, call me on 07700 900 123", "contract 4471, call me on <PHONE_NUMBER>"),
    ],
)
def test_people_and_their_identifiers_are_redacted(text: str, expected: str) -> None:
    assert REDACTOR.redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "commande n° 0612345678 pas reçue",
        "Vertragsnummer 71 44 209 83",
        "Bestellung Nr. 302-5518820 ist unterwegs",
        "invoice F-2024-08-1172 and job 552-JX-1180",
        "delivered on 14/03/1987 to the wrong door",
        "the shop on Oxford Street in Madrid",
        "Is Prime shipping available? Mark as read does nothing.",
        "I bought Louis Vuitton and Johnson & Johnson products at Carrefour",
        "Saturday 14 September works; the Grace period ends in March.",
        "ECONNREFUSED from the KLM API, ticket TCK-2024-4410",
        "SSN-like 000-12-3456 and 123-00-4567 are never issued",
        "QQ 12 34 56 C is the example National Insurance number",
        "1 85 05 78 006 084 92 fails its key",
        # A check digit that holds by chance, with nothing naming the number.
        "order 86095742719 shipped",
        "Kassenbon 0815-2210, das Display flackert",
        # Machines of private networks; a company's SIRET grouped as no card is.
        "proxy_pass http://10.0.3.17:8080; ECONNREFUSED 192.168.1.20:6379",
        "notre SIRET 732 829 320 00074 n'est pas reconnu",
        "the token 9b2c4e1f-7a3d-4c8e-b5f6-0d1e2a3b4c5d expired",
        # Lines that say what is on them, not who speaks; a sentence before a colon.
        "Subject: renewal\nERROR: timeout\nkernel: eth0 down",
        "Frank gesagt: Ihre Hotline ist erreichbar",
        "Parque Simón Bolívar: el concierto se aplaza",
        # Firms' hotlines, firms' addresses, a job advertised, a path.
        "Questions? Call our support on 1-800-463-3339.",
        "Die Service-Hotline 0800 100 4412 ist erreichbar",
        "Visit our office at 12 Harbour Street, Bristol BS1 4QA.",
        "Wir suchen einen Koch (m/w/d) für unsere Kantine",
        "sudo: TTY=pts/0 ; PWD=/srv/app ; USER=root",
        "écrire à fournisseurs@example.fr ou à reembolsos@example.es",
        "Questions: hr-help@example.com, compta@example.fr, schaden@example.at",
        "Write to customerservices@example.co.uk, einkauf@example.de or facturacion@example.co",
        "@channel deploy done; login: root, user: postgres, created by terraform",
        "the user names list; login again",
        # Firms' lines offered as such, toll-free numbers, numbers named as something else.
        "Questions about your bill? Call us on 020 7946 0321.",
        "Erreichen Sie uns unter 089 1234 5678. Para averías llame al 900 123 456.",
        "Complaint no 2049381175 is still open",
        "/** @param name the name */\n@Getter\n@Override\npublic String name;",
        "set DB_PASSWORD=... and SMTP_PASS=<your password> in .env",
        "order 300 218 4471 shipped",
        # Firms answering the phone, places joined by hyphens, acronyms, codes.
        "Agente: Desjardins, bonjour, ¿en qué puedo ayudarle?",
        "classes vertes à Han-sur-Lesse, Janusz-Korczak-Schule",
        "Présents : DG, DAF, DRH",
        "Número de póliza: AU-2210457-03",
        "Ausbildung 08/2016 - 07/2019 in Dortmund",
        "FOR LEASE - Shop 3, 14 King William Street, Adelaide CBD",
        "Collected: 06/02/2024 07:55, DOB on file",
        # Firms' lines, service accounts, dated windows, firms named after a person.
        "Hotline : 021 641 33 33. Front desk (080 4612 0000) was helpful.",
        "Service account svc-deploy@ci.internal rotated",
        "Fenêtre : samedi 06.07.2024 22:00-02:00",
        "Quote sent to Johnson Controls and Gaviria & Asociados",
        # Words and numbers that only look like names, phones or secrets.
        "Contact us.\nBrown rice and Brown bread. Mark the ticket as done.",
        "celery: worker started\nmax: 12\nmin: 3",
        "please mark this as resolved",
        "Conference call 10.30 - 11.45 tomorrow; call volume 120 340 last week",
        "PRIMARY_KEY=customer_id and REQUIRE_TOKEN=true",
        "ref BADD\uff11\uff11\uff10\uff13\uff11\uff13HCMLNS06 ok",
        "1." + ".".join(["000"] * 16) + " EUR",
        # A business named after its founder.
        "la boulangerie Paul Durand de la place du marché",
        # Mailboxes of organisations that answer the public.
        "From: Help Desk <support@example-shop.com>",
        "De : Service client <ne-pas-repondre@example.fr>",
        "write to customer.care@example.co.uk or no-reply@example.io",
        # A number whose nearer label is a contract's, not a phone's.
        "ligne fixe, contrat n° 06 55 49 27 10",
        # Not a calendar date, even next to a birth date's words.
        "born in Ohio, member no. 4410-37-09",
        # A street named for a shop's place, with no number in the sentence.
        "en la tienda de la calle Goya me dijeron que la devolución de 40 euros tarda",
        "¿me cubre si aparqué en la calle Toledo? Póliza 4120-5512-8890.",
        # Firms and products.
        "La facture de Garage Moreau & Fils est arrivée.",
        "quand sort la version Bleu des AirPods ?",
        "À : SAV Maisons du Monde",
        "la tarifa Fibra 300 Mb de Movistar",
    ],
)
def test_look_alikes_of_people_are_left_alone(text: str) -> None:
    assert REDACTOR.redact(text).text == text
