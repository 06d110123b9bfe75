"""Pages that read the records: feedback per topic by its Japanese name, the audit
log with its times as staff read them."""

from __future__ import annotations

import re

from soudan.catalogue import topic_label
from tests.staff import NAME, signed_in


async def test_feedback_names_topics_in_japanese(staff_gateway):
    async with staff_gateway() as client:
        review = client.app.state.review
        await review.count_feedback("faq/nise_keisatsu", False)
        await review.count_feedback("faq/nise_keisatsu", True)
        await signed_in(client)
        page = (await client.get("/admin/feedback")).text
        assert topic_label("nise_keisatsu") in page
        assert "faq/nise_keisatsu" not in page


async def test_the_audit_log_reads_times_in_japanese(staff_gateway):
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        item = await client.app.state.review.add_item(
            text="時刻の確認です", channel="web", reason="fallback"
        )
        await client.post(f"/admin/inbox/{item['id']}/dismiss", data={"csrf": csrf})
        page = (await client.get("/admin/audit")).text
        assert NAME in page and "受信箱の処理" in page
        times = re.findall(r"<time [^>]*>([^<]+)</time>", page)
        assert times and all(
            re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d\d", t) for t in times
        )
        # What was done, in Japanese: no English key or value outside the fold.
        row = page.split("受信箱の処理", 1)[1].split("</tr>", 1)[0]
        plain = row.split("<details>", 1)[0]
        assert "操作</b>: 学習せずに外す" in plain
        assert "operation" not in plain and "dismiss" not in plain
