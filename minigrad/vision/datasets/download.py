"""Fetch and unpack a dataset archive so that a failure never leaves a folder that looks valid.

``download_and_extract`` works in four steps, each inside ``root``:

1. stream the URL into a hidden temporary file (``.<archive>.XXXX.part``), hashing as it goes,
   with a tqdm bar when tqdm is installed; a transfer shorter than its Content-Length fails;
2. compare the MD5 with the expected one before anything is opened;
3. check every member of the tar archive (no absolute path, no ``..``, no link or device:
   only regular files and directories can land, and only under the extraction directory), then
   extract into a hidden temporary directory;
4. validate the extracted folder and rename it into place, one atomic ``os.rename``.

The temporary file and directory are removed on every path, success or failure.
"""
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request

__all__ = ["DownloadError", "download_and_extract", "download_file", "extract_archive",
           "file_md5"]

_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download or extraction failed; nothing of it was left in place."""


def file_md5(path: str, chunk_size: int = _CHUNK) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_bar(total, description, enabled):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024,
                disable=not enabled, leave=False)


def download_file(url: str, directory: str, name: str, md5: str | None, *,
                  timeout: float = 60.0, progress: bool = True) -> str:
    """Stream ``url`` into a temporary file in ``directory``; return its path once checked.

    The caller owns (and must remove) the returned file. Raises DownloadError for a network
    error, a transfer shorter than announced, or an MD5 other than ``md5``.
    """
    fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as reply:
            length = reply.headers.get("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            bar = _progress_bar(expected, name, progress)
            try:
                while chunk := reply.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if expected is not None and received != expected:
            raise DownloadError(f"download of {url} was cut short: received {received} of "
                                f"{expected} bytes")
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise DownloadError(f"download of {url} has MD5 {digest.hexdigest()}, expected "
                                f"{md5}: the file is corrupt or not the expected archive")
        return part
    except (OSError, ValueError, http.client.HTTPException) as error:
        os.unlink(part)
        raise DownloadError(f"download of {url} failed: {error}") from error
    except BaseException:  # DownloadError, KeyboardInterrupt: nothing may stay behind
        os.unlink(part)
        raise


def _check_member(member: tarfile.TarInfo, destination: str) -> None:
    """Refuse a member that is not a plain file or directory, or whose path could leave
    ``destination`` (absolute, with a drive, or with a ``..`` component)."""
    name = member.name
    if not (member.isfile() or member.isdir()):
        raise DownloadError(f"archive member {name!r} is a link or special file: refused")
    path = name.replace("\\", "/")
    if path.startswith("/") or os.path.isabs(name) or (len(path) > 1 and path[1] == ":"):
        raise DownloadError(f"archive member {name!r} has an absolute path: refused")
    if ".." in path.split("/"):
        raise DownloadError(f"archive member {name!r} climbs out of the target folder: refused")
    root = os.path.realpath(destination)
    if os.path.commonpath([os.path.realpath(os.path.join(root, path)), root]) != root:
        raise DownloadError(f"archive member {name!r} would land outside {destination}: refused")


def extract_archive(archive: str, destination: str) -> None:
    """Extract the tar archive ``archive`` (any compression) into ``destination``.

    Every member is checked before the first one is written: one unsafe member refuses the
    whole archive.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, destination)
            tar.extractall(destination, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DownloadError(f"cannot extract {archive}: {error}") from error


def download_and_extract(url: str, root: str, archive_name: str, folder: str,
                         md5: str | None, validate, *, timeout: float = 60.0,
                         progress: bool = True) -> None:
    """Download ``url``, check ``md5``, extract and move ``folder`` into ``root`` atomically.

    ``validate(path)`` is called on the extracted folder before it is moved into place and
    must raise if the folder is incomplete. ``root/folder`` must not exist yet.
    """
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, folder)
    if os.path.lexists(final):
        raise DownloadError(f"{final} already exists: remove it to download again")
    part = download_file(url, root, archive_name, md5, timeout=timeout, progress=progress)
    try:
        staging = tempfile.mkdtemp(prefix=f".{folder}.", suffix=".extracting", dir=root)
        try:
            extract_archive(part, staging)
            extracted = os.path.join(staging, folder)
            if not os.path.isdir(extracted):
                raise DownloadError(f"archive from {url} holds no folder {folder!r}")
            validate(extracted)
            os.rename(extracted, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        os.unlink(part)
