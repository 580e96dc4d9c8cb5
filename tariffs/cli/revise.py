"""Placeholder: this command module is being written; it registers no command yet."""

COMMANDS: list = []
