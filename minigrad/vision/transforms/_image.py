"""The kinds of image the transforms take, and the array layout their math works on.

An image is a PIL image (Pillow is optional: the ``vision`` extra), a minigrad Tensor of
shape (..., C, H, W) or (H, W), as torchvision's tensors, or a numpy array stored as an image
is, (H, W, C) or (H, W) (what the datasets give when Pillow is not installed). The math on
Tensors and arrays runs on numpy arrays of shape (..., C, H, W): ``as_chw`` gives that view
of a Tensor or array and a function that turns a result back into the same kind and layout.
"""
import numpy as np

from minigrad.tensor import Tensor

__all__ = ["is_pil_image", "pil_image_module", "as_chw", "batch_as_chw", "get_dimensions",
           "unwrap", "unwrap_batch"]


def is_pil_image(image) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(image, Image.Image)


def pil_image_module(what: str):
    """``PIL.Image``, or an ImportError that names the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow, which comes with the 'vision' extra: "
                          f"pip install 'minigrad[vision]'") from None
    return Image


def _type_error(image):
    return TypeError(f"img should be PIL Image, Tensor or ndarray. Got {type(image)}")


def as_chw(image):
    """(array of shape (..., C, H, W), back) for a Tensor or a numpy image; ``back(result)``
    gives a result of the same kind and layout (a Tensor, or an (H, W[, C]) array)."""
    if isinstance(image, Tensor):
        if image.array.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        if image.array.ndim == 2:
            return image.array[None], lambda out: Tensor(np.ascontiguousarray(out[0]))
        return image.array, lambda out: Tensor(np.ascontiguousarray(out))
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            return image[None], lambda out: np.ascontiguousarray(out[0])
        if image.ndim == 3:
            return (np.moveaxis(image, -1, 0),
                    lambda out: np.ascontiguousarray(np.moveaxis(out, 0, -1)))
        raise ValueError(f"an ndarray image should be (H, W) or (H, W, C), got shape "
                         f"{image.shape}")
    raise _type_error(image)


def batch_as_chw(images):
    """(array (N, C, H, W), back) for a batch: a Tensor (N, C, H, W) or numpy (N, H, W[, C])."""
    if isinstance(images, Tensor):
        return images.array, lambda out: Tensor(np.ascontiguousarray(out))
    if isinstance(images, np.ndarray) and images.ndim == 3:
        return images[:, None], lambda out: np.ascontiguousarray(out[:, 0])
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return (np.moveaxis(images, -1, 1),
                lambda out: np.ascontiguousarray(np.moveaxis(out, 1, -1)))
    raise TypeError(f"a batch should be a Tensor (N, C, H, W) or a numpy array (N, H, W[, C]). "
                    f"Got {type(images)}")


def get_dimensions(image) -> list:
    """[channels, height, width] of an image, as torchvision's ``get_dimensions``."""
    if is_pil_image(image):
        return [len(image.getbands()), image.height, image.width]
    array, _ = as_chw(image)
    return list(array.shape[-3:])


def unwrap(image):
    """(array, height axis, rewrap) for a Tensor, a numpy array or a PIL image: the layout as
    stored (a PIL image as its HWC array), for transforms that only move pixels."""
    if isinstance(image, Tensor):
        return image.array, image.array.ndim - 2, Tensor
    if isinstance(image, np.ndarray):
        return image, 0, lambda array: array
    if is_pil_image(image):
        from PIL import Image
        return np.asarray(image), 0, Image.fromarray
    raise _type_error(image)


def unwrap_batch(images):
    """(array, height axis, rewrap) for a batch: Tensor (N, C, H, W) or numpy (N, H, W[, C])."""
    if isinstance(images, Tensor):
        return images.array, images.array.ndim - 2, Tensor
    if isinstance(images, np.ndarray):
        return images, 1, lambda array: array
    raise TypeError(f"a batch should be a Tensor or a numpy array. Got {type(images)}")
