"""What a person says they already did (「振り込んでしまった」「暗証番号を言っちゃった」).

"I already did it" needs concrete steps in the right order (stop the card
first; the police first, then the bank...), so a message that says so must
reach its entry even when the model is unsure. These rules are that net:
`entry_of` names the catalogue entry of the first act it finds, or None. A
question about the act (「振り込んだらどうなる？」) or a refusal (「払わなかった」)
is not a confession and is left to the model.

Plain module: no Rasa import.
"""

from __future__ import annotations

import re

from soudan.normalize import normalize

# Done, not planned: 〜してしまった / 〜しちゃった / 〜した(んです) / 〜してもうた.
_DONE = (
    r"(?:て(?:しま|しも|もう|もた)|で(?:しま|しも|もう|もた)|ちゃ|じゃ|"
    r"た(?=んです|んだ|の|よ|。|$|、|けど|が|わ|ので|から|\s|!|！))"
)

_EMONEY = (
    r"電子マネー|ギフトカード|ギフト券|アマゾンギフト|アップルギフト|プリペイド|アマゾンカード|アマギフ|ｱﾏｷﾞﾌ|アップルカード|"
    r"グーグルプレイ|Google ?Play|iTunes|WebMoney"
)

# Checked in this order: the costliest act first (a card and its PIN beat
# the personal data said with them).
_ACTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "after_card_handed",
        re.compile(
            rf"(?:カード|通帳|キャッシュカード).{{0,12}}(?:渡し|わたし|預け|あずけ|取られ|とられ|すり替え){_DONE}|"
            rf"暗証番号.{{0,8}}(?:教え|言っ|いっ|伝え|書い|答え){_DONE}"
        ),
    ),
    (
        "after_emoney_given",
        re.compile(
            rf"(?:{_EMONEY}).{{0,20}}(?:番号|コード|写真).{{0,10}}(?:教え|送っ|伝え|言っ|撮っ){_DONE}|"
            rf"(?:{_EMONEY}).{{0,4}}(?:で払っ|ではらっ|を買っ|買わされ){_DONE}",
            re.IGNORECASE,
        ),
    ),
    (
        "after_transfer",
        re.compile(
            rf"(?:振り込|振込|ふりこ|送金し|入金し|お金を?送っ|お金を?払っ|払っ|はらっ|支払っ|お金を?渡し)"
            rf".{{0,3}}{_DONE}"
        ),
    ),
    (
        "password_entered",
        re.compile(
            rf"(?:パスワード|ID|暗証|カード番号|認証コード|ログイン).{{0,10}}(?:入れ|入力し|打っ|打ち込ん){_DONE}",
            re.IGNORECASE,
        ),
    ),
    (
        "malicious_app",
        re.compile(rf"(?:アプリ|ソフト).{{0,10}}(?:入れ|インストールし|ダウンロードし){_DONE}"),
    ),
    (
        "sms_link_clicked",
        re.compile(
            rf"(?:URL|リンク|url).{{0,10}}(?:押し|おし|開い|ひらい|タップし|踏ん|クリックし){_DONE}",
            re.IGNORECASE,
        ),
    ),
    (
        "after_personal_info",
        re.compile(
            rf"(?:名前|住所|生年月日|誕生日|電話番号|家族|勤務先|銀行名|口座番号|個人情報|マイナンバー)"
            rf".{{0,12}}(?:教え|言っ|いっ|伝え|答え|話し|しゃべっ){_DONE}"
        ),
    ),
]
# A question about the act, a refusal, or a warning, not a confession.
_NOT_DONE = re.compile(
    r"(?:たら|ても|ないで|なかった|ずに|てない|てません|ていない|前に|ように|べき|べからず|どうなる|大丈夫か|"
    r"っていい|ていい|てもいい|だめ|ダメ|いけない|そう)"
)


def entry_of(text: str | None) -> str | None:
    """The entry of the first thing the message says was already done."""
    if not text or text.startswith("/"):
        return None
    norm = normalize(text)
    for entry, pattern in _ACTS:
        match = pattern.search(norm)
        if not match:
            continue
        after = norm[match.end() : match.end() + 6]
        if (
            _NOT_DONE.match(after)
            or _NOT_DONE.search(match.group(0)[-6:])
            or _NOT_DONE.match(norm[match.end() - 1 : match.end() + 6])
        ):
            continue
        return entry
    return None
