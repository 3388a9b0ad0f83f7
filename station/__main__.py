"""``python -m station`` runs the particle-station command."""

import sys

from station.cli import main

sys.exit(main())
