"""minigrad.vision.utils: make_grid against a grid tiled by hand in torch (torchvision's
layout: padding around and between cells, nrow cells a row, one channel made three,
normalisation per batch or per image), save_image read back through Pillow."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from minigrad.tensor import Tensor
from minigrad.vision.utils import make_grid, save_image


def _torch_grid(batch, nrow=8, padding=2, pad_value=0.0, normalize=False, value_range=None,
                scale_each=False):
    t = torch.from_numpy(batch).clone()
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1).clone()
    if normalize:
        for image in (t if scale_each else [t]):
            low, high = value_range if value_range is not None else (image.min().item(),
                                                                      image.max().item())
            image.clamp_(low, high).sub_(low).div_(max(high - low, 1e-5))
    count, channels, h, w = t.shape
    columns = min(nrow, count)
    rows = -(-count // columns)
    grid = torch.full((channels, rows * (h + padding) + padding,
                       columns * (w + padding) + padding), pad_value, dtype=t.dtype)
    for k in range(count):
        top = (k // columns) * (h + padding) + padding
        left = (k % columns) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = t[k]
    return grid.numpy()


@pytest.mark.parametrize("count, channels, kwargs", [
    (10, 3, {}), (5, 1, {"nrow": 2, "padding": 1, "pad_value": 0.5}),
    (7, 3, {"nrow": 3, "normalize": True}), (4, 3, {"normalize": True, "scale_each": True}),
    (6, 3, {"normalize": True, "value_range": (0.2, 0.6), "padding": 0}),
])
def test_make_grid_matches_a_grid_tiled_by_hand(count, channels, kwargs):
    batch = np.random.default_rng(count).normal(0.5, 0.4, (count, channels, 5, 6))
    batch = batch.astype(np.float32)
    out = make_grid(Tensor(batch), **kwargs)
    np.testing.assert_allclose(out.array, _torch_grid(batch, **kwargs), rtol=1e-6, atol=1e-7)
    listed = make_grid([Tensor(image) for image in batch], **kwargs)
    np.testing.assert_array_equal(listed.array, out.array)


def test_make_grid_single_images_and_errors():
    image = np.random.default_rng(0).random((1, 4, 5)).astype(np.float32)
    out = make_grid(Tensor(image))
    assert out.shape == (3, 4, 5)  # one image: no padding, grey made RGB
    np.testing.assert_array_equal(out.array, np.repeat(image, 3, axis=0))
    assert make_grid(Tensor(image[0])).shape == (3, 4, 5)
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(image)
    with pytest.raises(TypeError, match="list containing"):
        make_grid([Tensor(image), image])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(Tensor(image), normalize=True, value_range=[0, 1])


def test_save_image_writes_the_rounded_grid(tmp_path):
    batch = np.random.default_rng(1).random((3, 3, 4, 4)).astype(np.float32)
    batch[0, 0, 0, 0], batch[0, 1, 0, 0] = 1.4, -0.2  # clamped
    save_image(Tensor(batch), tmp_path / "grid.png", nrow=2)
    written = np.asarray(Image.open(tmp_path / "grid.png"))
    expected = np.clip(_torch_grid(batch, nrow=2) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(written, expected.transpose(1, 2, 0))
    buffer = io.BytesIO()
    save_image(Tensor(batch), buffer, format="PNG")
    assert buffer.getvalue()[:4] == b"\x89PNG"
