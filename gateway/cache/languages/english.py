"""English: the closed word classes the verifier reads (``gateway.cache.lexicon``)."""

from __future__ import annotations

from gateway.cache.lexicon import INTERJECTIONS, Lexicon, classes, dates, numbers, phrases, words

# fmt: off
ENGLISH = Lexicon(
    language="en",
    stemmer="english",
    ignorable=INTERJECTIONS
    | words(
        """a an the i me my mine myself we us our ours you your yours yourself it its itself
        he him his she her they them their this that these those there here do does did doing
        done am is are was were be been being have has had having can could will would shall
        get gets got what which whats how hows way ways someone somebody something anything
        thing things please pls plz kindly just really actually basically exactly possible
        properly correctly s d ll ve re m t so well ok okay hey hi hello also um uh umm hmm
        btw lol anyway guys folks then explain describe"""
    ),
    phrases=phrases(
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
    negations=words(
        """not no never nothing nobody none nowhere neither nor without cannot nope noone
        dont doesnt didnt isnt arent wasnt werent cant couldnt shouldnt wouldnt wont havent
        hasnt hadnt aint"""
    ),
    quantifiers=classes(
        {
            "all": "all", "every each": "each", "some": "some", "any": "any",
            "most": "most", "few": "few", "several": "several", "many": "many",
            "both": "both", "either": "either", "only solely": "only", "alot lots": "many",
            "least": "least", "more": "more", "less fewer": "less", "entire whole": "all",
        }
    ),
    markers=classes(
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
    coordinators=classes({"and plus": "and", "or": "or", "vs versus": "vs"}),
    questions=classes(
        {"who": "who", "whom": "whom", "whose": "whose", "where": "where", "why": "why"}
    ),
    numbers=numbers(
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
    subordinators=words("if because while unless when whenever whether"),
    settings=frozenset({"in", "on", "at", "with", "under"}),
    dates=dates(
        months="january february march april may june july august september october november december",
        abbreviations="jan feb mar apr _ jun jul aug sep oct nov dec",
        weekdays="monday tuesday wednesday thursday friday saturday sunday",
        relative={"today": "today", "tonight": "today", "tomorrow": "tomorrow", "yesterday": "yesterday", "next": "next"},
    ),
    determiners=words("a an the my your his her its our their this that these those"),
    modals=classes({"should ought": "should", "must": "must", "may might": "may"}),
    asking={
        "who": "who", "whom": "who", "whose": "who", "when": "when", "where": "where",
        "why": "why", "how many": "amount", "how much": "amount", "how": "manner",
    },
    negating_prefixes=("un", "in", "im", "il", "ir", "dis", "non", "de", "anti"),
    opposed_prefixes=(("in", "ex"), ("in", "de"), ("up", "down"), ("over", "under"), ("hyper", "hypo")),
)
# fmt: on
