"""Expected failures: each carries one sentence for the user, so the CLI never shows a traceback for them."""


class EditionError(Exception):
    """A failure the user can act on; str() is the one line the CLI prints."""


class SettingsError(EditionError):
    pass


class FeedError(EditionError):
    pass


class IssueError(EditionError):
    pass


class VoiceError(EditionError):
    pass


class AudioError(EditionError):
    pass


class PublishError(EditionError):
    pass
