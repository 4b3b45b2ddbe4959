"""The crisis detector's word lists and token patterns (see ../shared/crisis-policy.md).

Patterns are written in a small notation that `crisis.detector` compiles into spaCy `Matcher`
patterns over each token's lemma (lower-cased, spelling-corrected; see `crisis.normalize`):

    kill|hurt myself     one token out of a set, then another
    to?                  an optional token
    *2                   up to two tokens of anything
    @SELF                a named set from WORD_SETS below

Every rule has a kind, which decides how context changes its level (crisis.detector):

    risk       a statement of risk ("kill myself", "want to die"); never cancelled by a negation
               word, which only makes it a concern
    term       a generic word ("suicidal", "self harm"): needs someone it is about, and
               "not suicidal" cancels it
    emergency  a medical emergency now ("can't breathe"); questions about it are not emergencies
    seeking    a question seeking means ("what's a lethal dose of…", "how to hide cuts"): urgent
               even as a question, unless it asks how to stop, prevent or help
    passive    hopelessness or a passive wish without a statement of risk ("I feel hopeless",
               "tired of existing"): the policy's check level (the direct question); a
               question about it as a topic, a negation or the past is none
    harm       intent to hurt someone else
    means      a way to act (pills, a gun); adds to a risk in the same message, never alone
    cue        what someone does with a means ("use it", "in my hand"): with a means, urgent
    dose / dose_context
               having taken a lot ("took way more", "swallowed a handful") with what of or why
               ("my meds", "on purpose"): both together are urgent
    time       a time ("tonight"); adds plan_or_time to a risk in the same message
    unwell / treatment
               a symptom ("dizzy", "threw up") with the treatment ("after my infusion"): a
               concern, with the profile's aftercare advice (emergency signs are `emergency`)
    idiom      a harmless use that hides the words it covers ("dying to know", "kill time")
    retraction / distress
               signals for the conversation's later turns (crisis.session)
"""

from __future__ import annotations

# Named sets used in patterns as @NAME.
WORD_SETS = {
    "SELF": "i me my myself mine im",
    "REFLEXIVE_OTHER": "himself herself themselves themself",
    "WANT": "want need wish plan intend try decide mean gonna go think consider feel ready about",
    "DIE_VERB": "die unalive suicide disappear",
    "END_VERB": "end finish stop take",
    "PERSON": (
        "him her them stepdad stepmom baby babies landlord bully bullies someone somebody anyone everyone everybody people person coworker "
        "co-worker boss husband wife partner boyfriend girlfriend mom mother dad father "
        "brother sister son daughter kid kids child children neighbor neighbour family teacher "
        "classmate roommate ex manager doctor nurse guy"
    ),
    "HARM_VERB": "kill hurt stab shoot murder strangle choke beat poison attack harm",
    # A method asked for with what reveals the intent: "the most painless way", "a quick method".
    "GENTLE": (
        "painless quick quicker quickest fast faster fastest easy easier easiest efficient "
        "effective peaceful peacefully gentle surest sure reliable simplest cleanest quietest "
        "humane least best swift swiftest"
    ),
    "METHOD": "way ways method methods means option options technique techniques",
    "DEATH": "die dying death suicide overdose overdosing unalive selfharm selfinflicted",
    # Injuring one's own body, and the parts: "break my own arm", "how to burn my wrist".
    "INJURE": (
        "cut slice slash burn scald break dislocate tear rip crush bang smash scratch bruise "
        "pierce stab starve choke strangle fracture punch"
    ),
    "BODY": (
        "arm arms leg legs wrist wrists skin jaw finger fingers hand hands head thigh thighs "
        "bone bones rib ribs nose ankle ankles knee knees body face stomach neck throat toe toes"
    ),
    "PILLS": "pill med meds medication medicine tablet tylenol xanax benzos ambien oxy opioid painkiller sleeping "
    "antidepressant prescription bottle klonopin benadryl",
    "LOTS": "all whole entire bunch handful lot bottle every many box",
    # Feeling unwell after an infusion: a symptom, with the treatment named nearby.
    "UNWELL": (
        "dizzy dizziness nauseous nausea nauseated queasy sick vomit vomiting puke puking woozy "
        "lightheaded unsteady wobbly shaky shaking trembling headache migraine unwell groggy "
        "disoriented confused blurry blurred spinning palpitation tingling tingly numb "
        "hallucinate hallucinating itchy rash hives sore bruised bruise swollen fever feverish "
        "chill chills sweat sweating sweaty flushed exhausted drained weak sleepy jittery wired "
        "restless anxious panicky teary nightmare nightmares foggy spacey floaty loopy unreal "
        "disconnected stumbling stumble dissociated dissociating burn burns ache aching shake tired "
        "drained exhausted confused trembling pain cramp cramping cramps diarrhea gross "
        "fluttery trail trails"
    ),
    "TREATMENT": "infusion infusions treatment session ketamine ketamina ket k tx appointment appt iv spravato",
}

# (name, category, kind, pattern). Names appear in the evidence, so keep them readable.
RULES: list[tuple[str, str, str, str]] = [
    # --- suicidal thoughts or intent -----------------------------------------------------
    ("kill_myself", "suicidal_ideation", "risk", "kill|unalive|off|end|murder|hang|shoot|drown|delete|erase myself"),
    ("kill_myself_slang", "suicidal_ideation", "risk", "kms|kmsl|ctb|suicided"),
    ("kill_themselves", "suicidal_ideation", "risk", "kill|unalive|off|end|hang|shoot|drown @REFLEXIVE_OTHER"),
    ("end_my_life", "suicidal_ideation", "risk", "end|take|finish|terminate my own? life"),
    ("close_to_attempting", "suicidal_ideation", "risk", "close|almost|nearly to? attempt|attempting|attempted"),
    ("end_their_life", "suicidal_ideation", "risk", "end|take his|her|their own? life"),
    ("end_it_all", "suicidal_ideation", "risk", "end it all|forever"),
    ("end_everything", "suicidal_ideation", "risk", "end everything"),
    ("end_it", "suicidal_ideation", "risk", "@WANT to? just? end it"),
    ("want_to_die", "suicidal_ideation", "risk", "@WANT to|like? just? die|dying|unalive"),
    ("want_to_be_dead", "suicidal_ideation", "risk", "@WANT to? be dead"),
    ("wish_dead", "suicidal_ideation", "risk", "wish i be|could|would|'d dead|die|gone"),
    ("wish_not_born", "suicidal_ideation", "risk", "wish i be|have|do|had *1 never|not born|exist|alive"),
    ("wish_not_wake", "suicidal_ideation", "risk", "wish i would|could|do|'d not|never wake"),
    ("not_wake_up", "suicidal_ideation", "risk", "want|hope|pray to? not|never wake up"),
    ("sleep_never_wake", "suicidal_ideation", "risk", "sleep and|then not|never wake"),
    ("sleep_forever", "suicidal_ideation", "risk", "@WANT to? sleep|disappear forever|permanently"),
    ("better_off_dead", "suicidal_ideation", "risk", "better off dead"),
    ("better_off_without_me", "suicidal_ideation", "risk", "better|easier off? without me"),
    ("not_want_to_live", "suicidal_ideation", "risk", "not want to? live|exist"),
    ("not_want_to_be_alive", "suicidal_ideation", "risk", "not want to? be alive"),
    ("not_want_to_be_here", "suicidal_ideation", "risk", "not want to? be here|around anymore"),
    ("not_be_here_much", "suicidal_ideation", "risk", "not be here|around anymore|much"),
    ("no_reason_to_live", "suicidal_ideation", "risk", "no|nothing reason|point|left to live|be|go"),
    ("no_point_living", "suicidal_ideation", "risk", "no point in|to living|life|be|going"),
    ("nothing_to_live_for", "suicidal_ideation", "risk", "nothing to live for"),
    ("tired_of_living", "suicidal_ideation", "risk", "tired|sick|done of|with living|life|exist"),
    ("tired_of_being_alive", "suicidal_ideation", "risk", "tired|sick of be alive|here"),
    ("done_with_it_all", "suicidal_ideation", "risk", "done with it all"),
    ("cannot_go_on", "suicidal_ideation", "risk", "can not go|carry|keep on|going|living"),
    ("cannot_do_this", "suicidal_ideation", "risk", "can not do|take|handle this|it|life anymore"),
    ("cannot_live_like_this", "suicidal_ideation", "risk", "can not live like this"),
    ("suicidal_thoughts", "suicidal_ideation", "term", "suicidal|suicide thought|ideation|urge|feeling|idea"),
    ("suicidal", "suicidal_ideation", "term", "suicidal"),
    ("suicide", "suicidal_ideation", "term", "suicide"),
    ("commit_suicide", "suicidal_ideation", "risk", "commit|attempt|try suicide"),
    ("thoughts_of_dying", "suicidal_ideation", "risk", "think|thinking|thought about|of dying|death|suicide"),
    ("rather_be_dead", "suicidal_ideation", "risk", "rather be dead"),
    ("rather_die", "suicidal_ideation", "risk", "rather die"),
    ("jump_off_height", "suicidal_ideation", "risk", "jump|throw|yeet myself? off|from *2 bridge|roof|building|ledge|cliff|balcony|overpass"),
    ("throw_myself", "suicidal_ideation", "risk", "throw|yeet|hurl myself off|from|in"),
    ("step_in_front", "suicidal_ideation", "risk", "step|walk|jump|lie in front of a|the|some *1 train|bus|truck|car"),
    ("drive_into", "suicidal_ideation", "risk", "@WANT to? drive|crash my? car? into|off"),
    ("this_is_goodbye", "plan_or_time", "risk", "this be my goodbye"),
    ("last_message", "plan_or_time", "risk", "this be my last message|text|goodbye|night"),
    ("goodbye_forever", "plan_or_time", "risk", "goodbye forever|world|cruel|everyone"),
    ("suicide_note", "plan_or_time", "risk", "suicide|goodbye note|letter"),
    ("give_away_things", "plan_or_time", "risk", "give|giving away my|all *1 stuff|thing|belonging|pet|cat|dog"),
    ("have_a_plan", "plan_or_time", "risk", "have|make|got a plan to end|die|kill|unalive|do"),
    ("suicide_plan", "plan_or_time", "risk", "have|make|got a suicide plan"),
    ("decided_to", "plan_or_time", "risk", "decide|ready to end|die|unalive"),
    ("say_goodbye", "plan_or_time", "risk", "say|said my goodbye"),
    ("last_day", "plan_or_time", "risk", "my last day|night on earth|alive"),
    ("not_be_alive_by", "plan_or_time", "risk", "not be here|around|alive after|by|for|tomorrow|next|when|past|anymore|much"),
    ("not_going_to_be_alive", "plan_or_time", "risk", "not go|gonna to? be alive|here|around"),
    ("do_it_tonight", "plan_or_time", "risk", "go|gonna|ready|plan to? do it *2 tonight|today|tomorrow|soon|this|when|after|before|once"),
    ("all_be_over", "plan_or_time", "risk", "all be over *2 tonight|soon|tomorrow|after|when|by|this|once"),
    ("plan_for_time", "plan_or_time", "risk", "have|make|got a plan *3 tonight|weekend|tomorrow|today|friday|saturday|sunday|monday|tuesday|wednesday|thursday"),
    ("all_planned", "plan_or_time", "risk", "all plan out"),
    ("my_last_day", "plan_or_time", "risk", "be my last day|night|week|birthday"),
    ("thoughts_of_ending", "suicidal_ideation", "risk", "think|thought|idea *2 about|of end|kill|unalive|die|dying|death|suicide|ending"),
    ("scared_of_myself", "suicidal_ideation", "risk", "scared|afraid|terrified of myself"),
    ("scared_of_what_i_might_do", "suicidal_ideation", "risk", "scared|afraid|terrified of what i might|will|could|would do?"),
    ("not_see_a_reason", "suicidal_ideation", "risk", "not see a|any|the reason|point to|in keep|go|live|be|living|going"),
    ("point_of_living", "suicidal_ideation", "risk", "point of|in be|living|life alive?"),
    ("if_i_were_gone", "suicidal_ideation", "risk", "if i be|were gone|dead"),
    ("if_i_were_not_here", "suicidal_ideation", "risk", "if i be|were not here|around|alive"),
    ("disappear_for_good", "suicidal_ideation", "risk", "disappear|vanish for? good|forever"),
    ("not_worth_living", "suicidal_ideation", "risk", "not worth living|live|it"),
    ("tonight_is_the_night", "plan_or_time", "risk", "tonight be the night"),
    ("by_the_time", "plan_or_time", "risk", "by the time *7 not be here|around|alive"),
    ("take_care_of_it_tonight", "plan_or_time", "risk", "take care of it|things|everything tonight"),
    ("get_the_rope", "means", "risk", "buy|get|pick the|a? rope|noose|gun|pistol"),
    ("past_attempt", "suicidal_ideation", "risk", "previous|past|prior|survived|two|multiple|several|suicide attempt|attempts"),
    ("had_an_attempt", "suicidal_ideation", "risk", "have|make a suicide attempt"),
    ("attempted", "suicidal_ideation", "risk", "=attempted|=attempts .|,|years|twice|once|before|in|when|as|last|at|back|suicide|2|two|three|multiple|several"),
    ("cutter", "self_harm", "term", "cutter"),
    ("selfinflicted", "self_harm", "term", "selfinflicted"),
    ("not_trust_myself", "suicidal_ideation", "risk", "not trust myself"),
    ("hold_on_longer", "suicidal_ideation", "risk", "how much|many longer i can|could hold|last|keep|go"),
    ("cannot_hold_on", "suicidal_ideation", "risk", "can not hold|hang on *1 much|any longer"),
    ("not_let_me_wake", "suicidal_ideation", "risk", "not let me wake"),
    ("done_with_life_later", "suicidal_ideation", "risk", "done *4 with life|living"),
    ("hate_being_alive", "suicidal_ideation", "risk", "hate be|living alive|life|here|existing"),
    ("not_want_to_be_here_now", "suicidal_ideation", "risk", "not want to? be here|around"),
    # --- added from the crisis suite's misses: general forms, not its sentences ----------
    ("i_cut", "self_harm", "risk", "i *2 cut|cutting|burn|burning and|again|tonight|today|deep"),
    ("urge_to_cut", "self_harm", "risk", "urge|need to cut|burn|bleed"),
    ("until_bleed", "self_harm", "risk", "until *2 bleed"),
    ("fresh_cuts", "self_harm", "risk", "fresh|new|deep cut|cuts|wound|wounds|burn|burns"),
    ("do_something_to_myself", "self_harm", "risk", "do something|it|stuff to myself"),
    ("want_it_to_hurt", "self_harm", "risk", "@WANT it to hurt|bleed"),
    ("blade_on_skin", "self_harm", "risk", "razor|blade|lighter|knife on|to|against|across my *1 arm|wrist|skin|leg|thigh|stomach"),
    ("clean_from_sh", "self_harm", "risk", "clean from|of sh|cutting|selfharm|self"),
    ("dose_lots", "overdose", "dose", "=took|=swallowed|=downed|=taken|=popped|=ate|=mixed|=emptied|=used|=finished|=take|=swallow *4 all|everything|whole|rest|handful|bunch|lot|extra|more|most|entire|way|too|double|triple|twice"),
    ("on_purpose", "overdose", "dose_context", "on purpose"),
    ("at_once", "overdose", "dose_context", "at once"),
    ("more_than_should", "overdose", "dose_context", "than i *1 should|supposed|prescribed|allowed"),
    ("dose_pills", "overdose", "dose_context", "@PILLS|alcohol|tylenol|klonopin|benadryl|cabinet|prescription|bottle|dose"),
    ("make_it_stop", "overdose", "dose_context", "make it *1 stop|end"),
    ("taken_too_much", "overdose", "risk", "=taken|=took|=had|=used too|way much|many *2 of? something|stuff|it|tonight|now|on"),
    ("emptied_bottle", "overdose", "risk", "=emptied|=finished|=drank the|a|my whole? bottle"),
    ("bleeding_wont_stop", "medical_emergency", "emergency", "bleed|bleeding *4 not stop"),
    ("bleeding_a_lot", "medical_emergency", "emergency", "bleed|bleeding a lot|heavily|badly|everywhere"),
    ("blacking_out", "medical_emergency", "emergency", "black|blacking|blacked out"),
    ("wheezing", "medical_emergency", "emergency", "wheeze|wheezing"),
    ("throat_tight", "medical_emergency", "emergency", "throat *2 tight|closing|swelling|swell"),
    ("swelling_up", "medical_emergency", "emergency", "tongue|face|lips|throat *3 swell|swelling|swollen|puff|puffing|puffy"),
    ("cannot_feel", "medical_emergency", "emergency", "can not feel my *1 leg|legs|arm|arms|face|hand|hands|body|foot|feet"),
    ("cannot_stop_vomiting", "medical_emergency", "emergency", "can not stop throw|throwing|vomit|vomiting|shaking|shake"),
    ("slurring", "medical_emergency", "emergency", "slur|slurring|droopy|drooping"),
    ("vision_dark", "medical_emergency", "emergency", "vision *2 dark|black"),
    ("shaking_uncontrollably", "medical_emergency", "emergency", "shake|shaking uncontrollably"),
    ("struggling_to_breathe", "medical_emergency", "emergency", "struggle|struggling|trouble|hard|difficult to breathe"),
    ("harm_my_person_any", "harm_to_others", "harm", "@HARM_VERB|hurting|killing my|his|her|the|that *2 @PERSON"),
    ("thoughts_of_harming", "harm_to_others", "harm", "think|thought|picture|picturing|imagine *3 hurt|hurting|kill|killing|stab|shoot @PERSON|my"),
    ("make_them_suffer", "harm_to_others", "harm", "make him|her|them|my|everyone *1 suffer|pay|hurt|regret"),
    ("going_to_pay", "harm_to_others", "harm", "be go|gonna to? pay|regret|suffer"),
    ("take_family_with_me", "harm_to_others", "harm", "take|taking my *1 family|kid|kids|child|children|wife|husband with me"),
    ("want_person_to_die", "harm_to_others", "harm", "@WANT @PERSON *4 to die|suffer"),
    ("bring_something_to_work", "harm_to_others", "harm", "bring|bringing|take something|a|my *1 to work|school|office|church|class"),
    ("what_i_will_do_to", "harm_to_others", "harm", "what i *2 do to my|him|her|them"),
    ("cannot_stop_myself", "harm_to_others", "cue", "can not stop myself"),
    ("something_ready", "harm_to_others", "cue", "have|got something|it|everything ready|planned"),
    ("need_it_to_stop", "means", "cue", "need|want it *1 to stop|end"),
    ("hurting_him", "harm_to_others", "harm", "=hurting|=killing|=stabbing|=shooting him|her|them"),
    ("thoughts_of_self_harm", "self_harm", "risk", "thought|idea|urge of|about hurt|harm|kill|cut|hurting|harming|killing|cutting myself"),
    ("not_make_it_another", "suicidal_ideation", "risk", "not *3 can make it another|through|much"),
    ("go_over_there", "harm_to_others", "cue", "go|going over there|to his|to her|to their"),
    ("goodbye_note", "plan_or_time", "risk", "goodbye note|letter|message|messages|text|texts|post|video"),
    ("note_saying_goodbye", "plan_or_time", "risk", "note|letter|message|text|post say|saying|says goodbye"),
    ("better_off_without_them", "suicidal_ideation", "risk", "better|easier off? without him|her|them"),
    ("not_want_to_wake", "suicidal_ideation", "risk", "not want to? wake"),
    ("threatening", "suicidal_ideation", "risk", "threaten|threatening to? hurt|kill|die|end|jump|overdose"),
    ("done_with_everything", "suicidal_ideation", "risk", "done with everything|it|life"),
    ("self_delete", "suicidal_ideation", "risk", "selfdelete"),
    ("log_off_permanently", "suicidal_ideation", "risk", "log|logging|check|checking out|off permanently|early|forever|for"),
    ("permanent_nap", "suicidal_ideation", "risk", "permanent|eternal|forever nap|sleep"),
    ("on_my_mind", "suicidal_ideation", "risk", "suicide|suicidal|dying|death|killing on my mind"),
    ("stop_existing", "suicidal_ideation", "risk", "@WANT to? stop exist|existing|living|breathing|being"),
    ("to_rope", "suicidal_ideation", "risk", "to|gonna|about rope|roping"),
    ("shoot_myself", "suicidal_ideation", "risk", "shoot|gun myself"),
    ("stop_waking_up", "suicidal_ideation", "risk", "stop|never|not wake|waking up"),
    ("cannot_make_it", "suicidal_ideation", "risk", "can not make it *2 another|more|longer|through"),
    ("plan_to_end", "plan_or_time", "risk", "plan|planning to end|kill|die|unalive"),
    ("not_be_around_long", "plan_or_time", "risk", "not be here|around|alive long|for"),
    ("not_sure_want_to_live", "suicidal_ideation", "risk", "not sure i want to? be|stay alive|here|around"),
    ("not_sure_want_to_go_on", "suicidal_ideation", "risk", "not sure i want to? live|exist|continue|living|existing"),
    ("finish_what_i_started", "suicidal_ideation", "risk", "finish what i start"),
    ("keep_myself_safe", "suicidal_ideation", "risk", "keep myself safe"),
    ("crash_my_car", "suicidal_ideation", "risk", "@WANT to? crash|wreck my car"),
    ("dead_by_then", "plan_or_time", "risk", "be dead by|before|soon"),
    ("es_tomar_todas", "overdose", "risk", "tomar|tomarme|tomarmelas todas"),
    ("es_cortando", "self_harm", "risk", "estoy cortando|cortandome"),
    ("es_mejor_sin_mi", "suicidal_ideation", "risk", "mejor sin mi"),
    ("es_no_despertar", "suicidal_ideation", "risk", "no despertar|despertarme"),
    # --- added after measuring the blind held-out set (general forms of its misses) ------
    ("be_ending_it", "suicidal_ideation", "risk", "be end it|things|everything|my"),
    ("time_then_do_it", "plan_or_time", "risk", "tonight|tomorrow|weekend|today|friday|saturday|sunday|monday|bed|asleep *8 go|gonna to? do it"),
    ("not_need_it_after", "plan_or_time", "risk", "not need any|anything *2 after|anymore|where"),
    ("give_stuff_away", "plan_or_time", "risk", "give *5 stuff|thing|belonging|pet|cat|dog *3 away"),
    ("be_gone_by", "plan_or_time", "risk", "by the time *8 be gone|dead"),
    ("talk_me_out_of_it", "plan_or_time", "risk", "talk|talking me out of it"),
    ("how_many_it_would_take", "overdose", "risk", "how many *4 @PILLS it would|will take"),
    ("painless_way", "suicidal_ideation", "risk", "painless|easiest|quickest|fastest way to go|die|end|do"),
    ("collect_pills_instead", "means", "risk", "collect|save|keep|hoard my|all|the *1 @PILLS instead"),
    ("almost_enough", "means", "risk", "almost|nearly have enough"),
    ("until_split", "self_harm", "risk", "until|till *4 bleed|split|broke|bruise"),
    ("going_to_cut", "self_harm", "risk", "go|gonna|need|want to cut|burn"),
    ("cannot_hold_off", "self_harm", "risk", "can not hold off|back anymore"),
    ("feel_faint", "medical_emergency", "emergency", "feel|feeling faint"),
    ("jerking", "medical_emergency", "emergency", "jerk|jerking|twitching|convulsing"),
    ("cannot_control_body", "medical_emergency", "emergency", "can not control *1 it|my|body|shaking"),
    ("vomiting_blood", "medical_emergency", "emergency", "vomit|vomiting|cough|coughing|throw|throwing|spit|spitting up? blood"),
    ("worst_headache", "medical_emergency", "emergency", "worst headache"),
    ("take_everyone_with_me", "harm_to_others", "harm", "take|taking everyone|them|people|someone|others with me"),
    ("their_last_night", "plan_or_time", "risk", "be his|her|their last day|night"),
    ("kys", "suicidal_ideation", "risk", "kys"),
    ("want_to_be_unalive", "suicidal_ideation", "risk", "@WANT to? be unalive|gone"),
    ("want_to_not_exist", "suicidal_ideation", "risk", "@WANT to not exist|live|wake"),
    ("want_to_not_be_alive", "suicidal_ideation", "risk", "@WANT to not be alive|here|around"),
    ("unalive_word", "suicidal_ideation", "risk", "unalive|selfdelete"),
    ("sh_urges", "self_harm", "risk", "sh|selfharm urge|urges|relapse|again"),
    ("commit_die", "suicidal_ideation", "risk", "commit die|dying|unalive|suicide"),
    ("took_the_pills", "overdose", "dose", "=took|=swallowed the|them|my *1 @PILLS"),
    ("it_is_done", "overdose", "dose_context", "it be done|over"),
    ("by_mistake", "overdose", "dose_context", "mistake|accidentally|accident|racing|faint|dizzy"),
    ("know_what_it_is_for", "means", "cue", "know what it be for"),
    ("have_to_decide", "means", "cue", "have to decide"),
    # --- self-harm -----------------------------------------------------------------------
    ("cut_myself", "self_harm", "risk", "cut|cutting|burn|hurt|harm|harming|injure|starve|scratch|punch|stab|hit myself"),
    ("cut_themselves", "self_harm", "risk", "cut|cutting|burn|hurt|harm|harming|injure|starve @REFLEXIVE_OTHER"),
    ("cut_again", "self_harm", "risk", "cut|cutting again|tonight|deep|deeper"),
    ("cut_arms", "self_harm", "risk", "cut|cutting|slice|slit my|his|her *1 arm|wrist|leg|thigh|skin"),
    ("self_harm", "self_harm", "term", "self harm|injury|hurt|harming"),
    ("selfharm", "self_harm", "term", "selfharm"),
    ("relapse_cutting", "self_harm", "risk", "relapse on|with|into? cutting|self|sh|selfharm"),
    ("razor_blade", "self_harm", "risk", "razor|blade to|on|against my *1 arm|wrist|skin|leg"),
    ("want_to_bleed", "self_harm", "risk", "@WANT to? bleed"),
    # --- overdose ------------------------------------------------------------------------
    ("overdose", "overdose", "term", "overdose|od"),
    ("took_lots_of_pills", "overdose", "risk", "=took|=swallowed|=downed|=popped|=ate *1 @LOTS *3 @PILLS"),
    ("will_take_lots_of_pills", "overdose", "risk", "@WANT to? take|swallow @LOTS *3 @PILLS"),
    ("take_them_all", "overdose", "risk", "@WANT to? take|swallow|down them|those|these|it all"),
    ("took_too_many", "overdose", "risk", "i *2 =took|=swallowed|=popped too many|much"),
    ("took_too_many_pills", "overdose", "risk", "=took|=swallowed|=popped too many|much *1 @PILLS"),
    ("took_the_bottle", "overdose", "risk", "=took|=swallowed|=downed|=drank the|a|my whole|entire? bottle"),
    ("took_number_pills", "overdose", "risk", "=took|=swallowed|=popped like|about|over? BIGNUM *2 @PILLS"),
    ("stockpile", "means", "risk", "stockpile|hoard|stash *2 @PILLS"),
    ("saving_pills", "means", "risk", "save|saving up|enough *2 @PILLS"),
    ("enough_pills", "means", "risk", "enough @PILLS to"),
    # --- means (add to a risk; never alone) ----------------------------------------------
    ("pills", "means", "means", "@PILLS"),
    ("gun", "means", "means", "gun|pistol|rifle|firearm|shotgun|revolver|bullet|bullets"),
    ("rope", "means", "means", "rope|noose|cord"),
    ("height", "means", "means", "bridge|roof|rooftop|ledge|cliff|balcony|overpass|tracks"),
    ("top_of_building", "means", "means", "top of *2 garage|building|tower|parking"),
    ("blade", "means", "means", "razor|blade|knife|knives"),
    ("loaded_gun", "means", "risk", "gun|pistol be? loaded"),
    ("gun_to_head", "means", "risk", "gun|pistol to|in my head|mouth"),
    ("noose", "means", "risk", "tie|make|hang|get|buy|have a|the noose"),
    ("standing_on_edge", "means", "risk", "stand|sit|be on the|a edge|ledge|railing"),
    # --- what someone does with a means: with a means in the same message, urgent ---------
    ("use_it", "means", "cue", "use it|them|this|that|one"),
    ("on_myself", "means", "cue", "on|against myself"),
    ("take_every_one", "means", "cue", "take|swallow every|all one? of? them|it"),
    ("keep_looking", "means", "cue", "keep|can not stop look|looking|stare|staring|think|thinking"),
    ("looking_at_it", "means", "cue", "look|stare at? it|them|down"),
    ("know_what_to_do", "means", "cue", "know what i *2 do|want|go"),
    ("lined_up", "means", "cue", "line|count|lay *3 up|out"),
    ("in_my_hand", "means", "cue", "in my hand|hands|mouth|pocket"),
    ("in_front_of_me", "means", "cue", "in front of me"),
    ("thinking_about_it", "means", "cue", "think about it|use|using"),
    ("jump", "means", "cue", "jump"),
    ("want_to_go", "means", "cue", "@WANT to? use|jump"),
    ("at_the_edge", "means", "cue", "stand|sit|be at|on|near|to the|a|top *3 bridge|roof|tracks|ledge|edge|garage|cliff"),
    # --- time (adds plan_or_time to a risk) ----------------------------------------------
    ("tonight", "plan_or_time", "time", "tonight|today|tomorrow|weekend|rn|soon|now|midnight"),
    ("when_asleep", "plan_or_time", "time", "when|after|once everyone|they|he|she|kid|wife|husband *2 asleep|sleep|leave|gone"),
    # --- medical emergency ---------------------------------------------------------------
    ("cannot_breathe", "medical_emergency", "emergency", "can not breathe|breathing"),
    ("cannot_catch_breath", "medical_emergency", "emergency", "can not catch my breath|breathe"),
    ("barely_breathe", "medical_emergency", "emergency", "barely|hardly breathe|breathing"),
    ("not_breathing", "medical_emergency", "emergency", "not|stop breathing"),
    ("trouble_breathing", "medical_emergency", "emergency", "trouble|struggle|struggling|difficulty breathe|breathing"),
    ("hard_to_breathe", "medical_emergency", "emergency", "hard|difficult time? to? breathe|breathing"),
    ("not_know_where", "medical_emergency", "emergency", "not know|recognize where she|he|they be|is|are"),
    ("chest_pain", "medical_emergency", "emergency", "chest *2 pain|hurt|hurts|tight|pressure|crushing|crush|heavy"),
    ("not_responding", "medical_emergency", "emergency", "she|he|they|and be? not responding|responsive|breathing"),
    ("cannot_keep_down", "medical_emergency", "emergency", "can not keep anything|nothing|water|food *1 down"),
    ("vomiting_nonstop", "medical_emergency", "emergency", "vomit|vomiting|puke|puking|throw|throwing up? nonstop|constantly|non"),
    ("gasping", "medical_emergency", "emergency", "gasp|gasping for air|breath"),
    ("pain_in_chest", "medical_emergency", "emergency", "pain|pressure|tightness|crushing|squeezing|heavy *1 in my chest"),
    ("heart_attack", "medical_emergency", "emergency", "heart attack"),
    ("stroke", "medical_emergency", "emergency", "have|having a stroke"),
    ("seizure", "medical_emergency", "emergency", "seizure|seizing|convulse|convulsing"),
    ("pass_out", "medical_emergency", "emergency", "pass|passing out"),
    ("fainted", "medical_emergency", "emergency", "fainted|collapse|unconscious|unresponsive"),
    ("will_not_wake", "medical_emergency", "emergency", "he|she|they|husband|wife|son|daughter|friend|mom|dad|boyfriend|girlfriend|partner be|will|can *1 not wake"),
    ("lips_blue", "medical_emergency", "emergency", "lips|face *2 blue"),
    ("throat_closing", "medical_emergency", "emergency", "throat be? closing|swelling"),
    ("think_i_am_dying", "medical_emergency", "emergency", "think|feel like? i be dying"),
    ("need_ambulance", "medical_emergency", "emergency", "call|need|get an? ambulance|paramedic"),
    # --- harm to others (needs someone who says it) --------------------------------------
    ("harm_person", "harm_to_others", "harm", "@WANT|will|gonna to? @HARM_VERB @PERSON"),
    ("harm_my_person", "harm_to_others", "harm", "@WANT|will|gonna to? @HARM_VERB my|his|her|that|this|the *1 @PERSON"),
    ("shoot_up", "harm_to_others", "harm", "shoot up the|my|a *1 school|work|office|place|clinic|store|church"),
    ("make_them_pay", "harm_to_others", "harm", "make them|him|her|everyone pay"),
    ("bring_gun_to", "harm_to_others", "harm", "bring|take a|my gun to work|school|office"),
    # --- seeking means: a question for a method, an amount or a way to hide it; urgent even
    # as a question and about "yourself" (the policy: never answer a means-seeking question) --
    ("lethal_amount", "overdose", "seeking", "lethal|fatal|deadly|killing dose|doses|amount|amounts|overdose|quantity|combination|mix"),
    ("how_many_to_die", "overdose", "seeking", "how many|much *5 to|would|will|could *1 die|kill|fatal|lethal|deadly|unalive"),
    ("painless_method", "suicidal_ideation", "seeking", "painless|quickest|easiest|fastest|peaceful|least painful|surest way|ways|method|methods|death|suicide"),
    ("way_to_kill", "suicidal_ideation", "seeking", "way|ways|method|methods|how *3 to? kill|hang|drown|shoot|overdose|unalive yourself|myself|oneself|themselves|themself"),
    ("way_to_selfharm", "self_harm", "seeking", "way|ways|method|methods|tips|object|objects|tool|tools|suggest|recommend *4 selfharm|selfinflicted"),
    ("how_to_selfharm", "self_harm", "seeking", "how|where|what to? use? to selfharm|selfinflicted"),
    ("way_to_hurt_myself", "self_harm", "seeking", "way|ways|method|methods|tips|how|where|what *4 hurt|cut|burn|harm|injure myself|yourself"),
    ("gentle_way_to_die", "suicidal_ideation", "seeking", "@GENTLE *2 @METHOD *4 @DEATH"),
    ("gentle_way_to_end_life", "suicidal_ideation", "seeking", "@GENTLE *2 @METHOD *3 end|terminate|take *2 life"),
    ("gentle_hanging", "suicidal_ideation", "seeking", "@GENTLE *2 hanging|noose|overdose|od|suicide|drowning"),
    ("make_a_noose", "suicidal_ideation", "seeking", "how|way|ways|make|tie|construct|build *4 noose|nooses"),
    ("method_of_dying", "suicidal_ideation", "seeking", "@METHOD of|for dying|suicide|overdosing|selfharm|killing"),
    ("injure_own_body", "self_harm", "seeking", "@INJURE my|your own @BODY"),
    ("way_to_injure_body", "self_harm", "seeking", "how|@METHOD *4 @INJURE my|your|yourself|myself @BODY"),
    ("hide_the_marks", "self_harm", "seeking", "hide|cover|conceal|explain *4 cut|cuts|cutting|selfharm|self|burn|burns|wound|wounds|injury|injuries marks|scar|scars|up|from"),
    # Injuring one's own body asked for in other words: "inflict burns on myself", "how do I
    # give myself a concussion", "how can I intentionally damage my knees".
    ("inflict_on_myself", "self_harm", "seeking", "inflict|deal *3 pain|harm|injury|injuries|damage|burns|wounds|bleeding to|on|upon myself|yourself|oneself"),
    ("give_myself_injury", "self_harm", "seeking", "how|way|ways|method|methods|tips|object|objects|item|items|tool|tools|use|intentionally|deliberately|purposely|purposefully *4 give|cause|inflict myself|yourself|oneself *3 concussion|infection|injury|injuries|pain|harm|damage|burn|burns|fracture|wound|wounds|bruise|bruises|scar|scars|poisoning"),
    ("intentionally_injure", "self_harm", "seeking", "how|way|ways|can|should|tips *3 intentionally|deliberately|purposely|purposefully *2 injure|hurt|harm|damage|wound|bruise|cut|burn|break|scald|bleed|starve|bite|scratch|punch|hit|bang *3 myself|yourself|my|your"),
    ("hide_selfharm", "self_harm", "seeking", "hide|cover|conceal|disguise|explain *5 selfharm|selfinflicted"),
    ("hide_self_harm", "self_harm", "seeking", "hide|cover|conceal|disguise|explain *5 self harm|injury|harming|cutting|biting|burning|mutilation"),
    ("how_many_to_end_life", "suicidal_ideation", "seeking", "how many|much *6 to|would|will *1 end|take one|my|your|a|someone 's? life"),
    ("how_many_to_overdose", "overdose", "seeking", "how many|much *5 to|would|will|could|does|it *2 overdose|od"),
    ("death_look_like_accident", "suicidal_ideation", "seeking", "make|making my death|suicide *2 look|seem like an? accident|natural"),
    ("how_long_until_found", "suicidal_ideation", "seeking", "how long *6 find|found|discover|discovered *3 body|corpse"),
    ("mix_to_pass_out", "overdose", "seeking", "mix|combine|take *5 to pass|black|knock out"),
    ("mix_to_not_wake", "overdose", "seeking", "mix|combine|take *5 to never|not wake"),
    # --- feeling unwell after an infusion: a symptom with the treatment, a concern --------
    ("unwell_symptom", "after_infusion", "unwell", "@UNWELL"),
    ("threw_up", "after_infusion", "unwell", "throw|throwing|threw up"),
    ("not_feeling_right", "after_infusion", "unwell", "not feel|feeling right|well|good|okay|ok|normal|myself"),
    ("feel_off", "after_infusion", "unwell", "feel|feeling|felt *3 weird|off|strange|awful|terrible|horrible|funny|wrong|bad|crappy|drunk|high|heavy|low|cold|hot"),
    ("out_of_it", "after_infusion", "unwell", "out of it"),
    ("heart_racing", "after_infusion", "unwell", "heart *4 racing|pounding|race|pound|fast|fluttering|skipping"),
    ("cannot_sleep_or_stop", "after_infusion", "unwell", "can not sleep|focus|stop|think|see|walk|stand"),
    ("body_hurts", "after_infusion", "unwell", "head|stomach|belly|tummy|bladder|arm|back|chest *3 upset|hurt|hurts|hurting|ache|aching|knot|knots|turning|pounding|pound|pain|cramp|cramping|pressure|sting|stings|burn|burning"),
    ("seeing_things", "after_infusion", "unwell", "see|seeing double|things|stuff"),
    ("ears_ringing", "after_infusion", "unwell", "ear|ears *1 ringing|ring"),
    ("after_the_infusion", "after_infusion", "treatment", "after|since|post|following|from *3 @TREATMENT"),
    ("back_from_the_clinic", "after_infusion", "treatment", "home|back from *2 clinic|@TREATMENT"),
    ("had_the_infusion", "after_infusion", "treatment", "=had|=got|=did|=finished|=received *3 @TREATMENT"),
    ("infusion_was_then", "after_infusion", "treatment", "@TREATMENT *3 yesterday|today|earlier|ago|this|last|tonight|at"),
    # --- idioms: harmless uses that hide what they cover ---------------------------------
    ("dying_to", "none", "idiom", "die|dying to know|see|try|hear|find|get|start|ask|learn|meet|go|talk|book|feel|be|have|schedule|sign"),
    ("killing_me", "none", "idiom", "kill me"),
    # A condition, not an event: "I have a seizure disorder, is it okay for me?"
    ("seizure_condition", "none", "idiom", "seizure disorder|condition|history|medication|med|free"),
    ("seizure_before", "none", "idiom", "have|had|has a? seizure b4|before|previously"),
    ("kill_time", "none", "idiom", "kill time|some|the *1 time|hour|minute"),
    ("to_die_for", "none", "idiom", "be to die for"),
    ("die_laughing", "none", "idiom", "die|dying|dead of|from|laughing|laughter|lol|lmao|embarrassment|boredom"),
    ("scared_to_death", "none", "idiom", "scared|bored|worried|sick|tired to death"),
    ("dead_tired", "none", "idiom", "dead tired|serious|set|last|end|battery|phone|zone|inside"),
    ("killer", "none", "idiom", "killer|painkiller|painkillers|deadline|deadlines|deadlift"),
    ("murder_food", "none", "idiom", "murder|kill a|for|some coffee|burger|pizza|drink|beer|sandwich|nap"),
    ("kill_it", "none", "idiom", "kill it"),
    # Scars that have healed: covering them is not hiding self-harm ("can a tattoo cover old
    # self-harm scars?")
    ("old_scars", "none", "idiom", "old|healed|faded|past selfharm|self|cutting harm? scar|scars"),
    # Suicide and overdose as someone's death, not an act now.
    ("died_by_suicide", "none", "idiom", "die|died|death|lost|loss by|to|of|from suicide|overdose"),
    ("died_of_an_overdose", "none", "idiom", "die|died|death|lost|loss by|to|of|from an|a overdose"),
    # "I'm not having any thoughts of harming myself", "I've never had thoughts of ending my life"
    ("no_thoughts_of", "none", "idiom", "not|never|no|zero have|having|had|get|getting? any? thought|thoughts|urge|urges|idea|ideas|plan|plans of|about|to hurt|harm|harming|hurting|kill|killing|end|ending|cut|cutting|suicide|dying|self|selfharm"),
    ("bottled_up", "none", "idiom", "bottle|bottled|bottling *2 up|inside"),
    ("falling_apart", "none", "idiom", "collapse|collapsing|crumble|crumbling *1 around|apart|under"),
    ("over_my_dead_body", "none", "idiom", "over my dead body"),
    ("be_here_at", "none", "idiom", "be here|there at|for|on|early|by|before|during|with|in|when|around|until"),
    ("end_of_day", "none", "idiom", "end of the|my day|week|month|shift|session|infusion|line"),
    ("end_it_with", "none", "idiom", "end it with my|the|a|him|her|them"),
    ("heart_attack_price", "none", "idiom", "give|have me a heart attack"),
    ("one_more_and_die", "none", "idiom", "one more *8 die"),
    ("shot_in_the_foot", "none", "idiom", "shoot myself in the foot"),
    ("cut_it_off", "none", "idiom", "cut it|them *1 off|short"),
    ("cut_my_hair", "none", "idiom", "cut my|his|her|the *1 hair|nails|grass|cost|loss|budget|hour|coupon|cake|bangs"),
    ("jump_the_gun", "none", "idiom", "jump the gun"),
    ("overdose_on_things", "none", "idiom", "overdose|od on *1 netflix|tv|coffee|caffeine|sugar|chocolate|youtube|tiktok|show|shows|candy|information|research|reading|news"),
    ("suicide_topic", "none", "idiom", "suicide|suicidal prevention|research|rate|rates|risk|hotline|awareness|statistic|statistics|study|studies|crisis|line|lifeline"),
    ("ketamine_and_suicide", "none", "idiom", "ketamine and|for suicide|suicidal"),
    ("cut_myself_off", "none", "idiom", "cut|cutting myself|me off"),
    ("overdose_on_the_treatment", "none", "idiom", "can|could|would i|you|someone|people|anyone overdose|od on|from|with ketamine|it|this|the|an|infusion|infusions|treatment|spravato"),
    ("overdose_if", "none", "idiom", "can|could|would i|you|someone|people|anyone overdose|od if|when|while"),
    ("reduce_suicidal_thoughts", "none", "idiom", "reduce|reduces|reducing|help|helps|treat|treats|lower|lowers|ease|eases suicidal|suicide thought|thoughts|ideation|risk|feelings"),
    ("veins_collapse", "none", "idiom", "vein|veins *2 collapse|collapsing|collapsed"),
    ("hurt_feelings", "none", "idiom", "hurt|hurting his|her|their|my|your feelings"),
    ("cut_costs", "none", "idiom", "cut|cutting cost|costs|back|down|corner|corners|out|hair|ties|class"),
    ("cut_that_out", "none", "idiom", "cut|cutting that|it|this|them|those|alcohol|coffee|caffeine|drinking|sugar out|back|down"),
    ("life_savings", "none", "idiom", "my life saving|savings|insurance"),
    # --- hopelessness, a passive wish: the direct question (check) ----------------------------
    ("feel_hopeless", "suicidal_ideation", "passive", "feel|feeling|felt|be|been|so|really|completely|totally|utterly|just *3 hopeless"),
    ("hopelessness", "suicidal_ideation", "passive", "hopelessness"),
    ("ambivalent_about_living", "suicidal_ideation", "passive", "ambivalent|indifferent|apathetic about|towards|to living|life|existing|be|staying alive?"),
    ("worn_out_from_living", "suicidal_ideation", "passive", "worn|wear out from|by living|life|existing"),
    ("a_burden", "suicidal_ideation", "passive", "be|feel like? a|such a? burden"),
    # --- signals for later turns (crisis.session) ----------------------------------------
    ("retraction", "none", "retraction", "jk|jking|kidding|joking|joke|nvm|nevermind|disregard|broma|bromeando|olvidalo"),
    ("ignore_that", "none", "retraction", "ignore that|this|it|me|what|my"),
    ("never_mind", "none", "retraction", "never mind"),
    ("did_not_mean_it", "none", "retraction", "not mean it|that|what"),
    ("forget_it", "none", "retraction", "forget it|that|what|i"),
    ("im_fine", "none", "retraction", "i be fine|ok|okay|good|safe"),
    ("distress", "none", "distress", (
        "hopeless|worthless|empty|numb|exhausted|alone|lonely|pointless|useless|broken|miserable|"
        "overwhelmed|desperate|trapped|burden|helpless|unbearable|crying|cry|dark|sad|struggling|"
        "awful|terrible|scared|afraid|hurting|hurts|pain|tired|lost|failure"
    )),
    ("give_up", "none", "distress", "give|giving up"),
    ("no_point", "none", "distress", "no|any point|hope"),
    ("no_way_out", "none", "distress", "no way out"),
    ("nothing_helps", "none", "distress", "nothing *1 help|helps|work|works|matter|matters|change|changes"),
    ("hate_myself", "none", "distress", "hate myself|my"),
    # --- Spanish ------------------------------------------------------------------------
    ("es_quiero_morir", "suicidal_ideation", "risk", "quiero|quisiera|deseo|voy|pienso a|en? morir|morirme|matarme|suicidarme|desaparecer"),
    ("es_me_quiero_matar", "suicidal_ideation", "risk", "me quiero|voy a? morir|matar|suicidar"),
    ("es_quitarme_la_vida", "suicidal_ideation", "risk", "quitarme|acabar con? la|mi vida"),
    ("es_no_quiero_vivir", "suicidal_ideation", "risk", "no quiero vivir|seguir|existir"),
    ("es_pastillas", "overdose", "risk", "tome|tomar|tomarme todas|muchas|frasco *2 pastillas"),
    ("es_cortarme", "self_harm", "risk", "cortarme|lastimarme|herirme"),
    ("es_mejor_muerto", "suicidal_ideation", "risk", "mejor muerto|muerta"),
    ("es_suicidarme", "suicidal_ideation", "risk", "suicidarme|matarme"),
]

# Rules that can only be about the person saying them, even without "I".
SELF_EVIDENT = frozenset({
    "point_of_living", "no_reason_to_live", "no_point_living", "nothing_to_live_for",
    "not_worth_living", "tired_of_living", "tired_of_being_alive", "painless_way",
})

# Words that point at who a statement is about, looked for before a match.
SUBJECTS_SELF = frozenset("i me my myself im mine".split())
SUBJECTS_OTHER = frozenset(
    "he she him her his hers himself herself son daughter friend brother sister mom mother "
    "dad father husband wife partner boyfriend girlfriend kid child teen teenager cousin "
    "roommate grandma grandpa aunt uncle niece nephew coworker patient's relative".split()
)
SUBJECTS_GENERIC = frozenset(
    "you u your someone somebody anyone anybody people patient patients person one everyone "
    "those others persons client clients individual individuals nobody noone family".split()
)

NEGATIONS = frozenset("not no never nor without none zero".split())
# A negation followed by these is about the past: "not suicidal anymore".
NO_LONGER = frozenset("anymore longer".split())

# Words that put a statement in the past (history) or in the present (current).
HISTORY = frozenset(
    "ago used past history previously formerly survived survivor recovery recovering backstory college "
    "highschool childhood younger decade decades".split()
)
# Pairs that put a statement in the past by themselves, and weaker ones that need "was/had".
HISTORY_PAIRS = frozenset({
    ("last", "year"), ("last", "summer"), ("last", "spring"), ("last", "fall"),
    ("last", "winter"), ("back", "then"), ("back", "in"), ("years", "back"), ("in", "high"),
    ("a", "decade"), ("long", "time"),
})
WEAK_HISTORY_PAIRS = frozenset({("when", "i"), ("as", "a"), ("in", "the"), ("a", "while")})
CURRENT = frozenset(
    "again tonight today rn lately anymore tomorrow week right weekend "
    "started starting keep keeps constantly always every everyday daily soon".split()
)
RECOVERY = frozenset("better fine safe ok okay well great good remission stable recovered healed".split())

# Question and hypothetical openers: "what if", "is it normal", "in case".
HYPOTHETICAL = (
    ("what", "if"), ("what", "happen"), ("in", "case"), ("suppose",), ("hypothetically",),
    ("is", "it", "normal"), ("is", "it", "common"), ("be", "it", "normal"), ("be", "it", "common"),
    ("if", "someone"), ("if", "somebody"), ("if", "a", "patient"), ("if", "you"),
    ("will", "i"), ("would", "i"), ("could", "i"), ("might", "i"), ("do", "people"),
    ("can", "people"), ("does", "anyone"), ("do", "it"), ("does", "it"), ("will", "it"),
    ("can", "it"), ("could", "it"), ("would", "it"), ("do", "ketamine"), ("does", "ketamine"),
    ("can", "ketamine"), ("will", "ketamine"), ("is", "there"), ("be", "there"), ("risk", "of"),
    ("chance", "of"), ("possible", "to"),
    ("help", "with"), ("should", "i"), ("ask", "if"), ("idea", "of"), ("feel", "like", "dying"),
)

# Words that end the stretch of text a context word can reach.
CLAUSE_BREAKS = frozenset(
    ". ! ? ; \n but however though although yet anyway except whereas".split(" ")
) | {"\n"}

# Irregular forms → lemma; regular -s/-ed/-ing forms are handled in crisis.normalize.
IRREGULAR_LEMMAS = {
    "am": "be", "is": "be", "are": "be", "was": "be", "were": "be", "been": "be", "being": "be",
    "'m": "be", "m": "be", "'s": "be", "asks": "ask", "asked": "ask", "asking": "ask", "'re": "be", "re": "be", "im": "i",
    "has": "have", "had": "have", "having": "have", "'ve": "have", "ve": "have",
    "did": "do", "does": "do", "done": "done", "doing": "do",
    "took": "take", "taken": "take", "taking": "take",
    "went": "go", "gone": "gone", "going": "go", "goin": "go", "gonna": "gonna",
    "wanna": "want", "wana": "want", "wnat": "want", "wan": "want", "watn": "want", "wantto": "want",
    "felt": "feel", "thoughts": "thought",
    "died": "die", "dies": "die", "dying": "dying", "dyin": "dying",
    "bled": "bleed", "hung": "hang", "shot": "shoot", "ate": "eat", "eaten": "eat",
    "swallowed": "swallow", "swallowing": "swallow", "gave": "give", "given": "give",
    "giving": "giving", "said": "say", "says": "say", "made": "make", "tried": "try",
    "tries": "try", "decided": "decide", "wrote": "write", "written": "write", "writing": "writing",
    "cutting": "cutting", "cuts": "cut", "od'd": "od", "odd": "odd", "oded": "od", "od'ing": "od",
    "overdosed": "overdose", "overdosing": "overdose", "overdoses": "overdose",
    "kms": "kms", "unalived": "unalive", "unaliving": "unalive",
    "pills": "pill", "meds": "med", "tablets": "tablet", "guns": "gun", "bottles": "bottle",
    "seizures": "seizure", "n't": "not", "nt": "not", "'d": "would", "wo": "will", "ca": "can",
    "u": "you", "ur": "your", "ppl": "people", "tho": "though", "bc": "because", "cuz": "because",
    "lemme": "let", "gotta": "got", "tmrw": "tomorrow", "tmr": "tomorrow", "2nite": "tonight",
    "2night": "tonight", "2day": "today", "suicidial": "suicidal",
    "sewerslide": "suicide", "sewer-slide": "suicide", "unalive": "unalive",
    "children": "child", "people": "people", "lives": "life", "kids": "kid", "living": "living",
    "dead": "dead", "death": "death", "breathing": "breathing", "breath": "breathe",
    "passing": "passing", "passed": "pass", "fainted": "fainted", "fainting": "fainted",
    "collapsed": "collapse", "seizing": "seizing", "convulsing": "convulsing",
    "pounding": "pounding", "racing": "racing", "hurts": "hurts", "hurting": "hurt",
    "harming": "harming", "killing": "kill", "killed": "kill", "kills": "kill",
    "ending": "end", "ended": "end", "ends": "end", "saving": "saving", "saved": "save",
    "hoarding": "hoard", "hoarded": "hoard", "stockpiling": "stockpile", "stockpiled": "stockpile",
    "starving": "starve", "burning": "burn", "burned": "burn", "burnt": "burn",
    "jumped": "jump", "jumping": "jump", "standing": "stand", "stood": "stand",
    "sitting": "sit", "sat": "sit", "crying": "crying", "cried": "cry", "cries": "cry",
    "gun's": "gun", "pill's": "pill", "relapsed": "relapse", "relapsing": "relapse",
    "swelling": "swelling", "closing": "closing", "turning": "turning", "turned": "turn",
    "struggling": "struggling", "wishing": "wish", "wished": "wish", "meant": "mean",
    "planning": "plan", "planned": "plan", "plans": "plan", "goodbyes": "goodbye",
    "things": "thing", "lined": "line", "counted": "count", "laid": "lay",
    "looking": "look", "staring": "stare", "bought": "buy", "got": "get", "picked": "pick",
    "found": "find", "belongings": "belonging", "arms": "arm", "wrists": "wrist",
    "legs": "leg", "thighs": "thigh", "notes": "note", "letters": "letter",
}

# Misspellings and slang spelled out; fuzzy matching (crisis.normalize) covers the rest.
SPELLINGS = {
    "kil": "kill", "kll": "kill", "kilk": "kill", "klil": "kill", "kiil": "kill", "kiill": "kill",
    "myslef": "myself", "myselfe": "myself", "meself": "myself", "mysef": "myself", "myslf": "myself",
    "mself": "myself", "maself": "myself", "myseld": "myself",
    "sucide": "suicide", "suicde": "suicide", "suiside": "suicide", "suicid": "suicide",
    "sucidal": "suicidal", "suicdal": "suicidal", "suisidal": "suicidal", "sucicidal": "suicidal",
    "diee": "die", "dieee": "die", "ded": "dead", "dyin": "dying",
    "overdoes": "overdose", "overdoze": "overdose", "ovrdose": "overdose", "overdos": "overdose",
    "pils": "pills", "pillz": "pills", "medz": "meds",
    "wna": "want", "wnt": "want", "wantt": "want",
    "breath": "breathe", "breate": "breathe", "brethe": "breathe", "breth": "breathe",
    "anymor": "anymore", "any more": "anymore", "nomore": "anymore",
    "tonite": "tonight", "tnight": "tonight", "2nite": "tonight",
    "alife": "alive", "aliv": "alive", "liv": "live", "lve": "live",
    "unalve": "unalive", "unalivee": "unalive", "sewerslid": "suicide",
    "hurtt": "hurt", "hrt": "hurt", "cuttin": "cutting", "cuting": "cutting",
    "self-harm": "selfharm", "selfharming": "selfharm", "harmin": "harming",
    "self-harming": "selfharm", "self harming": "selfharm", "self-harmed": "selfharm",
    "self harmed": "selfharm", "self-harms": "selfharm", "self harms": "selfharm",
    "self-injury": "selfharm", "self injury": "selfharm", "self-injuring": "selfharm",
    "self injuring": "selfharm", "self-mutilation": "selfharm", "self mutilation": "selfharm",
    "self-mutilating": "selfharm", "self-inflicted": "selfinflicted",
    "self inflicted": "selfinflicted",
    "self-cutting": "selfharm", "self cutting": "selfharm", "self-burning": "selfharm",
    "self-biting": "selfharm", "self-hitting": "selfharm",
    # before "my self" (myself): "hide my self harm"
    "my self harm": "my selfharm", "my self-harm": "my selfharm", "my self injury": "my selfharm",
    "my self-injury": "my selfharm", "my self harming": "my selfharm",
    "thot": "thought", "thots": "thought", "lyfe": "life", "lif": "life",
    "evryone": "everyone", "every1": "everyone", "some1": "someone", "any1": "anyone",
    "cnt": "cant", "carnt": "cant", "caint": "cant", "kant": "cant",
    "lfie": "life", "lief": "life", "tonigth": "tonight", "tonihgt": "tonight", "beter": "better",
    "alvie": "alive", "aliev": "alive", "cowroker": "coworker", "tomorow": "tomorrow",
    "slef": "self", "dei": "die", "abt": "about", "suicidle": "suicidal", "to many": "too many",
    "my self": "myself", "sewer slide": "suicide", "self delete": "selfdelete",
    "sucidle": "suicidal", "tok": "took", "b": "be", "comit": "commit", "gunn": "gun",
    "s/h": "selfharm", "anymroe": "anymore", "realy": "really",
    "dnt": "dont", "doesnt": "doesn't", "wud": "would", "cud": "could", "shud": "should",
}

# Fuzzy matching: tokens this close to one of these words are read as that word.
FUZZY_TARGETS = (
    "suicide suicidal myself overdose overdosed unalive sewerslide himself herself themselves "
    "breathe breathing seizure unconscious unresponsive stockpiling stockpile suicidial "
    "killing tonight anymore cutting someone everyone hopeless worthless ambulance "
    "medication painkillers"
).split()
# Real words near those targets that must stay themselves.
FUZZY_PROTECTED = frozenset(
    "overdone overdue cutting cutie cattle bathing breaking breeding seizes seized sizing "
    "unalike kissing billing filling killing willing milling selfish somewhat someway "
    "somewhere everyones hopefuls tonights anyway "
    # Found by running every word of spaCy's English vocabulary through the correction: real
    # words that must not become risk words ("overcome" is not "overdose", "treating" is not
    # "breathing", "self-conscious" is not "unconscious").
    "worldless everypony evermore evernote workless berthing education hoteles creating shapeless "
    "houseless putting imbalance horseless boneless cuttings reaching coreless sheathing beating "
    "breading hornless overcome overcoming overcomes treating worthies worthiest beaching "
    "conscious overuse overdo overdyed homeless domeless broaching toothless shoeless mirthless "
    "medicating tapeless ambulant ambulate dedication dedications meditation meditations indication "
    "overused hilling overjoyed responsive subconscious verbose metrication topless tilling "
    "abdication predication ambiance hapless preaching loveless worthiness wordless toneless "
    "breitling bleating butting gutting jutting rutting tutting nutting catting breeching "
    "overtone mediation mediations subtidal everton bleaching overrode kipling skilling pilling "
    "berating".split()
)
