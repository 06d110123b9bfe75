"""Read caller numbers and display words out of a message, and classify them.

Parsing and validation use the maintained `phonenumbers` library (with its
Japanese area and country names); what each kind means comes from the
`numbering` section of knowledge.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from soudan.knowledge import Hotline, hotlines
from soudan.normalize import normalize

# Words a phone shows instead of a number (after normalisation), with
# spellings people type.
DISPLAY_WORDS = {
    "非通知": ("非通知", "ひつうち", "ヒツウチ", "番号非通知"),
    "公衆電話": ("公衆電話", "こうしゅうでんわ"),
    "表示圏外": ("表示圏外", "ひょうじけんがい"),
    "通知不可能": ("通知不可能", "通知不可", "つうちふかのう"),
}

# A run of digits with the separators people type (spaces, dashes, brackets,
# a leading +). normalize() has already folded full-width
# digits and every kind of dash to "-".
_CANDIDATE = re.compile(r"(?<![\d.,/:])(\+?\(?\d[\d\-() ]{1,22}\d)(?![\d.,/:])")
_POSTAL = re.compile(r"〒\s*$|郵便番号\s*$")
_NOT_A_PHONE_AFTER = re.compile(
    r"^\s*(円|年|月|日|時|分|秒|歳|才|人|件|回|個|枚|%|万|億|kg|km|cm|mm|g\b)"
)
MAX_DIGITS = 15  # E.164 maximum

_KINDS = {
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed",
    PhoneNumberType.VOIP: "ip",
    PhoneNumberType.TOLL_FREE: "freedial",
    PhoneNumberType.UAN: "navi",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.PAGER: "m2m",
}


@dataclass(frozen=True)
class Caller:
    """One number or display word found in a message."""

    raw: str  # as found (normalised)
    kind: str  # a key of knowledge.yml numbering.kinds, or "display"
    display: str  # how the bot writes it back
    area: str | None = None  # 東京 (Japanese fixed lines)
    country: str | None = None  # イギリス (international)
    known: Hotline | None = None  # an official number from the knowledge file
    word: str | None = None  # 非通知 etc. for kind "display"
    start: int = 0  # position in the normalised message
    end: int = 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _official(number: phonenumbers.PhoneNumber) -> Hotline | None:
    for line in hotlines():
        if line.tel.isdigit() and len(line.tel) >= 9:
            if phonenumbers.parse(line.tel, "JP") == number:
                return line
    return None


def classify(raw: str) -> Caller | None:
    """Classify one candidate string; None when it is not a phone number at all."""
    text = raw.strip()
    digits = _digits(text)
    if len(digits) < 9 and not text.startswith("9"):
        return None  # too short for any Japanese or international number
    if len(digits) > MAX_DIGITS + 3:
        return Caller(text, "invalid", text)
    international = text.startswith("+") or digits.startswith(("010", "00"))
    if not international and digits.startswith("9"):
        if len(digits) < 7:
            return None  # 9110, 91...: too short for a number shown as a caller
        return Caller(text, "starts_with_9", text)
    if not international and not digits.startswith("0"):
        return None  # not a phone number as Japanese phones show them
    if digits.startswith("00") and not digits.startswith("010"):
        text = "+" + digits[2:]
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        return Caller(text, "invalid", text)
    if number.country_code != 81:
        country = geocoder.country_name_for_number(number, "ja") or None
        if not phonenumbers.is_valid_number(number) and not country:
            return Caller(text, "invalid", text)
        shown = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        return Caller(text, "international", shown, country=country)
    if not phonenumbers.is_valid_number(number):
        return Caller(text, "invalid", text)
    shown = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    kind = _KINDS.get(phonenumbers.number_type(number), "fixed")
    area = None
    if kind == "fixed":
        area = geocoder.description_for_number(number, "ja") or None
        if area == "日本":
            area = None
    return Caller(text, kind, shown, area=area, known=_official(number))


def find_callers(text: str) -> list[Caller]:
    """Every number and display word in a message, in order, without repeats."""
    text = normalize(text)
    found: list[tuple[int, Caller]] = []
    for word, spellings in DISPLAY_WORDS.items():
        for spelling in spellings:
            pos = text.find(normalize(spelling))
            if pos >= 0:
                end = pos + len(normalize(spelling))
                found.append((pos, Caller(word, "display", word, word=word, start=pos, end=end)))
                break
    for match in _CANDIDATE.finditer(text):
        candidate = match.group(1).strip(" -()")
        before, after = text[: match.start(1)], text[match.end(1) :]
        if _POSTAL.search(before) or _NOT_A_PHONE_AFTER.match(after):
            continue
        if before.endswith("#"):
            continue  # a # service number is a line to call, not a caller
        if re.fullmatch(r"\d{3}-\d{4}", candidate):
            continue  # the shape of a postal code, too short for a phone number
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", candidate):
            continue  # a date
        caller = classify(candidate)
        if caller is not None:
            start = match.start(1) + match.group(1).index(candidate)
            found.append((start, replace(caller, start=start, end=start + len(candidate))))
    seen: set[str] = set()
    result = []
    for _, caller in sorted(found, key=lambda item: item[0]):
        if caller.display not in seen:
            seen.add(caller.display)
            result.append(caller)
    return result


# Entity names in the Rasa domain.
ENTITY_NUMBER = "phone_number"
ENTITY_DISPLAY = "caller_display"


def as_entities(text: str) -> list[dict]:
    """Rasa-style entities for the numbers and display words in `text`."""
    return [
        {
            "entity": ENTITY_DISPLAY if c.kind == "display" else ENTITY_NUMBER,
            "value": c.raw,
            "start": c.start,
            "end": c.end,
            "confidence_entity": 1.0,
        }
        for c in find_callers(text)
    ]


def from_entities(entities: list[dict]) -> list[Caller]:
    """Callers back from the entities of a parsed message."""
    callers = []
    for entity in entities or []:
        value = str(entity.get("value") or "")
        if entity.get("entity") == ENTITY_DISPLAY and value in DISPLAY_WORDS:
            callers.append(Caller(value, "display", value, word=value))
        elif entity.get("entity") == ENTITY_NUMBER and (caller := classify(value)):
            callers.append(caller)
    return callers


# ---------------------------------------------------------------------------
# Questions about the beginning of a number (「0570から始まる番号って？」「+1から着信」)
# ---------------------------------------------------------------------------

# Each prefix people ask about, and the catalogue entry that answers it.
# Longest first, so that 0120 is not read as 01 + 20.
PREFIX_ENTRIES: dict[str, str] = {
    "0120": "prefix_freedial",
    "0800": "prefix_freedial",
    "0570": "prefix_navi",
    "0990": "prefix_0990",
    "050": "prefix_ip",
    "070": "prefix_mobile",
    "080": "prefix_mobile",
    "090": "prefix_mobile",
    "020": "prefix_020",
    "060": "prefix_060",
    "010": "prefix_010",
    "184": "prefix_184_186",
    "186": "prefix_184_186",
}
# What a number's kind (classify) is answered by.
KIND_ENTRIES: dict[str, str] = {
    "fixed": "prefix_fixed",
    "mobile": "prefix_mobile",
    "ip": "prefix_ip",
    "freedial": "prefix_freedial",
    "navi": "prefix_navi",
    "premium": "prefix_0990",
    "m2m": "prefix_020",
    "international": "international_call",
    "starts_with_9": "number_starts_with_9",
    "invalid": "unknown_number",
}
DISPLAY_ENTRIES: dict[str, str] = {
    "非通知": "hitsuchi",
    "公衆電話": "display_words",
    "表示圏外": "display_words",
    "通知不可能": "display_words",
}
# Words around a prefix that make it a question about numbers, not a price or a date.
_PREFIX_CONTEXT = (
    r"(?:から始ま|ではじま|で始ま|からはじま|始まり|はじまり|から(?:の)?(?:着信|電話|でんわ|かか|SMS|sms|メール)|"
    r"の番号|番号|ばんごう|って(?:何|なに|なん|どこ|誰|だれ)|とは|は何|はなに|からかか|の電話|発信|表示|局番|"
    r"から来|からき|でかか|って|つけ|付け|は(?:無料|有料|安全|危険|詐欺)|[?？])"
)
_PREFIX = re.compile(
    r"(?<![\d+\-])(\+\s?\d{1,4}|\+|0120|0800|0570|0990|050|070|080|090|020|060|010|184|186|0\d{1,4}|9)"
    r"(?![\d])\s*(?=を?" + _PREFIX_CONTEXT + ")"
)
_AREA_CODE = re.compile(r"0[1-9]\d{0,3}")


@dataclass(frozen=True)
class Prefix:
    """The beginning of a number that a message asks about (no whole number)."""

    value: str  # as people write it: "0570", "+44", "+", "03", "9"
    entry: str  # the catalogue entry that answers it
    country: str | None = None  # for "+<code>"
    start: int = 0
    end: int = 0


def _country_of_code(code: str) -> str | None:
    """「イギリス」, or 「アメリカ合衆国など」 for a code several countries share (+1)."""
    regions = [r for r in phonenumbers.region_codes_for_country_code(int(code)) if r != "001"]
    if not regions:
        return None
    example = phonenumbers.example_number(regions[0])
    name = geocoder.country_name_for_number(example, "ja") if example else None
    if name and len(regions) > 1:
        name += "など"
    return name


def classify_prefix(value: str) -> Prefix | None:
    value = value.replace(" ", "")
    if value.startswith("+"):
        code = value[1:]
        if code == "81":
            return Prefix(value, "unknown_number", "日本")
        return Prefix(value, "international_call", _country_of_code(code) if code else None)
    if value == "9":
        return Prefix(value, "number_starts_with_9")
    if value in PREFIX_ENTRIES:
        return Prefix(value, PREFIX_ENTRIES[value])
    if _AREA_CODE.fullmatch(value):
        return Prefix(value, "prefix_fixed")
    return None


def find_prefixes(text: str) -> list[Prefix]:
    """Prefixes a message asks about, outside any whole number it also holds."""
    norm = normalize(text)
    taken = [(c.start, c.end) for c in find_callers(text) if c.kind != "display"]
    found: list[Prefix] = []
    for match in _PREFIX.finditer(norm):
        start, end = match.span(1)
        if any(s <= start < e for s, e in taken):
            continue
        prefix = classify_prefix(match.group(1))
        if prefix and prefix.value not in {p.value for p in found}:
            found.append(replace(prefix, start=start, end=end))
    return found


ENTITY_PREFIX = "number_prefix"


def prefix_entities(text: str) -> list[dict]:
    return [
        {
            "entity": ENTITY_PREFIX,
            "value": p.value,
            "start": p.start,
            "end": p.end,
            "confidence_entity": 1.0,
        }
        for p in find_prefixes(text)
    ]


def prefixes_from_entities(entities: list[dict]) -> list[Prefix]:
    found = []
    for entity in entities or []:
        if entity.get("entity") == ENTITY_PREFIX:
            prefix = classify_prefix(str(entity.get("value") or ""))
            if prefix:
                found.append(prefix)
    return found
