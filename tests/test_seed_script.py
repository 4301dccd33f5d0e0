"""The user's tutorial script runs on minigrad with only its imports changed.

The script downloads CIFAR-10 (download=True); here the download comes from a local HTTP
server on 127.0.0.1 serving a small archive in the real format (python pickles of
uint8 (N, 3072) arrays with byte-string keys), 8 test images, so its 20 epochs take seconds.
"""
import hashlib
import http.server
import io
import pickle
import re
import runpy
import tarfile
import threading
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad.vision.datasets import CIFAR10

SCRIPT = Path(__file__).parent / "seed" / "tutorial_cnn.py"


def _batch(rng, count, label):
    return {
        b"batch_label": label.encode(),
        b"labels": [int(x) for x in rng.integers(0, 10, count)],
        b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(count)],
    }


def _cifar10_archive(count=8) -> bytes:
    rng = np.random.default_rng(0)
    members = {f"cifar-10-batches-py/data_batch_{i}": _batch(rng, count, f"training batch {i}")
               for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = _batch(rng, count, "testing batch 1")
    members["cifar-10-batches-py/batches.meta"] = {
        b"label_names": [name.encode() for name in ["airplane", "automobile", "bird", "cat",
                                                     "deer", "dog", "frog", "horse", "ship",
                                                     "truck"]],
        b"num_cases_per_batch": count,
        b"num_vis": 3072,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            payload = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


@pytest.fixture
def cifar_server():
    payload = _cifar10_archive()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz", \
            hashlib.md5(payload).hexdigest()
    finally:
        server.shutdown()
        server.server_close()


def test_tutorial_script_runs_with_only_imports_changed(cifar_server, tmp_path, monkeypatch):
    url, md5 = cifar_server
    monkeypatch.setattr(CIFAR10, "url", url)
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # the script downloads to ../torchvision_dataset
    minigrad.manual_seed(0)

    output = io.StringIO()
    with redirect_stdout(output):
        runpy.run_path(str(SCRIPT), run_name="__main__")

    lines = output.getvalue().strip().splitlines()
    assert len(lines) == 20, output.getvalue()
    losses = [float(re.match(r"tensor\(([-0-9.e]+), grad_fn=<AddBackward0>\)", line).group(1))
              for line in lines]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses  # 20 epochs of SGD on 8 images lower the loss
    assert (tmp_path / "torchvision_dataset" / "cifar-10-batches-py" / "test_batch").exists()
