"""A crime in progress is `crime_in_progress`, whatever the model read.

Rule-based on purpose (soudan.urgency): the police's urgent situations are
few and must never be missed, and a rule is checked after every classifier,
so a message inside the eligibility form or one the model was unsure of
still gets the intent whose rules lead with 110.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from soudan import urgency


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UrgentOverride(GraphComponent):
    """A crime in progress (soudan.urgency) is `crime_in_progress`, with certainty.

    Runs after the classifiers and the fallback: whatever the model read
    (a fraud type, a fallback, an answer inside the eligibility form), a
    message saying someone is at the door or the person is at the ATM gets
    the intent whose rules lead with 110 in any turn.
    """

    INTENT_NAME = "crime_in_progress"

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UrgentOverride:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/") or not urgency.detect(text):
                continue
            urgent = {"name": self.INTENT_NAME, "confidence": 1.0}
            ranking = [
                r
                for r in message.get(INTENT_RANKING_KEY) or []
                if r.get("name") != self.INTENT_NAME
            ]
            message.set(INTENT, urgent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [urgent, *ranking], add_to_output=True)
        return messages
