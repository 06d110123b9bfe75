"""Domain logic of the consultation assistant.

Plain Python with no Rasa or FastAPI import, so that the Rasa action server
(Python 3.10) and the gateway (Python 3.11) share it and tests call it
directly.
"""
