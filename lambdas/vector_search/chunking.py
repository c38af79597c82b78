"""Preprocessing and sentence-aware chunking with an overlap measured in tokens.

Tokenizer: a token is a run of word characters (`\\w+`) or one other non-space character, so
"don't stop." is five tokens: don ' t stop . It is deterministic and dependency-free; it
counts tokens the way the limits are enforced here, not the way a model's subword tokenizer
does, so set `max_tokens` with some headroom below the embedding model's limit (a subword
tokenizer usually yields 1.2-1.5x as many tokens for English prose).

Chunking: each chunk ends on a sentence end when one fits in the window, otherwise the window
is cut hard at `max_tokens`; the next chunk starts `overlap_tokens` tokens before the previous
end (fewer only when the previous chunk is too short to give that many and still advance).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lambdas.common.errors import InputError

_TOKEN = re.compile(r"\w+|[^\w\s]")
# NFKC (in preprocess) has already folded full-width "!" and "?" to ASCII.
_SENTENCE_END = frozenset({".", "!", "?", "\u3002"})
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class Token:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    token_start: int
    token_end: int
    char_start: int
    char_end: int

    @property
    def token_count(self) -> int:
        return self.token_end - self.token_start


def preprocess(text: str) -> str:
    """NFKC-normalise, drop control characters and collapse runs of spaces and blank lines."""
    normalised = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    normalised = _CONTROL.sub("", normalised)
    normalised = _SPACES.sub(" ", normalised)
    normalised = _BLANK_LINES.sub("\n\n", normalised)
    return "\n".join(line.strip() for line in normalised.split("\n")).strip()


def tokenize(text: str) -> list[Token]:
    return [Token(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def sentence_ends(text: str, tokens: list[Token]) -> list[int]:
    """Token positions (exclusive ends) where a sentence finishes.

    A sentence ends after terminal punctuation followed by whitespace or the end of the text, or
    at a paragraph break; "3.14" and "e.g.x" do not end sentences.
    """
    ends: list[int] = []
    for position, token in enumerate(tokens):
        piece = text[token.start : token.end]
        following = text[token.end : token.end + 1]
        at_end = position == len(tokens) - 1
        if (piece in _SENTENCE_END and (at_end or following.isspace())) or (
            not at_end and "\n\n" in text[token.end : tokens[position + 1].start]
        ):
            ends.append(position + 1)
    if tokens and (not ends or ends[-1] != len(tokens)):
        ends.append(len(tokens))
    return ends


def chunk_text(text: str, *, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split already preprocessed text into overlapping chunks of at most `max_tokens` tokens."""
    if max_tokens < 1:
        raise InputError.single("max_tokens", f"must be at least 1, got {max_tokens}")
    if not 0 <= overlap_tokens < max_tokens:
        raise InputError.single(
            "overlap_tokens", f"must be at least 0 and below max_tokens ({max_tokens}), got {overlap_tokens}"
        )
    tokens = tokenize(text)
    if not tokens:
        raise InputError.single("text", "the document has no text to index after preprocessing")
    boundaries = sentence_ends(text, tokens)
    chunks: list[Chunk] = []
    start, previous_end = 0, 0
    cursor = 0  # first boundary that could still close a chunk
    total = len(tokens)
    while True:
        limit = min(start + max_tokens, total)
        while cursor < len(boundaries) and boundaries[cursor] <= previous_end:
            cursor += 1
        end = limit
        probe = cursor
        best = None
        while probe < len(boundaries) and boundaries[probe] <= limit:
            best = boundaries[probe]
            probe += 1
        if best is not None:
            end = best
        chunks.append(
            Chunk(
                index=len(chunks),
                text=text[tokens[start].start : tokens[end - 1].end],
                token_start=start,
                token_end=end,
                char_start=tokens[start].start,
                char_end=tokens[end - 1].end,
            )
        )
        if end >= total:
            return chunks
        previous_end = end
        start = max(end - overlap_tokens, start + 1)
