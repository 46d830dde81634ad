"""audio-edition: the Alignment Newsletter, read aloud and published as a podcast."""

__version__ = "0.1.0"
