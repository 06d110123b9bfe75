"""What people say they already did reaches its entry (soudan.done)."""

from __future__ import annotations

import pytest

from soudan.done import entry_of


@pytest.mark.parametrize(
    "text, entry",
    [
        ("母がキャッシュカードを渡してしまいました", "after_card_handed"),
        ("おばあちゃんがキャッシュカードの暗証番号を言っちゃった", "after_card_handed"),
        ("さっき50万振り込んでしまった", "after_transfer"),
        ("ネットバンキングで送金しちゃった", "after_transfer"),
        ("アマゾンギフトの番号をメールで送ってしまいました", "after_emoney_given"),
        ("電子マネーで払ってしまいました", "after_emoney_given"),
        ("SMSのリンクからパスワード入れちゃった", "password_entered"),
        ("変なアプリ入れてしまった", "malicious_app"),
        ("URL押しちゃった", "sms_link_clicked"),
        ("電話で名前と住所を言ってしまった", "after_personal_info"),
    ],
)
def test_what_was_already_done_is_found(text, entry):
    assert entry_of(text) == entry


@pytest.mark.parametrize(
    "text",
    [
        "振り込んだらどうなる？",
        "払っちゃっていいの？",
        "まだ払ってないです",
        "家族にも話しちゃだめって言われた",
        "警察手帳の写真送ってきた",
        "公式アカウントにDM送ったのに返事がない",
        "迷惑電話ブロックのアプリを入れたい",
        '/faq{"entry":"after_transfer"}',
        "",
    ],
)
def test_questions_refusals_and_others_are_not_confessions(text):
    assert entry_of(text) is None
