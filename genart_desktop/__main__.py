import sys

from genart_desktop.launcher import main

sys.exit(main())
