"""Screens of the dminbox app."""
