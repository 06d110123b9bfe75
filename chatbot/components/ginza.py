"""GiNZA for Rasa with only what the pipeline reads: Sudachi tokens and lemmas,
and the static word vectors.

Rasa's SpacyNLP loads ja_ginza with every pipe but the parser, so each
message also went through tok2vec, NER, the morphologizer and the bunsetu
recogniser, about 13 ms of CPU a message on these machines, for features no
component here uses (tokens, lemmas and `Doc.vector` come from the Sudachi
tokenizer and the vectors table alone: checked identical in
tests/test_components.py). Loading with those pipes excluded makes parsing
about 0.2 ms.

It is registered like SpacyNLP (`model_from` names this class, so that its
own parsing gets the model it loaded); SpacyTokenizer and SpacyFeaturizer
work on the documents it makes, as before.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

# ja_ginza's pipes that produce nothing the NLU pipeline reads.
UNUSED_PIPES = [
    "tok2vec",
    "parser",
    "ner",
    "morphologizer",
    "compound_splitter",
    "bunsetu_recognizer",
]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="GinzaNLP",
)
class GinzaNLP(SpacyNLP):
    @staticmethod
    def load_model(spacy_model_name: str) -> SpacyModel:
        import spacy

        try:
            language = spacy.load(spacy_model_name, exclude=UNUSED_PIPES)
        except OSError as exc:
            raise InvalidModelError(
                f"{spacy_model_name} is not installed: run `make install`"
            ) from exc
        return SpacyModel(model=language, model_name=spacy_model_name)
