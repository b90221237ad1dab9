"""French: the closed word classes the verifier reads (``gateway.cache.lexicon``)."""

from __future__ import annotations

from gateway.cache.lexicon import INTERJECTIONS, Lexicon, classes, dates, numbers, phrases, words

# fmt: off
FRENCH = Lexicon(
    language="fr",
    stemmer="french",
    ignorable=INTERJECTIONS
    | words(
        """le la les l un une je j me m moi tu te t toi il elle on nous vous ils elles se s
        mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce c cet cette ces ca
        cela ceci y est es suis sont etait etre ete ai as a avons avez ont avait fait faire
        fais font peut peux pouvez pouvons puis peuvent pourrait pourrais pourriez quel
        quelle quels quelles qu que quoi comment est-ce estce svp stp bien alors donc bon ok
        ben bah euh voila ici moyen maniere facon expliquer explique expliquez"""
    ),
    phrases=phrases(
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
    negations=words("pas jamais rien aucun aucune sans non ni"),
    quantifiers=classes(
        {
            "tout tous toute toutes entier entiere": "all", "chaque": "each",
            "quelques quelque certains certaines": "some", "n'importe": "any",
            "plusieurs": "several", "beaucoup nombreux nombreuses": "many", "peu": "few",
            "deux-tous": "both", "seulement uniquement seul seule seuls seules": "only",
            "moins": "less", "plupart": "most", "davantage": "more",
        }
    ),
    markers=classes(
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
    coordinators=classes({"et": "and", "ou": "or", "vs versus": "vs"}),
    questions=classes({"qui": "who", "quiwhere": "where", "pourquoi": "why", "combien": "howmuch"}),
    numbers=numbers(
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
    subordinators=words("si quand lorsque parce car comme puisque"),
    settings=frozenset({"dans", "sur", "sous", "en", "avec", "chez"}),
    dates=dates(
        months="janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
        abbreviations="janv fevr _ avr _ _ juil _ sept oct nov dec",
        weekdays="lundi mardi mercredi jeudi vendredi samedi dimanche",
        relative={"aujourd'hui": "today", "aujourdhui": "today", "demain": "tomorrow", "hier": "yesterday", "prochain": "next", "prochaine": "next", "prochains": "next", "prochaines": "next"},
    ),
    determiners=words(
        "le la les l un une mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet cette ces"
    ),
    modals=classes({"doit dois devons devez doivent devrait devrais devrions devriez": "should", "faut": "must"}),
    asking={
        "qui": "who", "quand": "when", "où": "where", "pourquoi": "why", "combien": "amount",
        "comment": "manner",
    },
    negating_prefixes=("des", "de", "dis", "in", "im", "il", "ir", "mal", "non", "anti"),
    opposed_prefixes=(("im", "ex"), ("in", "ex"), ("sur", "sous"), ("hyper", "hypo")),
    elisions={
        "l": "le", "d": "de", "j": "je", "m": "me", "t": "te", "s": "se", "c": "ce",
        "n": "ne", "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque",
        "quoiqu": "quoique",
    },
    negation_openers=words("ne"),
    negation_closers=words("plus personne point guere nul nulle nullement"),
    restrictive_closers=words("que"),
)
# fmt: on
