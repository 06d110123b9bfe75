"""Grouping near-identical inbox items, the inbox filters, the topic column
(revision 0002) and the one time format of the staff pages."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from staffkit import ROOT  # noqa: F401  (puts the project on the path, as the other tests)

from staffops.display import date_ja, time_ja
from staffops.inbox import Inbox
from staffops.inbox_groups import THRESHOLD, Filters, fold, group, read_filters, similarity
from staffops.records import database
from staffops.records.scratch import scratch_database

# One question reworded: these must group (the threshold is chosen on them).
SAME = [
    ("知らない番号から何度も電話がかかってくる", "知らない番号から何回も電話がかかってくる"),
    ("知らない番号から何度も電話がかかってくる", "知らない番号から何度も電話がかかってきます"),
    ("警察を名乗る人から電話があった", "警察を名乗る人から電話がありました"),
    ("Xで悪口を書かれた", "Xで悪口を書かれて困っている"),
    ("カードが勝手に使われた", "カードを勝手に使われていた"),
    ("ニセ警察から電話がきた", "ニセ警察から電話が来ました"),
    ("還付金があるから ATM に行けと言われた", "還付金があるのでATMに行けと言われた"),
]
# Different questions, often on one topic: these must not.
DIFFERENT = [
    ("知らない番号から電話がきた", "知らない番号からSMSがきた"),
    ("知らない番号から何度も電話がかかってくる", "知らない番号からのSMSを開いてしまった"),
    ("インスタで誹謗中傷された", "Xで誹謗中傷された"),
    ("カードが勝手に使われた", "カードを落とした"),
    ("0120から電話がきた", "0570から電話がきた"),
    ("国際電話がかかってきた", "国際電話をかけてしまった"),
    ("宅配業者を名乗るSMSが届いた", "宅配業者を名乗る電話がきた"),
]


def test_fold_keeps_only_what_was_said():
    assert fold("〈名前〉さん から、電話が！！") == fold("〈名前〉さんから電話が")
    assert fold("ｶｰﾄﾞが　勝手に使われた。") == fold("カードが勝手に使われた")
    assert fold("ＳＭＳ〜が来た") == fold("sms ー が来た")
    # two kinds of masked value stay different
    assert fold("〈名前〉から電話") != fold("〈電話番号〉から電話")


@pytest.mark.parametrize(("a", "b"), SAME)
def test_rewordings_of_one_question_are_near_identical(a, b):
    assert similarity(a, b) >= THRESHOLD, (a, b, similarity(a, b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_questions_are_not(a, b):
    assert similarity(a, b) < THRESHOLD, (a, b, similarity(a, b))


def item(n: int, text: str, **fields) -> dict:
    return {
        "id": f"i{n}",
        "text": text,
        "time": f"2026-12-01T{10 + n:02d}:00:00+09:00",
        "channel": "web",
        "reason": "fallback",
        **fields,
    }


def test_groups_have_a_count_the_newest_time_reasons_and_channels():
    items = [  # newest first, as the inbox lists them
        item(5, "知らない番号から何回も電話がかかってくる", channel="line"),
        item(4, "カードを落とした"),
        item(3, "知らない番号から何度も電話がかかってくる！", reason="low_confidence"),
        item(2, "知らない番号から何度も電話がかかってくる"),
        item(1, "カードを落としました", channel="line", reason="feedback_negative"),
    ]
    groups = group(items)
    assert [g.ids for g in groups] == [["i5", "i3", "i2"], ["i4", "i1"]]
    calls, card = groups
    assert calls.count == 3 and calls.id == "i5"
    assert calls.newest == "2026-12-01T15:00:00+09:00"
    assert calls.reasons == ["fallback", "low_confidence"]
    assert calls.channels == ["line", "web"]
    assert calls.texts[0] == "知らない番号から何回も電話がかかってくる" and len(calls.texts) == 3
    assert card.channels == ["web", "line"] and card.count == 2


def test_a_chain_of_small_changes_does_not_join_two_questions():
    # each next text is close to the one before, the last far from the first:
    # items are compared with a group's first item only.
    chain = [
        "知らない番号から電話がかかってくる",
        "知らない番号から電話がかかってきて困る",
        "知らない人から電話がかかってきて困る",
        "知らない人から連絡がきて困る",
        "知人から連絡がきて困っている",
    ]
    groups = group([item(len(chain) - i, t) for i, t in enumerate(chain)])
    assert len(groups) >= 2
    assert groups[0].texts[0] == chain[0]
    assert chain[-1] not in groups[0].texts


def test_read_filters_takes_known_values_only_and_explains_the_rest():
    found, notes = read_filters(
        {
            "reason": "fallback",
            "channel": "fax",
            "topic": "faq/unknown_number",
            "start": "2026-12-03",
            "end": "2026-12-01",
            "q": "ＳＭＳ  電話 電話",
        },
        reasons=["fallback", "low_confidence"],
        channels=["web", "line"],
        topics=["faq/unknown_number"],
    )
    assert (
        found.reason == "fallback" and found.channel == "" and found.topic == "faq/unknown_number"
    )
    assert (found.start, found.end) == (date(2026, 12, 1), date(2026, 12, 3))  # put in order
    assert found.words == ("sms", "電話")
    assert notes == ["経路の指定を読み取れなかったため、すべて表示しています。"]
    _, notes = read_filters({"start": "12/1"}, reasons=[], channels=[], topics=[])
    assert notes == ["開始日の日付を読み取れませんでした（例: 2026-12-01）。"]
    assert not read_filters({}, reasons=[], channels=[], topics=[])[0].active


def test_days_no_record_can_have_are_explained_not_an_error():
    # Year 1 and 9999 parse, but their bounds in Japan time overflow datetime.
    found, notes = read_filters(
        {"start": "0001-01-01", "end": "9999-12-31"}, reasons=[], channels=[], topics=[]
    )
    assert (found.start, found.end, found.since(), found.before()) == (None, None, None, None)
    assert len(notes) == 2


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.sqlite'}"
        engine = database.create(url)
        database.migrate(engine)
        yield engine
        engine.dispose()
        return
    with scratch_database() as url:
        engine = database.create(url)
        database.migrate(engine)
        yield engine
        engine.dispose()


def test_the_inbox_filters_in_the_database(engine):
    inbox = Inbox(engine)

    def add(text, when, **fields):
        return inbox.add(
            {
                "text": text,
                "time": when,
                "channel": fields.get("channel", "web"),
                "reason": fields.get("reason", "fallback"),
                "intents": fields.get("intents", [{"name": "faq/sms_phishing", "confidence": 0.4}]),
            }
        )

    a = add("SMSのリンクを押してしまった", "2026-11-30T23:30:00+09:00")
    b = add("宅配のSMSが来た", "2026-12-01T00:10:00+09:00", channel="line")
    c = add(
        "知らない番号から電話 100%本当？",
        "2026-12-01T21:56:00+09:00",
        reason="low_confidence",
        intents=[{"name": "faq/unknown_number", "confidence": 0.5}],
    )
    assert c["topic"] == "faq/unknown_number"

    def ids(**given):
        return [i["id"] for i in inbox.list(filters=Filters(**given))]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(reason="low_confidence") == [c["id"]]
    assert ids(channel="line") == [b["id"]]
    assert ids(topic="faq/sms_phishing") == [b["id"], a["id"]]
    # days are Japan days: 23:30 on the 30th is not the 1st
    assert ids(start=date(2026, 12, 1)) == [c["id"], b["id"]]
    assert ids(end=date(2026, 11, 30)) == [a["id"]]
    assert ids(words=("sms",)) == [b["id"], a["id"]]  # case does not matter
    assert ids(words=("sms", "宅配")) == [b["id"]]  # every word
    assert ids(words=("100%",)) == [c["id"]]  # % is a character, not a wildcard
    assert ids(words=("0%本",)) == [c["id"]]
    assert ids(words=("_",)) == []
    assert inbox.topics() == ["faq/sms_phishing", "faq/unknown_number"]


def test_revision_0002_adds_the_topic_up_down_up(tmp_path):
    engine = database.create(f"sqlite:///{tmp_path / 'records.sqlite'}")
    try:
        database.migrate(engine, "0001_records")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("inbox_items")}
        assert "topic" not in columns
        with engine.begin() as conn:  # a row written before the column existed
            conn.execute(
                sa.text(
                    "INSERT INTO inbox_items (id, time, channel, reason, status, text,"
                    " bot_reply, intents) VALUES ('old', :t, 'web', 'fallback', 'open',"
                    " '古い項目', '', :intents)"
                ),
                {
                    "t": datetime(2026, 11, 1, tzinfo=timezone.utc),
                    "intents": '[{"name": "faq/unknown_number", "confidence": 0.3}]',
                },
            )
        database.migrate(engine)
        assert Inbox(engine).get("old")["topic"] == "faq/unknown_number"  # filled in
        database.downgrade(engine, "0001_records")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("inbox_items")}
        assert "topic" not in columns
        with engine.connect() as conn:  # the row itself stays
            assert conn.execute(sa.text("SELECT text FROM inbox_items")).scalar_one() == "古い項目"
        database.migrate(engine)
        assert Inbox(engine).get("old")["topic"] == "faq/unknown_number"
    finally:
        engine.dispose()


def test_times_read_as_japanese_dates_in_japan_time():
    assert time_ja("2026-12-01T21:56:00+09:00") == "2026年12月1日 21:56"
    assert time_ja("2026-12-01T12:56:07+00:00") == "2026年12月1日 21:56"
    assert time_ja("2026-11-30T15:05:00") == "2026年12月1日 0:05"  # naive is UTC, as stored
    assert time_ja(datetime(2026, 12, 1, 12, 56, tzinfo=timezone.utc)) == "2026年12月1日 21:56"
    assert time_ja(1_796_129_760) == "2026年12月1日 21:56"  # a Unix time (LINE's)
    assert time_ja(None) == time_ja("") == time_ja("yesterday") == "不明"
    assert date_ja("2026-12-01T21:56:00+09:00") == "2026年12月1日"
