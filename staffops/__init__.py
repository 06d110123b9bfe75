"""Staff review-and-retraining tools: label messages, retrain, compare, promote, roll back.

Plain Python (pyyaml; redis for the inbox), usable from the command line
(`python -m staffops ...`, in the Rasa environment) and from the gateway's
admin pages (Python 3.11 environment). Nothing here imports Rasa: training,
validation and evaluation run the Rasa environment's programs as
subprocesses (`.venv/rasa/bin/rasa`, `scripts/evaluate.py`).

Every function takes `root`, the project directory it reads and writes
(default: this checkout), so that tests work on a copy.
"""

from staffops.errors import Refused, StaffOpsError, ValidationFailed
from staffops.project import Project

__all__ = ["Project", "Refused", "StaffOpsError", "ValidationFailed"]
