"""`python -m audio_edition` is the same as the `audio-edition` command."""

import sys

from .cli import main

sys.exit(main())
