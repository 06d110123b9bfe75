"""One fix to Rasa 3.6 itself, applied when Rasa loads our components.

Rasa 3.6 checks every answer of the action server with
`jsonschema.validate(result, spec)`. That call first checks the schema
itself against the JSON Schema meta-schema and builds a new validator: about
35 ms of CPU per action call on these machines, more than the whole NLU
pipeline, for a schema that never changes. Here the validator is built (and
the schema checked) once; every answer is still checked against the same
schema, and a bad answer raises the same `ValidationError` with the same
message. Later Rasa versions are left alone.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import rasa
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa 3.6's `RemoteAction._validate_action_result`, with the validator
    built once (what `jsonschema.validate` does, less the repeated set-up)."""
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> bool:
    """Put the cached check in place (Rasa 3.6 only); True when it is in place."""
    if not rasa.__version__.startswith("3.6."):
        return False
    RemoteAction._validate_action_result = validate_action_result
    return True
