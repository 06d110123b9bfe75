"""Custom Rasa NLU components of the assistant.

Rasa imports this package whenever it loads a model of ours (`rasa run`,
`rasa test`, `rasa shell`), so the one fix to Rasa itself is applied here
(see rasa_patches.py).
"""

from components import rasa_patches

rasa_patches.apply()
