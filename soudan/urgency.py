"""Is a crime happening right now? (someone at the door, at the ATM, about to pay)

A crime in progress gets 110 first in any turn: in the eligibility form,
after a fallback, in the middle of a story. The NLU learns the intent
`crime_in_progress` from examples; these rules are the net under it for the
situations the police name, written to be precise rather than broad: a
hypothetical 「来たら」 or a past 「振り込んでしまった」 is not urgent. Each rule
names what not to do, which the reply says right after 110.

Plain module: no Rasa import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from soudan.normalize import normalize


@dataclass(frozen=True)
class Trigger:
    kind: str  # door | atm | transfer | secret | pin | threat
    matched: str


# Now, or about to happen (not 今日・今週, not the いま of 「ないまま」).
_NOW = (
    r"(?:今(?![日週月年度回後朝晩も]|でも|からでも|になって|なら|のうち)|いま(?![すせしまさでだも]|のうち)|イマ|今から(?!でも)|いまから(?!でも)|これから(?!どう|何か起|なにか起)|今すぐ|いますぐ|"
    r"もうすぐ|今日中|きょう中|今夜|至急|急いで|なう|ただいま|只今)"
)
_PEOPLE = (
    r"(?:警察|刑事|警官|検事|検察|銀行|協会|職員|役所|市役所|区役所|弁護士|部下|同僚|後輩|上司|"
    r"男|女|人|者|やつ|ヤツ|業者|受け子|犯人|誰か|使い|係|係員|担当|息子|孫|甥|"
    r"タクシー|たくしー|運転手|うんてんしゅ|バイク便|配達員|の方|ぎんこう|けいさつ|おとこ|おんな|ひと|しょくいん|"
    r"べんごし|はんにん|おまわりさん|相手)"
)
_HOME = r"(?:家|いえ|うち|自宅|玄関|げんかん|部屋|マンション|アパート|オートロック|門|近所)"
# Someone there now or arriving (「来てる」「向かってる」「着いた」), never a past
# visit (「家に来た人に渡した」) nor a call or a message that came (「電話が来た」).
_THERE = (
    r"(?:来て(?:い|る|ます|て)|来てる|きてる|きている|きてて|来とる|きとる|来ちょる|来てん|来よる|着いた|着きました|今来ました|"
    r"向かって(?:い|る|ます)|向かってる|ピンポン|インターホン|チャイム)"
)
_PRESENT = r"(?:いる|いて|います|おる|おって|立って|待って|うろうろ)(?!か|の[?？か])"
_AT_HOME = (
    rf"{_HOME}(?:の前|の外|のそば|の近く)(?:に|で)?{_PRESENT}|"
    rf"{_HOME}(?:の前|の外|のそば|の近く)?(?:に|で|まで).{{0,12}}(?:が|は|も|人|男|女|者).{{0,4}}{_PRESENT}"
)
# A collector coming (「取りに来るって」「職員がうかがいます」): the police ask for 110 when
# 「犯人が自宅に来る」 (shared/facts-landscape.md, 110 の使い分け).
_COLLECT = (
    r"(?<!印鑑)(?<!はんこ)(?<!ハンコ)(?:取りに|とりに|受け取りに|うけとりに|回収しに|回収に|預かりに|"
    r"あずかりに|もらいに|集金に|引き取りに)(?:来(?!た)|く(?!れ)|き(?!た)|行(?!った|ってる|っと)|伺|うかが)"
)
_COMING = (
    rf"{_PEOPLE}.{{0,12}}(?:{_HOME}(?:に|まで)?)?(?:伺います|うかがいます|来るって|くるって|来るそう|来るらしい|来るみたい|来ると言|来ます(?!か)|行くって|いくって|行かせる|向かわせる|向かうって|"
    r"来ることになって|来る予定|いらっしゃる予定|伺う予定|着くそう|着くって|着くらしい)"
)
_CARD_CASH = r"(?:カード|キャッシュカード|通帳|現金|お金|おかね|金|暗証番号)"
_ATM = r"(?:ATM|atm|エーティーエム|えーてぃーえむ|現金自動)"
_AT_ATM = (
    r"(?:に(?:いる|います|いて|居る|居ます|おる|おります|おって)|の(?:前|まえ)(?:にい|で|に立|[。、!！]|$)|で(?:操作し(?:て(?:る|い))|"
    r"待)|に着い|に来てる|に来ている|にきてる|なう|へ向かって|に向かって|に行ってる|にむかって|"
    r"に行っとる|に行っている|に行ってます|まで来(?:た|ました|て))"
)
_TRANSFER = (
    r"(?:振り込|振込|ふりこ|送金|入金|お金を移|おかねをうつ|お金を送|払い込|支払|払え|払わ|"
    r"おろ|下ろ|引き出|引出|移せ|送れ)"
)
# A transfer already done is not urgent ("振り込んでしまった", "送金した").
_PAST = r".{0,3}(?:でしまっ|でしも|じゃっ|ちゃっ|んだ|ました|した|った|済|終わ|め詐欺)"
_IMMINENT = (
    r"(?:する|します|しよう|しろ|しなきゃ|しないと|しなければ|しないといけ|するところ|するとこ|する前|"
    r"む(?!か)|め(?!詐欺)|みます|もう|まないと|まなきゃ|まなければ|まないといけ|わないと|わなきゃ|うところ|"
    r"んで(?:と|って|ください|くれ)|る(?:ように|よう)|ように言われ|と言われ|って言われ|するように|"
    r"す(?:って|と)|せ(?:って|と)|って聞かない|って言って|しに行|しにいく)"
)
_SECRET = (
    r"(?:誰にも|だれにも|家族にも|かぞくにも|銀行にも|警察にも|人に)(?:言|い|話|はな|相談|そうだん|しゃべ)"
    r"(?:う|わ|す|さ|する|しちゃ|っちゃ|ったら|すな|うな|わないで|さないで|するな|しないで|ってはいけない)"
)
_SECRET2 = r"(?:内緒に|ないしょに|秘密に|守秘義務)"
_STAY_ON = (
    r"(?:電話を?切るな|電話を?切らないで|切らずに|つないだまま|繋いだまま|電話中|通話中|話しながら|"
    r"ビデオ通話中|話してる最中|話している最中|話しとる|電話しとる|電話してる最中|"
    r"今つながってる|いまつながってる|今繋がってる|つながったまま)"
)
_DEMAND = r"(?:言え|教えろ|教えて|振り込め|移せ|送れ|払え|出せ|用意しろ|用意して|しろ|画面共有)"
_THREAT = r"(?:殺す|ころす|殺される|殺害|殺したる|刺す|火をつけ|燃やす|痛い目|いたいめ|ただじゃおかない|ただでは済まな)"
_HELP = r"(?:助けて|たすけて|タスケテ|誰か来て)"

# Scenes that say by themselves that they are happening now, even after a
# story of yesterday's call (「昨日変な電話があった。家の前で男が2人ずっとうちを見てる」):
# someone lingering at the house, or the one who took the card still near.
_LINGERING = re.compile(
    rf"{_HOME}(?:の前|の外|の周り|のまわり|の近く|のそば)(?:に|で|を)?.{{0,16}}(?:ずっと|まだ).{{0,14}}"
    r"(?:てる|ている|ています|てます|とる)"
)
_STILL_NEAR = re.compile(
    r"(?:出ていった|出て行った|出ていきました|帰った|去った)ばかり.{0,12}(?:まだ)?(?:近く|そば|この辺)に(?:いる|い|おる)|"
    r"まだ(?:近く|そば|この辺)に(?:いる|い|おる)"
)
_SCENES = (_LINGERING, _STILL_NEAR)

_RULES: list[tuple[str, re.Pattern[str]]] = [
    # someone at the door, or a collector for a card or cash on the way
    ("door", re.compile(rf"{_PEOPLE}.{{0,10}}{_THERE}")),
    ("door", re.compile(rf"{_HOME}(?:の前|に|まで|の外|のそば).{{0,6}}{_THERE}")),
    ("door", re.compile(rf"{_PEOPLE}.{{0,8}}{_AT_HOME}")),
    (
        "door",
        re.compile(rf"{_PEOPLE}が?.{{0,4}}来て.{{0,14}}(?:渡せ|出せ|見せろ|開けろ|入れろ|よこせ)"),
    ),
    ("door", re.compile(rf"{_COLLECT}")),
    (
        "door",
        re.compile(
            rf"{_NOW}.{{0,10}}{_PEOPLE}.{{0,6}}(?:くる|来る|来ます|きます)(?!か[?？]|かな|かしら|の[?？]|って言う|ことある)"
        ),
    ),
    # someone in the house who will not leave: 110 whatever the story
    (
        "stay",
        re.compile(
            rf"(?:{_HOME}|{_PEOPLE}).{{0,20}}(?:帰らない|かえらない|帰ってくれない|かえってくれない|帰ってくれん|"
            r"帰れない|居座|いすわ|上がり込|あがりこ|出て行かない|でていかない|出ていかない|帰ろうとしない|"
            r"(?:玄関|げんかん)から動(?:かない|きません|かん|かへん))"
        ),
    ),
    ("door", re.compile(rf"{_COMING}")),
    (
        "door",
        re.compile(
            rf"{_HOME}(?:の前|の周り|のまわり|の近く|の外|の辺り)を?.{{0,4}}(?:うろうろ|うろつ|見張|のぞ|覗)"
        ),
    ),
    ("door", re.compile(r"(?:ピンポン|インターホン|チャイム)が?(?:鳴|なっ|押され)")),
    ("door", _LINGERING),
    ("door", _STILL_NEAR),
    # someone outside the house now (「家の外におるで」), or a stranger's car there
    ("door", re.compile(rf"{_HOME}(?:の前|の外|のそば|の近く)(?:に|で)?{_PRESENT}")),
    (
        "door",
        re.compile(
            r"(?:知らない|知らん|しらない|しらん|見知らぬ|不審な|怪しい|あやしい)(?:車|くるま|男|人|ひと|やつ)"
            r".{0,6}(?:停まって|止まって|とまって|いる|おる|うろ)"
        ),
    ),
    ("stay", re.compile(r"(?:なんぼ|いくら|何度)(?:言うても|言っても|頼んでも)帰(?:って|ら)")),
    # shouting or banging at the door
    (
        "threat",
        re.compile(
            r"(?:ドア|玄関|戸|とびら)を?(?:叩|たた|ドンドン|蹴)|(?:家|うち|玄関)の前で.{0,12}(?:怒鳴|どな|叫)"
        ),
    ),
    # the card or cash ready, waiting as told (「封筒にカードを入れて…待っています」)
    (
        "door",
        re.compile(
            r"(?:封筒|紙袋|現金|お金|カード|通帳).{0,30}(?:待って(?:い|る|ま)|待っとる|待たされ)"
        ),
    ),
    # an appointment to hand money to a stranger, an agent, a "colleague"
    (
        "door",
        re.compile(
            r"(?:代理|先輩|上司|同僚|部下|後輩|弁護士|使いの|知り合った|会ったこと|知らない)"
            r".{0,40}(?:渡す|わたす|お渡しする|届ける)(?:ことになって|約束|予定)|"
            r"(?:渡す|わたす|お渡しする|届ける)(?:ことになって|約束|予定).{0,40}"
            r"(?:代理|先輩|上司|同僚|部下|後輩|弁護士|使いの|知り合った|会ったこと|知らない)"
        ),
    ),
    # waiting at home for the announced visitor (「伺うと電話があり、今家で待っています」)
    (
        "door",
        re.compile(
            r"(?:伺|うかが|来る|くる|取りに|交換しに|受け取りに|訪問).{0,30}(?:待って(?:い|る|ま)|待っとる)"
        ),
    ),
    # at the ATM, or on the way there, following instructions
    ("atm", re.compile(rf"{_ATM}.{{0,6}}{_AT_ATM}")),
    ("atm", re.compile(rf"{_NOW}.{{0,10}}{_ATM}")),
    (
        "atm",
        re.compile(
            rf"{_ATM}.{{0,20}}(?:電話しながら|電話で指示|指示され|つないだまま|繋いだまま|手続き中|操作中)"
        ),
    ),
    ("atm", re.compile(rf"(?:銀行|窓口|{_ATM}|コンビニ).{{0,4}}(?:に|へ)(?:向かわされ|行かされ)")),
    # at the ATM or in online banking, doing what the caller says
    (
        "atm",
        re.compile(
            rf"(?:{_ATM}|ネットバンキング|振込の画面|振り込みの画面|振込画面).{{0,30}}"
            r"(?:電話の(?:人|相手|男|女)|言われた通り|言われたとおり|指示)"
            r".{0,16}(?:途中|最中|なんだけど|なんですが|してる|している|しています|打てって|押せって|入れろ|入力して)"
        ),
    ),
    (
        "atm",
        re.compile(
            rf"{_NOW}.{{0,20}}(?:銀行|窓口|振込の窓口).{{0,4}}(?:にいる|にいます|におる|に向かって|へ向かって|向かっとる)"
        ),
    ),
    # about to transfer now
    ("transfer", re.compile(rf"{_NOW}.{{0,30}}{_TRANSFER}(?!{_PAST}).{{0,8}}{_IMMINENT}")),
    (
        "transfer",
        re.compile(
            rf"{_NOW}.{{0,15}}{_CARD_CASH}を?(?:持って|もって)(?:行|い|来|こ)(?:け|い|って)"
        ),
    ),
    ("transfer", re.compile(rf"{_TRANSFER}(?!{_PAST}).{{0,8}}{_IMMINENT}.{{0,12}}{_NOW}")),
    # cash ready to go by parcel, taxi or courier
    (
        "transfer",
        re.compile(
            r"(?:送る|出す)(?:準備|用意)が?(?:でき|整)|あとは(?:出す|送る|ポストに)|"
            r"(?:タクシー|バイク便|宅配|レターパック).{0,20}(?:現金|お金).{0,20}(?:届けて|送って)(?:ほしい|くれ)"
            r"(?:って|と)言われ(?:て|た)"
        ),
    ),
    # handing over to the courier the caller sends
    (
        "door",
        re.compile(
            r"(?:バイク便|タクシー|運転手|受け子|使いの(?:人|者)|受け取りの人|取りに来る人|代理の人)"
            r".{0,10}(?:渡せば|渡したら|渡す|わたせば|渡していい)"
        ),
    ),
    # the collector is at the house (「もう家の前まで来たと電話」)
    ("door", re.compile(rf"{_HOME}の(?:前|近く)まで来た(?:と|って|らしい|みたい|そう)")),
    # a relative gone to the bank at a caller's word (a note, a message), unreachable
    (
        "atm",
        re.compile(
            r"(?:銀行|ぎんこう|ATM|atm|郵便局)(?:に|へ)行って(?:きます|くる).{0,80}"
            r"(?:頼んで(?:い)?ない|協力|誰にも言うな|警察の人|既読(?:が)?つかない|携帯を持って(?:い)?ない|連絡(?:が)?つかない)|"
            r"(?:捜査|警察)に協力.{0,40}(?:出て行|出ていき|出かけ|家を出)"
        ),
    ),
    # kept in a hotel by the "police" (ニセ警察)
    (
        "secret",
        re.compile(
            r"(?:警察|刑事|捜査|けいさつ).{0,10}(?:ホテル|カラオケ).{0,6}(?:にいる|におる|にいます|に泊ま)"
        ),
    ),
    # at the shop's kiosk, to pay what the caller said
    (
        "shop",
        re.compile(
            r"(?:コンビニ|セブン|ファミマ|ローソン|ミニストップ)(?:に|へ)?(?:着いた|着きました|にいる|にいます|なう)"
        ),
    ),
    # the caller rushing the person now (「早く押せって」「早く済ませろって」)
    ("transfer", re.compile(r"(?:早く|はやく)(?:押せ|しろ|済ませろ|振り込め|払え|送れ|入れろ)")),
    # the transfer screen reached by following the caller
    (
        "atm",
        re.compile(
            r"(?:言うとおり|言う通り|言われた通り|言われたとおり|指示どおり|指示通り).{0,40}"
            r"(?:振込画面|振り込み画面|振込の画面|お振込み|送金画面|振込確認)"
        ),
    ),
    # sending or leaving cash right now (a parcel, a coin locker)
    (
        "transfer",
        re.compile(
            r"(?:現金|お金|おかね|げんきん|札束).{0,12}(?:出そう|送ろう|発送しよう|送るところ|送るとこ|"
            r"出すところ|出すとこ|発送するところ|入れるところ|入れるとこ|入れよう)"
        ),
    ),
    # told to keep it secret while still on the line
    ("secret", re.compile(rf"(?:{_SECRET}|{_SECRET2}).{{0,30}}{_STAY_ON}")),
    ("secret", re.compile(rf"{_STAY_ON}.{{0,30}}(?:{_SECRET}|{_SECRET2})")),
    ("secret", re.compile(rf"{_NOW}.{{0,10}}(?:{_SECRET}|{_SECRET2})")),
    # told, on a call still going on, to give or move something
    ("secret", re.compile(rf"{_STAY_ON}.{{0,30}}{_DEMAND}")),
    # asked for a PIN or card number on the phone right now
    (
        "pin",
        re.compile(
            rf"{_NOW}.{{0,12}}(?:暗証番号|パスワード|カード番号|口座番号|認証コード).{{0,8}}(?:聞かれ|きかれ|教えろ|教えて|言え|言って)"
        ),
    ),
    (
        "pin",
        re.compile(
            r"(?:暗証番号|カード番号|口座番号).{0,8}(?:聞かれてる|聞かれている|きかれてる|教えろって言われてる)"
        ),
    ),
    # threatened now (殺害予告 → 110), or a cry for help
    ("threat", re.compile(rf"{_THREAT}")),
    (
        "threat",
        re.compile(
            rf"(?:脅され|おどされ|脅迫され)(?:て(?:る|い)|と(?:る|っ))|{_NOW}.{{0,10}}(?:脅され|おどされ)"
        ),
    ),
    ("threat", re.compile(rf"{_HELP}")),
]
# The words that make a cry for help or a door story about a scam rather
# than, say, a parcel delivery.
_SCAM_CONTEXT = re.compile(
    rf"{_CARD_CASH}|{_ATM}|{_TRANSFER}|{_COLLECT}|詐欺|警察|銀行|電話|息子|孫|還付|逮捕|暗証|封筒|"
    r"怪しい|あやしい|不審|知らない|しらない|殺|受け子|犯人|脅|わたせ|かーど"
)
_HYPOTHETICAL = re.compile(
    r"(?:(?:来たら|きたら|したら|いたら|あったら)(?=.{0,24}(?:どう|いい|べき|か[?？]|[?？]))|来れば|言われたら|なったら|場合|もし|"
    r"とき(?:は|に)?どう|"
    r"こと(?:が|って|は)?(?:あり|ある)|ことは(?:ない|ありません)|なんてこと|とか言|手口|って聞いた|らしいです|ニュース|ありえる|例えば|たとえば|"
    r"(?:本当|ほんと|ほんとう)に(?:ある|あり)|あるの[?？]|あるんですか|って普通|普通の(?:こと|事))"
)
# What arrived is a call or a message, not a person.
_MESSAGE = re.compile(
    r"電話|でんわ|メール|めーる|SMS|sms|LINE|ライン|連絡|手紙|メッセージ|画像|写真|書類|PDF|pdf|DM"
)
# Done already, and told afterwards: not happening now.
_DONE = re.compile(
    r"てしまい|でしまい|てしまっ|でしまっ|ちゃった|じゃった|てもうた|でもうた|しもうた|もう帰|帰りました|帰った|た後|(?<!ま)たあとで(?!す)|"
    r"でいました|ていました"
)
_STRONG_NOW = re.compile(
    r"今(?![日週月年度回後朝晩もは]|でも|からでも|になって|なら|思|おも|のうち|から(?:警察|相談|届|被害))|"
    r"いま(?![まさせすしもは]|おも|思)|これから(?!先|さき)|なう|さっきから|来てる|来ている|向かって|着いた|"
    r"つながってる|繋がってる|通話中|電話中"
)
# A story told afterwards (「昨日…来て」) is not happening now, unless it says so.
_EARLIER = re.compile(
    r"昨日|きのう|先日|せんじつ|先週|せんしゅう|おととい|一昨日|この前|このまえ|以前|去年|きょねん|先月|せんげつ|"
    r"夕べ|昼間に|(?:今|いま)(?:思うと|おもうと|思えば|おもえば)|前の話|(?:\d+|何|数|一|二|三)(?:か|ヶ|カ|ケ)月(?:くらい|ほど|ぐらい)?前"
)
_NOW_RE = re.compile(_NOW)
# A quote from a letter, a notice or a screen (「今すぐ払わないと法的措置」ってハガキ):
# its words are the sender's, not what is happening to the person now. (Not
# an SMS or a LINE: 母から「今キャッシュカードの電話がかかってる」ってSMS is news.)
_QUOTED_WRITING = re.compile(
    r"「[^」]{0,60}」(?=(?:って|と|という|っていう)?.{0,4}"
    r"(?:書いて|書かれ|ハガキ|はがき|手紙|封書|通知書|文面|表示))"
)
# The person's own errand (「自分の生活費をおろすだけ」「自分で予約した…担当者が来ます」),
# unless someone is instructing them.
_OWN_ERRAND = re.compile(
    r"(?:自分|じぶん)(?:の|で|から)(?:用事|生活費|買い物|お金をおろ)|(?:自分|じぶん)(?:で|から).{0,6}(?:予約|頼|申し込)|"
    r"(?:おろす|下ろす|引き出す|引きだす|記帳する)だけ|いつもの担当|家賃|公共料金|入学祝い|定期預金を解約|満期|"
    r"自分のアカウント|迎えに行|再配達"
)
_INSTRUCTED = re.compile(r"指示|言われ|言えって|しろって|電話の(?:人|相手|男|女)")


# 「誰も来ていません」: the scene is denied.
_NEGATED = re.compile(r"(?:い)?(?:ない|ません|なかった|へん|ひん)")


def _prepare(text: str) -> str:
    norm = normalize(text).replace(" ", "")
    return _QUOTED_WRITING.sub("「」", norm)


def _own_errand(norm: str) -> bool:
    return bool(
        _OWN_ERRAND.search(norm) and not _ONGOING_CALL.search(norm) and not _INSTRUCTED.search(norm)
    )


# The broad net, after the specific rules: something happening now (a present
# or imminent marker) next to what a crime in progress is about (money,
# cards, codes, remote control, an arrest, a threat, the door), in one
# stretch of the message. Kinds are named by the concept found.
_PRESENT_NOW = (
    r"(?:今(?![日週月年度回後朝晩ま更さも]|でも|からでも|になって|なら|のうち)|いま(?![すせしまさでだも]|おも|思)|今から(?!でも)|これから(?!どう|何か起|なにか起)|今すぐ|まさに|ただいま|"
    r"通話中|電話中|でんわちゅう|いまでんわ|今でんわ|電話口|通話継続中|つながって|繋がって|つないで|話しながら|話してる|話してます|"
    r"話している|待ってる|待ってて|待機|向かって|向かわされ|並んで|インストール中|操作されて|操作してる|"
    r"共有して|共有中|今日の夕方|今夜|あと\d+分|もうすぐ|まだ(?:電話|通話)|スピーカー|切らないまま|"
    r"切るな|来るまで|言われてる|言われてて|言われています|見せながら|途中です|最中|指示待ち|指示を待|保留中|"
    r"入力中|入力してる|待たされ|言われてます|あと(?:何|数|一|1|少し)(?:分|時間|で)|もうじき|し始め(?:た|まし|て)|"
    r"話をして(?:い(?!た)|る|ま)|うとして(?:い(?!た)|る|ま)|うとしとる|言いながら|靴を履いて|出かけようと|"
    r"(?:今も|いまも).{0,10}(?:てる|ている|てます|中))"
)
# A call still going on: who the caller claims to be is enough.
_ONGOING_CALL = re.compile(
    r"通話中|電話中|でんわちゅう|電話口|通話継続中|つながって|繋がって|話しながら|話してる|話してます|"
    r"話している|切るな|切らないで|スピーカー|まだ通話|まだ電話|保留中|待てって|待てと|話しよ(?!う)|"
    r"切らせてくれない|切らせてもらえない|まだ切ってな|切ってない|切れてない|まだつながって|"
    r"取り調べを受けて|取調べを受けて|とりしらべ|カメラをつけたまま"
)
_CALLER_CLAIMS = re.compile(
    r"警察|けいさつ|刑事|検事|検察|捜査|逮捕|容疑|被疑者|NTT|総務省|税務署|弁護士|銀行協会|金融庁|示談|事故|"
    r"公務執行妨害|録音されて|けいさつ|けいじ|けいしちょう|警視庁|たいほ|ビデオ通話|びでおつうわ"
)
# On a call still going on, an automated voice's operator or a threat to an
# account is enough too (「1を押したらオペレーターにつながって、今話してる最中」).
_ON_THE_LINE = re.compile(
    r"自動音声|オペレーター|凍結|未納|未払い|リモート|遠隔|ソフトを?(?:入れ|インストール)|アプリを?(?:入れ|インストール)"
)
_CONCEPTS = [
    (
        "atm",
        r"ATM|atm|(?:銀行|振込|郵便局)の?窓口|おろ|下ろ|引き出|銀行(?:に(?:いる|い|来|着|向|行)|で|の前|の駐車場|(?=[!！。、]|$))|"
        r"郵便局|ネットバンキング|限度額|銀行のアプリ|ぎんこう(?:へ|に|まで)",
    ),
    (
        "transfer",
        r"振込|振り込|送金|入金|移せ|移す|移して|指定の口座|口座に移|ビットコイン|仮想通貨|暗号資産|レターパック|現金を?送",
    ),
    (
        "door",
        rf"玄関|げんかん|家の前|家の近く|インターホン|(?:{_PEOPLE}|{_HOME}に|もうすぐ).{{0,6}}(?:来てる|来て|来る|くる|きてる|向かって|向かいます|向かう)|"
        r"(?:家|うち|自宅)に(?:行く|いく|向かう)|出発して|近くまで来|近くに来|対面して|対面しており|回収|取りに|"
        r"受け取りに|受け取ろう|渡せ|渡す|渡そう|わたせ|封筒|紙袋",
    ),
    (
        "pin",
        r"暗証番号|パスワード|ワンタイム|口座番号|カード番号|裏の番号|個人情報|ログイン|認証コード|確認コード|"
        r"番号を(?:写真で)?送|マイナンバー",
    ),
    (
        "remote",
        r"遠隔|画面共有|共有して|共有中|TeamViewer|AnyDesk|アプリ入|インストール|マウス|操作されて|勝手に開|"
        r"画面見せ|カメラに映|設定開|リモート|りもーと|ソフトを?(?:入れ|いれ)|アプリを?(?:入れ|いれ)",
    ),
    (
        "emoney",
        r"ギフトカード|電子マネー|プリペイド|Googleプレイ|グーグルプレイ|アマゾンギフト|iTunes|バーコード払|"
        r"チャージ|ペイペイ|paypay|Loppi|ロッピー|ファミポート|マルチコピー|店の機械",
    ),
    (
        "secret",
        r"秘密|ひみつ|言うな|言わず|(?<!電)話したら|共犯|守秘|聞こえないように|指示を待|指示待ち|内緒|ないしょ",
    ),
    (
        "threat",
        r"脅|殺|危害|殴|金出せ|金持ってこい|開けろ|ヤクザ|差し押さえ|逮捕|たいほ|被疑者|容疑|身柄|"
        r"払わなかったら|払わないと",
    ),
    (
        "money",
        r"お金|現金|金を|保証金|保釈金|示談金|税金|手数料|払わない|払え|払う|用意しろ|カード|かーど|げんきん|おかね|"
        r"\d+万|金持って|金もって|持って来い|持ってこい|に会う|にあう|と会う|小切手|こぎって|通帳|印鑑",
    ),
]
_CONCEPT_RES = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _CONCEPTS]
_PRESENT_RE = re.compile(_PRESENT_NOW)
# General questions about a trick, not an event.
_GENERAL = re.compile(
    r"典型的|よくある|手口|って何|(?<!ほん)とは|ことある|ことって|あるの\?|ありますか|本当に来る|のはなぜ|なぜ危な|危ないと言われ|"
    r"何のため|なんのため|何歳(?:くらい)?から|今後|これから先|気をつけるべき"
)
_WINDOW = 45


_STOP = re.compile(r"[。！？!?\n]")
# a sentence that ends in the past tense (「…乗っ取られました」)
_TOLD = re.compile(r"(?:ました|でした|った|た)$")


def _last_stop(norm: str, at: int) -> int:
    stops = [m.end() for m in _STOP.finditer(norm, 0, at)]
    return stops[-1] if stops else 0


# The call is over and nobody is coming (「今はもう電話切ってるし誰も来ない」).
_OVER = re.compile(
    r"誰も来ない|だれも来ない|だれもこない|(?:誰|だれ)も(?:来|き)て(?:い)?(?:ない|ません)|もう(?:電話)?(?:は|を)?切(?:った(?!ら)|りました|ってる|ってます)|"
    r"(?:電話|通話)(?:は|を)?(?:もう)?切(?:った(?!ら)|りました|ってる|ってます)|"
    r"帰っ(?:た|てった|ていった|ていきました)(?!ふり|フリ|ばかり)|いなくなった|去っていった|立ち去|"
    r"警察署で|警察署に(?:いる|い|来)|交番で|被害届"
)


def _broad(norm: str) -> Trigger | None:
    if _OVER.search(norm):
        return None
    for match in _PRESENT_RE.finditer(norm):
        around = norm[max(0, match.start() - 12) : match.end() + 12]
        if _HYPOTHETICAL.search(around):
            continue
        # A sentence before the marker that tells what was done (「…乗っ取られ
        # ました。今、…」) is the story, not what is happening now.
        start = max(0, match.start() - _WINDOW)
        stop = _last_stop(norm, match.start())
        if stop > start and (
            _DONE.search(norm, start, stop) or _TOLD.search(norm, start, stop - 1)
        ):
            start = stop
        stretch = norm[start : match.end() + _WINDOW]
        for kind, concept in _CONCEPT_RES:
            found = concept.search(stretch)
            if found:
                return Trigger("now:" + kind, f"{match.group(0)}…{found.group(0)}")
    call = _ONGOING_CALL.search(norm)
    if call:
        around = norm[max(0, call.start() - _WINDOW) : call.end() + _WINDOW]
        claim = _CALLER_CLAIMS.search(around) or _ON_THE_LINE.search(around)
        if claim:
            return Trigger("now:call", f"{call.group(0)}…{claim.group(0)}")
    return None


def detect(text: str | None, scam_context: bool = False) -> Trigger | None:
    """The first urgent situation in a message, or None.

    `scam_context`: the conversation is already about a scam (「もう家の前に
    来てるみたい」 after a story of a card pickup), so a door story needs no
    scam words of its own.
    """
    if not text or text.startswith("/"):
        return None
    norm = _prepare(text)
    if _own_errand(norm):
        return None
    for kind, pattern in _RULES:
        match = pattern.search(norm)
        if not match:
            continue
        around = norm[max(0, match.start() - 12) : match.end() + 12]
        if _HYPOTHETICAL.search(around) or _NEGATED.match(norm, match.end()):
            continue
        if _EARLIER.search(norm) and not _NOW_RE.search(norm) and pattern not in _SCENES:
            continue
        if _DONE.search(norm, match.start()) and not _STRONG_NOW.search(norm):
            continue
        if kind in {"door", "threat", "shop"} and not (scam_context or _SCAM_CONTEXT.search(norm)):
            continue
        if kind == "door" and _MESSAGE.search(match.group(0)[-8:]):
            continue
        return Trigger(kind, match.group(0))
    if _GENERAL.search(norm) or (_EARLIER.search(norm) and not _STRONG_NOW.search(norm)):
        return None
    if _DONE.search(norm) and not _STRONG_NOW.search(norm):
        return None
    return _broad(norm)


# The person already called the police (「110番しました」): what the model
# reads as urgent in such a message is the story, not a new emergency.
_CALLED_POLICE = re.compile(
    r"110番?(?:に電話)?し(?:た|ました|て)|警察に(?:電話|連絡|通報|相談)し(?:た|ました)|通報し(?:た|ました|て)|"
    r"途中でやめ|応募しかけ"
)


_UNDER_WAY = re.compile(
    r"詐欺|さぎ|だまさ|騙さ|銀行|ぎんこう|脅|おどさ|出てこい|来てる|きてる|切らない|切るな|つながった"
)


# A question about a line itself: when it is open, what it costs, where to call.
_ABOUT_A_LINE = re.compile(
    r"つなが(?:る|り)|何時|なんじ|営業|受付|やってる|無料|タダ|お金かか|金かか|料金|いくら|"
    r"どこに(?:電話|相談|かけ|連絡)|相談でき|電話番号|(?:連絡|電話|相談)すれば|かければ|どうやって連絡"
)


def model_may_be_urgent(text: str | None) -> bool:
    """Can the model's crime_in_progress reading of a message no rule found
    urgent be right? Not when the person says the police were already called,
    asks what would happen if, or asks about a line (hours, cost, where) with
    nothing a crime in progress is about: 「今って無料で相談できる？」
    「いま電話したらつながりますか」. Otherwise the reading stands: a needless
    110 costs a call, a missed one costs savings."""
    if not text:
        return False
    norm = _prepare(text)
    if _CALLED_POLICE.search(norm) or _OVER.search(norm) or _own_errand(norm):
        return False
    if _GENERAL.search(norm) and not _STRONG_NOW.search(norm):
        return False  # 「…のはなぜ危ないんですか」: a question about a trick
    if "「」" in norm and not _STRONG_NOW.search(norm):
        return False  # its urgent words were a letter's or a message's
    if (_EARLIER.search(norm) or _DONE.search(norm)) and not _STRONG_NOW.search(norm):
        return False  # a story told afterwards, a thing done already
    asks_advice = re.sub(r"どう(?:し|すれ)たら|どうすれば", "", norm)  # advice, not a what-if
    unquoted = re.sub(r"[「『][^」』]*[」』]", "", norm)  # 「今から行きます」と言われたら
    if _HYPOTHETICAL.search(asks_advice) and not _STRONG_NOW.search(unquoted):
        return False  # 「そこに電話したら、個人情報を取られたりしませんか」
    if not _ABOUT_A_LINE.search(norm):
        return True
    if re.search(_HELP, norm) or _ONGOING_CALL.search(norm) or _UNDER_WAY.search(norm):
        return True
    return any(concept.search(norm) for _kind, concept in _CONCEPT_RES) or bool(
        _CALLER_CLAIMS.search(norm)
    )
