"""Failing fast: while a process group exists, a rank that ends badly takes the job down at
once rather than leaving the other ranks waiting in a collective forever.

- An uncaught exception: ``sys.excepthook`` prints the traceback as usual, says which rank
  failed, then calls MPI_Abort, which ends every rank (mpirun reports it and exits non-zero).
- A rank killed by a signal: mpirun itself ends the others.
- A rank whose program ends (or calls destroy_process_group) while others still expect it in
  a collective: it tells every peer how many collectives it completed; a peer waiting in a
  later one aborts (``Engine.complete``), naming the rank that left.
- A rank that stops calling collectives (a hang, a deadlock, calls in a different order): the
  others' collectives time out after the group's ``timeout`` and abort.
"""
import sys

__all__ = ["install", "uninstall"]

_previous_hook = None


def install(engine) -> None:
    """Abort the job on an uncaught exception in the main thread."""
    global _previous_hook
    if _previous_hook is None:
        _previous_hook = sys.excepthook

    def abort_on_uncaught(exc_type, exc, tb):
        _previous_hook(exc_type, exc, tb)
        if issubclass(exc_type, KeyboardInterrupt):
            message = "interrupted"
        else:
            message = f"uncaught {exc_type.__name__}"
        engine.abort(message)

    sys.excepthook = abort_on_uncaught


def uninstall() -> None:
    global _previous_hook
    if _previous_hook is not None:
        sys.excepthook = _previous_hook
        _previous_hook = None
