"""Error types whose messages are meant for the user.

Every layer raises a subclass of :class:`GenArtError` for bad input, so the UI and the command line can show the
message as is and know that nothing was changed.
"""


class GenArtError(Exception):
    """Base class: the message is a complete sentence a person can act on."""


class InputError(GenArtError):
    """A file, image, argument or tensor given to us is unusable."""


class ModelError(GenArtError):
    """A model folder, card or ONNX graph is missing, broken or inconsistent."""


class JobCancelled(GenArtError):
    """A job stopped because the user asked it to."""


class SaveError(GenArtError):
    """Writing a file failed; the previous file on disk is intact."""
