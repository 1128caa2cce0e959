"""LocalAgreement-2 policy: hand-written hypotheses, exact expectations."""

from __future__ import annotations

from voicebot.asr.streaming import LocalAgreement, aligned_prefix, ends_sentence, normalize
from voicebot.config import StreamingConfig
from voicebot.events import Word


def hyp(*items: tuple[str, float, float]) -> list[Word]:
    return [Word(start, end, text) for text, start, end in items]


def texts(words: list[Word]) -> list[str]:
    return [w.text for w in words]


def test_normalize_ignores_case_and_punctuation() -> None:
    assert normalize("Americans.") == normalize("americans") == "americans"
    assert normalize("don't,") == "don't"
    assert normalize("...") == ""
    assert ends_sentence("country.") and ends_sentence('"Yes!"') and not ends_sentence("Dr")


def test_commits_the_prefix_two_hypotheses_agree_on() -> None:
    la = LocalAgreement()
    assert la.insert(hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0))) == []
    assert la.pending == hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0))
    got = la.insert(hyp(("and", 0.0, 0.7), ("so", 0.7, 1.0), ("my", 1.0, 1.4)))
    assert texts(got) == ["and", "so"]  # the newer hypothesis' words are committed
    assert texts(la.pending) == ["my"]


def test_revision_after_a_disagreement_commits_nothing_then_agrees() -> None:
    la = LocalAgreement()
    la.insert(hyp(("like", 0.0, 0.5), ("york", 0.5, 0.8)))
    assert la.insert(hyp(("What", 0.0, 0.5), ("your", 0.5, 0.8))) == []
    got = la.insert(hyp(("What", 0.0, 0.5), ("your", 0.5, 0.8), ("country", 0.8, 1.2)))
    assert texts(got) == ["What", "your"]
    assert texts(la.committed) == ["What", "your"]


def test_words_of_audio_already_committed_are_ignored() -> None:
    la = LocalAgreement()
    la.insert(hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0), ("my", 1.0, 1.4)))
    la.insert(hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0), ("my", 1.0, 1.4)))
    assert la.committed_end == 1.4
    # Whisper re-words committed audio ("my" -> "am I"): the re-timed words start well
    # before the committed end and must not come back as new text.
    la.insert(hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0), ("am", 1.0, 1.2), ("I", 1.2, 1.45),
                  ("fellow", 1.45, 1.8)))
    got = la.insert(hyp(("And", 0.0, 0.7), ("so", 0.7, 1.0), ("am", 1.0, 1.2), ("I", 1.2, 1.45),
                        ("fellow", 1.45, 1.8), ("Americans", 1.8, 2.2)))
    assert texts(got) == ["fellow"]
    assert texts(la.committed) == ["And", "so", "my", "fellow"]


def test_repeated_overlap_with_the_committed_tail_is_removed() -> None:
    la = LocalAgreement()
    la.insert(hyp(("ask", 2.0, 2.4), ("not", 2.4, 2.8)))
    la.insert(hyp(("ask", 2.0, 2.4), ("not", 2.4, 2.8), ("what", 3.0, 3.3)))
    # The committed "ask not" reappears, squeezed after the committed end (Whisper re-times
    # the words at the head of a trimmed buffer): the 2-gram match removes it.
    new = hyp(("ask", 2.8, 2.9), ("not", 2.9, 3.0), ("what", 3.0, 3.3), ("your", 3.3, 3.6))
    assert texts(la.insert(new)) == ["what"]
    assert texts(la.committed) == ["ask", "not", "what"]
    assert texts(la.pending) == ["your"]


def test_flush_returns_and_commits_the_uncommitted_rest() -> None:
    la = LocalAgreement()
    la.insert(hyp(("hello", 0.0, 0.4), ("there", 0.4, 0.8)))
    la.insert(hyp(("hello", 0.0, 0.4), ("there", 0.4, 0.8), ("friend.", 0.8, 1.2)))
    assert texts(la.flush()) == ["friend."]
    assert texts(la.committed) == ["hello", "there", "friend."]
    assert la.flush() == [] and la.pending == []


def test_prompt_is_committed_text_before_the_buffer_limited_in_length() -> None:
    la = LocalAgreement(StreamingConfig(prompt_chars=12))
    words = hyp(("one", 0, 1), ("two", 1, 2), ("three", 2, 3), ("four", 3, 4), ("five", 4, 5))
    la.insert(words)
    la.insert(words + hyp(("six", 5, 6)))
    assert la.prompt(before=10.0) == "four five"  # whole words of the last 12 characters
    assert la.prompt(before=2.0) == "one two"
    assert la.prompt(before=0.5) == ""


def test_trim_point_only_past_max_buffer_and_at_a_committed_sentence() -> None:
    la = LocalAgreement(StreamingConfig(max_buffer_s=5.0))
    words = hyp(("Hi.", 0.5, 1.0), ("I", 1.2, 1.4), ("am", 1.4, 1.7), ("here", 1.7, 2.0))
    la.insert(words)
    la.insert(words)
    assert la.trim_point(0.0, 4.0) is None  # short buffer: keep the context
    assert la.trim_point(0.0, 6.0) == 1.0  # end of the committed sentence
    assert la.trim_point(1.0, 6.5) == 2.0  # no sentence inside: the last committed word


def test_trim_point_bounds_the_buffer_even_without_commits() -> None:
    la = LocalAgreement(StreamingConfig(max_buffer_s=5.0))
    assert la.trim_point(0.0, 8.0) is None
    assert la.trim_point(0.0, 11.0) == 6.0


def test_reset_forgets_everything() -> None:
    la = LocalAgreement()
    la.insert(hyp(("a", 0, 1)))
    la.insert(hyp(("a", 0, 1)))
    la.reset()
    assert la.committed == [] and la.pending == [] and la.prompt(100.0) == ""


def test_a_word_at_the_edge_of_the_audio_waits() -> None:
    la = LocalAgreement()
    la.insert(hyp(("may", 0.0, 0.3), ("just", 0.3, 0.9)), audio_end=1.0)
    got = la.insert(hyp(("may", 0.0, 0.3), ("just", 0.3, 0.9)), audio_end=1.0)
    assert texts(got) == ["may"]  # "just" may be "justly" cut off by the buffer end
    got = la.insert(hyp(("may", 0.0, 0.3), ("justly", 0.3, 1.1), ("be", 1.1, 1.3)), audio_end=1.5)
    assert got == [] and texts(la.pending) == ["justly", "be"]


# ---- words carried over from the previous utterance (history) --------------------------
CARRIED = hyp(("represented", 0.0, 0.8), ("in", 0.8, 0.95), ("the", 0.95, 1.1),
              ("exhibition.", 1.1, 1.8))


def test_carried_words_retimed_into_the_pause_are_not_emitted_again() -> None:
    # A 1.5 s pause: Whisper stretches "exhibition" into it, so by time the word looks new
    # (it starts after the committed end, more than OVERLAP_WINDOW_S away).
    la = LocalAgreement()
    la.reset(history=CARRIED)
    head = [("represented", 0.0, 0.8), ("in", 0.8, 0.95), ("the", 0.95, 2.9),
            ("exhibition", 2.9, 3.4)]
    la.insert(hyp(*head, ("in", 3.4, 3.6), ("being", 3.6, 3.9)))
    got = la.insert(hyp(*head, ("in", 3.4, 3.6), ("being", 3.6, 3.9), ("comparatively", 3.9, 4.6)))
    assert texts(got) == ["in", "being"]
    got = la.insert(hyp(*head, ("in", 3.4, 3.6), ("being", 3.6, 3.9),
                        ("comparatively", 3.9, 4.6), ("modern.", 4.6, 5.0)))
    assert texts(got) == ["comparatively"]
    assert texts(la.flush()) == ["modern."]
    assert texts(la.new_words) == ["in", "being", "comparatively", "modern."]


def test_new_words_retimed_into_the_carried_audio_are_not_dropped() -> None:
    # Whisper squeezes the carried words, so the new ones start before the old committed
    # end (1.8 s): a time filter would drop them as old audio.
    la = LocalAgreement()
    la.reset(history=CARRIED)
    head = [("represented", 0.0, 0.6), ("in", 0.6, 0.7), ("the", 0.7, 0.8),
            ("exhibition.", 0.8, 1.2)]
    la.insert(hyp(*head, ("In", 1.3, 1.5), ("being", 1.5, 1.7)))
    got = la.insert(hyp(*head, ("In", 1.3, 1.5), ("being", 1.5, 1.7), ("comparatively", 1.7, 2.4)))
    assert texts(got) == ["In", "being"]


def test_carried_words_skipped_or_misheard_by_whisper() -> None:
    la = LocalAgreement()
    la.reset(history=CARRIED)
    # Whisper skipped the carried audio entirely: every word is new.
    la.insert(hyp(("in", 2.0, 2.2), ("being", 2.2, 2.5)))
    assert texts(la.flush()) == ["in", "being"]
    la.reset(history=CARRIED)
    # ... or misheard one carried word and dropped another: still aligned, not re-emitted.
    la.insert(hyp(("presented", 0.0, 0.8), ("the", 0.95, 1.1), ("exhibition", 1.1, 1.8),
                  ("in", 2.0, 2.2), ("being", 2.2, 2.5)))
    assert texts(la.flush()) == ["in", "being"]


def test_carried_words_reworded_beyond_alignment_are_told_apart_by_time() -> None:
    # "ask what you can do for your country." re-heard as just "country.": too far from the
    # history to align, but it lies within the carried audio, so it is old.
    la = LocalAgreement()
    la.reset(history=hyp(("ask", 8.1, 8.7), ("what", 8.7, 9.0), ("you", 9.0, 9.3),
                         ("can", 9.3, 9.5), ("do", 9.5, 9.7), ("for", 9.7, 9.9),
                         ("your", 9.9, 10.2), ("country.", 10.2, 10.5)))
    la.insert(hyp(("country.", 8.2, 9.8), ("She", 11.0, 11.8), ("had", 11.8, 12.0)))
    assert texts(la.flush()) == ["She", "had"]


def test_aligned_prefix_is_the_closest_head_and_the_shortest_on_a_tie() -> None:
    assert aligned_prefix(["a", "b", "c"], ["a", "b", "c", "d"]) == (3, 0)
    assert aligned_prefix(["a", "b", "c"], ["b", "c", "d"]) == (2, 1)
    assert aligned_prefix(["a", "b", "c"], ["x", "y", "z"]) == (0, 3)
    assert aligned_prefix(["a", "b"], ["a", "b", "b", "c"]) == (2, 0)  # a new word may repeat
    assert aligned_prefix([], ["a"]) == (0, 0)


def test_a_new_word_timed_before_the_committed_end_is_kept_after_the_repeated_tail() -> None:
    """lj_LJ001-0005 with a short encoder window: one decode stretched "the" to 6.78 s, it
    was committed so, and the next decode put "invention" at 6.58 s, before that end. The
    time filter alone dropped it ("as the of the art"); the repeated tail "as the" anchors
    the new words instead."""
    la = LocalAgreement()
    la.insert(hyp(("As", 6.08, 6.32), ("the", 6.32, 6.50), ("invent...", 6.50, 6.72)))
    committed = la.insert(hyp(("as", 5.64, 6.30), ("the", 6.30, 6.78),
                              ("invention", 6.78, 6.88), ("of", 6.88, 7.18)))
    assert texts(committed) == ["as", "the"]
    la.insert(hyp(("as", 5.66, 6.32), ("the", 6.32, 6.58), ("invention", 6.58, 6.88),
                  ("of", 6.88, 7.22), ("the", 7.22, 7.32), ("art", 7.32, 7.44)))
    la.flush()
    assert texts(la.committed) == ["as", "the", "invention", "of", "the", "art"]


def test_the_tail_anchor_takes_the_place_closest_in_time() -> None:
    """A committed two-word tail said again later ("of the ... of the"): the new words
    follow the occurrence timed at the committed end, not the later one."""
    la = LocalAgreement()
    la.insert(hyp(("out", 0.0, 0.3), ("of", 0.3, 0.5), ("the", 0.5, 0.7)))
    la.insert(hyp(("out", 0.0, 0.3), ("of", 0.3, 0.5), ("the", 0.5, 0.7), ("box", 0.7, 1.0)))
    assert texts(la.committed) == ["out", "of", "the"]
    la.insert(hyp(("of", 0.3, 0.5), ("the", 0.5, 0.7), ("box", 0.7, 1.0), ("of", 1.0, 1.2),
                  ("the", 1.2, 1.4), ("year", 1.4, 1.8)))
    la.flush()
    assert texts(la.committed) == ["out", "of", "the", "box", "of", "the", "year"]
