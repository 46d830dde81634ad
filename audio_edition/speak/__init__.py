"""Speech: a Script's segments become audio, sentence by sentence, through the profile's voices and the cache.

plan.py says what each segment will say and its cache key; synthesis.py speaks it; normalize.py and
lexicon.py turn written text into what is said; voice.py reads a profile of engines (piper.py,
coqui.py); cache.py keeps what was spoken.
"""

from .cache import Speech, SpeechCache
from .lexicon import Lexicon
from .plan import Planned, Sentence, plan, spoken_sentences, spoken_text
from .synthesis import Spoken, synthesize, tune
from .voice import Profile, load_profile

__all__ = [
    "Lexicon", "Planned", "Profile", "Sentence", "Speech", "SpeechCache", "Spoken", "load_profile", "plan",
    "spoken_sentences", "spoken_text", "synthesize", "tune",
]
