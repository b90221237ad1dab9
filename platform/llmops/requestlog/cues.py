"""The words around a name that say it is one, in English, French, Spanish and German,
and the capitalised words that look like names but are not people.

Each list is general knowledge of how these languages name people (titles, greetings,
signatures, forms' fields, family and work relations); none is fitted to a message.
"""

from __future__ import annotations

import re


def words(text: str) -> frozenset[str]:
    """The words, casefolded as they are compared ("Gruß" reads "gruss")."""
    return frozenset(w.casefold() for w in text.split())


TITLES = words(
    "mr mrs ms miss mx dr dre pr prof sir madam mister m mme mlle mmes me monsieur madame "
    "mademoiselle sr sra srta señor señora señorita don doña dña herr herrn frau hr fr "
    "dott sig mag ing constable sergeant sgt inspector detective cllr councillor"
)
LOWERCASE_TITLES = words("mr mrs ms dr mme mlle monsieur madame sra srta herr frau")
"""Titles that still say a name follows when written in lowercase ("ma tante mme
rousseau"); the others ("me", "don", "fr") are words too."""
GREETINGS = words(
    "hi hello hey dear thanks cheers regards best sincerely signed attn bonjour bonsoir "
    "salut cher chère merci cordialement hola estimado estimada querido querida gracias "
    "saludos atentamente hallo liebe lieber grüße gruß mfg lg vg glg danke moin servus ciao"
)
RELATIONS = words(
    "father mother dad mum mom papa mama husband wife son daughter brother sister "
    "grandmother grandma granny grandfather grandpa grandson granddaughter uncle aunt "
    "cousin niece nephew partner fiancé fiancée fiance boyfriend girlfriend colleague "
    "colleagues coworker manager boss assistant neighbour neighbor friend tenant "
    "landlord lawyer solicitor accountant kids children child applicant agent advisor "
    "adviser technician doctor nurse baby dad's mum's mom's guy coach mentor supervisor "
    "caseworker carer caregiver "
    "père mère papa maman mari femme fils fille frère sœur soeur grand-mère grand-père "
    "oncle tante cousin cousine neveu nièce conjoint conjointe compagnon compagne "
    "collègue collègues voisin voisine ami amie patron patronne avocat avocate enfants "
    "enfant fiancé fiancée collegue collegues soeur frere pere mere grand-mere grand-pere "
    "bébé conseiller conseillère technicien technicienne médecin infirmier infirmière "
    "padre madre papá mamá marido esposa esposo mujer hijo hija hijos hermano hermana "
    "abuelo abuela tío tía primo prima sobrino sobrina pareja novio novia compañero "
    "compañera compañeros jefe jefa vecino vecina amigo amiga abogado abogada bebé "
    "asesor asesora agente técnico técnica médico médica enfermero enfermera "
    "vater mutter papa mama mann frau sohn tochter bruder schwester oma opa onkel tante "
    "cousin cousine neffe nichte partner partnerin freund freundin kollege kollegin "
    "kollegen chef chefin nachbar nachbarin anwalt anwältin kinder kind verlobter verlobte "
    "baby berater beraterin techniker technikerin arzt ärztin pfleger pflegerin"
)
"""Family and work relations: "my late father, Anselm ...", "mi mamá, Hebe ..."."""
FIELDS = words(
    "name nom nombre vorname nachname prénom prenom apellido apellidos famille familia "
    "familie titular titulaire inhaber inhaberin holder ansprechpartner contact "
    "beneficiary bénéficiaire beneficiario empfänger passenger passager pasajero "
    "passagier driver conducteur conductor fahrer signature firma unterschrift "
    "patient patiente paciente patientin kontoinhaber kontoinhaberin forename forenames "
    "surname surnames prénoms prenoms nombres afiliado afiliada allocataire allocataires "
    "asegurado asegurada assuré assurée versicherter versicherte"
)
"""Words that open a form's field whose value is a name."""
HEADERS = words(
    "cc bcc from to de à para an von fdo firmado applicant candidate candidat candidate "
    "solicitante antragsteller customer client cliente kunde kundin user utilisateur "
    "utilisatrice usuario usuaria benutzer employee employé employée empleado empleada "
    "mitarbeiter mitarbeiterin member membre miembro mitglied owner propriétaire "
    "propietario propietaria eigentümer guest invité invitée huésped gast attendee "
    "participant participante teilnehmer teilnehmerin requester demandeur attendees "
    "participants teilnehmende asistentes présents anwesend present apologies excused "
    "entschuldigt absents excusés ausentes claimant demandeur demanderesse défendeur "
    "défenderesse kläger klägerin beklagter beklagte mandant mandantin gegner candidata "
    "candidato kandidat kandidatin locador locadora locatario locataria arrendador "
    "arrendatario inquilino inquilina vermieter vermieterin ordering referring "
    "prescriber prescripteur médecin traitant hausarzt hausärztin emergency contact "
    "personne à prévenir notfallkontakt contacto de emergencia witness témoin testigo zeuge "
    "zeugin"
)
"""Before a colon, a name: an e-mail header, a signature's mark, a person's role in a
form ("From: ...", "Fdo.: ...", "Applicant: ...")."""
LEADS = words("i'm soy je ich name's")
"""Capitalised first words of an introduction: "I'm Anjali", "Soy Amparo"."""
PARTICLES = words(
    "de da das do dos du des del della delle dei degli di van von vom der den ter ten te "
    "op le la los las lo bin ibn al el ben y e i mac zu zum zur abu bint af av"
)
CALENDAR = words(
    "january february march april may june july august september october november december "
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre januar februar märz april mai juni juli august september oktober november "
    "dezember monday tuesday wednesday thursday friday saturday sunday lundi mardi mercredi "
    "jeudi vendredi samedi dimanche lunes martes miércoles jueves viernes sábado domingo "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag"
)
PLACE_OPENERS = words(
    "saint sainte san santa santo são sankt st ste parque aeroparque aeropuerto aéroport "
    "airport sucursal salle sala saal estación estadio stade gare hospital hôpital colegio "
    "lycée collège école escuela universidad université avenida avenue calle rue boulevard "
    "metro métro"
)
"""Words that open places ("Saint-Denis", "San Sebastián", "Sankt Gallen"), not people."""

# A name comes right after these (the text before it ends with one).
_INTRODUCTIONS = (
    r"my name is|my name's|name's|name is|i am|i'm|this is|signed|regards|kind regards|"
    r"best regards|thanks|thank you|many thanks|thanks a lot|thanks so much|cheers|best|"
    r"sincerely|hi|hello|hey|dear|attn|good morning|good afternoon|"
    r"je m'appelle|je m\u2019appelle|je mappelle|jmappelle|je m appelle|je suis|mon nom est|"
    r"moi c'est|c'est|de la part de|"
    r"signé|bonjour|bonsoir|salut|cher|chère|merci|merci beaucoup|cordialement|"
    r"bien à vous|bien cordialement|"
    r"me llamo|mi nombre es|soy|de parte de|hola|estimad[oa]|querid[oa]|gracias|"
    r"muchas gracias|mil gracias|saludos|un saludo|atentamente|buenos días|buenas tardes|"
    r"thanks to|thank you to|merci à|gracias a|danke an|"
    r"ich bin|ich heiße|ich heisse|mein name ist|hier ist|hallo|liebe|lieber|grüße|"
    r"viele grüße|beste grüße|gruß|mfg|danke|vielen dank|vielen lieben dank|guten tag|"
    r"named|called|appelée?|llamad[oa]|namens|holder|titulaire|titular|inhaber|inhaberin|"
    r"a certain|un certain|une certaine|un tal|una tal|ein gewisser|eine gewisse|"
    r"je soussignée?|i, the undersigned|le atiende|les atiende|le habla|al habla|"
    r"parents de|padres de|eltern von|liebe familie|chère famille|querida familia"
)
"""Introductions, greetings and signatures: what follows is a name, known or not."""
_MENTIONS = (
    r"ask for|asked for|spoke to|spoke with|speak to|speak with|talked to|talk to|"
    r"chat with|chatted with|on chat with|assigned to|reassigned to|transferred to|"
    r"forwarded to|escalated to|handled by|signed by|approved by|contact|"
    r"parlé à|parlé avec|parler à|demandez|demander|assignée? à|transféré à|"
    r"hablé con|hablar con|pregunten por|preguntar por|asignado a|"
    r"gesprochen mit|sprechen mit|geredet|zugewiesen an|"
    r"caller|policyholder|tenant|patient|paciente|patientin|mieter|mieterin|locataire|"
    r"assuré|assurée|asegurado|asegurada|versicherte[rn]?"
)
"""Verbs that name someone: what follows is a name if it is a known one."""
ORGANISATIONS = words(
    "airlines airline airways air bank banque banco group groupe grupo gruppe ltd inc "
    "llc gmbh sa sas sarl ag co company corp corporation labs technologies systems "
    "solutions services consulting partners holdings insurance assurances seguros "
    "versicherung telecom mobile energy hotel hotels hôtel clinic clinique clínica klinik "
    "hospital hôpital university université universidad universität school école "
    "escuela schule office team support motors pharma foods store stores shop market "
    "express logistics travel voyages viajes reisen airport aéroport aeropuerto flughafen "
    "building centre center centro zentrum hall library bibliothèque biblioteca "
    "stadium estadio stade museum musée museo zoo market markt mercado marché pharmacy "
    "pharmacie farmacia apotheke bakery boulangerie panadería bäckerei garage taller "
    "werkstatt café cafe bar restaurant pizzeria brasserie operations co-op coop "
    "housing institut institute gymnasium halle haus"
)
"""Last words of an organisation's name: "Singapore Airlines", "Hôtel Martinez"."""
PLACE_BEFORE = re.compile(
    r"(?i)(?<!\w)(?:rue|avenue|av\.|boulevard|bd|place|allée|quai|impasse|chemin|cours|"
    r"lycée|collège|école|hôpital|hospital|clinique|clínica|klinik|klinikum|krankenhaus|"
    r"gare|station|métro|metro|aéroport|aeropuerto|airport|flughafen|stade|stadium|estadio|"
    r"calle|avenida|plaza|paseo|colegio|instituto|universidad|universitario|universitaria|"
    r"université|university|college|school|via|viale|piazza|corso|straße|strasse|platz|"
    r"allee|bahnhof|schule|gymnasium|museum|musée|museo|theatre|théâtre|teatro|salle|sala|saal|parque|aeroparque|sucursal|"
    r"centro de salud|centro|boulangerie|pâtisserie|pharmacie|farmacia|apotheke|bäckerei|"
    r"restaurant|restaurante|brasserie|hôtel|hotel|magasin|tienda|librairie|librería|"
    r"fondation|fundación|stiftung|institut|foundation|"
    r"st\.?|saint|sainte|san|santa|sankt)(?:\s+(?:de|del|de la|de los|du|des|di|von|der))?"
    r"\s+$"
)
"""Places and venues named after people: "rue Victor Hugo", "lycée Marie Curie", "calle
Miguel Servet", "la boulangerie Paul"."""
INTRODUCTION = re.compile(rf"(?i)(?<!\w)(?:{_INTRODUCTIONS})(?:[\s,:;-]*|[!.]\s*\n\s*)$")
MENTION = re.compile(rf"(?i)(?<!\w)(?:{_MENTIONS})[\s,:;-]*$")
TITLE_BEFORE = re.compile(
    r"(?<!\w)(?:"
    + "|".join(t[0].upper() + t[1:] for t in sorted(TITLES, key=len, reverse=True))
    + r"|(?i:"
    + "|".join(sorted(LOWERCASE_TITLES, key=len, reverse=True))
    + r"))\.?\s+$"
)
RELATION_BEFORE = re.compile(
    r"(?i)(?<!\w)(?:grand[ -]m[eè]re|grand[ -]p[eè]re|"
    + "|".join(re.escape(w) for w in sorted(RELATIONS, key=len, reverse=True))
    + r")(?:\s+(?:an|à|a)|\s+(?:is|was|est|était|es|era|ist|war)|\s+i\s+spoke\s+to\s+was)?"
    r"\s*[,:(]?\s*$"
)  # fmt: skip
FIELD_BEFORE = re.compile(
    r"(?i)(?:full name|first name|last name|surname|given name|name on (?:the )?\w+|"
    r"nom de famille|nom d'usage|nom de naissance|nom de jeune fille|au nom de|"
    r"à l'attention de|a l'attention de|nombre completo|a nombre de|familienname|"
    r"geburtsname|auf den namen|contact person|account holder|(?<!\w)(?:"
    + "|".join(sorted(FIELDS, key=len, reverse=True))
    + r"))\s*[\"'«]?\s*[:=\"'»]?\s*[\"'«]?\s*$"
    + r"|(?<!\w)(?:"
    + "|".join(sorted(HEADERS, key=len, reverse=True))
    + r")\.?\s*:\s*$"
)
"""A field's value: "Name: ...", "Nom d'usage : ...", "cc: ...", "Ansprechpartner" "...".
"""
NAMED = re.compile(
    r"(?i)(?:name(?:'s| is| on (?:the )?\w+ is)|je m'appelle|je m\u2019appelle|me llamo|"
    r"ich heiße|ich heisse|mein name ist)\s*:?\s*$"
)
"""Where even a name in capitals is a name: "name on card is LIAM O'SULLIVAN"."""
STRONG_LOWERCASE = re.compile(
    r"(?i)(?:my name is|name is|je m'appelle|je m\u2019appelle|je mappelle|jmappelle|"
    r"je m appelle|"
    r"mon nom est|me llamo|mi nombre es|ich heiße|ich heisse|mein name ist|hier ist|(?<!\w)(?:"
    + "|".join(sorted(LOWERCASE_TITLES, key=len, reverse=True))
    + r")\.?)\s+$"
)
"""Introductions strong enough that a name after them may be written in lowercase."""
LIST_JOINER = re.compile(
    r"^(?:\s*,\s*|\s*,?\s+(?:and|et|y|e|und|or|ou|o|oder|&)\s+)"
    r"(?:(?:to|à|a|an|with|avec|con|mit)\s+)?$"
)
"""Between two names of a list: "Soazig Le Bihan, Tiago Mendes Rocha et Ndeye Fatou Sarr"."""

BRANDS = frozenset(
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
        "Saint Laurent", "Mary Kay", "Dior", "Chanel", "Hermès", "Philips", "Siemens",
        "Bosch", "Dell", "Ford", "Porsche", "Ferrari", "Lamborghini", "Peugeot", "Renault",
        "Citroën", "Michelin", "Nestlé", "Carrefour", "Lidl", "Aldi", "Boulanger", "Darty",
        "Decathlon", "Leroy Merlin", "Zara", "Mango", "Adidas", "Puma", "Nike", "Air Jordan",
        "Tesla", "Disney", "Kellogg's", "Heinz", "Cadbury", "Boots", "Sainsbury's", "Tesco",
        "Morrisons", "Harrods", "Selfridges", "Abercrombie Fitch", "Jack Daniel's",
        "Johnnie Walker", "Jim Beam", "Dom Pérignon", "Moët Chandon", "Levi's",
        "Victoria's Secret", "McDonald's", "Wendy's", "Domino's", "Macy's", "Trader Joe's",
        "Papa John's", "Carl's Jr", "Tim Hortons", "Marie Claire", "Zara Home",
        "Massimo Dutti", "Emporio Armani", "Tommy Jeans", "Sephora", "El Corte Inglés",
        "Mondial Relay", "Marks & Spencer", "Miele", "Braun", "Dyson", "Lancôme",
        "Guerlain", "Cartier", "Bulgari", "Tiffany & Co", "Hyundai", "Honda", "Toyota",
        "Suzuki", "Mazda", "Nissan", "Volvo", "Skoda", "Opel", "Dacia", "Seat", "Audi",
        "Carolina Herrera", "Purificación García", "Adolfo Domínguez", "Pierre Hermé",
        "Jean Louis David", "Yves Rocher", "Franck Provost", "Jacques Dessange",
        "Christian Louboutin", "Paco Rabanne", "Nina Ricci", "Jean Patou", "Sonia Rykiel",
        "Agnès B", "Isabel Marant", "Jil Sander", "Hilton", "Marriott", "Ritz",
        "Sheraton", "Don Simón", "Tío Pepe", "Miss Dior", "Marie Curie", "Ben Sherman",
        "Charlotte Tilbury", "Laura Ashley", "Vivienne Westwood", "Alexander McQueen",
        "Gordon Ramsay", "Jamie Oliver", "Paul Mitchell", "Tom Tailor", "Marc O'Polo",
        "Hans im Glück", "Fielmann", "Deichmann", "Rossmann", "Kaufland",
    )
)  # fmt: skip
"""Brands named after people (or that are names somewhere). One of several words is never
a person's name; a one-word brand is not a name on its own ("chez Sephora"), but may be
a surname after a first name or a title ("Marco Ferrari", "Mme Boulanger")."""
BRAND = re.compile(
    r"(?i)(?<!\w)(?:"
    + "|".join(
        r"\s*(?:&|and|et|y|und)?\s*".join(re.escape(w) for w in brand.split())
        for brand in sorted(BRANDS, key=len, reverse=True)
    )
    + r")(?!\w)"
)
