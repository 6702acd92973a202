"""Run dminbox as `python -m dminbox`."""

from dminbox.cli import main

raise SystemExit(main())
