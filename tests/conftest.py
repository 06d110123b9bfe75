from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Rasa project's packages (actions, components) import as top-level
# modules, the way `rasa run` sees them from chatbot/.
sys.path.insert(0, str(ROOT / "chatbot"))


# The live tests (pytest -m live) share one action server and Rasa, with the
# action server's clock pinned to a Saturday evening (servers.SATURDAY_NIGHT),
# when every staffed line is closed: replies must say so and say what to do
# meanwhile. One start instead of one per module (a start loads the model).


@pytest.fixture(scope="session")
def rasa_url():
    import os

    from servers import SATURDAY_NIGHT, running_assistant

    model = os.environ.get("MODEL")
    if not model or not Path(model).is_file():
        pytest.fail("MODEL must name a trained model (run `make test-live`)")
    with running_assistant(model, ROOT / "results" / "live-logs", now=SATURDAY_NIGHT) as assistant:
        yield assistant.url
