"""The installed `samen` command.

Samen's packages are installed under one distinct name (``site-packages/samen/bot``,
``samen/commands``, …; see pyproject.toml), so that no other program in the environment sees a
package called ``bot``, ``commands``, ``adapters``, ``storage`` or ``scheduler`` from Samen, and
no other distribution's package of such a name can take the place of Samen's. Only in Samen's
own process is that folder put first on the import path, so the code keeps its short names.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The folder that holds bot/, commands/, …: site-packages/samen when installed, the checkout
# when installed in editable mode.
PACKAGES_HOME = Path(__file__).resolve().parent.parent


def use_own_packages() -> None:
    """Put Samen's folder first on this process's import path (once)."""
    home = str(PACKAGES_HOME)
    if home in sys.path:
        sys.path.remove(home)
    sys.path.insert(0, home)


def main() -> int:
    use_own_packages()
    from bot.cli import main as cli_main

    return cli_main()
