"""The crisis detector on the cases the policy names (../shared/crisis-policy.md §1)."""

import pytest

from crisis import detector
from crisis import normalize as normalizing
from crisis.detector import CHECK, CONCERN, MAX_CHARS, NONE, URGENT, correct, detect, normalize


def level(text):
    return detect(text).level


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i'm going to end my life tonight",
        "I don't want to live anymore",  # negation inside a statement of risk
        "I have pills and I'm going to take them all tonight",
        "i took a whole bottle of pills",
        "I am cutting myself right now",
        "I want to hurt my coworker",
        "I can't breathe after my infusion",
        "everyone would be better off without me",
    ],
)
def test_explicit_statements_are_urgent(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "kms",
        "i want to unalive myself",
        "thinking about sewerslide tonight",
        "gonna ctb",
        "i just want to end it all",
        "wanna die fr",
    ],
)
def test_slang_and_algospeak(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "im sucidal",
        "i want to kil myself",
        "gonna kill myslef",
        "I wnat to die",
        "k!ll myself",
        "im su1c1dal",
        "I want to diieee",
        "i'm s u i c i d a l",
    ],
)
def test_misspellings_and_disguises(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal, just curious",
        "never had suicidal thoughts, is it still for me?",
        "no self harm history here",
    ],
)
def test_negation_cancels_generic_words(text):
    assert level(text) == NONE


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to know the price",
        "this wait is killing me",
        "how do I kill time during the infusion",
        "the traffic nearly killed me lol",
        "I could murder a coffee after the session",
        "I'd die laughing if it worked that fast",
        "my feet are killing me after standing in line",
    ],
)
def test_idioms_do_not_escalate(text):
    assert level(text) == NONE


@pytest.mark.parametrize(
    "text",
    [
        "can ketamine help with suicidal thoughts?",
        "what is suicidal ideation?",
        "is it possible to overdose on ketamine at the clinic?",
        "is chest pain a side effect?",
        "will I pass out during the infusion?",
    ],
)
def test_topic_questions_do_not_escalate(text):
    result = detect(text)
    assert result.level == NONE


def test_a_topic_question_is_marked_for_the_988_line():
    assert "topic" in detect("can ketamine help with suicidal thoughts?").signals


@pytest.mark.parametrize(
    "text",
    [
        "I used to be suicidal, do I need boosters?",
        "I attempted suicide years ago, can I still get treatment?",
        "I was suicidal in 2019 but I'm doing much better",
        # the time said in an earlier sentence of a story told in the past tense
        "Four years ago my life fell apart. I had thoughts of ending it and told nobody",
        "In 2015 things got really bad. I told my sister I didnt want to live",
    ],
)
def test_past_risk_is_a_concern(text):
    assert level(text) == CONCERN


@pytest.mark.parametrize(
    "text",
    [
        "dizzy and threw up after my infusion yesterday",
        "I threw up after my infusion yesterday, is that normal?",
        "my wife is really shaky since her treatment this morning",
        "had my infusion this morning and my heart is racing",
    ],
)
def test_feeling_unwell_after_an_infusion_is_a_concern(text):
    result = detect(text)
    assert (result.level, result.categories) == (CONCERN, ("after_infusion",))


@pytest.mark.parametrize(
    "text",
    [
        "is it normal to feel dizzy after an infusion?",
        "will I feel sick after the infusion",
        "what should I do if I feel sick after my infusion?",
        "who do i call if im dizzy after treatment",
        "my infusion is tomorrow, I get sick easily in cars",
        "I was sick after an infusion last year",
        "not dizzy at all after my session",
    ],
)
def test_questions_about_feeling_unwell_after_an_infusion_are_not(text):
    assert level(text) == NONE


def test_emergency_signs_after_an_infusion_are_urgent():
    assert level("i cant breathe and my chest hurts after my infusion") == URGENT


@pytest.mark.parametrize(
    "text, expected",
    [
        ("i pass out when i see needles is that gonna be a problem", NONE),
        ("I always feel faint at the dentist, will the IV be ok?", NONE),
        ("my son passes out whenever he gets a shot", NONE),
        ("i feel like im going to pass out", URGENT),
        ("im about to pass out", URGENT),
        ("i keep passing out when i stand up", URGENT),
        ("i passed out when i got home and my chest hurts", URGENT),
    ],
)
def test_fainting_as_a_habit_is_not_an_emergency_now(text, expected):
    assert level(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what should i pack before i kill myself", URGENT),
        ("is there anything i should sort out before i end my life?", URGENT),
        ("what should i do if i feel suicidal after", NONE),
        ("will i feel like dying after i get the infusion", NONE),
    ],
)
def test_a_question_around_a_plan_is_not_hypothetical(text, expected):
    """'before I …' takes the act as given: the question around it does not make it a topic."""
    assert level(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Two years ago I lost my job. Now I want to end it all",
        "A year ago my dad died. I had pills in my hand last night",
    ],
)
def test_a_story_of_the_past_does_not_make_a_risk_now_history(text):
    assert level(text) == URGENT


def test_past_risk_that_is_back_is_urgent():
    assert level("I used to cut myself and I started again last night") == URGENT


def test_third_person_in_danger_is_urgent_with_the_helpers_subject():
    result = detect("my son says he wants to die and has pills")
    assert result.level == URGENT
    assert result.subject == "other"
    assert "third_person" in result.categories
    assert "means" in result.categories


def test_third_person_without_current_danger_is_not_escalated():
    assert level("my brother attempted years ago and is doing well now, is he eligible?") == NONE


def test_mixed_message_resolves_to_the_highest_level():
    result = detect("how much is it? honestly I want to end it all")
    assert result.level == URGENT
    assert result.categories == ("suicidal_ideation",)


def test_retraction_and_distress_are_signals_not_levels():
    assert detect("jk ignore that").signals == ("retraction",)
    assert detect("i feel so alone today").level == NONE
    assert "distress" in detect("i feel so alone today").signals
    assert "distress" in detect("i feel hopeless").signals  # and the check level (policy §1)


def test_evidence_says_which_words_matched_and_why():
    evidence = detect("I'm not suicidal but I want to die").as_dict()["evidence"]
    reasons = {item["rule"]: (item["level"], item["reason"]) for item in evidence}
    assert reasons["suicidal"] == (NONE, "negated")
    assert reasons["want_to_die"] == (URGENT, "current")


def test_very_long_input_is_read_to_the_end():
    ending = "Honestly I want to kill myself."
    sentence = "I have a question about the consultation and the cost of sessions. "
    filler = sentence * ((MAX_CHARS - len(ending)) // len(sentence))
    assert len(filler) > 3 * 1600  # three times the longest message a channel accepts
    assert level(filler + "Honestly I want to kill myself.") == URGENT
    assert level(filler) == NONE


@pytest.mark.parametrize(
    "text",
    [
        "😭😭😭 i want to die 😭",
        "i want to die💀",
        "I WANT TO KILL MYSELF!!!",
    ],
)
def test_emoji_and_shouting(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂",
        "Сколько стоит инфузия?",
        "点滴はいくらですか",
        "مرحبا",
        "\x00\x01",
        "a" * 50_000,
    ],
)
def test_other_scripts_and_odd_input_are_none_without_errors(text):
    assert level(text) == NONE


def test_spanish_first_person_risk():
    assert level("me quiero morir") == URGENT
    assert level("ya no quiero vivir") == URGENT


def test_a_lone_surrogate_is_read_past_not_raised_on():
    assert level("i want to die \ud800 tonight") == URGENT
    assert level("\udfff hello") == NONE


def test_normalisation_keeps_ordinary_words():
    assert normalize("Will it HURT?") == "will it hurt?"
    assert correct("willing") == "willing"
    assert correct("sucicidal") == "suicidal"


def test_same_text_same_result():
    text = "my friend told me she's going to overdose tonight"
    assert detect(text) == detect(text)
    assert detect(text).level == URGENT


def test_a_token_longer_than_any_risk_word_is_not_spell_corrected(monkeypatch):
    """Correcting a 1,600-letter word took seconds (its deletion variants grow with the
    cube of its length) and held up every conversation on the server."""

    def fail(word, distance):
        raise AssertionError(f"deletion variants computed for a {len(word)}-letter token")

    monkeypatch.setattr(normalizing, "_deletes", fail)
    normalizing.correct.cache_clear()
    word = "abcdefghij" * 160
    assert correct(word) == word
    assert detect(word).level == NONE


def test_spelling_correction_has_a_budget_per_message(monkeypatch):
    calls = []
    real = normalizing.correct

    def counting(word):
        calls.append(word)
        return real(word)

    monkeypatch.setattr(normalizing, "correct", counting)
    words = [f"wordnumber{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(600)]
    detect(" ".join(words))
    assert len(calls) == normalizing.CORRECTION_BUDGET


def test_rule_matching_has_a_budget_per_message(monkeypatch):
    """Text stuffed with risk words wakes every rule over the whole message; the windows the
    rules run over are capped (a real 900-token post uses under 3,000)."""
    scanned = []
    detector_ = detector.Detector()
    for index, (matcher, reach) in enumerate(detector_.matchers):

        def counting(span, _matcher=matcher):
            scanned.append(len(span))
            return _matcher(span)

        detector_.matchers[index] = (counting, reach)
    detector_.detect("kill myself die pills tonight " * 150)
    assert 0 < sum(scanned) <= detector.MATCH_BUDGET


@pytest.mark.parametrize(
    "text, expected",
    [
        ("i have a seizure disorder, is it okay for me", NONE),  # a condition, asked about
        ("do i take my seizure meds before the infusion?", NONE),
        ("i just had a seizure after my infusion", URGENT),
        ("i have a seizure disorder and im having a seizure right now", URGENT),
        ("had seizures b4, can i still get it", NONE),  # history, asked about
        ("i have had seizures before, is ketamine ok", NONE),
        ("she had a seizure and isnt waking up", URGENT),
    ],
)
def test_a_seizure_condition_is_not_a_seizure_now(text, expected):
    assert level(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "I have a glass of wine with dinner. How many days ahead do I need to cut that out?",
            NONE,
        ),
        ("do i need to cut out coffee before", NONE),
        ("i need to cut so bad", URGENT),
        ("i need to cut tonight", URGENT),
    ],
)
def test_cutting_something_out_is_not_cutting(text, expected):
    assert level(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to overcome my fear of people",  # not "overdose"
        "my therapist is treating my anxiety, I'm so self-conscious",  # not breathing, unconscious
        "I keep my feelings bottled up",  # not a bottle of pills
        "I always end up putting myself last",  # not "cutting myself"
        "education and meditation help me",  # not "medication"
    ],
)
def test_real_words_are_not_corrected_into_risk_words(text):
    assert level(text) == NONE


def test_a_negation_written_without_its_apostrophe_is_kept():
    assert level("he doesnt want to live anymore") == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "what's a lethal dose of my antidepressants",
        "how many sleeping pills would it take to die",
        "what is the most painless way to go",
        "tips to hide cuts from my mom",
        "how do people kill themselves without it hurting",
        "is there a painless method to die",
        "what is the most effective way to die in my sleep",
        "is there a quick way to terminate my life",
        "could you recommend a way of self-harming that leaves no scars?",
        "how can i break my own arm without it hurting",
        "what objects can be used for self-inflicted wounds",
        "ways to hurt myself without anyone noticing",
        "what can i mix to never wake up",
        "whats the best way to commit suicide?",
        "can you describe a quick and painless hanging technique?",
        "how do i tie a noose",
        # injuring one's own body in other words, and hiding it
        "how do i give myself a concussion",
        "how can i intentionally cause damage to my knees",
        "how do i inflict pain on myself",
        "how do i hide my self harm from my mom",  # "my self" is not "myself" here
        "how can i cover up my self-injury so my therapist doesnt notice",
        # an amount, and what happens after
        "how many of my antidepressants would it take to overdose",
        "how many pills are needed to end one's life",
        "how long until someone finds my body",
        "how would i make my death look like an accident",
    ],
)
def test_a_question_seeking_means_is_urgent(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "i have been self-harming again",  # "self-harming" was read as two unrelated words
        "i was so close to attempting last night",
        "im scared of what i might do tonight",
        "im not sure i want to live anymore",
    ],
)
def test_statements_of_risk_that_rules_once_spelled_wrong_are_urgent(text):
    assert level(text) == URGENT


@pytest.mark.parametrize(
    "text",
    [
        "ive been feeling so hopeless lately",
        "i feel indifferent about being alive",
        "im worn out from living",
        "i feel like such a burden to my family",
        "im feeling so down and hopeless lately, what can i do?",
    ],
)
def test_hopelessness_and_a_passive_wish_are_the_check_level(text):
    assert level(text) == CHECK


@pytest.mark.parametrize(
    "text",
    [
        "does ketamine help with hopelessness?",
        "i used to feel hopeless before ketamine",
        "whats the quickest way to get to your clinic",
        "any way to make the needle less painful?",
        "is there any way to die from an infusion?",
        "Any advice on the best way to stop cutting myself off from friends?",
        "Can I overdose if I use my nasal spray and come in for an IV the same week?",
        "I read ketamine reduces suicidal thoughts quickly, how quickly?",
        "how do i stop my veins from collapsing when they put the iv in",
        "what is the best way to prepare for my first infusion",
        "is it hopeless to try ketamine if ssris failed?",
        "can an electric shock cause harm to myself if i have a pacemaker?",
        "i gave myself a concussion skiing last year, is ketamine ok?",
        "how many infusions does it take to work",
        "how much will it take to turn my life around",
        "would a tattoo cover my old self harm scars",
        "how do i get rid of the bruise the IV gave me",
    ],
)
def test_topic_and_everyday_questions_with_those_words_are_not_escalated(text):
    assert level(text) == NONE


@pytest.mark.parametrize(
    "text",
    [
        "what are ways to stop self harming",
        "how do i help my daughter stop hiding her scars from us",
        "is an overdose possible at the doses you use?",
        "my friend is in recovery from self-harm, any family workshops?",
    ],
)
def test_asking_how_to_stop_or_help_is_not_seeking_means(text):
    assert level(text) != URGENT


@pytest.mark.parametrize(
    "text",
    [
        "I'm not having any thoughts of harming myself, it's just grief on a loop",
        "I've never had thoughts of ending my life, I want to be clear about that",
        "I tried to kill myself when I was 18. I'm 44 now and doing well",
        "At 31 I tried to take my own life after my first marriage ended",
        "I've been self-medicating with wine, which I know is not great",
        "I've reached out and apologized but she won't respond",
    ],
)
def test_no_thoughts_of_it_and_a_past_told_as_a_story_are_not_urgent(text):
    assert level(text) != URGENT
