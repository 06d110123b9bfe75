"""The net under the NLU for a crime in progress (soudan.urgency)."""

from __future__ import annotations

import pytest

from soudan.urgency import detect

URGENT = [
    ("警察を名乗る人がカードを取りに来るって言ってる", "door"),
    ("銀行協会の人が今から家に来るそうです", "door"),
    ("息子の同僚がお金を受け取りに来る", "door"),
    ("玄関に知らない男が来てカードを渡せと", "door"),
    ("受け子っぽいのが家の前にいる", "door"),
    ("ピンポン鳴った、さっきの電話の人かも", "door"),
    ("今ATMの前にいて電話で操作を言われてる", "atm"),
    ("ATMなう。還付金の手続きしてる", "atm"),
    ("今からコンビニのATMに行きます", "atm"),
    ("いまから振り込まないといけないんです", "transfer"),
    ("今すぐ300万振り込めって言われた", "transfer"),
    ("これから銀行で振り込みます", "transfer"),
    ("誰にも言うなって言われて電話つないだままです", "secret"),
    ("SNSで殺すって書かれた", "threat"),
]
NOT_URGENT = [
    "振り込んでしまいました",
    "さっき振り込んだ",
    "昨日ATMで還付金の操作をしてしまった",
    "昨日男が来てカードを渡した",
    "家に来た人にキャッシュカード渡してもうてん",
    "もし家に警察が来たらどうすればいい？",
    "ATMで還付金は受け取れますか",
    "ATMに行けって言われたけど行ってない",
    "警察から電話があった",
    "警察から電話来たけど本物？",
    "知らない番号から電話がかかってきた",
    "宅配便が来たけど不在通知SMSが来た",
    "今日知らない番号から電話があった",
    "一人暮らしの母が心配です",
    "無言電話って家におるか確認しよるとかいな",
    "銀行がキャッシュカードを家まで取りにくるなんてことあります？",
    '/faq{"entry":"card_swap"}',
    "",
]


@pytest.mark.parametrize("text, kind", URGENT)
def test_urgent_situations_are_found(text, kind):
    found = detect(text)
    assert found is not None and found.kind == kind, found


@pytest.mark.parametrize("text", NOT_URGENT)
def test_past_hypothetical_and_ordinary_messages_are_not_urgent(text):
    assert detect(text) is None


def test_a_door_story_needs_the_scam_in_context_or_in_words():
    assert detect("もう家の前に来てるみたい") is None  # a parcel? a friend?
    assert detect("もう家の前に来てるみたい", scam_context=True).kind == "door"
