"""`python -m server …` is `custos-server …`."""

from server.cli import main

raise SystemExit(main())
