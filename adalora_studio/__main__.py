"""``python -m adalora_studio`` and the ``adalora-studio`` launcher: the window, or a headless subcommand."""

from __future__ import annotations

import sys
import time

PROCESS_START = time.perf_counter()


def main() -> None:
    """Console entry point: no subcommand opens the app; subcommands run headless."""
    from .cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


def main_gui() -> None:
    """GUI entry point (no console window on Windows): always opens the app."""
    from .cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
