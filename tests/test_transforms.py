"""The torchvision transforms added beside ToTensor/Normalize/RandomCrop: Resize, CenterCrop,
Pad, RandomResizedCrop, RandomRotation, ColorJitter, Grayscale, RandomErasing, ToPILImage.

torchvision is not installable here, so each Tensor result is held to torch computing what
torchvision's tensor path computes (interpolate, grid_sample on torchvision's sampling grid,
the colour blends), written below in torch; hue is also held to Python's colorsys, rotations
by quarter turns to np.rot90; each PIL result to the Pillow call torchvision makes."""
import colorsys
import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance, ImageOps

import minigrad
from minigrad.tensor import Tensor
from minigrad.vision import transforms as T
from minigrad.vision.transforms import functional as F

FLOATS = [np.float32, np.float64]
TOLERANCE = {np.float32: 2e-6, np.float64: 1e-14}


def _image(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random(shape).astype(dtype)


def _assert_uint8_close(mine, reference):
    """uint8 results computed in float32 and rounded: equal, but for the odd pixel one away
    (a different summation order on the other side of a .5)."""
    difference = np.abs(mine.astype(np.int64) - reference.astype(np.int64))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99


# ---------------------------------------------------------------------------- Resize

def _torch_resize(x: np.ndarray, size, mode, antialias):
    """torchvision's tensor resize: interpolate in float (uint8 through float32, rounded)."""
    t = torch.from_numpy(x)
    floating = t.is_floating_point()
    t = t if floating else t.float()
    corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    out = torch.nn.functional.interpolate(
        t, size=size, mode=mode, antialias=antialias and mode in ("bilinear", "bicubic"),
        **corners)
    if not floating:
        if mode == "bicubic":
            out = out.clamp(0, 255)
        out = out.round().to(torch.uint8)
    return out.numpy()


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("shapes", [((13, 17), (5, 29)), ((9, 40), (40, 9)),
                                    ((64, 48), (23, 31))])
@pytest.mark.parametrize("dtype", FLOATS + [np.uint8])
def test_resize_tensor_matches_torch_interpolate(mode, antialias, shapes, dtype):
    (h, w), size = shapes
    x = _image((2, 3, h, w), dtype)
    mine = T.Resize(size, T.InterpolationMode(mode), antialias=antialias)(Tensor(x))
    reference = _torch_resize(x, size, mode, antialias)
    assert isinstance(mine, Tensor) and mine.dtype == dtype and mine.shape == reference.shape
    if dtype == np.uint8:
        _assert_uint8_close(mine.array, reference)
    else:
        np.testing.assert_allclose(mine.array, reference, rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("shape, size, max_size, expected", [
    ((20, 30), 10, None, (10, 15)),
    ((30, 20), 10, None, (15, 10)),
    ((21, 10), [7], None, (14, 7)),
    ((20, 30), (8, 9), None, (8, 9)),
    ((20, 60), 10, 24, (8, 24)),
    ((20, 30), 10, 100, (10, 15)),
])
def test_resize_output_size_rules(shape, size, max_size, expected):
    out = T.Resize(size, max_size=max_size)(Tensor(_image((3,) + shape)))
    assert out.shape == (3,) + expected


def test_resize_pil_numpy_and_errors():
    rgb = _image((20, 30, 3), np.uint8)
    pil = Image.fromarray(rgb)
    for mode, pil_filter in [(T.InterpolationMode.BILINEAR, Image.BILINEAR),
                             (T.InterpolationMode.BICUBIC, Image.BICUBIC),
                             (T.InterpolationMode.LANCZOS, Image.LANCZOS),
                             (Image.NEAREST, Image.NEAREST)]:
        out = T.Resize((11, 17), mode)(pil)
        assert isinstance(out, Image.Image)
        np.testing.assert_array_equal(np.asarray(out),
                                      np.asarray(pil.resize((17, 11), pil_filter)))
    # an (H, W, C) array goes through the tensor arithmetic, in its own layout
    as_tensor = T.Resize((11, 17))(Tensor(np.ascontiguousarray(rgb.transpose(2, 0, 1))))
    np.testing.assert_array_equal(T.Resize((11, 17))(rgb), as_tensor.array.transpose(1, 2, 0))
    same = Tensor(_image((3, 8, 8)))
    assert T.Resize(8)(same) is same  # torchvision returns the image itself
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(same, (4, 5), max_size=9)
    with pytest.raises(ValueError, match="must be strictly greater"):
        F.resize(same, 4, max_size=4)
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        T.Resize(4, T.InterpolationMode.BOX)(same)
    with pytest.raises(TypeError, match="InterpolationMode"):
        T.Resize(4, "bilinear")


# ---------------------------------------------------------------------------- CenterCrop, Pad

@pytest.mark.parametrize("shape, size, top_left", [
    ((10, 11), 4, (3, 4)),    # offsets round((10-4)/2)=3, round((11-4)/2)=round(3.5)=4
    ((9, 8), (4, 3), (2, 2)),  # round(2.5)=2 (half to even), round(2.5)=2
    ((7, 7), 7, (0, 0)),
])
def test_center_crop_offsets(shape, size, top_left):
    x = _image((3,) + shape)
    out = T.CenterCrop(size)(Tensor(x))
    crop_h, crop_w = (size, size) if isinstance(size, int) else size
    top, left = top_left
    np.testing.assert_array_equal(out.array, x[:, top:top + crop_h, left:left + crop_w])
    pil = T.CenterCrop(size)(Image.fromarray(_image(shape + (3,), np.uint8)))
    np.testing.assert_array_equal(
        np.asarray(pil), _image(shape + (3,), np.uint8)[top:top + crop_h, left:left + crop_w])


def test_center_crop_larger_than_the_image_pads_with_zeros():
    x = _image((2, 3, 4))
    out = T.CenterCrop((6, 7))(Tensor(x)).array
    # padding (left, top, right, bottom) = (3 // 2, 3 // 2, 4 // 2, 4 // 2) = (1, 1, 2, 2)
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (1, 2), (1, 2))))
    pil = T.CenterCrop((6, 7))(Image.fromarray(_image((3, 4, 3), np.uint8)))
    np.testing.assert_array_equal(np.asarray(pil),
                                  np.pad(_image((3, 4, 3), np.uint8), ((1, 2), (1, 2), (0, 0))))
    batch = _image((5, 9, 10, 3), np.uint8)
    np.testing.assert_array_equal(T.CenterCrop(6).apply_batch(batch),
                                  np.stack([T.CenterCrop(6)(b) for b in batch]))


@pytest.mark.parametrize("padding, sides", [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)),
                                            ([1, 2, 3, 0], (1, 2, 3, 0))])
@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                              ("reflect", "reflect")])
def test_pad_matches_torch_pad(padding, sides, mode, torch_mode):
    x = _image((2, 3, 5, 6))
    out = T.Pad(padding, fill=0.5 if mode == "constant" else 0, padding_mode=mode)(Tensor(x))
    left, top, right, bottom = sides
    extra = {"value": 0.5} if mode == "constant" else {}
    expected = torch.nn.functional.pad(torch.from_numpy(x), (left, right, top, bottom),
                                       mode=torch_mode, **extra)
    np.testing.assert_array_equal(out.array, expected.numpy())


def test_pad_symmetric_negative_pil_and_batch():
    x = np.array([[1, 2, 3, 4]], dtype=np.float32)[None]
    np.testing.assert_array_equal(T.Pad((2, 0), padding_mode="symmetric")(Tensor(x)).array[0, 0],
                                  [2, 1, 1, 2, 3, 4, 4, 3])
    np.testing.assert_array_equal(T.Pad((2, 0), padding_mode="reflect")(Tensor(x)).array[0, 0],
                                  [3, 2, 1, 2, 3, 4, 3, 2])
    image = _image((3, 6, 7))
    np.testing.assert_array_equal(T.Pad((-1, 2, 1, -2))(Tensor(image)).array,
                                  np.pad(image[:, :-2, 1:], ((0, 0), (2, 0), (0, 1))))
    rgb = _image((5, 6, 3), np.uint8)
    pil = T.Pad((1, 2, 3, 4), fill=(10, 20, 30))(Image.fromarray(rgb))
    expected = ImageOps.expand(Image.fromarray(rgb), border=(1, 2, 3, 4), fill=(10, 20, 30))
    np.testing.assert_array_equal(np.asarray(pil), np.asarray(expected))
    pil = T.Pad(2, padding_mode="symmetric")(Image.fromarray(rgb))
    np.testing.assert_array_equal(np.asarray(pil), np.pad(rgb, ((2, 2), (2, 2), (0, 0)),
                                                          mode="symmetric"))
    batch = Tensor(_image((4, 3, 5, 5)))
    np.testing.assert_array_equal(T.Pad(1, padding_mode="edge").apply_batch(batch).array,
                                  np.stack([T.Pad(1, padding_mode="edge")(Tensor(b)).array
                                            for b in batch.array]))
    with pytest.raises(ValueError, match="Padding mode"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(TypeError, match="inappropriate padding"):
        T.Pad("1")
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        T.Pad(5, padding_mode="reflect")(Tensor(_image((1, 4, 4))))


# ---------------------------------------------------------------------------- RandomResizedCrop

def test_random_resized_crop_params_follow_torchvision_rules():
    image = Tensor(_image((3, 80, 80)))
    minigrad.manual_seed(0)
    areas, ratios = [], []
    for _ in range(300):
        top, left, h, w = T.RandomResizedCrop.get_params(image, (0.05, 0.3), (0.5, 2.0))
        assert 0 <= top <= 80 - h and 0 <= left <= 80 - w and h > 0 and w > 0
        areas.append(h * w / (80 * 80))
        ratios.append(w / h)
    assert 0.04 < min(areas) < 0.07 and 0.27 < max(areas) < 0.32
    assert min(ratios) > 0.45 and max(ratios) < 2.2
    # log-uniform ratios (every window fits a square image here): as many below 1 as above
    assert 0.4 < np.mean(np.array(ratios) < 1) < 0.6
    minigrad.manual_seed(0)
    again = T.RandomResizedCrop.get_params(image, (0.2, 0.9), (0.5, 2.0))
    minigrad.manual_seed(0)
    assert again == T.RandomResizedCrop.get_params(image, (0.2, 0.9), (0.5, 2.0))


@pytest.mark.parametrize("shape, expected", [((60, 80), (0, 0, 60, 80)),   # ratio 4/3 fits
                                             ((20, 100), (0, 36, 20, 27)),  # too wide
                                             ((100, 20), (36, 0, 27, 20))])  # too tall
def test_random_resized_crop_falls_back_to_the_centre(shape, expected):
    # an area of 200% never fits: after 10 draws, the central crop of the nearest ratio
    image = Tensor(_image((1,) + shape))
    assert T.RandomResizedCrop.get_params(image, (2.0, 2.0), (3 / 4, 4 / 3)) == expected


def test_random_resized_crop_is_crop_then_resize():
    x = Tensor(_image((3, 40, 50)))
    transform = T.RandomResizedCrop((16, 12), antialias=True)
    minigrad.manual_seed(4)
    out = transform(x)
    minigrad.manual_seed(4)
    top, left, h, w = transform.get_params(x, transform.scale, transform.ratio)
    expected = _torch_resize(x.array[None, :, top:top + h, left:left + w], (16, 12),
                             "bilinear", True)[0]
    np.testing.assert_allclose(out.array, expected, atol=2e-6)
    pil = transform(Image.fromarray(_image((40, 50, 3), np.uint8)))
    assert isinstance(pil, Image.Image) and pil.size == (12, 16)
    assert T.RandomResizedCrop(9)(x).shape == (3, 9, 9)
    with pytest.warns(UserWarning, match="Scale and ratio"):
        T.RandomResizedCrop(9, scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="only two dimensions"):
        T.RandomResizedCrop((1, 2, 3))


# ---------------------------------------------------------------------------- RandomRotation

def _torch_rotate(x: np.ndarray, angle, mode, fill, center=None, expand=False):
    """torchvision's tensor rotation in torch: output pixel centres (relative to the output's
    centre) through the inverse rotation, divided by half the input size, grid_sample'd with
    a ones channel marking where ``fill`` goes."""
    t = torch.from_numpy(x)
    channels, height, width = t.shape
    floating = t.is_floating_point()
    t = t if floating else t.float()
    cx, cy = (0.0, 0.0) if center is None else (center[0] - width / 2, center[1] - height / 2)
    r = math.radians(-angle)
    m = [math.cos(r), math.sin(r), 0.0, -math.sin(r), math.cos(r), 0.0]
    m[2] = m[0] * -cx + m[1] * -cy + cx
    m[5] = m[3] * -cx + m[4] * -cy + cy
    out_w, out_h = width, height
    if expand:
        corners = torch.tensor([[-width / 2, -height / 2, 1.0], [-width / 2, height / 2, 1.0],
                                [width / 2, height / 2, 1.0], [width / 2, -height / 2, 1.0]])
        moved = corners @ torch.tensor(m).view(2, 3).T
        low = moved.min(0).values + torch.tensor([width / 2, height / 2])
        high = moved.max(0).values + torch.tensor([width / 2, height / 2])
        size = (torch.ceil((high / 1e-4).trunc() * 1e-4)
                - torch.floor((low / 1e-4).trunc() * 1e-4))
        out_w, out_h = int(size[0]), int(size[1])
    theta = torch.tensor(m, dtype=t.dtype).view(1, 2, 3)
    xs = torch.arange(out_w, dtype=torch.float32) + (0.5 - out_w / 2)
    ys = torch.arange(out_h, dtype=torch.float32) + (0.5 - out_h / 2)
    base = torch.stack([xs.expand(out_h, out_w), ys[:, None].expand(out_h, out_w),
                        torch.ones(out_h, out_w)], -1).to(t.dtype)
    scale = torch.tensor([width / 2, height / 2], dtype=t.dtype)
    grid = base.view(1, -1, 3).bmm(theta.transpose(1, 2) / scale).view(1, out_h, out_w, 2)
    stacked = torch.cat([t, torch.ones(1, height, width, dtype=t.dtype)])[None]
    sampled = torch.nn.functional.grid_sample(stacked, grid, mode=mode, padding_mode="zeros",
                                              align_corners=False)[0]
    image, mask = sampled[:-1], sampled[-1:].expand(channels, out_h, out_w)
    colour = torch.tensor(fill, dtype=t.dtype).view(-1, 1, 1).expand_as(image)
    if mode == "nearest":
        image = torch.where(mask < 0.5, colour, image)
    else:
        image = image * mask + (1 - mask) * colour
    return image.numpy() if floating else image.round().to(torch.uint8).numpy()


@pytest.mark.parametrize("angle", [17.3, -40.0, 123.4])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("center", [None, (3, 5)])
@pytest.mark.parametrize("dtype", FLOATS + [np.uint8])
def test_rotate_tensor_matches_torch_grid_sample(angle, mode, center, dtype):
    x = _image((3, 11, 14), dtype)
    fill = [0.25, 0.5, 0.75] if dtype != np.uint8 else [10.0, 200.0, 255.0]
    mine = F.rotate(Tensor(x), angle, T.InterpolationMode(mode), center=center, fill=fill)
    reference = _torch_rotate(x, angle, mode, fill, center)
    assert mine.dtype == dtype
    if dtype == np.uint8:
        _assert_uint8_close(mine.array, reference)
    elif mode == "nearest":
        np.testing.assert_array_equal(mine.array, reference)
    else:
        np.testing.assert_allclose(mine.array, reference, atol=10 * TOLERANCE[dtype])


@pytest.mark.parametrize("angle", [30.0, 90.0, -75.5])
def test_rotate_expand_matches_torch(angle):
    x = _image((2, 9, 13))
    mine = F.rotate(Tensor(x), angle, T.InterpolationMode.BILINEAR, expand=True, fill=[0, 0])
    reference = _torch_rotate(x, angle, "bilinear", [0.0, 0.0], expand=True)
    assert mine.shape == reference.shape
    np.testing.assert_allclose(mine.array, reference, atol=2e-5)


@pytest.mark.parametrize("size", [8, 9])
def test_quarter_turns_are_rot90(size):
    x = _image((3, size, size))
    for turns in (1, 2, 3):
        np.testing.assert_array_equal(F.rotate(Tensor(x), 90.0 * turns).array,
                                      np.rot90(x, turns, axes=(1, 2)))
    rgb = _image((size, size, 3), np.uint8)
    np.testing.assert_array_equal(np.asarray(F.rotate(Image.fromarray(rgb), 90.0)),
                                  np.rot90(rgb))
    np.testing.assert_array_equal(F.rotate(rgb, 90.0), np.rot90(rgb))  # an (H, W, C) array


def test_random_rotation_draws_and_pil():
    minigrad.manual_seed(1)
    angles = [T.RandomRotation.get_params([-10.0, 30.0]) for _ in range(400)]
    assert -10 <= min(angles) < -8 and 28 < max(angles) <= 30
    transform = T.RandomRotation(25, fill=7)
    assert transform.degrees == [-25.0, 25.0]
    pil = Image.fromarray(_image((10, 12, 3), np.uint8))
    minigrad.manual_seed(2)
    out = transform(pil)
    minigrad.manual_seed(2)
    angle = transform.get_params(transform.degrees)
    np.testing.assert_array_equal(np.asarray(out),
                                  np.asarray(pil.rotate(angle, Image.NEAREST, fillcolor=(7,) * 3)))
    x = _image((3, 10, 12))
    minigrad.manual_seed(2)
    np.testing.assert_array_equal(transform(Tensor(x)).array,
                                  _torch_rotate(x, angle, "nearest", [7.0] * 3))
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="sequence of length 2"):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(TypeError, match="Fill should be"):
        T.RandomRotation(3, fill={"red": 1})
    with pytest.raises(ValueError, match="cannot broadcast"):
        F.rotate(Tensor(x), 3.0, fill=[1.0, 2.0])


# ---------------------------------------------------------------------------- colour

def _blend(t, other, ratio):
    bound = 255 if t.dtype == torch.uint8 else 1.0
    return (ratio * t + (1.0 - ratio) * other).clamp(0, bound).to(t.dtype)


def _grey(t):
    r, g, b = t.unbind(-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(t.dtype).unsqueeze(-3)


def _torch_contrast(t, factor):
    mean_dtype = t.dtype if t.is_floating_point() else torch.float32
    return _blend(t, _grey(t).to(mean_dtype).mean(dim=(-3, -2, -1), keepdim=True), factor)


@pytest.mark.parametrize("dtype", FLOATS + [np.uint8])
@pytest.mark.parametrize("factor", [0.0, 0.4, 1.0, 1.8])
def test_brightness_saturation_contrast_match_torch(dtype, factor):
    x = _image((2, 3, 9, 10), dtype)
    t = torch.from_numpy(x)
    cases = [(F.adjust_brightness, _blend(t, torch.zeros_like(t), factor)),
             (F.adjust_saturation, _blend(t, _grey(t), factor)),
             (F.adjust_contrast, _torch_contrast(t, factor))]
    for function, expected in cases:
        out = function(Tensor(x), factor)
        assert out.dtype == dtype
        if dtype != np.uint8 and function is F.adjust_contrast:  # means summed in another order
            np.testing.assert_allclose(out.array, expected.numpy(), atol=TOLERANCE[dtype])
        else:
            np.testing.assert_array_equal(out.array, expected.numpy())


@pytest.mark.parametrize("dtype", FLOATS + [np.uint8])
@pytest.mark.parametrize("hue", [-0.5, -0.21, 0.0, 0.13, 0.5])
def test_adjust_hue_matches_colorsys(dtype, hue):
    x = _image((3, 7, 8), dtype)
    x[:, 0, 0] = x[0, 0, 0]  # a grey pixel: no hue
    out = F.adjust_hue(Tensor(x), hue).array
    top = 255.0 if dtype == np.uint8 else 1.0
    unit = x.astype(np.float64) / top
    expected = np.empty_like(unit)
    for i, j in np.ndindex(7, 8):
        h, s, v = colorsys.rgb_to_hsv(*unit[:, i, j])
        expected[:, i, j] = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
    if dtype == np.uint8:  # float back to uint8 truncates (x * 255.999)
        assert np.abs(out - expected * top).max() <= 1.0
    else:
        np.testing.assert_allclose(out, expected, atol=2e-6)


def test_colour_on_pil_images_is_pillow():
    pil = Image.fromarray(_image((9, 10, 3), np.uint8))
    for function, enhancer in [(F.adjust_brightness, ImageEnhance.Brightness),
                               (F.adjust_contrast, ImageEnhance.Contrast),
                               (F.adjust_saturation, ImageEnhance.Color)]:
        np.testing.assert_array_equal(np.asarray(function(pil, 1.3)),
                                      np.asarray(enhancer(pil).enhance(1.3)))
    h, s, v = (np.asarray(band) for band in pil.convert("HSV").split())
    for hue, shift in [(0.2, 51), (-0.2, 256 - 51)]:
        shifted = np.stack([(h.astype(int) + shift) % 256, s, v], -1).astype(np.uint8)
        expected = Image.frombytes("HSV", pil.size, shifted.tobytes()).convert("RGB")
        np.testing.assert_array_equal(np.asarray(F.adjust_hue(pil, hue)), np.asarray(expected))
    grey = Image.fromarray(_image((4, 5), np.uint8))
    assert F.adjust_hue(grey, 0.3) is grey


def test_color_jitter_ranges_order_and_errors():
    jitter = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.3), saturation=0, hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.contrast == (0.2, 0.3)
    assert jitter.saturation is None and jitter.hue == (-0.1, 0.1)
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)  # clipped at 0
    minigrad.manual_seed(0)
    for _ in range(50):
        order, b, c, s, h = T.ColorJitter.get_params(jitter.brightness, jitter.contrast,
                                                     jitter.saturation, jitter.hue)
        assert sorted(order) == [0, 1, 2, 3] and s is None
        assert 0.5 <= b <= 1.5 and 0.2 <= c <= 0.3 and -0.1 <= h <= 0.1
    x = Tensor(_image((3, 6, 7)))
    minigrad.manual_seed(5)
    out = jitter(x)
    minigrad.manual_seed(5)
    order, *factors = jitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation,
                                        jitter.hue)
    functions = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
    expected = x
    for which in order:
        if factors[which] is not None:
            expected = functions[which](expected, factors[which])
    np.testing.assert_array_equal(out.array, expected.array)
    assert isinstance(jitter(Image.fromarray(_image((6, 7, 3), np.uint8))), Image.Image)
    with pytest.raises(ValueError, match="must be non negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\)"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="single number or a list/tuple with length 2"):
        T.ColorJitter(contrast=(1, 2, 3))
    with pytest.raises(ValueError, match="is not in"):
        F.adjust_hue(x, 0.6)
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_brightness(x, -0.1)
    with pytest.raises(TypeError, match="permitted channel values are"):
        F.adjust_brightness(Tensor(_image((4, 3, 3))), 0.5)


@pytest.mark.parametrize("dtype", FLOATS + [np.uint8])
def test_grayscale(dtype):
    x = _image((2, 3, 5, 6), dtype)
    one = T.Grayscale()(Tensor(x))
    np.testing.assert_array_equal(one.array, _grey(torch.from_numpy(x)).numpy())
    three = T.Grayscale(3)(Tensor(x))
    assert three.shape == (2, 3, 5, 6)
    np.testing.assert_array_equal(three.array, np.repeat(one.array, 3, axis=1))
    pil = Image.fromarray(_image((5, 6, 3), np.uint8))
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(pil)), np.asarray(pil.convert("L")))
    rgb_grey = T.Grayscale(3)(pil)
    assert rgb_grey.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(rgb_grey)[..., 2], np.asarray(pil.convert("L")))
    with pytest.raises(ValueError, match="either 1 or 3"):
        F.rgb_to_grayscale(Tensor(x), 2)


# ---------------------------------------------------------------------------- RandomErasing

def test_random_erasing_erases_one_rectangle():
    x = _image((3, 40, 50)) + 1.0  # no zeros of its own
    minigrad.manual_seed(0)
    sizes = []
    for _ in range(100):
        out = T.RandomErasing(p=1.0)(Tensor(x)).array
        erased = np.argwhere((out == 0).all(axis=0))
        (top, left), (bottom, right) = erased.min(0), erased.max(0) + 1
        assert (out[:, top:bottom, left:right] == 0).all()
        assert np.array_equal(out != 0, (x != 0) & (out != 0))
        assert (out == 0).all(axis=0).sum() == (bottom - top) * (right - left)
        sizes.append((bottom - top) * (right - left) / (40 * 50))
    assert 0.015 < min(sizes) and max(sizes) < 0.35


def test_random_erasing_values_probability_and_errors():
    x = Tensor(_image((3, 20, 20)) + 1.0)
    minigrad.manual_seed(3)
    out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(x).array
    changed = (out != x.array).any(axis=0)
    for c, value in enumerate((0.1, 0.2, 0.3)):
        np.testing.assert_allclose(out[c][changed], np.float32(value))
    noisy = T.RandomErasing(p=1.0, value="random")(x).array
    noise = noisy[(noisy != x.array)]
    assert noise.size > 10 and noise.min() < 0  # standard normal values
    assert T.RandomErasing(p=0.0)(x) is x
    minigrad.manual_seed(3)
    kept = sum(T.RandomErasing(p=0.3)(x) is x for _ in range(200))
    assert 110 < kept < 170
    same = T.RandomErasing(p=1.0, inplace=True)(x)
    assert same is x
    with pytest.raises(TypeError, match="Tensor Image"):
        T.RandomErasing(p=1.0)(Image.fromarray(_image((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomErasing(scale=(0.5, 1.5))
    with pytest.raises(ValueError, match="probability"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)


# ---------------------------------------------------------------------------- ToPILImage

def test_to_pil_image_modes_and_round_trip():
    rgb = _image((5, 6, 3), np.uint8)
    back = T.ToPILImage()(T.ToTensor()(rgb))
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), rgb)
    floats = _image((3, 4, 5))
    pil = T.ToPILImage()(Tensor(floats))
    np.testing.assert_array_equal(np.asarray(pil),
                                  (torch.from_numpy(floats).mul(255).byte()).permute(1, 2, 0))
    assert T.ToPILImage()(Tensor(_image((1, 4, 5)))).mode == "L"
    assert T.ToPILImage()(Tensor(_image((2, 4, 5)))).mode == "LA"
    assert T.ToPILImage()(Tensor(_image((4, 4, 5)))).mode == "RGBA"
    single = T.ToPILImage(mode="F")(Tensor(floats[:1]))
    assert single.mode == "F"
    np.testing.assert_array_equal(np.asarray(single), floats[0])
    assert T.ToPILImage()(np.zeros((3, 4), np.int32)).mode == "I"
    assert T.ToPILImage()(np.zeros((3, 4), np.int16)).mode == "I;16"
    assert T.ToPILImage(mode="HSV")(rgb).mode == "HSV"
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        T.ToPILImage()([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToPILImage()(Tensor(np.zeros((1, 1, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="> 4 channels"):
        T.ToPILImage()(Tensor(np.zeros((5, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="Only modes"):
        T.ToPILImage(mode="RGBA")(rgb)
    with pytest.raises(TypeError, match="not supported"):
        T.ToPILImage()(np.zeros((2, 2, 3), np.float64))


def test_transforms_compose_on_a_pil_pipeline():
    """A torchvision-style training pipeline from a PIL image to a normalised tensor."""
    pipeline = T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip(),
                          T.RandomRotation(10), T.ColorJitter(0.2, 0.2, 0.2, 0.05),
                          T.Grayscale(3), T.ToTensor(),
                          T.Normalize([0.5] * 3, [0.25] * 3), T.RandomErasing()])
    out = pipeline(Image.fromarray(_image((40, 30, 3), np.uint8)))
    assert isinstance(out, Tensor) and out.shape == (3, 24, 24) and out.dtype == np.float32
    assert "RandomResizedCrop(size=(24, 24)" in repr(pipeline)
