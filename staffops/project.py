"""Where things are in a project tree (the checkout, or a copy of it in tests)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# This checkout: staffops/ sits at its top level.
REPO = Path(__file__).resolve().parent.parent


def default_root() -> Path:
    """$STAFFOPS_ROOT, else this checkout."""
    return Path(os.environ.get("STAFFOPS_ROOT") or REPO).resolve()


def _first_file(*candidates: Path | str | None) -> Path | None:
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@dataclass(frozen=True)
class Project:
    root: Path
    # The records' database (staffops.records); None: $DATABASE_URL, else the
    # project's SQLite file. The gateway passes its own setting here.
    database_url: str | None = None

    @classmethod
    def at(cls, root: Path | str | None = None, database_url: str | None = None) -> Project:
        if isinstance(root, Project):
            return root
        path = Path(root).resolve() if root else default_root()
        if not (path / "chatbot" / "domain.yml").is_file():
            raise FileNotFoundError(f"{path} is not the project (no chatbot/domain.yml)")
        return cls(path, database_url)

    # -- the Rasa project
    @property
    def chatbot(self) -> Path:
        return self.root / "chatbot"

    @property
    def domain(self) -> Path:
        return self.chatbot / "domain.yml"

    @property
    def nlu_dir(self) -> Path:
        return self.chatbot / "data" / "nlu"

    @property
    def staff_nlu(self) -> Path:
        return self.nlu_dir / "staff.yml"

    @property
    def staff_rules(self) -> Path:
        return self.chatbot / "data" / "rules" / "staff.yml"

    @property
    def heldout(self) -> Path:
        return self.chatbot / "heldout" / "nlu.yml"

    @property
    def blind_dir(self) -> Path:
        """The blind set (the landscape issue's): YAML files of {text, intent} items."""
        return self.chatbot / "blind"

    def set_name(self, path: Path | str) -> str:
        """A labelled set's name: its path inside the project (as scripts/evaluate.py names it)."""
        path = Path(path).resolve()
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def eval_sets(self, given=None) -> list[Path]:
        """The labelled sets models are judged on, that exist: `given` (files or folders,
        relative to the project or absolute), else the held-out set and every YAML file
        of chatbot/blind/. Missing ones are skipped."""
        wanted = [Path(p) for p in given] if given else [self.heldout, self.blind_dir]
        found: list[Path] = []
        for path in wanted:
            path = path if path.is_absolute() else self.root / path
            if path.is_dir():
                found += sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml"))
            elif path.is_file():
                found.append(path)
        unique: list[Path] = []
        for path in found:
            if path.resolve() not in unique:
                unique.append(path.resolve())
        return unique

    @property
    def noise_profile(self) -> Path:
        """The measured seed noise (`python -m staffops noise`); this checkout's when the
        project has none (a copy in tests)."""
        own = self.root / "staffops" / "seed_noise.json"
        return own if own.is_file() else REPO / "staffops" / "seed_noise.json"

    # -- soudan
    @property
    def knowledge(self) -> Path:
        return self.root / "soudan" / "knowledge.yml"

    @property
    def answers(self) -> Path:
        return self.root / "soudan" / "answers.yml"

    @property
    def staff_answers(self) -> Path:
        return self.root / "soudan" / "answers_staff.yml"

    # -- staff records
    @property
    def staff_dir(self) -> Path:
        return self.chatbot / "staff"

    def records_url(self, override: str | None = None) -> str:
        """The records' database URL (staffops.records.database.url_for)."""
        from staffops.records.database import url_for

        return url_for(self.root, override or self.database_url)

    @property
    def records(self):
        """The engine to the records (inbox, feedback, audit log, dead letters, turns),
        migrated to the head revision on first use in this process."""
        from staffops.records.database import connect

        return connect(self.records_url())

    @property
    def lock_file(self) -> Path:
        return self.staff_dir / ".lock"

    # -- models and results (not committed)
    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def candidates(self) -> Path:
        return self.models / "candidates"

    @property
    def live_json(self) -> Path:
        return self.models / "live.json"

    @property
    def train_lock(self) -> Path:
        return self.candidates / ".train.lock"

    @property
    def jobs_dir(self) -> Path:
        return self.root / "results" / "staff-jobs"

    @property
    def eval_dir(self) -> Path:
        return self.root / "results" / "staff-eval"

    @property
    def evaluate_script(self) -> Path:
        return self.root / "scripts" / "evaluate.py"

    # -- the Rasa environment
    @property
    def rasa_bin(self) -> Path:
        """$STAFFOPS_RASA_BIN, the project's .venv/rasa, this checkout's, or `rasa` on PATH."""
        found = _first_file(
            os.environ.get("STAFFOPS_RASA_BIN"),
            self.root / ".venv" / "rasa" / "bin" / "rasa",
            REPO / ".venv" / "rasa" / "bin" / "rasa",
            Path(sys.executable).parent / "rasa",
            shutil.which("rasa"),
        )
        if found is None:
            raise FileNotFoundError("no Rasa found: run `make install` (it builds .venv/rasa)")
        return found

    @property
    def rasa_python(self) -> Path:
        """The Python of the Rasa environment (runs scripts/evaluate.py)."""
        return self.rasa_bin.parent / "python"
