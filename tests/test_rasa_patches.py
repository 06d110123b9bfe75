"""The cached check of the action server's answers (chatbot/components/
rasa_patches.py) accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

import jsonschema
import pytest
from components import rasa_patches
from rasa.core.actions.action import RemoteAction

SPEC = RemoteAction.action_response_format_spec()

GOOD = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "topic", "value": "faq_unknown_number"},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [
            {
                "text": "知らない番号には出ないでください。\n03-6162-1111",
                "buttons": [{"title": "電話に出てしまった", "payload": "/faq_answered_suspicious"}],
                "custom": {"meta": {"topic": "faq_unknown_number", "review": None}},
            }
        ],
    },
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"text": "はい"}]},
]
BAD = [
    {"events": {"event": "slot"}, "responses": []},  # events not a list
    {"events": [{"name": "topic"}], "responses": []},  # an event without its kind
    {"events": [{"event": "slot", "name": 3}], "responses": []},  # a slot name not text
    {"events": [], "responses": ["not an object"]},
]


def test_loading_our_components_puts_the_cached_check_in_place():
    import components  # what Rasa imports when it loads one of our models

    assert components.rasa_patches is rasa_patches
    assert RemoteAction._validate_action_result is rasa_patches.validate_action_result


@pytest.mark.parametrize("result", GOOD)
def test_good_answers_pass_as_with_rasas_check(result):
    jsonschema.validate(result, SPEC)  # Rasa's own check accepts it too
    assert rasa_patches.validate_action_result(None, result) is True


@pytest.mark.parametrize("result", BAD)
def test_bad_answers_fail_as_with_rasas_check(result):
    with pytest.raises(jsonschema.ValidationError) as rasas:
        jsonschema.validate(result, SPEC)
    with pytest.raises(jsonschema.ValidationError) as ours:
        rasa_patches.validate_action_result(None, result)
    assert ours.value.message.startswith(rasas.value.message)
    assert "Failed to validate Action server response" in ours.value.message
