"""The closed word classes the verifier reads, per language it can judge.

Only closed classes live here: articles, pronouns, auxiliaries, prepositions, negations,
quantifiers, number words, months and weekdays, question words, and the set phrases of
politeness, filler and question frames. These are small, finite parts of each language
(a grammar lists them), not vocabulary: every other word of a text is content, and the
verifier requires each content word of one text to find its match in the other. So a
word missing from these lists makes the cache refuse more, never answer wrongly.

Words are written as people write them and folded once (``fold``): lower case, German
umlauts and ß spelled out (ä: ae, ß: ss, as people type without them), other accents
dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

LANGUAGES = ("en", "fr", "es", "de")
"""The languages the verifier can judge; a text in any other goes to the exact tier only."""

_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, other accents dropped, apostrophes made one."""
    text = unicodedata.normalize("NFC", text.lower()).translate(_SPELLED_OUT)
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _set(words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words.split())


INTERJECTIONS = _set("hey hi hello ok okay hmm hm lol xd thx pls plz")
"""Written alike in every language the verifier reads."""


def _classes(table: dict[str, str]) -> dict[str, str]:
    """``{"all tous": "all"}`` read as each word to its class."""
    return {fold(w): cls for words, cls in table.items() for w in words.split()}


def _phrases(text: str) -> tuple[str, ...]:
    """One phrase per line, longest first (so that "thanks in advance" goes before
    "thanks"); each also as typed without its apostrophes and hyphens ("cest quoi",
    "est ce que")."""
    lines = {fold(line.strip()) for line in text.strip().splitlines() if line.strip()}
    variants = {v for p in lines for v in (p, p.replace("'", ""), p.replace("'", " "))}
    variants |= {v.replace("-", " ") for v in variants}
    return tuple(sorted(variants, key=lambda p: (-len(p), p)))


@dataclass(frozen=True)
class Lexicon:
    language: str
    stemmer: str
    """The Snowball stemmer's name for the language."""
    ignorable: frozenset[str]
    """Articles, pronouns, auxiliaries, question frames: they change no answer."""
    phrases: tuple[str, ...]
    """Politeness, filler and question frames, removed whole before reading."""
    negations: frozenset[str]
    quantifiers: dict[str, str]
    """Word: its class ("every", "each": "each")."""
    markers: dict[str, str]
    """Prepositions and subordinators: they open a phrase and say its role."""
    coordinators: dict[str, str]
    """Words that join items whose order does not matter ("X and Y"), by class."""
    questions: dict[str, str]
    """Question words that say what kind of answer is asked for (a person, a time...)."""
    numbers: dict[str, str]
    dates: dict[str, str]
    """Months, weekdays and days relative to today: word to its canonical name."""
    patterns: tuple[str, ...] = ()
    """Politeness and filler as patterns that compose their parts ("could you (please)
    tell me"): regular expressions over folded text, removed like ``phrases``."""
    settings: frozenset[str] = frozenset()
    """Role classes that set a scene ("on Windows", "with CSS"): terse questions drop their
    role word ("windows - ..."), which then counts as the same."""
    subordinators: frozenset[str] = frozenset()
    """Role words that open a clause ("if", "weil"): they govern its first word only."""
    determiners: frozenset[str] = frozenset()
    """Articles and possessives: past a phrase's first word, one opens a new noun phrase."""
    verb_final: bool = False
    """The verb closes the clause (German): the last word is no part of the phrase before."""
    modals: dict[str, str] = field(default_factory=dict)
    """Modal verbs that change what is asked (may, must, should), by class."""
    elisions: dict[str, str] = field(default_factory=dict)
    """Elided forms before an apostrophe ("l'", "qu'") read as their full word."""
    negation_openers: frozenset[str] = frozenset()
    """Words that open a negation closed later ("ne ... pas"): read with their closer."""
    negation_closers: frozenset[str] = frozenset()
    """Words that negate only after an opener ("ne ... personne", "ne ... plus")."""
    restrictive_closers: frozenset[str] = frozenset()
    """A closer that makes "only" of an opener ("ne ... que")."""


_MONTHS = {
    "en": "january february march april may june july august september october november december",
    "fr": "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "de": "januar februar maerz april mai juni juli august september oktober november dezember",
}
_MONTH_ABBREVIATIONS = {
    "en": "jan feb mar apr _ jun jul aug sep oct nov dec",
    "fr": "janv fevr _ avr _ _ juil _ sept oct nov dec",
    "es": "ene feb mar abr _ jun jul ago sept oct nov dic",
    "de": "jan feb maer apr _ jun jul aug sep okt nov dez",
}
_WEEKDAYS = {
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miercoles jueves viernes sabado domingo",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
}
_RELATIVE_DAYS = {
    "en": {"today": "today", "tonight": "today", "tomorrow": "tomorrow", "yesterday": "yesterday"},
    "fr": {
        "aujourd'hui": "today",
        "aujourdhui": "today",
        "demain": "tomorrow",
        "hier": "yesterday",
    },
    "es": {"hoy": "today", "manana": "tomorrow", "ayer": "yesterday"},
    "de": {"heute": "today", "morgen": "tomorrow", "gestern": "yesterday"},
}


def _dates(language: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for i, name in enumerate(_MONTHS[language].split(), start=1):
        table[name] = f"month{i}"
    for i, name in enumerate(_MONTH_ABBREVIATIONS[language].split(), start=1):
        if name != "_":
            table[name] = f"month{i}"
    for i, name in enumerate(_WEEKDAYS[language].split(), start=1):
        table[name] = f"day{i}"
        table[name + "s"] = f"day{i}"  # "on Mondays", "los lunes", "dienstags"
    for word, name in _RELATIVE_DAYS[language].items():
        table[fold(word)] = name
    return table


def _numbers(words: str, tens: str, extra: dict[str, str]) -> dict[str, str]:
    table = {fold(w): str(i) for i, w in enumerate(words.split())}
    table |= {fold(w): str(10 * i) for i, w in enumerate(tens.split(), start=2)}
    return table | {fold(w): v for w, v in extra.items()}


# fmt: off
ENGLISH = Lexicon(
    language="en",
    stemmer="english",
    ignorable=INTERJECTIONS
    | _set(
        """a an the i me my mine myself we us our ours you your yours yourself it its itself
        he him his she her they them their this that these those there here do does did doing
        done am is are was were be been being have has had having can could will would shall
        get gets got what which whats how hows way ways someone somebody something anything
        thing things please pls plz kindly just really actually basically exactly possible
        properly correctly s d ll ve re m t so well ok okay hey hi hello also um uh umm hmm
        btw lol anyway guys folks then explain describe"""
    ),
    phrases=_phrases(
        """
        thanks in advance
        thank you in advance
        thank you
        thanks a lot
        thanks
        cheers
        many thanks
        quick question
        a quick question
        just a quick question
        i have a question
        question for you
        i was wondering
        i'm wondering
        i am wondering
        i wonder
        i'd like to know
        i would like to know
        i want to know
        i need to know
        do you know
        does anyone know
        anyone know
        can you tell me
        could you tell me
        would you tell me
        can you explain
        could you explain
        please explain
        can you help me understand
        could you help me understand
        can you help me with
        can you help me
        could you help me
        help me understand
        let me know
        tell me
        any idea
        any ideas
        is it possible to
        is there a way to
        is there any way to
        what is the way to
        what's the way to
        what is a way to
        the best way to
        the easiest way to
        the right way to
        the proper way to
        the correct way to
        best way to
        easiest way to
        how would i
        how would you
        how should i
        how can i
        how can you
        how can we
        how could i
        how do i
        how do you
        how does one
        how do we
        how to
        by the way
        any help would be appreciated
        any help is appreciated
        any help appreciated
        any tips appreciated
        any tips
        any advice appreciated
        any advice
        appreciate any help
        i appreciate it
        i need help
        i need some help
        need some help
        need help
        help please
        please help
        help me
        just curious
        i'm curious
        out of curiosity
        i really need to know
        i need to know
        it's urgent
        urgent
        i'm new to this
        i'm a beginner
        newbie here
        noob question
        stupid question
        dumb question
        hi all
        hi everyone
        hello everyone
        hello all
        hey everyone
        hey guys
        hi guys
        if you don't mind
        if possible
        if you can
        in short
        briefly
        quickly
        """
    ),
    negations=_set(
        "not no never nothing nobody none nowhere neither nor without cannot nope noone"
    ),
    quantifiers=_classes(
        {
            "all": "all", "every each": "each", "some": "some", "any": "any",
            "most": "most", "few": "few", "several": "several", "many": "many",
            "both": "both", "either": "either", "only solely": "only", "alot lots": "many",
            "least": "least", "more": "more", "less fewer": "less", "entire whole": "all",
        }
    ),
    markers=_classes(
        {
            "to": "to", "into": "into", "onto": "onto", "from": "from", "in": "in",
            "inside": "in", "on": "on", "at": "at", "by": "by", "for": "for", "with": "with",
            "of": "of", "about": "about", "between": "between", "among": "among", "than": "than",
            "after": "after", "before": "before", "since": "since", "until": "until",
            "till": "until", "during": "during", "over": "over", "under": "under",
            "above": "above", "below": "below", "through": "through", "across": "across",
            "against": "against", "toward": "toward", "towards": "toward", "via": "via",
            "per": "per", "within": "within", "if": "if", "because": "because",
            "while": "while", "unless": "unless", "instead": "instead", "except": "except",
            "like": "like", "as": "as", "off": "off", "out": "out", "up": "up", "down": "down",
            "when": "when", "whenever": "when", "whether": "whether",
        }
    ),
    coordinators=_classes({"and plus": "and", "or": "or", "vs versus": "vs"}),
    questions=_classes(
        {"who": "who", "whom": "whom", "whose": "whose", "where": "where", "why": "why"}
    ),
    numbers=_numbers(
        """zero one two three four five six seven eight nine ten eleven twelve thirteen
        fourteen fifteen sixteen seventeen eighteen nineteen""",
        "twenty thirty forty fifty sixty seventy eighty ninety",
        {
            "hundred": "100", "thousand": "1000", "million": "1e6", "billion": "1e9",
            "dozen": "12", "half": "0.5", "quarter": "0.25", "first": "1st", "second": "2nd",
            "third": "3rd", "fourth": "4th", "fifth": "5th", "last": "last", "once": "1x",
            "twice": "2x", "double": "2x", "triple": "3x",
        },
    ),
    patterns=(
        r"(?:can|could|would|will) (?:you|u|someone|anyone|somebody) (?:please |kindly )?"
        r"(?:tell|show|explain to|help|let) me(?: know| understand)?",
        r"(?:do|does) (?:you|anyone|somebody|someone) (?:happen to )?know",
        r"i(?:'d| would) (?:really )?(?:like|love) to (?:know|ask|understand)",
        r"i(?:'m| am)? (?:just )?(?:wondering|curious|asking)",
        r"i (?:just )?(?:want|wanted|need|needed) to (?:know|ask|check)",
        r"(?:a |one )?(?:quick|short|simple|small|dumb|stupid|silly|noob|beginner) question",
        r"(?:many |big )?(?:thanks|thank you|thx|ty)(?: (?:so|very) much| a lot| a ton| again)?"
        r"(?: in advance| for (?:the|your|any) (?:help|answer|answers|reply|time))?",
        r"(?:hi|hello|hey|hiya|yo|greetings)(?: there| all| everyone| everybody| guys| folks| team)?",
        r"(?:any|all) (?:help|advice|tips|input|pointers)(?: (?:is|are|would be))?"
        r"(?: (?:much|greatly|really))? appreciated",
    ),
    subordinators=_set("if because while unless when whenever whether"),
    settings=frozenset({"in", "on", "at", "with", "under"}),
    dates=_dates("en"),
    determiners=_set("a an the my your his her its our their this that these those"),
    modals=_classes({"should ought": "should", "must": "must", "may might": "may"}),
)
# fmt: on

# fmt: off
FRENCH = Lexicon(
    language="fr",
    stemmer="french",
    ignorable=INTERJECTIONS
    | _set(
        """le la les l un une je j me m moi tu te t toi il elle on nous vous ils elles se s
        mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce c cet cette ces ca
        cela ceci y est es suis sont etait etre ete ai as a avons avez ont avait fait faire
        fais font peut peux pouvez pouvons puis peuvent pourrait pourrais pourriez quel
        quelle quels quelles qu que quoi comment est-ce estce svp stp bien alors donc bon ok
        ben bah euh voila ici moyen maniere facon expliquer explique expliquez"""
    ),
    phrases=_phrases(
        """
        s'il vous plait
        s'il te plait
        svp
        stp
        merci d'avance
        merci beaucoup
        merci bien
        merci
        bonjour
        bonsoir
        salut
        coucou
        hello
        petite question
        une petite question
        question rapide
        j'ai une question
        je voudrais savoir
        j'aimerais savoir
        je veux savoir
        je me demande
        je me demandais
        je cherche a savoir
        pouvez-vous me dire
        pourriez-vous me dire
        peux-tu me dire
        pourrais-tu me dire
        tu peux me dire
        vous pouvez me dire
        dites-moi
        dis-moi
        dis moi
        tu sais
        vous savez
        savez-vous
        sais-tu
        est-ce que vous savez
        est-ce que tu sais
        quelqu'un sait
        aidez-moi a comprendre
        expliquez-moi
        explique-moi
        pouvez-vous m'expliquer
        peux-tu m'expliquer
        comment on fait pour
        comment faire pour
        comment fait-on pour
        comment est-ce qu'on
        comment je peux
        comment puis-je
        comment peut-on
        comment on peut
        comment faire
        quelle est la meilleure facon de
        quelle est la meilleure maniere de
        quel est le meilleur moyen de
        la meilleure facon de
        la meilleure maniere de
        le meilleur moyen de
        quelle est la facon de
        quelle est la maniere de
        quel est le moyen de
        de quelle facon
        de quelle maniere
        est-il possible de
        est-ce possible de
        il y a moyen de
        y a-t-il un moyen de
        c'est quoi
        qu'est-ce que c'est que
        qu'est-ce que c'est
        qu'est-ce que
        qu'est-ce qu'
        est-ce que
        est-ce qu'
        en bref
        au fait
        bonjour a tous
        salut a tous
        bonjour tout le monde
        salut tout le monde
        par curiosite
        juste par curiosite
        je suis curieux
        je suis curieuse
        je suis debutant
        je suis debutante
        question bete
        question de debutant
        c'est urgent
        urgent
        aidez-moi
        aide-moi
        aidez moi svp
        j'ai besoin d'aide
        besoin d'aide
        toute aide est la bienvenue
        toute astuce est la bienvenue
        tout conseil est le bienvenu
        des conseils
        merci d'avance pour votre aide
        merci d'avance pour ton aide
        merci par avance
        merci pour votre aide
        m'aider a comprendre
        aidez-moi a comprendre
        m'indiquer
        m'expliquer
        me dire
        merci pour ton aide
        merci de votre aide
        en fait
        du coup
        concretement
        franchement
        euh
        bref
        auriez-vous l'amabilite de
        pourriez-vous
        pourrais-tu
        pouvez-vous
        peux-tu
        tu pourrais
        vous pourriez
        """
    ),
    negations=_set("pas jamais rien aucun aucune sans non ni"),
    quantifiers=_classes(
        {
            "tout tous toute toutes entier entiere": "all", "chaque": "each",
            "quelques quelque certains certaines": "some", "n'importe": "any",
            "plusieurs": "several", "beaucoup nombreux nombreuses": "many", "peu": "few",
            "deux-tous": "both", "seulement uniquement seul seule seuls seules": "only",
            "moins": "less", "plupart": "most", "davantage": "more",
        }
    ),
    markers=_classes(
        {
            "a au aux": "a", "de du des d": "de", "en": "en", "dans": "dans", "sur": "sur",
            "sous": "sous", "pour": "pour", "par": "par", "avec": "avec", "chez": "chez",
            "entre": "entre", "vers": "vers", "depuis": "depuis", "pendant": "pendant",
            "avant": "avant", "apres": "apres", "contre": "contre",
            "si": "si", "quand": "quand", "lorsque": "quand", "parce": "parce",
            "car": "car", "comme": "comme", "jusqu'a": "jusque", "jusque": "jusque",
            "jusqu": "jusque", "selon": "selon", "malgre": "malgre", "via": "via",
            "puisque": "puisque", "au-dessus": "dessus", "au-dessous": "dessous", "hors": "hors", "durant": "pendant",
        }
    ),
    coordinators=_classes({"et": "and", "ou": "or", "vs versus": "vs"}),
    questions=_classes({"qui": "who", "quiwhere": "where", "pourquoi": "why", "combien": "howmuch"}),
    numbers=_numbers(
        """zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze
        quinze seize dix-sept dix-huit dix-neuf""",
        "vingt trente quarante cinquante soixante soixante-dix quatre-vingt quatre-vingt-dix",
        {
            "cent": "100", "cents": "100", "mille": "1000", "million": "1e6",
            "millions": "1e6", "milliard": "1e9", "milliards": "1e9", "douzaine": "12",
            "moitie": "0.5", "demi": "0.5", "demie": "0.5", "quart": "0.25",
            "premier": "1st", "premiere": "1st", "deuxieme": "2nd", "second": "2nd",
            "seconde": "2nd", "troisieme": "3rd", "quatrieme": "4th", "cinquieme": "5th",
            "dernier": "last", "derniere": "last", "double": "2x", "triple": "3x",
            "septante": "70", "octante": "80", "huitante": "80", "nonante": "90",
        },
    ),
    patterns=(
        r"(?:(?:pouvez|pourriez)[- ]vous|(?:peux|pourrais)[- ]tu|tu (?:peux|pourrais)|vous "
        r"(?:pouvez|pourriez)|(?:est[- ]ce que )?(?:tu|vous) (?:peux|pouvez|pourrais|pourriez))"
        r"(?: (?:s'il vous plait|s'il te plait|svp|stp))? (?:me dire|m'?expliquer|m'?indiquer|"
        r"m'?aider a comprendre|m'?eclairer(?: sur)?)",
        r"(?:je voudrais|j'?aimerais|je veux|je souhaiterais|je souhaite|je cherche a) "
        r"(?:bien )?(?:savoir|comprendre)",
        r"(?:est[- ]ce que )?(?:quelqu'un|qqn) (?:sait|saurait|connait)",
        r"(?:une |ma )?(?:petite |simple |rapide |courte )?question (?:rapide|bete|simple|de debutant)",
        r"(?:un )?(?:grand |gros )?merci(?: beaucoup| bien| infiniment)?(?: d'?avance| par avance)?"
        r"(?: (?:a tous|pour (?:votre|ton|vos|tes) (?:aide|reponse|reponses|retour)))?",
        r"(?:bonjour|bonsoir|salut|coucou|hello|hey)(?: a tous| a toutes| tout le monde| les amis)?",
        r"toute aide (?:est|sera) (?:la )?bienvenue",
    ),
    subordinators=_set("si quand lorsque parce car comme puisque"),
    settings=frozenset({"dans", "sur", "sous", "en", "avec", "chez"}),
    dates=_dates("fr"),
    determiners=_set(
        "le la les l un une mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet cette ces"
    ),
    modals=_classes({"doit dois devons devez doivent devrait devrais devrions devriez": "should", "faut": "must"}),
    elisions={
        "l": "le", "d": "de", "j": "je", "m": "me", "t": "te", "s": "se", "c": "ce",
        "n": "ne", "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque",
        "quoiqu": "quoique",
    },
    negation_openers=_set("ne"),
    negation_closers=_set("plus personne point guere nul nulle nullement"),
    restrictive_closers=_set("que"),
)
# fmt: on

# fmt: off
SPANISH = Lexicon(
    language="es",
    stemmer="spanish",
    ignorable=INTERJECTIONS
    | _set(
        """el la los las lo un una unos unas yo me mi mis mio tu te ti tus usted ustedes
        nosotros nos nuestro nuestra vosotros os el ella ellos ellas le les se su sus este
        esta estos estas ese esa esos esas eso esto es son era eran ser sido estar estoy
        esta estan he has ha hemos han hay habia puedo puedes puede podemos pueden podria
        podrias hacer hago hace hacen que cual cuales como bueno pues vale oye manera forma
        modo entonces explicar explica explicas explicame eh"""
    ),
    phrases=_phrases(
        """
        por favor
        porfa
        porfavor
        gracias de antemano
        muchas gracias
        mil gracias
        gracias
        de antemano
        hola
        buenas
        buenos dias
        buenas tardes
        una pregunta
        una pregunta rapida
        pregunta rapida
        tengo una pregunta
        tengo una duda
        una duda
        quisiera saber
        me gustaria saber
        quiero saber
        necesito saber
        me pregunto
        me preguntaba
        me puedes decir
        me podrias decir
        me puede decir
        me podria decir
        puedes decirme
        podrias decirme
        dime
        digame
        sabes
        sabe usted
        alguien sabe
        me puedes explicar
        me podrias explicar
        puedes explicarme
        explicame
        ayudame a entender
        cual es la mejor manera de
        cual es la mejor forma de
        cual es la manera de
        cual es la forma de
        la mejor manera de
        la mejor forma de
        de que manera
        de que forma
        hay alguna manera de
        hay alguna forma de
        hay manera de
        hay forma de
        es posible
        como puedo
        como se puede
        como podemos
        como hago para
        como hacer para
        como se hace para
        como hago
        como se
        que es
        en resumen
        por cierto
        hola a todos
        buenas a todos
        hola chicos
        por curiosidad
        solo por curiosidad
        soy nuevo en esto
        soy nueva en esto
        soy principiante
        pregunta tonta
        es urgente
        urgente
        necesito ayuda
        ayuda por favor
        ayudame
        ayudenme
        cualquier ayuda es bienvenida
        se agradece cualquier ayuda
        agradezco cualquier ayuda
        algun consejo
        cualquier consejo se agradece
        se agradece cualquier consejo
        realmente
        gracias por la ayuda
        gracias por tu ayuda
        en realidad
        o sea
        bueno
        pues
        me puedes
        me podrias
        a ver
        queria saber
        queria preguntar
        quisiera preguntar
        me gustaria preguntar
        disculpe
        disculpa
        perdona
        perdone
        seria tan amable de
        serias tan amable de
        decirme
        indicarme
        necesito saberlo ya
        necesito saberlo
        me ayudas a entender
        me ayudarias a entender
        me explicas
        me podria indicar
        me puede indicar
        me podrias indicar
        podrias
        puedes
        """
    ),
    negations=_set("no nunca jamas nada nadie ningun ninguna ninguno ningunos ningunas tampoco sin ni"),
    quantifiers=_classes(
        {
            "todo toda todos todas entero entera": "all", "cada": "each",
            "algun alguna alguno algunos algunas": "some", "cualquier cualquiera": "any",
            "varios varias": "several", "muchos muchas mucho mucha": "many",
            "pocos pocas poco poca": "few", "ambos ambas": "both",
            "solo solamente unicamente unico unica": "only", "menos": "less", "mas": "more",
            "mayoria": "most",
        }
    ),
    markers=_classes(
        {
            "a al": "a", "de del": "de", "en": "en", "con": "con", "por": "por",
            "para": "para", "entre": "entre", "hacia": "hacia", "desde": "desde",
            "hasta": "hasta", "sobre": "sobre", "bajo": "bajo", "ante": "ante", "tras": "tras",
            "contra": "contra", "durante": "durante", "si": "si", "cuando": "cuando",
            "porque": "porque", "antes": "antes", "despues": "despues", "segun": "segun",
            "mediante": "mediante", "via": "via", "encima": "encima", "debajo": "debajo",
            "dentro": "dentro", "fuera": "fuera", "aunque": "aunque", "mientras": "mientras",
        }
    ),
    coordinators=_classes({"y e": "and", "o u": "or", "vs versus": "vs"}),
    questions=_classes(
        {"quien quienes": "who", "donde adonde": "where", "quiwhy": "why", "cuanto cuanta cuantos cuantas": "howmuch"}
    ),
    numbers=_numbers(
        """cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce
        quince dieciseis diecisiete dieciocho diecinueve""",
        "veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa",
        {
            "cien": "100", "ciento": "100", "mil": "1000", "millon": "1e6", "millones": "1e6",
            "docena": "12", "mitad": "0.5", "medio": "0.5", "media": "0.5", "cuarto": "0.25",
            "primero": "1st", "primer": "1st", "primera": "1st", "segundo": "2nd",
            "segunda": "2nd", "tercero": "3rd", "tercer": "3rd", "tercera": "3rd",
            "cuarta": "4th", "quinto": "5th", "quinta": "5th", "ultimo": "last",
            "ultima": "last", "doble": "2x", "triple": "3x", "veintiuno": "21",
            "veintidos": "22", "veintitres": "23", "veinticuatro": "24", "veinticinco": "25",
        },
    ),
    patterns=(
        r"(?:me )?(?:puedes|podrias|podria|puede|pudieras|pudiera) (?:por favor )?"
        r"(?:decir|explicar|indicar|ayudar a entender|aclarar)(?:me)?",
        r"(?:me )?(?:dices|explicas|indicas|aclaras)",
        r"(?:quisiera|queria|me gustaria|necesito|quiero) (?:saber|preguntar|entender)",
        r"(?:alguien|alguno) (?:sabe|conoce)",
        r"(?:una )?(?:pregunta|duda|consulta) (?:rapida|tonta|sencilla|de novato)",
        r"(?:muchas |mil )?gracias(?: de antemano| por adelantado)?"
        r"(?: (?:a todos|por (?:la|tu|su|vuestra) (?:ayuda|respuesta)))?",
        r"(?:buenos dias|buenas tardes|buenas noches|buenas|hola|saludos)"
        r"(?: a todos| chicos| amigos| gente)?",
        r"(?:cualquier|toda) (?:ayuda|consejo|sugerencia) (?:es|sera) bienvenid[ao]",
    ),
    subordinators=_set("si cuando porque aunque mientras"),
    settings=frozenset({"en", "con", "bajo"}),
    dates=_dates("es"),
    determiners=_set(
        "el la los las lo un una unos unas mi mis tu tus su sus nuestro nuestra nuestros nuestras este esta estos estas ese esa esos esas"
    ),
    modals=_classes({"debo debes debe debemos deben deberia deberias": "should", "tengo-que": "must"}),
)
# fmt: on

# fmt: off
GERMAN = Lexicon(
    language="de",
    stemmer="german",
    ignorable=INTERJECTIONS
    | _set(
        """der die das den dem des ein eine einen einem einer eines ich mich mir mein meine
        meinen meinem meiner du dich dir dein deine deinen er sie es ihn ihm ihr ihre ihren
        ihrem wir uns unser unsere euch euer sich man ist sind war waren bin bist sein
        gewesen wird werden wurde wurden hat habe hast haben hatte kann kannst koennen
        koennte koenntest koennten tun tut mache macht machen was welche welcher welches
        welchen wie denn eigentlich mal doch ja bitte halt eben genau also so hier da dies
        diese dieser dieses diesen diesem art weise dann erklaeren erklaere erklaer erklaert"""
    ),
    phrases=_phrases(
        """
        danke im voraus
        vielen dank im voraus
        vielen dank
        danke schoen
        danke
        bitte
        hallo
        hi
        guten tag
        moin
        servus
        kurze frage
        eine kurze frage
        ich habe eine frage
        ich haette eine frage
        ich wollte fragen
        ich wollte mal fragen
        ich moechte wissen
        ich wuerde gerne wissen
        ich wuesste gerne
        ich frage mich
        weisst du
        wissen sie
        weiss jemand
        kannst du mir sagen
        koennen sie mir sagen
        koenntest du mir sagen
        koennten sie mir sagen
        sag mir
        sagen sie mir
        kannst du mir erklaeren
        koennen sie mir erklaeren
        erklaer mir
        erklaere mir
        hilf mir zu verstehen
        was ist der beste weg
        was ist die beste methode
        der beste weg
        am besten
        gibt es eine moeglichkeit
        gibt es einen weg
        ist es moeglich
        wie kann ich
        wie kann man
        wie koennen wir
        wie mache ich
        wie macht man
        wie geht
        auf welche weise
        uebrigens
        kurz gesagt
        hallo zusammen
        hallo leute
        hi leute
        hey leute
        liebe gruesse
        lg
        mfg
        viele gruesse
        gruss
        aus neugier
        nur aus neugier
        ich bin neu hier
        ich bin anfaenger
        anfaengerfrage
        dumme frage
        es ist dringend
        dringend
        ich brauche hilfe
        brauche hilfe
        hilfe
        fuer jede hilfe dankbar
        danke fuer die hilfe
        danke fuer eure hilfe
        jemand eine idee
        hat jemand eine idee
        irgendwelche tipps
        tipps
        eigentlich
        sozusagen
        aehm
        aeh
        also mal ehrlich
        mal ehrlich
        hab mal eine frage
        haette mal eine frage
        hab eine frage
        vielen dank schon mal
        danke schon mal
        schon mal danke
        guten abend
        guten morgen
        bin fuer jeden tipp dankbar
        fuer jeden tipp dankbar
        wuerden sie mir freundlicherweise
        koennten sie mir bitte sagen
        kannst du mir helfen zu verstehen
        koennen sie mir helfen zu verstehen
        kannst du
        koennen sie
        koenntest du
        koennten sie
        """
    ),
    negations=_set(
        """nicht kein keine keinen keinem keiner keines nie niemals nichts niemand ohne
        weder nirgends nirgendwo"""
    ),
    quantifiers=_classes(
        {
            "alle allen aller alles ganz ganze ganzen": "all",
            "jeder jede jedes jeden jedem": "each",
            "einige einigen einiger manche manchen etwas": "some",
            "irgendein irgendeine irgendeinen irgendwelche": "any",
            "mehrere mehreren": "several", "viele vielen viel": "many",
            "wenige wenigen wenig": "few", "beide beiden": "both",
            "nur ausschliesslich einzig einzige": "only", "weniger": "less", "mehr": "more",
            "meisten meiste": "most",
        }
    ),
    markers=_classes(
        {
            "zu zum zur": "zu", "von vom": "von", "nach": "nach", "aus": "aus",
            "in im ins": "in", "an am ans": "an", "auf aufs": "auf", "fuer": "fuer",
            "mit": "mit", "ueber": "ueber", "unter": "unter", "zwischen": "zwischen",
            "bei beim": "bei", "seit": "seit", "bis": "bis", "gegen": "gegen",
            "durch": "durch", "um": "um", "vor": "vor", "hinter": "hinter", "neben": "neben",
            "als": "als", "wenn": "wenn", "falls": "wenn", "weil": "weil", "ob": "ob",
            "dass": "dass", "waehrend": "waehrend", "nachdem": "nachdem", "bevor": "bevor",
            "gemaess": "gemaess", "laut": "laut", "trotz": "trotz", "statt": "statt",
            "anstatt": "statt", "ausser": "ausser", "pro": "pro", "je": "pro",
            "obwohl": "obwohl",
        }
    ),
    coordinators=_classes({"und sowie": "and", "oder": "or", "vs versus": "vs"}),
    questions=_classes({"wer": "who", "wen wem": "whom", "wessen": "whose", "wo wohin woher": "where", "warum wieso weshalb": "why", "wann": "when", "wieviel wieviele": "howmuch"}),
    numbers=_numbers(
        """null eins zwei drei vier fuenf sechs sieben acht neun zehn elf zwoelf dreizehn
        vierzehn fuenfzehn sechzehn siebzehn achtzehn neunzehn""",
        "zwanzig dreissig vierzig fuenfzig sechzig siebzig achtzig neunzig",
        {
            "hundert": "100", "tausend": "1000", "million": "1e6", "millionen": "1e6",
            "milliarde": "1e9", "dutzend": "12", "haelfte": "0.5", "halb": "0.5",
            "halbe": "0.5", "viertel": "0.25", "erste": "1st", "ersten": "1st",
            "erster": "1st", "zweite": "2nd", "zweiten": "2nd", "dritte": "3rd",
            "dritten": "3rd", "vierte": "4th", "fuenfte": "5th", "letzte": "last",
            "letzten": "last", "doppelt": "2x", "dreifach": "3x", "zwei-mal": "2x",
        },
    ),
    patterns=(
        r"(?:kannst|koenntest) du(?: mir)?(?: bitte)?(?: mal)?(?: kurz)? "
        r"(?:sagen|erklaeren|helfen(?: zu verstehen)?)",
        r"(?:koennen|koennten|wuerden) sie(?: mir)?(?: bitte)?(?: freundlicherweise)? "
        r"(?:sagen|erklaeren|helfen(?: zu verstehen)?)",
        r"(?:ich moechte|ich wuerde gerne|ich wuerde gern|ich wuesste gerne|ich wuesste gern) "
        r"(?:mal )?(?:wissen|verstehen)",
        r"(?:weiss|kennt) (?:jemand|einer|wer)",
        r"(?:eine )?(?:kurze|schnelle|dumme|einfache) frage",
        r"(?:vielen |tausend |besten )?dank(?:e)?(?: schoen)?(?: im voraus| schon mal| vorab)?"
        r"(?: fuer (?:die|eure|ihre|deine) (?:hilfe|antwort|antworten))?",
        r"(?:hallo|hi|hey|moin|servus|gruess gott|guten tag)(?: zusammen| leute| alle| ihr)?",
        r"(?:fuer )?jede hilfe (?:ist )?willkommen",
    ),
    subordinators=_set("wenn falls weil ob dass nachdem bevor waehrend obwohl"),
    settings=frozenset({"in", "auf", "mit", "unter", "bei", "an"}),
    dates=_dates("de"),
    determiners=_set(
        """der die das den dem des ein eine einen einem einer eines mein meine meinen meinem
        meiner dein deine deinen sein seine seinen ihr ihre ihren unser unsere unseren
        dieser diese dieses diesen diesem"""
    ),
    verb_final=True,
    modals=_classes({"soll sollte solltest sollen sollten": "should", "muss musst muessen": "must", "darf darfst duerfen": "may"}),
)
# fmt: on

LEXICONS = {lex.language: lex for lex in (ENGLISH, FRENCH, SPANISH, GERMAN)}

WORD = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
"""Numbers (with their separators) and words (with inner hyphens)."""
