"""ReplyBudget: a spoken reply ends at a sentence boundary within its budget."""

from __future__ import annotations

from voicebot.text.budget import ReplyBudget, asks_for_more


def spoken(chunks: list[str], budget: ReplyBudget) -> list[str]:
    out = []
    for chunk in chunks:
        if budget.admit(chunk):
            out.append(chunk)
        if budget.done:
            break
    return out


def test_two_sentences_at_most() -> None:
    chunks = ["Paris is the capital.", "It is in France.", "It has the Eiffel Tower."]
    assert spoken(chunks, ReplyBudget(2, 35)) == chunks[:2]


def test_an_early_first_chunk_is_finished_as_one_sentence() -> None:
    chunks = ["The sky looks blue,", "because air scatters blue light.", "Red passes.",
              "More text."]
    assert spoken(chunks, ReplyBudget(2, 35)) == chunks[:3]


def test_a_sentence_that_would_overrun_the_words_is_not_started() -> None:
    long = " ".join(["word"] * 32) + "."
    chunks = ["Short first sentence here.", long]
    budget = ReplyBudget(2, 35)
    assert spoken(chunks, budget) == chunks[:1]
    assert budget.done


def test_a_long_first_sentence_is_spoken_whole_then_stops() -> None:
    long = " ".join(["word"] * 40) + "."
    assert spoken([long, "Next."], ReplyBudget(2, 35)) == [long]


def test_asking_for_more_widens_the_budget() -> None:
    assert asks_for_more("Can you explain how a rainbow forms?")
    assert asks_for_more("Tell me more about Rome")
    assert not asks_for_more("What is the capital of Italy?")
    chunks = [f"Sentence {i}." for i in range(6)]
    assert spoken(chunks, ReplyBudget(2, 35, more=True)) == chunks
