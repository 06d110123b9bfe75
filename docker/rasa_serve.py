"""Start `rasa` with its HTTP API token taken from the environment or a file.

    python docker/rasa_serve.py run --enable-api --model ... --port 5005 ...

adds `--auth-token <token>`, the token being RASA_TOKEN, or the contents of
RASA_TOKEN_FILE (docker-compose: a file the `rasa-token` service writes into
a volume shared with the gateway). The token is not on the command line of
the process, so `ps` does not show it. With neither set it refuses to start:
Rasa's HTTP API (conversations, PUT /model) must never be open.
"""

import os
import sys
from pathlib import Path

from rasa.__main__ import main

token = os.environ.get("RASA_TOKEN", "").strip()
if not token and os.environ.get("RASA_TOKEN_FILE"):
    token = Path(os.environ["RASA_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
if not token:
    sys.exit("rasa_serve.py: set RASA_TOKEN or RASA_TOKEN_FILE")
sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
main()
