"""soudan.knowledge.answers() reads the staff's answers_staff.yml after answers.yml."""

from __future__ import annotations

import os

import pytest

from soudan import knowledge as kb


@pytest.fixture
def staff_file(tmp_path, monkeypatch):
    path = tmp_path / "answers_staff.yml"
    monkeypatch.setattr(kb, "STAFF_ANSWERS_FILE", path)
    yield path


def test_staff_answers_are_merged_after_the_main_ones(staff_file):
    main = kb.answers()
    staff_file.write_text(
        "scam_refund_call:\n"
        "  text: 還付金の電話は詐欺です。{hotline.center.short_name}に相談してください。\n"
        "  hotlines: [center]\n"
        "greet:\n"
        "  text: 上書きされないはずの挨拶\n",
        encoding="utf-8",
    )
    merged = kb.answers()
    assert merged["greet"] == main["greet"]  # answers.yml wins on a conflict
    assert list(merged)[: len(main)] == list(main)  # main ones first, in their order
    assert "scam_refund_call" in kb.answer_intents()
    reply = kb.reply_for("scam_refund_call")
    assert reply.text == "還付金の電話は詐欺です。でんわんセンターに相談してください。"
    assert [h.key for h in reply.hotlines] == ["center"]


def test_a_changed_staff_file_is_read_again(staff_file):
    assert "scam_x_call" not in kb.answers()
    staff_file.write_text("scam_x_call:\n  text: 一つ目\n  hotlines: [center]\n", encoding="utf-8")
    assert kb.answers()["scam_x_call"]["text"] == "一つ目"
    staff_file.write_text("scam_x_call:\n  text: 二つ目\n  hotlines: [center]\n", encoding="utf-8")
    stat = staff_file.stat()
    os.utime(staff_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert kb.answers()["scam_x_call"]["text"] == "二つ目"
    staff_file.unlink()
    assert "scam_x_call" not in kb.answers()
