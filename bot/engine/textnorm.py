"""Text clean-up: Traditional to Simplified, inserted pinyin readings and GBK text decoded one byte off."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import opencc

__all__ = ["clean_document", "repair_mojibake", "strip_pinyin", "to_simplified"]


_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=1)
def _t2s_converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Return text in Simplified characters with full-width digits, letters and punctuation made ASCII."""
    # Pure ASCII answers ("3000", "yes") are the common case; skip both conversions for them.
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    try:
        return _t2s_converter().convert(text)
    except UnicodeEncodeError:
        # A lone surrogate (JSON text may hold "\ud800") cannot go to OpenCC, which takes UTF-8.
        return _t2s_converter().convert(_SURROGATE.sub("\ufffd", text))


# --- pinyin readings ---------------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_PINYIN_LETTERS = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
# A tone mark is required so that a real bracketed abbreviation such as "(cn)" is never taken for a reading;
# six letters is the longest pinyin syllable ("zhuang").
_READING = re.compile(rf"(?<=[{_CJK}])[(（](?=[{_PINYIN_LETTERS}]*[{_TONE_MARKS}])[{_PINYIN_LETTERS}]{{1,6}}[)）]")


def strip_pinyin(text: str) -> str:
    """Remove pinyin readings inserted after characters: "會(huì)" becomes "會"."""
    return _READING.sub("", text)


# --- mojibake ----------------------------------------------------------------------------------------
#
# Some lines of the Dongchang report are GBK bytes that a cp936 decoder read one byte off: each character
# shown is the trail byte of one real character glued to the lead byte of the next.  A misreading starts
# at a "?" (a byte was swallowed there, so that byte is lost) and ends by itself where a one-byte character
# (an ASCII letter that was really a trail byte, "€" for 0x80, or a "?" that swallowed a trail byte and the
# "(" of a reading) brings the decoder back in step.  On the way the decoder silently dropped pairs in the
# user-defined area (they became private-use characters that were deleted later), and the text was folded
# to half-width afterwards, so an ASCII character inside a run may stand for a full-width one (0xA3 + byte).
# The repair tries these readings of a run, shifts it by one byte, decodes again and keeps the result only
# if it reads as ordinary text in the document's own script; a character of which only one byte survived
# is named where the document itself makes it unique, and is otherwise left as "?".

_MAX_RUN = 48  # characters; the longest run in the report is 13
_MAX_GAPS = 3  # dropped pairs assumed per run; more would make almost any text "decodable"
# Search steps per run and per text, so that a text full of "?" cannot stall the loader; the longest run
# in the report takes about 2,300 and the whole report about 14,000.
_MAX_STEPS_PER_RUN = 5_000
_MAX_STEPS_PER_TEXT = 100_000
_GAP_COST = 3
_UNSUPPORTED_COST = 2  # per pair of adjacent characters found nowhere else in the document
_UNBALANCED_COST = 4  # a repair that opens a bracket its sentence never closes
_LIST_NUMERALS = "一二三四五六七八九十"
_SENTENCE_END = re.compile(r"[。;!?]|$")
_DANGLING_READING = re.compile(rf"[{_PINYIN_LETTERS}]{{1,6}}\)")
_READING_AHEAD = re.compile(rf"\(([{_PINYIN_LETTERS}]{{1,6}})\)")


@functools.lru_cache(maxsize=1)
def _s2t_converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@functools.lru_cache(maxsize=8192)
def _char_script(char: str) -> str:
    """The script ("simplified" or "traditional") that alone uses char, or "" if both do."""
    if _t2s_converter().convert(char) != char:
        return "traditional"
    if _s2t_converter().convert(char) != char:
        return "simplified"
    return ""


@functools.lru_cache(maxsize=8192)
def _is_common_ideograph(char: str) -> bool:
    # The first levels of Big5 (lead bytes A4-C6) and GB2312 (B0-D7) hold the common Traditional and
    # Simplified characters; pairs read one byte off mostly land on rare characters outside both.
    for codec, first, last in (("big5", 0xA4, 0xC6), ("gb2312", 0xB0, 0xD7)):
        try:
            lead = char.encode(codec)[0]
        except UnicodeEncodeError:
            continue
        if first <= lead <= last:
            return True
    return False


def _document_script(text: str) -> str:
    counts = {"simplified": 0, "traditional": 0}
    for char in text:
        if "\u4e00" <= char <= "\u9fff":
            script = _char_script(char)
            if script:
                counts[script] += 1
    for script, other in (("traditional", "simplified"), ("simplified", "traditional")):
        if counts[script] >= 10 and counts[script] > 5 * counts[other]:
            return script
    return ""


@dataclass(frozen=True)
class _Context:
    """What the whole document tells about a run: its script and which character each reading follows."""

    script: str
    readings: dict[str, frozenset[str]]
    bigrams: frozenset[str]

    def is_plain(self, char: str) -> bool:
        """True for a character ordinary prose in this document is made of."""
        if char.isascii():
            return char.isprintable()
        if "\u4e00" <= char <= "\u9fff":
            other = {"traditional": "simplified", "simplified": "traditional"}.get(self.script)
            return _is_common_ideograph(char) and _char_script(char) != other
        if "\uff01" <= char <= "\uff5e":
            return True
        return char in "、。〈〉《》「」『』【】〔〕“”‘’—…·"

    def bigram_support(self, text: str) -> tuple[int, int]:
        """How many pairs of adjacent ideographs in text occur elsewhere in the document, and how many not."""
        pairs = [a + b for a, b in itertools.pairwise(text) if _is_ideograph(a) and _is_ideograph(b)]
        supported = sum(1 for p in pairs if p in self.bigrams)
        return supported, len(pairs) - supported

    def looks_mis_decoded(self, text: str) -> bool:
        return any(not self.is_plain(c) and not c.isspace() for c in text)


def _context(text: str) -> _Context:
    readings: dict[str, set[str]] = {}
    for match in re.finditer(rf"([{_CJK}])\(([{_PINYIN_LETTERS}]{{1,6}})\)", text):
        readings.setdefault(match.group(2), set()).add(match.group(1))
    plain = strip_pinyin(text)
    bigrams = frozenset(a + b for a, b in itertools.pairwise(plain) if _is_ideograph(a) and _is_ideograph(b))
    return _Context(_document_script(text), {k: frozenset(v) for k, v in readings.items()}, bigrams)


def _is_ideograph(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@dataclass(frozen=True)
class _Byte:
    """One byte of the realigned stream; value None means the mis-decoder lost it."""

    value: int | None
    gap: bool = False  # part of a pair the decoder dropped without a trace


@dataclass(frozen=True)
class _Glyph:
    """One realigned character: its text, or the bytes that are left of it."""

    text: str | None
    lead: _Byte | None = None
    trail: _Byte | None = None


@dataclass(frozen=True)
class _Candidate:
    glyphs: tuple[_Glyph, ...]
    end: int  # index in the line just after the run
    cost: int


class _SearchTooLong(Exception):
    """A run has too many possible readings to pick one with confidence."""


class _Budget:
    """Counts search steps for one text and for its current run."""

    def __init__(self) -> None:
        self.text_steps = 0
        self.run_steps = 0

    def spend(self) -> None:
        self.text_steps += 1
        self.run_steps += 1
        if self.run_steps > _MAX_STEPS_PER_RUN or self.text_steps > _MAX_STEPS_PER_TEXT:
            raise _SearchTooLong


_LOST = _Byte(None)
_GAP = _Byte(None, gap=True)


def _byte_options(line: str, index: int) -> list[tuple[tuple[_Byte, ...], int]]:
    """The byte sequences one mis-decoded character may have come from, each with a cost."""
    char = line[index]
    if char == "?":
        options = [((_LOST,), 0), ((_Byte(0xA3), _Byte(0xBF)), 1)]
        # A "?" that swallowed the "(" of a reading leaves "wù)" behind.
        if _DANGLING_READING.match(line, index + 1):
            options.append(((_LOST, _Byte(0x28)), 0))
        return options
    if char == "€":
        return [((_Byte(0x80),), 0)]
    if char.isascii():
        options = [((_Byte(ord(char)),), 0)]
        if 0x21 <= ord(char) <= 0x7E:
            options.append(((_Byte(0xA3), _Byte(ord(char) + 0x80)), 0))
        return options
    try:
        encoded = char.encode("gbk")
    except UnicodeEncodeError:
        return []
    return [(tuple(_Byte(b) for b in encoded), 0)]


def _pair(lead: _Byte, trail: _Byte, ctx: _Context) -> _Glyph | None:
    """Decode one realigned pair, or None if no plain character has these bytes."""
    if lead.value is not None and not 0x81 <= lead.value <= 0xFE:
        return None
    if trail.value is not None and not (0x40 <= trail.value <= 0xFE and trail.value != 0x7F):
        return None
    if lead.value is None or trail.value is None:
        return _Glyph(None, lead, trail)
    try:
        text = bytes((lead.value, trail.value)).decode("gbk")
    except UnicodeDecodeError:
        return None
    return _Glyph(text) if ctx.is_plain(text) else None


def _feed(
    pending: _Byte | None, glyphs: tuple[_Glyph, ...], byte: _Byte, ctx: _Context
) -> tuple[_Byte | None, tuple[_Glyph, ...]] | None:
    if pending is None:
        if byte.value is not None and byte.value < 0x80:
            return None, (*glyphs, _Glyph(chr(byte.value)))
        return byte, glyphs
    glyph = _pair(pending, byte, ctx)
    return None if glyph is None else (None, (*glyphs, glyph))


def _realign(line: str, start: int, ctx: _Context, budget: _Budget) -> Iterator[_Candidate]:
    """Yield every reading of line[start:] one byte later that gets back in step."""
    budget.run_steps = 0
    # The "?" that opens a run is the lost lead byte of the first realigned character.
    yield from _walk(line, start, ctx, budget, start + 1, _LOST, (), 0, 0)


def _walk(
    line: str,
    start: int,
    ctx: _Context,
    budget: _Budget,
    index: int,
    pending: _Byte | None,
    glyphs: tuple[_Glyph, ...],
    cost: int,
    gaps: int,
) -> Iterator[_Candidate]:
    """The readings of line[index:] after `glyphs`, with `pending` the lead byte of a character not yet complete.
    (A function of the module, not one nested in _realign: one that calls itself by its enclosing name is a cycle
    that holds the document's context until the collector's next full collection.)"""
    budget.spend()
    if pending is None and index > start + 1:
        yield _Candidate(glyphs, index, cost)
        return
    if index >= len(line) or index - start > _MAX_RUN:
        return
    if pending is not None and gaps < _MAX_GAPS:
        gap_glyph = _pair(pending, _GAP, ctx)
        if gap_glyph is not None:
            yield from _walk(line, start, ctx, budget, index, _GAP, (*glyphs, gap_glyph), cost + _GAP_COST, gaps + 1)
    for stream, extra in _byte_options(line, index):
        state: tuple[_Byte | None, tuple[_Glyph, ...]] | None = (pending, glyphs)
        for byte in stream:
            state = _feed(state[0], state[1], byte, ctx)
            if state is None:
                break
        if state is not None:
            yield from _walk(line, start, ctx, budget, index + 1, state[0], state[1], cost + extra, gaps)


def _fits(char: str, glyph: _Glyph) -> bool:
    """True if char agrees with the bytes that survive of glyph."""
    try:
        encoded = char.encode("gbk")
    except UnicodeEncodeError:
        return False
    if len(encoded) != 2:
        return False
    return all(
        part is None or part.value is None or part.value == value
        for part, value in ((glyph.lead, encoded[0]), (glyph.trail, encoded[1]))
    )


def _vanishes(trail: int, lead: int) -> bool:
    """True if cp936 reads this pair as a private-use character, the kind that vanished from the text."""
    user_defined = (0xAA <= trail <= 0xAF or 0xF8 <= trail <= 0xFE) and 0xA1 <= lead <= 0xFE
    return user_defined or (0xA1 <= trail <= 0xA7 and 0x40 <= lead <= 0xA0)


def _heading_numeral(left: _Glyph, right: _Glyph) -> str | None:
    """The numeral of "（N）" whose middle fell into a dropped pair, if the surviving bytes name one."""
    numerals = [n for n in _LIST_NUMERALS if _fits(n, left) and _fits("）", right)]
    if len(numerals) != 1:
        return None
    numeral = numerals[0]
    crossed_gap = left.trail is not None and left.trail.gap
    if crossed_gap and not _vanishes(numeral.encode("gbk")[1], "）".encode("gbk")[0]):
        return None
    return numeral


def _resolve(glyphs: tuple[_Glyph, ...], after: str, at_line_start: bool, ctx: _Context) -> str | None:
    """Turn realigned glyphs into text, or None if a half-lost character cannot be named for sure.

    The first glyph may stay "?": its lead byte is the one the mis-decoder swallowed, which the text
    showed as "?" already.
    """
    out: list[str] = []
    i = 0
    while i < len(glyphs):
        glyph = glyphs[i]
        if glyph.text is not None:
            out.append(glyph.text)
            i += 1
            continue
        if out and out[-1] == "（" and i + 1 < len(glyphs) and glyphs[i + 1].text is None:
            numeral = _heading_numeral(glyph, glyphs[i + 1])
            if numeral is not None:
                out.extend((numeral, "）"))
                i += 2
                continue
        following = "".join(g.text or "?" for g in glyphs[i + 1 :]) + after
        reading = _READING_AHEAD.match(following)
        chars = [c for c in ctx.readings.get(reading.group(1), ()) if _fits(c, glyph)] if reading else []
        if len(chars) == 1:
            out.append(chars[0])
        elif i == 0 and at_line_start and glyph.trail is not None and glyph.trail.value == 0xA1:
            pass  # the line's indent "　" (A1A1), which the rest of the document does not keep either
        elif i == 0:
            out.append("?")
        else:
            return None
        i += 1
    return "".join(out)


def _fold_fullwidth(text: str) -> str:
    # The rest of the document was folded to half-width; the repaired run follows suit.
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in text)


def _unbalanced(text: str) -> bool:
    return text.count("(") > text.count(")")


def _repair_run(line: str, start: int, ctx: _Context, budget: _Budget) -> tuple[str, int] | None:
    """Return (repaired text, end index) for the run opened by the "?" at start, or None to leave it."""
    try:
        candidates = list(_realign(line, start, ctx, budget))
    except _SearchTooLong:
        return None
    scored: list[tuple[int, int, str]] = []
    for candidate in candidates:
        resolved = _resolve(candidate.glyphs, line[candidate.end :], start == 0, ctx)
        if resolved is None:
            continue
        text, end = _fold_fullwidth(resolved), candidate.end
        dangling = _DANGLING_READING.match(line, end)
        if dangling:
            if not text.endswith("("):
                continue  # back in step inside a reading: the letters before ")" would be left over
            text, end = text[:-1], dangling.end()
        reading = _READING_AHEAD.match(line, end)
        if reading and text and text[-1] not in ctx.readings.get(reading.group(1), ()):
            continue  # the reading after the run belongs to another character
        following = strip_pinyin(text[-1:] + line[end:])[len(text[-1:]) :]
        if ctx.looks_mis_decoded(following[:4]):
            continue  # back in step too early: what follows is still garbled
        supported, unsupported = ctx.bigram_support(text)
        if unsupported > supported:
            continue  # does not read like the rest of the document
        sentence = text + following[: _SENTENCE_END.search(following).start()]
        score = candidate.cost + _UNSUPPORTED_COST * unsupported
        score += _UNBALANCED_COST if _unbalanced(sentence) else 0
        scored.append((score, end, text))
    if not scored:
        return None
    best_score, best_end, best_text = min(scored)
    if any(s == best_score and e == best_end and t != best_text for s, e, t in scored):
        return None  # two readings are equally good: do not guess
    if not ctx.looks_mis_decoded(line[start:best_end]) or not best_text.strip("?"):
        return None
    return best_text, best_end


def _repair_line(line: str, ctx: _Context, budget: _Budget) -> str:
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == "?":
            repaired = _repair_run(line, i, ctx, budget)
            if repaired is not None:
                out.append(repaired[0])
                i = repaired[1]
                continue
        out.append(line[i])
        i += 1
    return "".join(out)


def repair_mojibake(text: str) -> str:
    """Re-read runs of GBK text that were decoded one byte off, where the result is clearly ordinary text.

    Give it the whole document, readings included: a repair is only kept if its pairs of characters occur
    elsewhere in the document, and the readings name characters of which a single byte survived.  A lone
    garbled line has no such evidence and is left as it is.
    """
    if "?" not in text:
        return text
    ctx, budget = _context(text), _Budget()
    return "\n".join(_repair_line(line, ctx, budget) if "?" in line else line for line in text.split("\n"))


def clean_document(text: str) -> str:
    """Remove inserted pinyin readings and repair mis-decoded runs; the characters are not converted."""
    # The repair runs on the text with its readings: they name characters of which one byte survived.
    # Stripping afterwards also removes readings that only follow a character once it is repaired.
    return strip_pinyin(repair_mojibake(text))
