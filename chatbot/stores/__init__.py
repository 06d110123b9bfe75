"""Rasa tracker stores of the assistant (chatbot/endpoints*.yml name them)."""
