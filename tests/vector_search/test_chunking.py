from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.common.errors import InputError
from lambdas.vector_search.chunking import Chunk, chunk_text, preprocess, sentence_ends, tokenize

WORDS = st.sampled_from(["alpha", "beta", "gamma", "x", "3.14", "don't", "e.g.", "über", "naïve", "42"])
SENTENCE = (
    st.lists(WORDS, min_size=1, max_size=30)
    .map(lambda ws: " ".join(ws))
    .flatmap(lambda body: st.sampled_from([".", "!", "?", "", ","]).map(lambda end: body + end))
)
DOCUMENT = st.lists(SENTENCE, min_size=1, max_size=25).flatmap(
    lambda sentences: st.sampled_from([" ", "\n", "\n\n", "  "]).map(lambda sep: sep.join(sentences))
)
LIMITS = st.integers(min_value=1, max_value=40).flatmap(
    lambda max_tokens: st.tuples(st.just(max_tokens), st.integers(min_value=0, max_value=max_tokens - 1))
)


def _chunks(text: str, limits: tuple[int, int]) -> tuple[str, list[Chunk]]:
    clean = preprocess(text)
    max_tokens, overlap = limits
    return clean, chunk_text(clean, max_tokens=max_tokens, overlap_tokens=overlap)


@settings(max_examples=200, deadline=None)
@given(DOCUMENT, LIMITS)
def test_chunks_cover_every_token_in_order(text: str, limits: tuple[int, int]) -> None:
    clean, chunks = _chunks(text, limits)
    total = len(tokenize(clean))
    assert chunks[0].token_start == 0
    assert chunks[-1].token_end == total
    for before, after in itertools.pairwise(chunks):
        assert before.token_start < after.token_start <= before.token_end < after.token_end
    covered = set().union(*(range(c.token_start, c.token_end) for c in chunks))
    assert covered == set(range(total))


@settings(max_examples=200, deadline=None)
@given(DOCUMENT, LIMITS)
def test_no_chunk_exceeds_max_tokens_and_overlap_is_as_configured(text: str, limits: tuple[int, int]) -> None:
    _clean, chunks = _chunks(text, limits)
    max_tokens, overlap = limits
    for chunk in chunks:
        assert 1 <= chunk.token_count <= max_tokens
        assert len(tokenize(chunk.text)) == chunk.token_count
    for before, after in itertools.pairwise(chunks):
        shared = before.token_end - after.token_start
        assert shared == min(overlap, before.token_count - 1)


@settings(max_examples=200, deadline=None)
@given(DOCUMENT, LIMITS)
def test_chunk_text_is_the_source_span_and_ends_on_sentences_when_it_can(
    text: str, limits: tuple[int, int]
) -> None:
    clean, chunks = _chunks(text, limits)
    max_tokens, _ = limits
    tokens = tokenize(clean)
    ends = set(sentence_ends(clean, tokens))
    for chunk in chunks:
        assert clean[chunk.char_start : chunk.char_end] == chunk.text
        if chunk.token_end not in ends:
            # A hard cut only happens when no sentence end fits in the window.
            assert chunk.token_count == max_tokens
    joined_tokens = {(t.start, t.end) for c in chunks for t in tokens[c.token_start : c.token_end]}
    assert joined_tokens == {(t.start, t.end) for t in tokens}


def test_sentences_are_kept_whole_when_they_fit() -> None:
    text = "One two three. Four five six. Seven eight nine."
    chunks = chunk_text(text, max_tokens=9, overlap_tokens=2)
    assert [c.text for c in chunks] == [
        "One two three. Four five six.",
        "six. Seven eight nine.",
    ]


def test_overlap_is_in_tokens_not_sentences() -> None:
    text = "a b c d e. f g h i j. k l m n o."
    chunks = chunk_text(text, max_tokens=6, overlap_tokens=3)
    # Three shared tokens each time; a window with no sentence end after the overlap is cut hard.
    assert [c.text for c in chunks] == ["a b c d e.", "d e. f g h", "f g h i j.", "i j. k l m", "k l m n o."]


def test_a_sentence_longer_than_the_window_is_cut_hard() -> None:
    text = " ".join(f"w{i}" for i in range(25)) + "."
    chunks = chunk_text(text, max_tokens=10, overlap_tokens=0)
    assert [c.token_count for c in chunks] == [10, 10, 6]


def test_decimal_points_do_not_end_sentences() -> None:
    text = "Pi is 3.14 today. Done."
    tokens = tokenize(text)
    assert [text[tokens[e - 1].start : tokens[e - 1].end] for e in sentence_ends(text, tokens)] == [".", "."]
    assert len(sentence_ends(text, tokens)) == 2


def test_preprocess_normalises_whitespace_and_control_characters() -> None:
    raw = "  \uff28\uff45\uff4c\uff4c\uff4f\u0000  world\r\n\r\n\r\n\tNext   line  "
    assert preprocess(raw) == "Hello world\n\nNext line"


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_document_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="no text"):
        chunk_text(preprocess(text), max_tokens=10, overlap_tokens=2)


def test_overlap_must_be_below_max_tokens() -> None:
    with pytest.raises(InputError, match="overlap_tokens"):
        chunk_text("a b c.", max_tokens=4, overlap_tokens=4)


def test_tokenizer_splits_words_and_punctuation() -> None:
    text = "don't stop."
    assert [text[t.start : t.end] for t in tokenize(text)] == ["don", "'", "t", "stop", "."]
    assert re.fullmatch(r"\w+", "über")
