"""Chat with the running assistant from a terminal, over the REST channel.

    python3 scripts/chat.py [--url http://localhost:5005/webhooks/rest/webhook]

Standard library only, so it runs with any Python 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid


def send(url: str, sender: str, text: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    args = parser.parse_args()
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("相談を入力してください（終了: Ctrl-D）。ボタンは番号でも選べます。")
    buttons: list[dict] = []
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("> "), None):
        text = line.strip()
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        buttons = []
        for msg in send(args.url, sender, text):
            if msg.get("text"):
                print(msg["text"])
            for b in msg.get("buttons") or []:
                if b["payload"].startswith("tel:"):  # a terminal cannot dial: show it
                    print(f"  ({b['title']}: {b['payload']})")
                    continue
                buttons.append(b)
                print(f"  [{len(buttons)}] {b['title']}")
        print()


if __name__ == "__main__":
    try:
        main()
    except (EOFError, KeyboardInterrupt):
        print()
