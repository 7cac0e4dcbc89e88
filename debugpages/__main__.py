"""``python -m debugpages``: the same as the ``debugpages`` command."""

from .cli import main

raise SystemExit(main())
