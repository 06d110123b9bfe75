"""Mask personal data in a message before it is stored (staff inbox, training data, logs).

`mask(text)` replaces, in the original text (width, spacing and everything
else untouched):

- e-mail addresses                        → 〈メール〉
- card numbers (13–19 digits, card-like)  → 〈カード番号〉
- phone numbers, Japanese or international, full-width or not → 〈電話番号〉
  (the public hotlines of soudan/knowledge.yml stay: they are not personal)
- postal codes (〒123-4567, 郵便番号1234567, a lone 123-4567) → 〈郵便番号〉
- names before さん／様／さま／氏／くん／ちゃん, after 名前は／氏名:, and before
  と申します → 〈名前〉 (the honorific stays: 「〈名前〉さん」), but not common
  words such as お客さん, 皆さん, お母さん, 店員さん, お疲れ様.

Standard library and soudan only (no `phonenumbers`), so that the gateway can
import it. Detection runs on a folded copy of the text in which every
character maps to exactly one character (full-width digits and signs to
ASCII, dashes between digits to "-"), so positions match the original.

It errs on the side of masking: a long run of digits shaped like a phone or
card number is masked even when it is not a valid one, and the words before
an honorific may be masked with the name. Known gaps: names without an
honorific, addresses, numbers written in kanji (〇九〇…).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from soudan.knowledge import knowledge

PHONE = "〈電話番号〉"
EMAIL = "〈メール〉"
CARD = "〈カード番号〉"
POSTAL = "〈郵便番号〉"
NAME = "〈名前〉"

# ---------------------------------------------------------------- folding

_DASHES = "‐‑‒–—―−─━﹣－-"  # folded to "-" everywhere ("－" is full-width)
_LONG_VOWELS = "ーｰ"  # folded to "-" only between digits (０９０ー１２３４)


def _fold(text: str) -> str:
    """One character for one character: full-width ASCII to ASCII, dashes to "-"."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        elif ch == "\u3000":
            ch = " "
        if ch in _DASHES:
            ch = "-"
        out.append(ch)
    folded = "".join(out)
    # A long-vowel mark between two digits (spaces allowed) is a dash.
    chars = list(folded)
    for i, ch in enumerate(chars):
        if ch in _LONG_VOWELS:
            left = folded[:i].rstrip(" ")
            right = folded[i + 1 :].lstrip(" ")
            if left[-1:].isdigit() and right[:1].isdigit():
                chars[i] = "-"
    return "".join(chars)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# ---------------------------------------------------------------- numbers

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

# No digit (or digit + decimal/date/time sign) right before or after: 10:00,
# 3.14 and 2026/11/24 are not numbers to mask.
_BEFORE = r"(?<!\d)(?<!\d[.,/:])"
_AFTER = r"(?!\d)(?![.,/:]\d)"
_CARD = re.compile(_BEFORE + r"(?<!\+)(\d(?:[ -]?\d){12,18})" + _AFTER)
# The shape of soudan.phone's candidates (digits with the separators people
# type), with "." allowed inside and a "TEL:" prefix allowed.
_PHONE = re.compile(_BEFORE + r"(\+?\(?\d[\d\-(). ]{5,26}\d)" + _AFTER)
_NOT_A_PHONE_AFTER = re.compile(
    r"^\s*(円|万|億|千|年|月|日|時|分|秒|歳|才|人|件|回|個|枚|%|kg|km|cm|mm|g\b)"
)
_POSTAL_MARK = re.compile(r"(〒|郵便番号)\s*(?:は|:)?\s*$")
_POSTAL_AFTER_MARK = re.compile(r"(〒|郵便番号)\s*(?:は|:)?\s*(\d{3}-?\d{4})" + _AFTER)
_POSTAL_SHAPE = re.compile(r"(?<![\d-])(\d{3}-\d{4})(?![\d-])")
_LOCAL_PHONE = re.compile(r"(?<![\d-])(\d{1,4}-\d{4})(?![\d-])")
_PHONE_CONTEXT = re.compile(r"(電話|でんわ|tel|ＴＥＬ|☎|携帯|連絡先|fax|ファックス)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _public_numbers() -> frozenset[str]:
    """Digits of the hotlines in the knowledge file (public, so never masked)."""
    found = set()
    for entry in knowledge()["hotlines"].values():
        digits = _digits(str(entry.get("tel", "")))
        if len(digits) >= 9:
            found.add(digits)
            if digits.startswith("0"):
                found.add("81" + digits[1:])  # +81 3-6162-1111
    return frozenset(found)


def _card_like(candidate: str) -> bool:
    digits = _digits(candidate)
    if not 13 <= len(digits) <= 19 or digits.startswith("0"):
        return False
    groups = re.split(r"[ -]", candidate)
    return len(groups) == 1 or all(3 <= len(g) <= 7 for g in groups)


def _phone_like(candidate: str) -> bool:
    digits = _digits(candidate)
    if digits in _public_numbers():
        return False
    if candidate.startswith("+"):
        return 7 <= len(digits) <= 15
    if digits.startswith("0"):
        return 9 <= len(digits) <= 17  # 00/010 + an international number
    return 10 <= len(digits) <= 12 or (len(digits) == 9 and digits.startswith("9"))


# ---------------------------------------------------------------- names

_HONORIFIC = re.compile(r"さん|様|さま|氏|くん|ちゃん")
# What follows an honorific-looking character when it is not one.
_NOT_HONORIFIC_AFTER = {
    "様": "々子式相態変化",  # 様子 様式 様相 様変わり
    "さま": "ざよ",  # さまざま さまよう
    "氏": "名族神物",  # 氏名 氏族 氏神
}

_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KATAKANA = "\u30a1-\u30fa\u30fc\u30fb\u31f0-\u31ff\uff66-\uff9f"
_HIRAGANA = "\u3041-\u3096ゝゞ"
_LATIN = "A-Za-z\uff21-\uff3a\uff41-\uff5a"
_SCRIPTS = {
    "kanji": re.compile(f"[{_KANJI}]"),
    "katakana": re.compile(f"[{_KATAKANA}]"),
    "hiragana": re.compile(f"[{_HIRAGANA}]"),
    "latin": re.compile(f"[{_LATIN}]"),
}

# Words that take an honorific but are not names. A word of two or more
# characters matches when the text before the honorific ends with it; a
# one-character word (and a kana word not starting with お/ご) only when it is
# the whole run of its script (so 皆さん stays, but 本多さん is a name).
_COMMON_WORDS = """
皆 客 お客 御客 母 父 兄 姉 弟 妹 娘 嫁 孫 奥 隣 神 仏 王 殿 姫 彼 貴 各 諸 同 模 仕 多 異 一 様
私 俺 僕 屋 赤 坊 誰
お母 お父 お兄 お姉 お祖母 お祖父 祖母 祖父 伯母 叔母 伯父 叔父 お嬢 お坊 お子 子供 子ども 息子
お孫 お嫁 奥方 旦那 ご主人 御主人 主人 ご亭主 ご両親 両親 親御 ご家族 家族 ご親族 親族 ご遺族 ご本人
本人 お隣 ご近所 近所 相手 お相手 先方 友達 お友達 彼女 彼氏 女王 王女 王子 お姫 天使 神主
店員 駅員 社員 職員 係員 局員 行員 銀行員 会社員 配達員 作業員 警備員 乗務員 添乗員 従業員 相談員 調査員
担当 ご担当 担当者 ご担当者 業者 営業 運転手 選手 歌手 助手 大家 管理人 家主 受取人 名義人 保証人
弁護士 司法書士 税理士 行政書士 消防士 保育士 介護士 医者 お医者 歯医者 看護師 薬剤師 美容師 医師 講師 牧師
大工 庭師 巡査 お巡り 警官 警察官 刑事 警察 役所 市役所 区役所 役場 銀行 郵便局 税務署 総務省 会社
利用者 ご利用者 会員 加入者 契約者 ご契約者 申込者 関係者 責任者 代表者 当選者 お得意 得意先 取引先
保護者 被害者 相談者 視聴者 参加者 購入者 出品者 落札者 入居者 各位
社長 部長 課長 店長 会長 所長 院長 校長 署長 園長 町長 市長 村長 議長 係長 局長 駅長 船長 組長 班長
八百屋 本屋 魚屋 肉屋 花屋 酒屋 米屋 床屋 薬屋 電気屋 不動産屋 郵便屋 新聞屋 豆腐屋 靴屋 時計屋 問屋
お疲れ ご苦労 お世話 ご馳走 御馳走 お陰 御陰 お互い お気の毒 ご愁傷 お待ち遠 お大事 お生憎
みな みなさま みんな おきゃく おかあ おとう おにい おねえ おじい おばあ おじ おば おまわり おとなり
おいしゃ おく おこ おじょう おつかれ ごくろう おかげ ごちそう おたがい おせわ ごしゅじん おくさ
かあ とう にい ねえ じい ばあ あか むすこ むすめ だんな
ママ パパ サンタ オーナー スタッフ ドライバー ヘルパー ケアマネ オペレーター マネージャー サポート
ドコモ ソフトバンク アマゾン ヤフー グーグル アップル ライン メルカリ ペイペイ コンビニ
au ntt kddi docomo line amazon google apple yahoo paypay sms
""".split()
_COMMON_SUFFIX = ("者", "員")  # 〜者さん, 〜員さん: roles, not names
# Time words that often stick to a name written in kanji (昨日田中さん).
_LEADING_WORDS = (
    "昨日",
    "今日",
    "本日",
    "先日",
    "今朝",
    "昨夜",
    "先週",
    "今週",
    "先月",
    "今月",
    "毎日",
)


def _script(ch: str) -> str | None:
    for name, pattern in _SCRIPTS.items():
        if pattern.fullmatch(ch):
            return name
    return None


def _run_start(text: str, end: int, script: str, limit: int = 12) -> int:
    start = end
    while start > 0 and end - start < limit and _script(text[start - 1]) == script:
        start -= 1
    return start


def _is_common(before: str, run: str) -> bool:
    before = unicodedata.normalize("NFKC", before).lower()
    run = unicodedata.normalize("NFKC", run).lower()
    if run.endswith(_COMMON_SUFFIX) and len(run) >= 2:
        return True
    for word in _COMMON_WORDS:
        long_enough = len(word) >= 2 and (not _is_kana(word) or word[0] in "おご")
        if (long_enough and before.endswith(word)) or run == word:
            return True
    return False


def _is_kana(word: str) -> bool:
    return all(_script(ch) in {"hiragana", "katakana"} for ch in word)


def _name_span(text: str, end: int) -> tuple[int, int] | None:
    """The name that ends at `end` (just before an honorific), or None."""
    if end > 1 and text[end - 1] in " \u3000" and _script(text[end - 2]):
        end -= 1  # 「田中 さん」
    if end > 1 and text[end - 1] in "」』”" and _script(text[end - 2]):
        end -= 1  # 「山本」さん
    if end == 0:
        return None
    script = _script(text[end - 1])
    if script is None:
        return None
    start = _run_start(text, end, script)
    run = text[start:end]
    if _is_common(text[max(0, end - 12) : end], run):
        return None
    if script == "hiragana":
        if len(run) < 2:
            return None  # で, は: a particle, not a name
        if start > 0 and _script(text[start - 1]) == "kanji":
            start = _run_start(text, start, "kanji", limit=4)  # 田中はなこさん
    elif script == "latin" and len(run) < 2:
        return None
    elif script == "kanji":
        for word in _LEADING_WORDS:
            if run.startswith(word) and len(run) - len(word) >= 2:
                start += len(word)  # 昨日田中さん → 昨日〈名前〉さん
                break
    # 「田中 太郎さん」「ジョン スミスさん」: a family name before one space.
    if script in {"kanji", "katakana", "latin"} and start >= 2 and text[start - 1] in " \u3000":
        before_space = _run_start(text, start - 1, script, limit=5)
        family = text[before_space : start - 1]
        if family and not _is_common(text[: start - 1], family):
            start = before_space
    return start, end


def _name_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _HONORIFIC.finditer(text):
        word, after = match.group(0), text[match.end() : match.end() + 1]
        if after and after in _NOT_HONORIFIC_AFTER.get(word, ""):
            continue
        if word == "ちゃん" and after == "と" and _script(text[match.start() - 1 : match.start()]):
            if _script(text[match.start() - 1]) == "hiragana":
                continue  # ちゃんと (properly)
        if (
            word == "さん"
            and text[match.start() - 1 : match.start()]
            and _script(text[match.start() - 1]) == "hiragana"
            and re.match(r"ぽ|こう|せい|にん|ざん|かく|すう", text[match.end() :])
        ):
            continue  # さんぽ, さんこう: not an honorific
        span = _name_span(text, match.start())
        if span is not None:
            spans.append(span)
    return spans


_NAME_AFTER_LABEL = re.compile(
    rf"(?:お名前|名前|氏名|なまえ)\s*(?:は|:|：)\s*([{_KANJI}{_KATAKANA}{_HIRAGANA}{_LATIN}]{{1,10}}"
    rf"(?:[ \u3000][{_KANJI}{_KATAKANA}{_LATIN}]{{1,6}})?)"
)
_NAME_BEFORE_MOUSU = re.compile(
    rf"([{_KANJI}{_KATAKANA}{_LATIN}]{{1,10}})と(?:申します|もうします|申す|いいます|言います)"
)


def _label_name_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _NAME_AFTER_LABEL.finditer(text):
        name = match.group(1)
        # Stop at a trailing です／と／で (「名前は田中です」).
        cut = re.search(r"(です|でした|と|で|って|だ)$", name)
        end = match.end(1) - (len(cut.group(0)) if cut and len(name) > len(cut.group(0)) else 0)
        spans.append((match.start(1), end))
    for match in _NAME_BEFORE_MOUSU.finditer(text):
        if not _is_common(match.group(1), match.group(1)):
            spans.append((match.start(1), match.end(1)))
    return spans


# ---------------------------------------------------------------- mask


def _number_spans(folded: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for m in _EMAIL.finditer(folded):
        spans.append((m.start(), m.end(), EMAIL))
    for m in _CARD.finditer(folded):
        # The longest run of whole groups that looks like a card number.
        candidate = m.group(1)
        while candidate and not _card_like(candidate):
            candidate = re.sub(r"[ -]?\d+$", "", candidate) if re.search(r"[ -]", candidate) else ""
        end = m.start(1) + len(candidate)
        if candidate and free(m.start(1), end):
            spans.append((m.start(1), end, CARD))
    for m in _POSTAL_AFTER_MARK.finditer(folded):
        if free(m.start(2), m.end(2)):
            spans.append((m.start(2), m.end(2), POSTAL))
    for m in _PHONE.finditer(folded):
        candidate = m.group(1)
        # Trailing separators belong to the sentence: 「(…5678)」.
        stripped = candidate.rstrip(" -.(")
        if stripped.count("(") < stripped.count(")"):
            stripped = stripped.rstrip(")")
        start, end = m.start(1), m.start(1) + len(stripped)
        after = folded[end:]
        if _POSTAL_MARK.search(folded[:start]) or _NOT_A_PHONE_AFTER.match(after):
            continue
        if re.fullmatch(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}", stripped):
            continue  # a date
        if _phone_like(stripped) and free(start, end):
            spans.append((start, end, PHONE))
    for m in _POSTAL_SHAPE.finditer(folded):
        context = folded[max(0, m.start() - 8) : m.start()]
        kind = PHONE if _PHONE_CONTEXT.search(context) else POSTAL
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), kind))
    for m in _LOCAL_PHONE.finditer(folded):
        context = folded[max(0, m.start() - 8) : m.start()]
        if _PHONE_CONTEXT.search(context) and free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), PHONE))
    return spans


def mask_rules(text: str | None) -> str:
    """`mask` by the rules alone (no model: for log lines)."""
    return mask(text, ner=False)


def mask(text: str | None, *, ner: bool = True) -> str:
    """The text with personal data replaced by 〈…〉 placeholders (idempotent)."""
    if not text:
        return text or ""
    text = str(text)
    spans = _number_spans(_fold(text))

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for start, end in _label_name_spans(text) + _name_spans(text):
        if start < end and free(start, end):
            spans.append((start, end, NAME))
    for start, end, placeholder in sorted(spans, reverse=True):
        text = text[:start] + placeholder + text[end:]
    return text


def found(text: str) -> dict[str, int]:
    """How many items of each kind `mask` replaces (for logs and audits)."""
    masked = mask(text)
    return {
        kind: masked.count(kind) - text.count(kind)
        for kind in (PHONE, EMAIL, CARD, POSTAL, NAME)
        if masked.count(kind) > text.count(kind)
    }
