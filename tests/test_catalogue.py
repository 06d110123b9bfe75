"""The catalogue of situations: complete, sourced, and each answer short first.

The landscape issue asks for at least 60 entries covering the police's fraud
types, phone specifics, every prefix, protection, SMS, SNS for everyone,
payments and which line is for what; each with its first two lines (what to
do now, where to call), the hotlines that fit, follow-up buttons and sources.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from phone_check import phone_like

from soudan import catalogue
from soudan import knowledge as kb
from soudan.dialogue import entry_answer, family_answer
from soudan.hours import JST

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DOMAIN = yaml.safe_load((ROOT / "chatbot" / "domain.yml").read_text(encoding="utf-8"))
# A weekday noon, a Saturday night, a holiday, the year end.
MOMENTS = [
    datetime(2026, 11, 24, 12, 0, tzinfo=JST),
    datetime(2026, 11, 28, 20, 0, tzinfo=JST),
    datetime(2026, 11, 23, 12, 0, tzinfo=JST),
    datetime(2026, 12, 31, 10, 0, tzinfo=JST),
]
GROUPS = {
    "fraud",
    "phone",
    "prefix",
    "protect",
    "sms",
    "sns",
    "payment",
    "after",
    "lines",
    "center",
    "docomo",
}
ENTRIES = catalogue.entries()
# Where a person can be told to go, besides the hotlines' own numbers.
PLACES = re.compile(
    r"警察署|銀行|カード会社|決済|携帯電話会社|電話会社|市区町村|役所|窓口|NTT|弁護士|公式サイト|"
    r"違法・有害情報相談センター|法テラス|https?://"
)

# What the issue names, each of which must be an entry.
REQUIRED = {
    # the police's fraud types and today's tricks
    "ore_ore",
    "yochokin",
    "fake_billing",
    "support_scam",
    "e_money_purchase",
    "postcard_billing",
    "refund",
    "loan_guarantee",
    "investment_products",
    "gambling",
    "dating_fee",
    "card_swap",
    "nise_keisatsu",
    "nise_keisatsu_online",
    "nise_keisatsu_documents",
    "nise_keisatsu_assets",
    "nise_keisatsu_secrecy",
    "sns_investment",
    "romance",
    "apo_den",
    # phone specifics
    "international_call",
    "automated_voice",
    "spoofed_number",
    "silent_call",
    "one_ring",
    "repeated_calls",
    # prefixes
    "prefix_freedial",
    "prefix_navi",
    "prefix_ip",
    "prefix_mobile",
    "prefix_020",
    "prefix_060",
    "prefix_0990",
    "prefix_184_186",
    "hitsuchi",
    "number_starts_with_9",
    "prefix_010",
    "prefix_fixed",
    # protection
    "block_fixed",
    "block_mobile",
    "number_display_70",
    "call_blocker_device",
    "voicemail",
    "stop_international",
    # SMS, SNS for everyone, payments, which line
    "smishing_delivery",
    "smishing_official",
    "sms_link_clicked",
    "password_entered",
    "sns_defamation",
    "sns_delete_request",
    "identify_poster",
    "human_rights_line",
    "houterasu",
    "card_fraud",
    "qr_fraud",
    "docomo_fraud_cover",
    "which_line",
    # the seed's five FAQ titles and docomo's service
    "unknown_number",
    "answered_suspicious",
    "docomo_service",
    "docomo_free_trial",
    "docomo_articles",
}


def test_the_catalogue_covers_the_landscape():
    assert len(ENTRIES) >= 60
    assert REQUIRED - set(ENTRIES) == set()


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_each_entry_is_complete(key):
    entry = ENTRIES[key]
    assert entry.title and entry.group in GROUPS
    assert entry.hotlines, "every entry names the hotlines that fit"
    for line in entry.hotlines:
        kb.hotline(line)
    for web in entry.web:
        assert web in kb.knowledge()["web_services"], web
    assert entry.sources and set(entry.sources) <= set(kb.knowledge()["sources"]), entry.sources
    for _title, target in entry.buttons:
        assert catalogue.is_entry(target) or target in DOMAIN["intents"], target
    if entry.block and not catalogue.is_entry(entry.block):
        kb.render(entry.block)
    if entry.family:
        assert catalogue.family(entry.family), entry.family


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_the_first_two_lines_say_what_to_do_and_where_to_call(key):
    entry = ENTRIES[key]
    now = kb.render(entry.now)
    assert len(now.splitlines()) == 2, now
    numbers = {kb.hotline(h).number for h in entry.hotlines}
    assert any(n in now for n in numbers) or PLACES.search(now), now


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_entry_renders_at_any_moment_with_known_numbers_only(key):
    known = kb.known_numbers()
    for moment in MOMENTS:
        answer = entry_answer(key, moment)
        text = answer.full_text
        assert "{" not in text and "}" not in text
        assert phone_like(text) <= known, phone_like(text) - known
        assert answer.topic == key


def test_families_render_and_offer_their_members():
    for key, spec in kb.knowledge()["families"].items():
        group = spec.get("covers_group")
        members = [e.key for e in ENTRIES.values() if e.family == key or e.group == group]
        assert len(members) >= 2, key
        answer = family_answer(key, members[:2], MOMENTS[0])
        assert [b.intent for b in answer.buttons] == members[:2]
        assert phone_like(answer.full_text) <= kb.known_numbers()


def test_buttons_name_entries_with_an_entity_payload():
    button = kb.Button("オレオレ詐欺", "ore_ore")
    assert button.payload == '/faq{"entry":"ore_ore"}'
    assert kb.Button("いつ開いてる？", "ask_hours").payload == "/ask_hours"


def test_labels_are_japanese_for_every_intent_and_entry():
    for name in DOMAIN["intents"]:
        assert not catalogue.intent_label(name).startswith("その他"), name
    for key in ENTRIES:
        assert catalogue.intent_label(f"faq/{key}") == ENTRIES[key].title
        assert catalogue.topic_label(key) == ENTRIES[key].title


def test_web_only_services_carry_no_phone_number():
    for key, spec in kb.knowledge()["web_services"].items():
        assert not phone_like(" ".join(str(v) for v in spec.values())), key
        assert spec["url"].startswith("http")


def landscape_rows() -> dict[str, str]:
    rows = {}
    text = (SHARED / "facts-landscape.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"^\| (F\d{3}) \| (.*) \| (.*) \| (.*) \| (.*) \|\s*$", line)
        if match:
            rows[match.group(1)] = match.group(5)
    return rows


def test_sources_of_numbers_are_never_secondary():
    """Numbers, hours and prices come from 公的, 事業者 or 報道 rows, never 二次."""
    sources = kb.knowledge()["sources"]
    for line in kb.hotlines():
        for source in [line.source, *(kb.knowledge()["hotlines"][line.key].get("sources") or [])]:
            assert "二次" not in sources[source].get("kind", ""), (line.key, source)
    for entry in ENTRIES.values():
        for source in entry.sources:
            assert "二次" not in sources[source].get("kind", ""), (entry.key, source)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ is not beside the checkout")
def test_landscape_rows_exist_with_the_kind_copied():
    rows = landscape_rows()
    for key, spec in kb.knowledge()["sources"].items():
        if re.fullmatch(r"F\d{3}", key):
            assert key in rows, key
            assert spec["kind"] == rows[key], key


def test_two_readings_share_their_family_or_their_groups_answer():
    assert catalogue.shared_family("card_swap", "yochokin") == "police_impostor"
    assert catalogue.shared_family("ore_ore", "refund") == "scam_call"  # two fraud types
    assert catalogue.shared_family("ore_ore", "smishing_delivery") is None
    assert catalogue.shared_family("ore_ore", "no_such_entry") is None
