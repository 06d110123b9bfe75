"""The net under the NLU for a crime in progress (soudan.urgency)."""

from __future__ import annotations

import pytest

from soudan.urgency import detect, model_may_be_urgent

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
    # couriers and drivers sent to collect, cash sent now, a visitor awaited
    ("たくしーがきてる おかねわたせって でんわのひとが", "door"),
    ("郵便局で現金を入れた封筒を送るところです", "transfer"),
    ("銀行協会の人が30分後に伺うと電話があって、今うちで待ってます", "door"),
    ("「家の外におるぞ」って電話。未払い金払えって", "door"),
    ("知らない車が停まってる、さっきの電話で金払えって言われた", "door"),
    # implicit scenes: an arranged visit, a stranger to hand cash to, the
    # caller rushing, a parcel of cash ready, someone who will not leave
    ("午後に区役所の職員さんがカードの交換に来ることになっています", "door"),
    ("息子の先輩という人に駅でお金を渡すことになっていて、まだ来ません", "door"),
    ("振込の画面で止まってる、相手は早く押せって", "transfer"),
    ("現金を入れたレターパック、送る準備ができました", "transfer"),
    ("工事の人がなんぼ言うても帰ってくれん", "stay"),
    ("男の人が家の前でドアを叩いて金返せって", "threat"),
    ("電話で言われてセブンに着きました。番号を言えばいいの？払えって", "shop"),
    ("カードを封筒に入れて、言われた通り待っています", "door"),
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
    # a general question, one's own errand, a denied scene, a letter's words
    "お金を受け取りに来る詐欺って本当にあるの？",
    "ATMにいるけど自分の生活費をおろすだけ。気をつけることは？",
    "自分で予約したので明日いつもの担当の人が家に来ます。普通ですか",
    "電話はすぐ切って警察に相談しました。誰も来ていません",
    "「今すぐ払わないと差し押さえ」ってハガキが届いた",
    "もし家にカードを取りに来る人がいたら、どうしたらいい？今のうちに知りたい",
    "例えばの話、「宅配便で現金を送って」って頼まれたら断ればいいよね？",
    "レターパックで現金を送るのって法律違反なの？",
    "これから銀行で家賃を振り込んできます。手数料を安くするには？",
]


@pytest.mark.parametrize("text, kind", URGENT)
def test_urgent_situations_are_found(text, kind):
    found = detect(text)
    assert found is not None and found.kind == kind, found


@pytest.mark.parametrize("text", NOT_URGENT)
def test_past_hypothetical_and_ordinary_messages_are_not_urgent(text):
    assert detect(text) is None


def test_a_relatives_sms_about_now_is_news_not_a_letter():
    assert detect("母から「今キャッシュカードの電話がかかってる」ってSMSが来た") is not None
    assert (
        model_may_be_urgent("「今すぐ払わないと差し押さえ」ってハガキが届いた。どうしたら") is False
    )
    assert model_may_be_urgent("今ATMで「今すぐ払え」って画面に表示されてる") is True


def test_a_door_story_needs_the_scam_in_context_or_in_words():
    assert detect("もう家の前に来てるみたい") is None  # a parcel? a friend?
    assert detect("もう家の前に来てるみたい", scam_context=True).kind == "door"


@pytest.mark.parametrize(
    "text",
    [
        # the いま of しまいました is not "now"; the story was told afterwards
        "パソコンに警告が出て遠隔操作されて、5万円をカードで払ってしまいました。ソフトはまだ入ったままです",
        # a sentence in the past before 「今」 is the story, not the scene
        "リンク先でパスワードを入れたら乗っ取られました。今、私のアカウントから勧誘DMが送られています",
        # 今も = still, 今からでも = even now
        "昨日家に来た人に言われて、封筒は今も手元にあります。大丈夫でしょうか",
        "昨日カードを渡してしまいました。今日また電話があって、今からでも何かできますか",
        # the police are already there; 今は after last year's story is not "right now"
        "今、警察署で警察の方と一緒に被害届を書いています。カード会社への連絡はどうすればいいでしょうか",
        "息子が去年、詐欺の受け子をやらされて逮捕されました。今は家族としてどう支えていけばいいでしょうか",
        # 電話しようとしてた is not a call going on (話しよる is)
        "母のスマホに「料金が未納です、ご連絡ください」ってメッセ来てて電話しようとしてたから止めた",
    ],
)
def test_stories_told_afterwards_are_not_urgent(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "知らない男が家の前をうろうろしてる。さっき家に現金いくらあるかって電話があった",
        # the money lost is the grandson's story; the collector is still coming
        "孫から電話で、会社のお金使い込んでもうたから今日中にいるて。夕方に上司が取りに来るて",
        # 「会ったことない」 is not 「来ることはない」
        "彼女（アプリで知り合ってまだ会ったことない）に、今から50万送金するとこ",
        # someone lingering at the house now, after yesterday's call about money or times at home
        "家の前に知らない車が止まってて、男が2人ずっとうちを見てる。昨日、資産状況を聞かれる電話があった",
        "知らない男がマンションのオートロックの前でずっとうちの部屋番号を押してる。昨日在宅の時間を聞かれた",
        # the card is gone, but the one who took it is still near
        "銀行の人にカードを渡してしまいました。その人が今出ていったばかりで、まだ近くにいると思います",
        # a collector sent, a call that will not end, keigo ただいま in kana
        "知らない人から電話で 親が事故ったから今から迎えの人行くって 住所言っちゃった",
        "相手がずっと電話口で「切ったら口座が凍結される」と言って切らせてくれない。今もつながってます",
        "自動音声で1を押したらオペレーターにつながって、今話してる最中です",
        "ただいま むすこから でんわが あり こぎってを なくしたと いうので ぎんこうへ いく したくを して おります",
    ],
)
def test_scenes_still_under_way_are_urgent(text):
    assert detect(text) is not None


@pytest.mark.parametrize(
    ("text", "plausible"),
    [
        ("今って無料で相談できる？", False),
        ("いま電話したらつながりますか？何時までですか", False),
        ("警察に電話しました。来てくれるそうです。ほかにやることある？", False),
        ("今まさにだまされかけてる", True),
        ("今はもう電話切ってるし誰も来ないんだけど、暗証番号を言いかけてしまって", False),
        (
            "いま おもうと あれは さぎ だった せんげつ ぎんこうの ひとが きて かーど を こうかん",
            False,
        ),
        ("電話を切るなといわれて、今スピーカーでつながってます", True),
        ("家の前に車止まってて、電話で「出てこい」って言われてる、どうしたらいい", True),
        (
            "息子が去年、詐欺の受け子をやらされて逮捕されました。今は家族としてどう支えればいい",
            False,
        ),
        ("今、警察署で被害届を書いています。カード会社への連絡は？", False),
    ],
)
def test_the_models_urgent_reading_needs_something_urgent(text, plausible):
    assert model_may_be_urgent(text) is plausible


@pytest.mark.parametrize(
    "text",
    [
        "前に銀行協会って人から電話あったけど、あれは詐欺？もう2か月くらい前の話",
        "父がこれから先ひとりでATMに行くとき、何歳くらいから気をつけるべき？",
        "さっき110番通報して、警察の人が向かってくれています。何をしておけばいい？",
        "還付金の手続きと言われてネットバンキングを操作したら、振り込んでいました",
        "振込のとき受取人の名前が出るのは何のためですか",
    ],
)
def test_the_models_urgent_reading_is_doubted_for_past_general_and_reported(text):
    assert model_may_be_urgent(text) is False


def test_a_relative_gone_to_the_bank_at_a_callers_word_is_urgent():
    note = "母の書き置きに「銀行に行ってきます」とあった。兄は何も頼んでいないと言う"
    assert detect(note).kind == "atm"
    assert detect("父が「警察の捜査に協力する」と言って家を出て行きました").kind == "atm"
    # 「またあとで話す」 is not a story told afterwards
    assert model_may_be_urgent("母から「銀行に行ってくるね、またあとで話す」ってLINE。既読つかない")


def test_ongoing_scenes_and_ones_own_appointments():
    assert detect("ATMのまえ。けいたいもったまま。つぎなにおせばいい").kind == "atm"
    # 「さっきから」 is still going on, even after 「言われたあとです」
    assert detect("さっきから知らない男が家の前をうろうろしてる。お金の電話のあとです")
    assert detect("来週、銀行の担当者が家に来ます。自分で窓口で予約しました") is None
    assert not model_may_be_urgent(
        "一か月前に電子マネーの番号を送ってしまった。今から警察に相談しても意味ある？"
    )
