"""Teaching from the inbox through staffops on a copy of the project tree; the audit log says who."""

from __future__ import annotations

import time

import yaml

from app.api.routes import admin
from staffops import audit
from tests.staff import NAME, signed_in


async def test_labelling_writes_valid_yaml_and_the_audit_log_says_who(staff_gateway, project_copy):
    from soudan.masking import mask

    text = "田中さんから 090-1234-5678 に知らない番号で何度も電話が来ました"
    async with staff_gateway() as client:
        review = client.app.state.review
        item = await review.add_item(
            text=text,
            channel="line",
            reason="low_confidence",
            intents=[{"name": "faq/unknown_number", "confidence": 0.41}],
            bot_reply="SMS の偽物に注意してください",
        )
        assert item["text"] == mask(text) and "090" not in item["text"]
        csrf = await signed_in(client)
        page = (await client.get("/admin/inbox")).text
        assert item["text"] in page and "0.41" in page and "LINE" in page
        assert "田中" not in page
        started = time.monotonic()
        resp = await client.post(
            f"/admin/inbox/{item['id']}/label",
            data={"csrf": csrf, "intent": "faq/unknown_number", "text": item["text"]},
        )
        assert resp.status_code == 200, resp.text
        assert "例文として追加しました" in resp.text, resp.text
        print(f"label with rasa data validate: {time.monotonic() - started:.1f} s")
        assert f'id="item-{item["id"]}"' not in resp.text  # it left the inbox
        resolved = await review.get_item(item["id"])
        assert resolved["status"] == "resolved" and resolved["resolved_by"] == NAME

        staff_nlu = project_copy / "chatbot" / "data" / "nlu" / "staff.yml"
        data = yaml.safe_load(staff_nlu.read_text(encoding="utf-8"))
        [block] = [b for b in data["nlu"] if b["intent"] == "faq/unknown_number"]
        assert item["text"] in block["examples"]

        # a refused change: the page says why, nothing is written
        before = staff_nlu.read_bytes()
        other = await review.add_item(text="もう一度同じ文", channel="web", reason="fallback")
        resp = await client.post(
            "/admin/entries/new",
            data={
                "csrf": csrf,
                "title": "テストの話題",
                "examples": "例文その一\n例文その二\n例文その三",
                "answer": "03-1234-5678 に電話してください",
                "hotlines": ["center"],
                "items": [other["id"]],
            },
        )
        assert resp.status_code == 422
        assert 'class="notice error"' in resp.text
        assert "知識ファイル（soudan/knowledge.yml）にない番号です" in resp.text
        assert staff_nlu.read_bytes() == before
        assert (await review.get_item(other["id"]))["status"] == "open"

        # a new topic: intent, examples, rule, domain entry and answer, validated
        resp = await client.post(
            "/admin/entries/new",
            data={
                "csrf": csrf,
                "items": [other["id"]],
                "title": "還付金の電話",
                "examples": "市役所から還付金があると電話がきた\n"
                "医療費の払い戻しがあるのでATMに行けと言われた\n"
                "還付金の手続きをするから銀行に行ってと電話で言われた",
                "answer": "還付金の手続きでATMに行くよう求める電話は詐欺です。"
                "｛でんわんセンターの電話番号｝に相談してください。",
                "hotlines": ["center", "police_consult"],
            },
        )
        assert resp.status_code == 200, resp.text
        # the Japanese title on the page, the generated id in the files only
        assert "新しい話題「還付金の電話」を追加しました" in resp.text
        assert "staff_topic_001" not in resp.text
        domain = yaml.safe_load((project_copy / "chatbot" / "domain.yml").read_text())
        assert "staff_topic_001" in domain["intents"]
        answers = yaml.safe_load((project_copy / "soudan" / "answers_staff.yml").read_text())
        saved = answers["staff_topic_001"]
        assert saved["hotlines"] == ["center", "police_consult"]
        assert saved["label"] == "還付金の電話"
        assert "{hotline.center.number}に相談してください" in saved["text"]
        assert (await review.get_item(other["id"]))["status"] == "resolved"

        entries = audit.read(admin.project(client.app.state.settings))
        actions = [(e["action"], e["who"]) for e in entries]
        assert ("label", NAME) in actions
        assert ("inbox_resolve", NAME) in actions
        assert ("refused", NAME) in actions
        assert ("new_topic", NAME) in actions
        audit_page = (await client.get("/admin/audit")).text
        assert "例文を追加" in audit_page and "変更の拒否" in audit_page and NAME in audit_page
