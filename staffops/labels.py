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


def _staff_titles(project: Project) -> dict[str, str]:
    """The Japanese titles staff gave their topics (answers_staff.yml `label`) in
    this project tree, which may be newer than the one soudan was imported from."""
    try:
        data = yaml.safe_load(project.staff_answers.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {
        str(intent): str(spec["label"])
        for intent, spec in data.items()
        if isinstance(spec, dict) and spec.get("label")
    }


def labeller(root=None) -> Callable[[str], str]:
    """A function intent → its Japanese name (a staff topic's title, the
    catalogue's name, else a button title, else the id)."""
    try:
        project = Project.at(root)
    except FileNotFoundError:
        project = None
    staff = _staff_titles(project) if project else {}
    catalogue = _catalogue()
    if catalogue is not None:

        def from_catalogue(name: str) -> str:
            if name in staff:
                return staff[name]
            try:
                return catalogue(name) or name
            except Exception:  # a catalogue being edited must not break a staff page
                return name

        return from_catalogue
    titles = {**(_button_titles(project) if project else {}), **staff}
    return lambda name: titles.get(name, name)


def describer(root=None) -> Callable[[str], str]:
    """A function intent → one line saying what it is about, for staff choosing
    one: a catalogue entry's first line, else the first line of the intent's
    answer, rendered from the knowledge file; "" when there is none."""
    try:
        from soudan.catalogue import entry_of_intent
        from soudan.knowledge import render
    except ImportError:
        return lambda name: ""
    try:
        answers = _answers_of(Project.at(root))
    except FileNotFoundError:
        answers = {}

    def describe(name: str) -> str:
        try:
            found = entry_of_intent(name)
            text = found.description if found else (answers.get(name) or {}).get("text", "")
            line = render(str(text)).strip().splitlines()[0] if text else ""
        except Exception:  # an entry being edited must not break a staff page
            return ""
        return line if len(line) <= 60 else line[:59] + "…"

    return describe


def _answers_of(project: Project) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for path in (project.answers, project.staff_answers):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for intent, spec in data.items():
            if isinstance(spec, dict):
                merged.setdefault(str(intent), spec)
    return merged
