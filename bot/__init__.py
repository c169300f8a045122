"""Samen's kernel: configuration, command declarations, dispatch, replies, i18n, CLI."""

__version__ = "0.1.0"
