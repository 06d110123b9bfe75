"""Japanese names of intents for staff pages and the gate's explanations.

The catalogue (`soudan.catalogue.intent_label`, docs: CONTRACTS.md) names
every intent, retrieval intents included (`faq/nise_keisatsu`). Until it
exists in a checkout, the titles the bot itself shows for an intent (the
menu and follow-up buttons of soudan/answers.yml) name what they can, and
the id is the last resort.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from staffops.project import Project


def _catalogue() -> Callable[[str], str] | None:
    try:
        from soudan.catalogue import intent_label
    except ImportError:
        return None
    return intent_label


def _button_titles(project: Project) -> dict[str, str]:
    titles: dict[str, str] = {}
    for path in (project.answers, project.staff_answers):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        pairs = list(data.get("menu") or [])
        for spec in data.values():
            if isinstance(spec, dict):
                pairs += spec.get("buttons") or []
        for pair in pairs:
            if isinstance(pair, list | tuple) and len(pair) == 2:
                titles.setdefault(str(pair[1]), str(pair[0]))
    return titles


def labeller(root=None) -> Callable[[str], str]:
    """A function intent → its Japanese name (the catalogue's, else a button title, else the id)."""
    catalogue = _catalogue()
    if catalogue is not None:

        def from_catalogue(name: str) -> str:
            try:
                return catalogue(name) or name
            except Exception:  # a catalogue being edited must not break a staff page
                return name

        return from_catalogue
    try:
        titles = _button_titles(Project.at(root))
    except FileNotFoundError:
        titles = {}
    return lambda name: titles.get(name, name)
