from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The Rasa project's packages (actions, components) import as top-level
# modules, the way `rasa run` sees them from chatbot/.
sys.path.insert(0, str(ROOT / "chatbot"))
