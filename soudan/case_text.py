"""What a person's own words say about their case.

For the eligibility check: which scheme a question is about, the facts a
message already gives (「auでも使える？」 → no docomo line), answers to the
form's questions (はい・いいえ・わからない・やめる, or in their own words:
「ソフトバンクです」「2回目です」), and yen amounts (「30万円」「百二十万」).

Word lists, not a classifier: the answers are short and the stakes are a
yes/no that the person sees echoed back with its reason, so plain, testable
rules beat a model here. Text is normalised first (full-width digits, case).
"""

from __future__ import annotations

import re
from enum import Enum

from soudan.normalize import normalize


class Reply(Enum):
    """Answers that are neither yes nor no."""

    UNKNOWN = "unknown"  # わからない: the fact stays open
    STOP = "stop"  # やめる: leave the check


# The scheme a question is about, checked in this order (「記事の無料公開」 is
# about articles, not the free consultation).
_SCHEME_WORDS = [
    ("fraud_cover", r"補償|保険|不正|勝手に(?:払|決済|使)|乗っ取|被害額|いくら(?:出|も|まで)"),
    ("free_articles", r"記事|読め|読む|読ん|閲覧"),
    ("free_trial", r"無料|ただで|タダ|お試し|無償|無料開放"),
    ("paid_service", r"使え|申し込|申込|加入|入れ|入れる|契約でき|利用でき|あんしんサポート"),
]

# Phrases that turn the word before them into a no (「ドコモじゃない」), and
# conditionals that ask about the rule instead (「ドコモじゃないとダメ？」).
_NEGATION = re.compile(
    r"^.{0,3}?(?:じゃな|ではな|でな|やな|ちゃう|ちゃい|以外|じゃね|ではありません)"
)
_CONDITIONAL = re.compile(
    r"^.{0,3}?(?:じゃないと|でないと|じゃなきゃ|でなければ|じゃなければ|やないと|限定|だけ|のみ)"
)

# Facts a message can state, as (fact, yes words, no words). No words are
# checked first: 「ギフトカード」 is not a card payment.
_FACT_WORDS: list[tuple[str, str, str]] = [
    (
        "docomo_line",
        r"ドコモ|docomo|どこも",
        r"(?<![a-z])au(?![a-z])|エーユー|ソフトバンク|softbank|楽天モバイル|楽天の回線"
        r"|ワイモバイル|ymobile|y!mobile|uq|povo|linemo|格安sim|格安スマホ|他社",
    ),
    (
        "sns_topic",
        r"誹謗|中傷|悪口|炎上|晒|名誉毀損|デマ|書き込み|ひぼう",
        r"詐欺|乗っ取|ウイルス|架空請求|ワンクリック|通販|買い物",
    ),
    (
        "first_case",
        r"初めて|はじめて|初回|1回目|一回目|最初",
        r"2回目|二回目|2件目|二件目|2度目|二度目|2つ目|二つ目|もう一度|前にも|以前にも|また相談",
    ),
    ("staff_not_adviser", r"専門スタッフ|スタッフ", r"アドバイザー|消費生活"),
    (
        "subscriber",
        r"加入して|入って(?:る|い|ます)|契約して",
        r"未加入|入ってな|入っていな|入ってません|入っていません|加入してな|加入していません",
    ),
    (
        "cashless_fraud",
        r"qr|paypay|ペイペイ|d払い|カード|クレジット|クレカ|コード決済|スマホ決済|キャッシュレス|pay",
        r"振込|振り込|現金|手渡し|ギフト|電子マネーを買|プリペイド",
    ),
    (
        "provider_recognised",
        r"認め(?:て|た|ら)|認定|不正利用と(?:判断|言われ)",
        r"認められ(?:な|ず|ませ)|認めてもらえ(?:な|ず|ませ)|認めてくれ(?:な|ず|ませ)|断られ|審査中|調査中",
    ),
]

_STOP = re.compile(r"やめ|止めて|キャンセル|中止|中断|もういい|もうええ|結構です|終わりにし")
_UNKNOWN = re.compile(
    r"わから|分から|わかん|分かん|わかりま|覚えて(?:い)?な|覚えてへん|おぼえてな|忘れ|不明"
    r"|知らん|しらん|知らない|知りません|確認してな|どうだった|さあ"
)
_NO = re.compile(
    r"いいえ|いや|ちが|違|ちゃう|ちゃい|ううん|^no\b|ない|ません|へん|なかった|ねえ|あらへん"
)
_YES = re.compile(
    r"はい|うん|ええ|そう|せや|そや|yes|^ok|^おk|あります|ある|持って|してます|しています|おります"
    r"|その通り|そのとおり|んだ|合って"
)

# What the answer buttons send.
_BUTTONS: dict[str, bool | Reply] = {"affirm": True, "deny": False, "dont_know": Reply.UNKNOWN}


# Words that make a question about docomo's schemes (the eligibility check
# starts only for those; money or urgency words alone never start it).
# A 2020 date counts too: the trial and the free articles are the only
# dated schemes (「2020年7月10日なら無料だった？」).
_DOCOMO = re.compile(
    r"ドコモ|docomo|どこも|あんしんサポート|安心サポート|ネットトラブル|無料開放|お試し|不正決済補償|"
    r"付帯保険|アドバイザー|事例の?記事|記事|2020年|令和2年|令和元年"
)


# Another carrier named, docomo not: docomo's schemes are not for this person
# (「ソフトバンクユーザーです。ネットトラブルの相談窓口は？」).
_OTHER_CARRIER = re.compile(
    r"ソフトバンク|softbank|(?<![a-z])au(?![a-z])|エーユー|楽天モバイル|ワイモバイル|y!mobile|ymobile|"
    r"(?<![a-z])uq(?![a-z])|povo|linemo|格安sim|格安スマホ|mineo|ドコモじゃな|ドコモではな|ドコモ以外",
    re.IGNORECASE,
)
_DOCOMO_ITSELF = re.compile(r"ドコモ(?!じゃな|ではな|以外)|docomo|ahamo|アハモ", re.IGNORECASE)


def names_docomo(text: str) -> bool:
    """Does the message name docomo's service or one of its schemes (and not
    another carrier instead)?"""
    norm = normalize(text)
    return bool(_DOCOMO.search(norm)) and not names_other_carrier(norm)


def names_other_carrier(text: str) -> bool:
    """Another carrier, and not docomo itself: 「auなんですが」「ドコモじゃないけど」."""
    norm = normalize(text)
    return bool(_OTHER_CARRIER.search(norm)) and not _DOCOMO_ITSELF.search(norm)


def scheme_in(text: str) -> str | None:
    """The scheme a question names, or None when it names none."""
    text = normalize(text)
    for scheme, words in _SCHEME_WORDS:
        if re.search(words, text):
            return scheme
    return None


def _said(words: str, text: str) -> bool | None:
    """True when `words` occur not negated (「ドコモです」), False when only
    negated (「ドコモじゃない」), None when absent."""
    matches = [m for m in re.finditer(words, text) if not _CONDITIONAL.match(text[m.end() :])]
    if not matches:
        return None
    return any(not _NEGATION.match(text[m.end() :]) for m in matches)


def fact_from_words(fact: str, text: str) -> bool | None:
    """What `text` says about one fact in its own words, or None."""
    text = normalize(text)
    for key, yes, no in _FACT_WORDS:
        if key != fact:
            continue
        if (said_no := _said(no, text)) is not None:
            return not said_no
        if (said_yes := _said(yes, text)) is not None:
            return said_yes
    return None


def facts_in(text: str) -> dict[str, bool]:
    """Every fact a message states (「auですが使えますか」 → docomo_line False)."""
    facts = {}
    for key, _, _ in _FACT_WORDS:
        value = fact_from_words(key, text)
        if value is not None:
            facts[key] = value
    return facts


def wants_to_stop(text: str, intent: str | None = None) -> bool:
    return intent == "stop" or bool(_STOP.search(normalize(text)))


def answer_to(
    fact: str, text: str, intent: str | None = None, *, own_only: bool = False
) -> bool | Reply | None:
    """The answer to the question about `fact`, or None when it cannot be read.

    `intent` is the NLU's reading of the message (buttons send /affirm,
    /deny, /dont_know, /stop). With `own_only`, only a button, 「やめる」 or
    the fact's own words count (「ソフトバンクです」), not a bare はい/いいえ/
    わからない: a message that says none of these may be a new question.
    """
    if wants_to_stop(text, intent):
        return Reply.STOP
    if text.startswith("/") and intent in _BUTTONS:
        return _BUTTONS[intent]
    norm = normalize(text)
    own = fact_from_words(fact, norm)
    if own is not None or own_only:
        return own
    if intent == "dont_know" or _UNKNOWN.search(norm):
        return Reply.UNKNOWN
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    if _NO.search(norm):
        return False
    if _YES.search(norm):
        return True
    return None


# --- yen amounts -----------------------------------------------------------

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_KANJI_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"[\d,，.]+|[〇零一二三四五六七八九十百千]+"
_AMOUNT = re.compile(rf"(?P<big>{_NUM})\s*(?P<man>万)?\s*(?P<small>{_NUM})?\s*(?P<yen>円)?")
_ZERO = re.compile(r"なし|無し|ない|ゼロ|ありません|もらってな|出てな|補償されてな|^0$|^0円")
# Words next to an amount that say the provider pays it, not that it was lost.
_PROVIDER = re.compile(r"補償|返金|返して|戻|負担して|払ってくれ|出して|カード会社|決済事業者")


def _kanji_number(text: str) -> int:
    total, digit = 0, 0
    for ch in text:
        if ch in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[ch]
        else:
            total += (digit or 1) * _KANJI_UNITS[ch]
            digit = 0
    return total + digit


def _number(text: str) -> float:
    text = text.replace(",", "").replace("，", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"[〇零一二三四五六七八九十百千]+", text):
        return float(_kanji_number(text))
    raise ValueError(text)


def _amounts(text: str, bare: bool) -> list[tuple[int, int]]:
    """(yen, position) of each amount; a bare number counts only when `bare`."""
    found = []
    for m in _AMOUNT.finditer(text):
        if not (m["man"] or m["yen"] or (bare and m.group(0).strip() == text.strip())):
            continue
        try:
            big = _number(m["big"])
            small = _number(m["small"]) if m["small"] else 0
        except ValueError:
            continue
        yen = big * 10_000 + small if m["man"] else big
        found.append((round(yen), m.start()))
    return found


def yen_in(text: str, *, zero_words: bool = False) -> int | None:
    """The amount a short answer names (「30万円」「1,200,000」「百万円」), or None.

    With `zero_words`, 「なし」「ない」「ゼロ」 mean 0 (what the provider pays).
    """
    norm = normalize(text).strip()
    amounts = _amounts(norm, bare=True)
    if amounts:
        return amounts[0][0]
    if zero_words and _ZERO.search(norm):
        return 0
    return None


def amounts_in(text: str) -> dict[str, int]:
    """Loss and provider's payment named in a story.

    「50万円使われて、カード会社が20万円補償してくれる」: an amount whose
    clause speaks of the provider paying is `provider_paid_yen`, the first
    other one is `loss_yen`.
    """
    norm = normalize(text)
    found: dict[str, int] = {}
    for yen, start in _amounts(norm, bare=False):
        clause = re.split(r"[、。,.!?！？\n]", norm[start:])[0]
        before = re.split(r"[、。,.!?！？\n]", norm[:start])[-1]
        key = "provider_paid_yen" if _PROVIDER.search(before + clause) else "loss_yen"
        found.setdefault(key, yen)
    return found


def format_yen(yen: int) -> str:
    """1000000 → 100万円, 1234567 → 123万4,567円, 5000 → 5,000円."""
    man, rest = divmod(yen, 10_000)
    if man and rest:
        return f"{man:,}万{rest:,}円"
    if man:
        return f"{man:,}万円"
    return f"{rest:,}円"
