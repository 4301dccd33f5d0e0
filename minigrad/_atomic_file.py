"""Replace a file atomically, and reclaim what a writer killed mid-write left behind.

The bytes go to a hidden temporary file in the target's directory,
``.<name>.<writer's pid>-<12 hex digits>.tmp``, which is flushed, fsynced and renamed over the
target (``os.replace``); then the directory is fsynced. A crash at any point leaves the
previous file as it was, but a process killed before the rename (SIGKILL, power cut) leaves
its temporary file, which nothing else would ever remove. So each write first removes the
temporary files of earlier writes to the same target whose writer is gone: its process no
longer exists, and no process holds the lock that every writer keeps on its temporary file
while writing (flock: a writer on another machine sharing the folder also keeps its file).
On systems without ``fcntl`` (Windows) nothing is reclaimed.
"""
import contextlib
import os
import secrets

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["write_atomically", "reclaim_abandoned_temporaries"]

_TOKEN_DIGITS = 12


def _temporary_name(target_name: str) -> str:
    return f".{target_name}.{os.getpid()}-{secrets.token_hex(_TOKEN_DIGITS // 2)}.tmp"


def _writer_pid(name: str, target_name: str):
    """The writer's pid if ``name`` is a temporary file of ``target_name``, else None."""
    prefix = f".{target_name}."
    if not (name.startswith(prefix) and name.endswith(".tmp")):
        return None
    pid, _, token = name[len(prefix):-len(".tmp")].partition("-")
    if not (pid.isdigit() and len(token) == _TOKEN_DIGITS
            and all(c in "0123456789abcdef" for c in token)):
        return None
    return int(pid)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, and belongs to someone else
        return True
    return True


def _nobody_holds(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock


def reclaim_abandoned_temporaries(path: str) -> list:
    """Remove the temporary files that killed writes to ``path`` left; returns their paths."""
    if fcntl is None:
        return []
    directory = os.path.dirname(os.path.abspath(path))
    target_name = os.path.basename(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        pid = _writer_pid(name, target_name)
        if pid is None or _process_exists(pid):
            continue
        candidate = os.path.join(directory, name)
        if _nobody_holds(candidate):
            with contextlib.suppress(OSError):
                os.unlink(candidate)
                removed.append(candidate)
    return removed


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory handles (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: str, payload: bytes, write=None) -> None:
    """Replace ``path`` by ``payload``; ``write(f, payload)`` does the writing (default
    ``f.write``: a seam for tests that simulate a crash mid-write)."""
    reclaim_abandoned_temporaries(path)
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, _temporary_name(os.path.basename(path)))
    # os.open with 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when the file is closed, or we die
        with os.fdopen(fd, "wb") as f:
            (write or _write)(f, payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _write(f, payload: bytes) -> None:
    f.write(payload)
