"""Mask personal data in a message before it is stored (staff inbox, dead
letters, training data, logs).

`mask(text)` replaces, in the original text (width, spacing and everything
else untouched), each item by a placeholder:

- names → 〈名前〉: GiNZA's named-entity recognition (`Person`), and rules:
  before さん／様／氏／くん／ちゃん／先生 (the honorific stays: 「〈名前〉さん」),
  after 名前は／氏名／名義／表示名, before と申します／と名乗る／という人／って男,
  after a family word (息子の, 孫の, 母（…）), before 名義; not common words
  such as お客さん, 皆さん, お母さん, 店員さん, お疲れ様, 警察を名乗る;
- addresses → 〈住所〉: a place name followed by block numbers (3丁目12番8号,
  2-10-5, 〜町12, with a room number), or a place said to be where someone lives;
- birthdays → 〈生年月日〉: a date (昭和25年3月3日, 1950/4/1, S25.3.3, 3月3日,
  in kanji too) next to 生まれ／生年月日／誕生日; other dates stay;
- bank accounts → 〈口座番号〉: 5–8 digits after 口座／普通／当座／預金／記号／番号;
- card numbers (13–19 digits), security codes, expiry dates → 〈カード番号〉;
- マイナンバー (12 digits after マイナンバー／個人番号) → 〈マイナンバー〉;
- passport numbers (two letters and seven digits) → 〈旅券番号〉;
- LINE IDs and @handles → 〈LINE ID〉; employee and staff ids → 〈社員番号〉;
- e-mail addresses → 〈メール〉; phone numbers, Japanese or international →
  〈電話番号〉; postal codes → 〈郵便番号〉; licence plates → 〈ナンバー〉;
- numbers written in kanji (〇九〇の一二三四…) count as the numbers they spell.

What stays: the public hotlines of soudan/knowledge.yml, number prefixes
asked about as topics (0570, 0120, +44: a kind of number says nothing about
a person), dates of calls, times, amounts, companies, offices, places named
as places, family members named by their role.

The named-entity model (`ja_ginza`, spaCy) is loaded on the first `mask`
call, in the process that stores something, never at import; where it is
not installed the rules alone run (`mask_rules` is always the rules alone:
for log lines). Detection of numbers runs on a folded copy of the text in
which every character maps to exactly one character (full-width digits and
signs to ASCII, kanji digits to digits, dashes between digits to "-"), so
positions match the original. Recall and false masks are measured on the
corpus in tests/masking/ (`make bench-masking`).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

from soudan.knowledge import knowledge

log = logging.getLogger(__name__)

PHONE = "〈電話番号〉"
EMAIL = "〈メール〉"
CARD = "〈カード番号〉"
POSTAL = "〈郵便番号〉"
NAME = "〈名前〉"
ADDRESS = "〈住所〉"
BIRTHDAY = "〈生年月日〉"
BANK = "〈口座番号〉"
MYNUMBER = "〈マイナンバー〉"
PASSPORT = "〈旅券番号〉"
LINE_ID = "〈LINE ID〉"
EMPLOYEE = "〈社員番号〉"
PLATE = "〈ナンバー〉"
PLACEHOLDERS = (
    NAME, ADDRESS, BIRTHDAY, BANK, CARD, MYNUMBER, PASSPORT, LINE_ID, EMPLOYEE,
    EMAIL, PHONE, POSTAL, PLATE,
)  # fmt: skip

# ---------------------------------------------------------------- folding

_DASHES = "‐‑‒–—―−─━﹣－-"  # folded to "-" everywhere ("－" is full-width)
# folded to "-" only between digits (０９０ー１２３４, 〇九〇の一二三四)
_LONG_VOWELS = "ーｰの"
_KANJI_DIGITS = {ch: str(i) for i, ch in enumerate("〇一二三四五六七八九")}


def _fold(text: str) -> str:
    """One character for one character: full-width ASCII to ASCII, kanji digits
    to digits, dashes to "-"."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        elif ch == "\u3000":
            ch = " "
        elif ch in _KANJI_DIGITS:
            ch = _KANJI_DIGITS[ch]
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

_HONORIFIC = re.compile(r"さん|様|さま|氏|くん|ちゃん|先生")
# What follows an honorific-looking character when it is not one.
_NOT_HONORIFIC_AFTER = {
    "様": "々子式相態変化",  # 様子 様式 様相 様変わり
    "さま": "ざよ",  # さまざま さまよう
    "氏": "名族神物",  # 氏名 氏族 氏神
    "先生": "方",  # 先生方
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
    if "の" in run and _is_common(run, run.rsplit("の", 1)[1]):
        return True  # うちのじいちゃん: the word after の
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


_NAME_CHARS = f"{_KANJI}{_KATAKANA}{_HIRAGANA}{_LATIN}"
_NAME_AFTER_LABEL = re.compile(
    rf"(?:お名前|名前|氏名|なまえ|表示名|本名|名義人|名義)\s*(?:は|:|：)\s*([{_NAME_CHARS}]{{1,10}}"
    rf"(?:[ \u3000][{_KANJI}{_KATAKANA}{_LATIN}]{{1,6}})?)"
)
# 「佐藤と申します」「鈴木一郎と名乗る男」「高橋という職員」「ワタナベって男」「吉田いう人」
_PERSON_NOUN = (
    "人|男|女|者|方|職員|弁護士|警察官|刑事|やつ|奴|人物|名前|外国人|女性|男性|子|業者|社員|先生"
)
_NAME_BEFORE_SAYING = re.compile(
    rf"((?:[{_KANJI}]{{1,4}}[ \u3000])?[{_KANJI}{_KATAKANA}{_LATIN}]{{1,10}}"
    rf"(?:[ ・\u3000][{_KATAKANA}{_LATIN}]{{1,10}})?)"
    r"(?:(?:と|って|っつう)?\s*(?:申します|もうします|申す|名乗る|名乗った|名乗って|名乗り|まで連絡)"
    rf"|(?:と|って)?\s*(?:いう|言う|いった|っていう)\s*(?:{_PERSON_NOUN})|って\s*(?:{_PERSON_NOUN}))"
)
# 「インスタでりょうたって人」: a name in hiragana, after a particle.
_HIRAGANA_NAME_SAYING = re.compile(
    rf"(?<=[でにのはがとを、。\s])([{_HIRAGANA}]{{2,5}})(?:って|という|っていう)\s*(?:{_PERSON_NOUN})"
)
# 「山口です」「佐藤でございます」: a common family name introducing itself.
_SURNAMES = set(
    """
佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水
山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木
坂本 斉藤 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田
石田 森田 上田 原 柴田 酒井 工藤 横山 宮崎 宮本 内田 高木 安藤 島田 谷口 大野 高田 丸山 今井 河野
藤本 村田 武田 上野 杉山 増田 小山 大塚 平野 菅原 久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地
野村 新井 渡部 佐野 古川 大西 杉本 浜田 市川 小島 水野 吉川 山内 西田 菊池 北村 大久保 中西 関
""".split()
)
_SURNAME_INTRO = re.compile(
    rf"(?<![{_KANJI}])([{_KANJI}]{{1,3}})(?=(?:です|でございます|と申|だけど|だども|じゃけど))"
)
# 「ヤマダタロウ名義」「工藤 美穂名義」
_NAME_BEFORE_MEIGI = re.compile(
    rf"((?:[{_KANJI}]{{1,4}}[ \u3000])?[{_KANJI}{_KATAKANA}]{{2,10}}(?:[ \u3000][{_KATAKANA}]{{1,8}})?)名義"
)
# 「孫の健太から」「母（田中 久子、」「おとん森下 勝が」: a name after a family word.
_FAMILY = (
    "息子|娘|孫|夫|妻|主人|兄|弟|姉|妹|母|父|祖母|祖父|叔父|叔母|伯父|伯母|義母|義父|嫁|婿|"
    "元夫|元妻|元カレ|元カノ|彼氏|彼女|友達|友人|同級生|担任|上司|部下|近所|"
    "ばっちゃ|じっちゃ|ばあちゃん|じいちゃん|おかん|おとん|兄ちゃん|姉ちゃん"
)
_AFTER_NAME = r"(?=\s*(?:[、,）)」]|から|が|は|に|と|を|の|も|って|です|や|先生))"
_NAME_AFTER_FAMILY = re.compile(
    rf"(?:{_FAMILY})(?:ちゃん|さん)?(?:の)?\s*[（(]?\s*"
    rf"((?:[{_KANJI}]{{1,4}}[ \u3000][{_KANJI}]{{1,4}})|[{_KANJI}]{{2,4}}|[{_KATAKANA}]{{2,8}}"
    rf"|[{_HIRAGANA}]{{2,5}}){_AFTER_NAME}"
)
# Hiragana runs that are words, not names, after a family word.
_NOT_A_HIRAGANA_NAME = set(
    "から まで より には とは へは たち ども など だけ しか こそ さえ でも ので のに って とか"
    " かな ちゃん さん くん です でした ます".split()
)
# Kanji runs after a family word that are things, not names.
_NOT_A_KANJI_NAME = set(
    "生年月日 住所 名前 携帯 電話 会社 代わり 口座 番号 名義 財布 自宅 実家 通帳 写真 情報 誕生日"
    " 部屋 家族 職場 学校 友達 友人 仕事 年金 保険 病院 施設 一人 代理 名前で 本人 本名".split()
)


def _label_name_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _NAME_AFTER_LABEL.finditer(text):
        name = match.group(1)
        # Stop at a trailing です／と／で (「名前は田中です」).
        cut = re.search(r"(です|でした|と|で|って|だ)$", name)
        end = match.end(1) - (len(cut.group(0)) if cut and len(name) > len(cut.group(0)) else 0)
        spans.append((match.start(1), end))
    for pattern in (_NAME_BEFORE_SAYING, _NAME_BEFORE_MEIGI):
        for match in pattern.finditer(text):
            name = match.group(1)
            start = match.start(1)
            # The run may start with the words before the name (警視庁の佐々木).
            for word in _LEADING_WORDS:
                if name.startswith(word) and len(name) > len(word) + 1:
                    start += len(word)
            if not _is_common(text[max(0, match.end(1) - 12) : match.end(1)], name.split()[-1]):
                spans.append((start, match.end(1)))
    for match in _HIRAGANA_NAME_SAYING.finditer(text):
        if match.group(1) not in _NOT_A_HIRAGANA_NAME:
            spans.append((match.start(1), match.end(1)))
    for match in _SURNAME_INTRO.finditer(text):
        if match.group(1) in _SURNAMES:
            spans.append((match.start(1), match.end(1)))
    for match in _NAME_AFTER_FAMILY.finditer(text):
        name = match.group(1)
        if name in _NOT_A_HIRAGANA_NAME or name in _NOT_A_KANJI_NAME:
            continue
        if _is_common(name, name):
            continue
        spans.append((match.start(1), match.end(1)))
    return spans


# ---------------------------------------------------------------- other kinds

# Numerals as people write them in dates and addresses (ASCII, full-width, kanji).
_N = "[0-9０-９〇一二三四五六七八九十元]"
_DATE = re.compile(
    rf"(?:(?:明治|大正|昭和|平成|令和)\s*{_N}{{1,3}}\s*年|[SHRＳＨＲ]\s*{_N}{{1,2}}\s*[./．／]"
    rf"|{_N}{{2,4}}\s*年|[0-9０-９]{{4}}\s*[/.／．-])\s*{_N}{{1,3}}\s*(?:月|[/.／．-])\s*{_N}{{1,3}}"
    rf"(?:\s*日)?|{_N}{{1,3}}\s*月\s*{_N}{{1,3}}\s*日"
)
_BIRTH_AFTER = re.compile(r"^\s*[)）]?\s*(?:生まれ|生|うまれ|産まれ)")
_BIRTH_BEFORE = re.compile(r"(?:生年月日|誕生日|生まれは|生まれ|生年|たんじょうび)[^。\n]{0,6}$")

# Block numbers of an address: 3丁目12番8号, 2-10-5, 14番地の3, 305号室.
_BLOCK = re.compile(
    rf"{_N}+\s*(?:丁目|番地|番|号|[-ー－‐の](?={_N}))"
    rf"(?:\s*(?:の|[-ー－‐])?\s*{_N}+\s*(?:丁目|番地|番|号)?)*"
    rf"(?:\s*[^\s、。,]{{0,12}}?\s*{_N}+\s*号室)?"
)
_PLACE_CHAR = f"[{_KANJI}{_KATAKANA}0-9０-９]"
_MUNICIPAL = re.compile(r"[都道府県市区町村郡]")
_ADDRESS_CONTEXT = re.compile(
    r"(住所|住んで|住む|在住|自宅|実家|住まい|郵便物|送り先|お届け先|宛|あて|届いて|届き)"
)
_TOWN_NUMBER = re.compile(rf"(?<=[町村])({_N}{{1,4}})(?![0-9０-９年月日時分万円])")
_RESIDENCE = re.compile(
    rf"({_PLACE_CHAR}{{2,15}}[都道府県市区町村])\s*(?:に|さ)?\s*(?:住んで|住む|在住|住まい)"
)


def _place_start(text: str, end: int) -> int:
    """Where the place name ending at `end` starts (kanji, katakana, digits of
    条 and the like; の／が／ヶ between two kanji as in 丸の内, 霞が関)."""
    start = end
    while start > 0 and end - start < 30:
        ch = text[start - 1]
        if re.fullmatch(_PLACE_CHAR, ch):
            start -= 1
        elif (
            ch in "のがケヶ"
            and start > 1
            and _script(text[start - 2]) == "kanji"
            and (_script(text[start]) == "kanji")
        ):
            start -= 1
        else:
            break
    # A label before the place is not part of it (住所は is cut by は; 住所の is not).
    for label in ("住所の", "自宅の", "実家の", "郵便物の"):
        if text[start:end].startswith(label):
            start += len(label)
    return start


def _address_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _BLOCK.finditer(text):
        start = _place_start(text, match.start())
        place = text[start : match.start()]
        block = match.group(0)
        context = text[max(0, start - 15) : start]
        units = re.search(r"丁目|番地|番.*号|号室", block)
        if not place and not _ADDRESS_CONTEXT.search(context):
            continue
        if _MUNICIPAL.search(place) or units or _ADDRESS_CONTEXT.search(context):
            spans.append((start, match.end()))
    for match in _TOWN_NUMBER.finditer(text):
        start = _place_start(text, match.start())
        if _MUNICIPAL.search(text[start : match.start()][:-1]):
            spans.append((start, match.end()))
    for match in _RESIDENCE.finditer(text):
        spans.append((match.start(1), match.end(1)))
    return spans


def _birthday_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _DATE.finditer(text):
        after = text[match.end() : match.end() + 6]
        before = text[max(0, match.start() - 14) : match.start()]
        if _BIRTH_AFTER.match(after) or _BIRTH_BEFORE.search(before):
            spans.append((match.start(), match.end()))
    return spans


_MYNUMBER_CONTEXT = re.compile(r"(マイナンバー|個人番号|通知カード)")
_TWELVE = re.compile(r"(?<![\d-])(\d{4}[ -]?\d{4}[ -]?\d{4})(?![\d-])")
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2} ?\d{7})(?!\d)")
_BANK_CONTEXT = re.compile(r"(口座|普通|当座|預金|記号|番号|ゆうちょ|通帳|振込先)")
_BANK_NUMBER = re.compile(
    r"(?<![\d.,:/-])(\d{5,8})(?![\d.,:/])(?!\s*(?:円|万|千|年|回|件|人|歳|%))"
)
_CARD_EXTRA = re.compile(
    r"(?:セキュリティ\s*コード|CVV|CVC|裏の\s*3桁|有効期限)\s*(?:は|:)?\s*(\d{2}\s*/\s*\d{2}|\d{3,4})"
)
_EMPLOYEE = re.compile(
    r"(?:社員番号|社員ID|社員コード|社員証番号|職員番号|従業員番号|警察手帳番号|手帳番号|スタッフID)"
    r"\s*(?:は|:)?\s*([A-Za-z0-9][A-Za-z0-9_-]{1,20})"
)
_LINE_CONTEXT = re.compile(
    r"(?:LINE|ライン|Line|line)\s*(?:の)?\s*(?:ID|id|アイディー?|アカウント)?"
)
_ACCOUNT_TOKEN = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{2,30}")
_ID_BEFORE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{2,30})\s*(?:って|という|の)\s*(?:LINE\s*)?ID")
_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+-])(@[A-Za-z0-9_][A-Za-z0-9._-]{2,30})")
_PLATE = re.compile(
    rf"((?:[{_KANJI}]{{1,4}}|[{_HIRAGANA}]{{2,4}})\s*\d{{2,3}}\s*[{_HIRAGANA}]\s*"
    r"(?:\d{1,2}-\d{2}|[・･.]{1,3}\d{1,3}|\d{1,4})(?!\d))"
)


def _looks_like_account(token: str) -> bool:
    """A LINE-style id: letters with digits, or with . _ -, or an @handle."""
    if token.startswith("@"):
        return len(token) > 3
    has_letter = re.search(r"[A-Za-z]", token)
    return bool(has_letter and re.search(r"[\d._-]", token)) and not re.fullmatch(
        r"(?i)(line|id|sms|http|https|www)", token
    )


def _other_spans(folded: str) -> list[tuple[int, int, str]]:
    """Ids and numbers that need their context: runs before the phone rule."""
    spans: list[tuple[int, int, str]] = []
    for m in _EMPLOYEE.finditer(folded):
        if re.search(r"\d", m.group(1)):
            spans.append((m.start(1), m.end(1), EMPLOYEE))
    for m in _MYNUMBER_CONTEXT.finditer(folded):
        found = _TWELVE.search(folded, m.end(), m.end() + 20)
        if found:
            spans.append((found.start(1), found.end(1), MYNUMBER))
    for m in _PASSPORT.finditer(folded):
        spans.append((m.start(1), m.end(1), PASSPORT))
    for m in _CARD_EXTRA.finditer(folded):
        spans.append((m.start(1), m.end(1), CARD))
    for m in _PLATE.finditer(folded):
        spans.append((m.start(1), m.end(1), PLATE))
    for m in _LINE_CONTEXT.finditer(folded):
        window = folded[m.end() : m.end() + 24]
        for token in _ACCOUNT_TOKEN.finditer(window):
            if (
                _looks_like_account(token.group(0))
                and "@" not in window[token.end() : token.end() + 1]
            ):
                start = m.end() + token.start()
                if folded[start - 1 : start] != "@" or token.group(0).startswith("@"):
                    spans.append((start, start + len(token.group(0)), LINE_ID))
                    break
    for m in _ID_BEFORE.finditer(folded):
        if _looks_like_account(m.group(1)):
            spans.append((m.start(1), m.end(1), LINE_ID))
    for m in _HANDLE.finditer(folded):
        spans.append((m.start(1), m.end(1), LINE_ID))
    return spans


def _bank_spans(folded: str, taken: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans = []
    for m in _BANK_NUMBER.finditer(folded):
        if any(not (m.end() <= s or m.start() >= e) for s, e, _ in taken):
            continue
        if _BANK_CONTEXT.search(folded[max(0, m.start() - 20) : m.start()]):
            spans.append((m.start(1), m.end(1), BANK))
    return spans


# ---------------------------------------------------------------- named entities

# GiNZA's entity labels that are personal data on their own. (Addresses are
# the rules': GiNZA's Postal_Address is mostly the postal code with its 〒.)
_NER_LABELS = {"Person": NAME}
# Person entities GiNZA finds in this bot's words that are not people.
_NOT_PEOPLE = set(
    "オレオレ オレ 俺 ワン 還付 架空 ロマンス 必勝 サポート ネット でんわん センター 総務省 警察"
    " ドコモ アマゾン メルカリ ペイペイ ライン インスタ ティックトック ゆうちょ みずほ りそな"
    " 名義 本人 家族 相手 犯人 受け子 出し子 自分 私 僕 俺 うち".split()
)
_NER_LOCK = threading.Lock()
_NER: dict[str, Any] = {}


def _ner_model() -> Any:
    """GiNZA's pipeline with only what NER needs (loaded once, on first use;
    None where spaCy or ja_ginza is not installed)."""
    if "nlp" not in _NER:
        with _NER_LOCK:
            if "nlp" not in _NER:
                try:
                    import spacy

                    _NER["nlp"] = spacy.load(
                        "ja_ginza",
                        exclude=[
                            "parser",
                            "morphologizer",
                            "compound_splitter",
                            "bunsetu_recognizer",
                        ],
                    )
                except (ImportError, OSError) as exc:
                    log.warning("masking without GiNZA's named entities: %s", exc)
                    _NER["nlp"] = None
    return _NER["nlp"]


def _ner_spans(text: str) -> list[tuple[int, int, str]]:
    nlp = _ner_model()
    if nlp is None:
        return []
    spans = []
    with _NER_LOCK:  # one document at a time per process (spaCy is not thread-safe)
        doc = nlp(text)
    for ent in doc.ents:
        placeholder = _NER_LABELS.get(ent.label_)
        if placeholder is None or "〈" in ent.text or "〉" in ent.text:
            continue
        start, end = ent.start_char, ent.end_char
        # The honorific is not part of the name (「〈名前〉様」, as the rules do).
        cut = re.search(r"[ \u3000]*(?:さん|様|さま|氏|くん|ちゃん|先生)?[ \u3000]*$", ent.text)
        end -= len(cut.group(0)) if cut else 0
        name = text[start:end]
        if placeholder == NAME:
            if len(name) < 2 or name in _NOT_PEOPLE or _is_common(name, name):
                continue
            if re.fullmatch(r"[A-Z0-9]+", name):  # NTT, KDDI: companies
                continue
        if placeholder == NAME:
            # 「石川 トメ、」: the given name after a space, up to the next mark.
            given = re.match(
                rf"[ \u3000](?!様|さん|氏|先生)([{_KANJI}{_KATAKANA}]{{1,4}})(?=[、,（(）)。\s]|$)",
                text[end:],
            )
            if given:
                end += given.end()
        spans.append((start, end, placeholder))
    return spans


# ---------------------------------------------------------------- mask


def _number_spans(folded: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for m in _EMAIL.finditer(folded):
        spans.append((m.start(), m.end(), EMAIL))
    for start, end, kind in _other_spans(folded):
        if free(start, end):
            spans.append((start, end, kind))
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
    spans += _bank_spans(folded, spans)
    return spans


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, with the placeholder of the first given."""
    ranked = sorted((start, rank, end, kind) for rank, (start, end, kind) in enumerate(spans))
    merged: list[list[Any]] = []
    for start, rank, end, kind in ranked:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if rank < last[3]:
                last[2], last[3] = kind, rank
        else:
            merged.append([start, end, kind, rank])
    return [(s, e, k) for s, e, k, _ in merged]


def mask_spans(text: str, *, ner: bool = True) -> list[tuple[int, int, str]]:
    """Where `mask` puts its placeholders: (start, end, placeholder), in order."""
    spans = _number_spans(_fold(text))
    spans += [(s, e, BIRTHDAY) for s, e in _birthday_spans(text)]
    spans += [(s, e, ADDRESS) for s, e in _address_spans(text)]
    spans += [(s, e, NAME) for s, e in _label_name_spans(text) + _name_spans(text)]
    if ner:
        spans += _ner_spans(text)
    # Never into a placeholder already there (mask is idempotent).
    kept = []
    for start, end, kind in spans:
        inside = text[start:end]
        if start < end and "〈" not in inside and "〉" not in inside:
            kept.append((start, end, kind))
    return _merge(kept)


def mask_rules(text: str | None) -> str:
    """`mask` by the rules alone (no model: for log lines)."""
    return mask(text, ner=False)


def mask(text: str | None, *, ner: bool = True) -> str:
    """The text with personal data replaced by 〈…〉 placeholders (idempotent)."""
    if not text:
        return text or ""
    text = str(text)
    for start, end, placeholder in reversed(mask_spans(text, ner=ner)):
        text = text[:start] + placeholder + text[end:]
    return text


def found(text: str) -> dict[str, int]:
    """How many items of each kind `mask` replaces (for logs and audits)."""
    masked = mask(text)
    return {
        kind: masked.count(kind) - text.count(kind)
        for kind in PLACEHOLDERS
        if masked.count(kind) > text.count(kind)
    }
