"""The Textual user interface of dminbox."""
