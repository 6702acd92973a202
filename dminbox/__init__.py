"""dminbox: a keyboard-driven terminal inbox for Mastodon direct messages."""

__version__ = "0.1.0"
