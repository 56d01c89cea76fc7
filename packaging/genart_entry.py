"""The frozen app's entry point: the same ``genart`` launcher as the installed command."""

import sys

from genart_desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
