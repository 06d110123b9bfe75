"""Print a short hash of everything a trained model depends on.

`make train` names the model after it, so a model is retrained exactly when
the data, the domain, the config, the custom components, the normalisation
or the pinned packages change. Standard library only.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def inputs(config: str) -> list[Path]:
    bot = ROOT / "chatbot"
    files = [bot / config, bot / "domain.yml", ROOT / "requirements" / "rasa.lock"]
    files += sorted((bot / "data").rglob("*.yml"))
    files += sorted((bot / "components").glob("*.py"))
    files.append(ROOT / "soudan" / "normalize.py")
    return files


def fingerprint(config: str) -> str:
    digest = hashlib.sha256()
    for path in inputs(config):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


if __name__ == "__main__":
    print(fingerprint(sys.argv[1] if len(sys.argv) > 1 else "config.yml"))
