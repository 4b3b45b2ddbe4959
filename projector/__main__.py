"""The projector as a process of its own:

    python -m projector rebuild    # the index again from the tracker store
    python -m projector catch-up   # apply what the event broker holds now
    python -m projector follow     # follow the event broker (then run the console with --no-index)

The same as `python -m console index ACTION`. docs/console.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from clinic import settings
from projector import commands


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m projector",
        description="The console's conversation index, from the tracker store / the broker.",
    )
    parser.add_argument("action", choices=commands.ACTIONS)
    args = parser.parse_args(argv)
    try:
        return commands.run(args.action)
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
