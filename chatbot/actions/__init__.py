"""Custom actions. Thin classes: the answers come from soudan.knowledge."""
