"""CIFAR download against a local HTTP server on 127.0.0.1 serving archives built here: a good
archive, a wrong checksum, a transfer cut short and archives with unsafe members. Each ends
with the right outcome and nothing left under root that looks like a dataset."""
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from local_server import server  # noqa: F401  (the fixture)
from minigrad.vision.datasets import CIFAR10, DatasetFormatError, DownloadError

FOLDER = "cifar-10-batches-py"
NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def _batch_bytes(name, rng, count=2):
    if name == "batches.meta":
        return pickle.dumps({"label_names": [f"c{i}" for i in range(10)]})
    return pickle.dumps({"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                         "labels": rng.integers(0, 10, count).tolist(), "batch_label": name})


def _add(tar, name, data=b"", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def make_archive(extra=(), skip=(), truncate=None, seed=0) -> bytes:
    """A cifar-10-python.tar.gz in the official layout with a few images per batch.

    ``extra`` adds (name, data, kind, link) members; ``skip`` leaves files out; ``truncate``
    cuts one batch file in half."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, FOLDER, kind=tarfile.DIRTYPE)
        for name in NAMES:
            data = _batch_bytes(name, rng)
            if name in skip:
                continue
            if name == truncate:
                data = data[: len(data) // 2]
            _add(tar, f"{FOLDER}/{name}", data)
        for member in extra:
            _add(tar, *member)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _assert_nothing_valid_left(root):
    leftovers = os.listdir(root) if os.path.isdir(root) else []
    assert leftovers == [], leftovers
    with pytest.raises(RuntimeError, match="Dataset not found"):
        CIFAR10(root)


def test_good_archive_downloads_once(server, tmp_path):
    base, routes, hits = server
    archive = make_archive()
    routes["/cifar.tar.gz"] = (archive, False)
    root = tmp_path / "data"
    dataset = CIFAR10(root, download=True, url=base + "/cifar.tar.gz", md5=md5(archive),
                      timeout=5)
    assert len(dataset) == 10 and dataset.data.shape == (10, 32, 32, 3)
    assert sorted(os.listdir(root)) == [FOLDER]  # no archive, part file or staging dir left
    assert sorted(os.listdir(root / FOLDER)) == sorted(NAMES)
    # Present now: download=True does not fetch again (the URL would 404).
    again = CIFAR10(root, train=False, download=True, url=base + "/gone", md5="0" * 32)
    assert len(again) == 2 and hits == ["/cifar.tar.gz"]


def test_url_and_md5_as_class_attributes(server, tmp_path):
    base, routes, _ = server
    archive = make_archive(seed=1)
    routes["/mirror/cifar-10-python.tar.gz"] = (archive, False)

    class Mirror(CIFAR10):
        url = base + "/mirror/cifar-10-python.tar.gz"
        tgz_md5 = md5(archive)

    assert len(Mirror(tmp_path, download=True, timeout=5)) == 10


def test_wrong_checksum_leaves_nothing(server, tmp_path):
    base, routes, _ = server
    archive = make_archive()
    routes["/cifar.tar.gz"] = (archive, False)
    with pytest.raises(DownloadError, match="MD5"):
        CIFAR10(tmp_path, download=True, url=base + "/cifar.tar.gz", md5="0" * 32, timeout=5)
    _assert_nothing_valid_left(tmp_path)


def test_transfer_cut_halfway_leaves_nothing(server, tmp_path):
    base, routes, _ = server
    archive = make_archive()
    routes["/cifar.tar.gz"] = (archive, True)
    with pytest.raises(DownloadError, match="cut short|failed"):
        CIFAR10(tmp_path, download=True, url=base + "/cifar.tar.gz", md5=md5(archive),
                timeout=5)
    _assert_nothing_valid_left(tmp_path)


def test_http_error_leaves_nothing(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DownloadError, match="404"):
        CIFAR10(tmp_path, download=True, url=base + "/missing.tar.gz", md5="0" * 32, timeout=5)
    _assert_nothing_valid_left(tmp_path)


@pytest.mark.parametrize("member, message", [
    ((f"{FOLDER}/../../evil.txt", b"owned"), "climbs out"),
    (("../evil.txt", b"owned"), "climbs out"),
    (("/tmp/minigrad-evil.txt", b"owned"), "absolute"),
    ((f"{FOLDER}/link", b"", tarfile.SYMTYPE, "../../evil.txt"), "link"),
    ((f"{FOLDER}/hard", b"", tarfile.LNKTYPE, "/etc/passwd"), "link"),
])
def test_archive_member_escaping_root_is_refused(server, tmp_path, member, message):
    base, routes, _ = server
    archive = make_archive(extra=[member])
    routes["/cifar.tar.gz"] = (archive, False)
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match=message):
        CIFAR10(root, download=True, url=base + "/cifar.tar.gz", md5=md5(archive), timeout=5)
    _assert_nothing_valid_left(root)
    assert sorted(os.listdir(tmp_path)) == ["root"]  # nothing landed next to root either
    assert not os.path.exists("/tmp/minigrad-evil.txt")


def test_incomplete_archive_is_not_moved_into_place(server, tmp_path):
    base, routes, _ = server
    for path, archive, error, message in [
            ("/a", make_archive(skip=("test_batch",)), DatasetFormatError, "missing test_batch"),
            ("/b", make_archive(truncate="data_batch_3"), Exception, "data_batch_3"),
            ("/c", make_archive(skip=NAMES), DatasetFormatError, "missing")]:
        routes[path] = (archive, False)
        with pytest.raises(error, match=message):
            CIFAR10(tmp_path, download=True, url=base + path, md5=md5(archive), timeout=5)
        _assert_nothing_valid_left(tmp_path)


def test_archive_without_the_folder(server, tmp_path):
    base, routes, _ = server
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, "something-else/readme.txt", b"hello")
    routes["/x"] = (buffer.getvalue(), False)
    with pytest.raises(DownloadError, match="holds no folder"):
        CIFAR10(tmp_path, download=True, url=base + "/x", md5=md5(buffer.getvalue()),
                timeout=5)
    _assert_nothing_valid_left(tmp_path)


def test_existing_broken_folder_is_not_replaced(server, tmp_path):
    base, routes, hits = server
    (tmp_path / FOLDER).mkdir()
    with pytest.raises(DatasetFormatError, match="incomplete"):
        CIFAR10(tmp_path, download=True, url=base + "/cifar.tar.gz", md5="0" * 32)
    assert hits == []


def test_binary_format_download(server, tmp_path):
    base, routes, _ = server
    rng = np.random.default_rng(3)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            records = rng.integers(0, 256, (2, 3073), dtype=np.uint8)
            records[:, 0] %= 10
            _add(tar, f"cifar-10-batches-bin/{name}", records.tobytes())
        names = b"\n".join(b"c%d" % i for i in range(10))
        _add(tar, "cifar-10-batches-bin/batches.meta.txt", names)
    routes["/bin.tar.gz"] = (buffer.getvalue(), False)
    dataset = CIFAR10(tmp_path, download=True, format="binary", url=base + "/bin.tar.gz",
                      md5=md5(buffer.getvalue()), timeout=5)
    assert dataset.format == "binary" and len(dataset) == 10
    assert os.listdir(tmp_path) == ["cifar-10-batches-bin"]
