"""Finds caller numbers, display words (非通知, 表示圏外 ...) and number
prefixes asked about (「0570から始まる番号」「+44」) as entities.

Rule-based on purpose: numbers are read by soudan.phone with the
`phonenumbers` library, which is more reliable than a learned extractor
for digits. Runs after JapaneseNormalizer, so full-width digits and dashes
are already folded.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, EXTRACTOR, TEXT
from rasa.shared.nlu.training_data.message import Message

from soudan.phone import as_entities, prefix_entities


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class CallerNumberExtractor(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CallerNumberExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload
            found = [
                {**e, EXTRACTOR: type(self).__name__}
                for e in [*as_entities(text), *prefix_entities(text)]
            ]
            if found:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
        return messages
