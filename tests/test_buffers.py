"""The kernels' aligned arrays (kernels/memory.pyx) and scratch buffers."""
import gc
import weakref

import numpy as np
import pytest

from minigrad._kernels.buffers import aligned_empty, channels_last_empty, made_here, scratch


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
@pytest.mark.parametrize("count", [0, 1, 7, 16, 1000, 4097])
def test_aligned_empty_is_aligned_writable_and_dense(dtype, count):
    a = aligned_empty(count, dtype)
    assert a.shape == (count,) and a.dtype == dtype
    assert a.ctypes.data % 64 == 0
    assert a.flags.c_contiguous and a.flags.writeable and a.flags.aligned
    a[...] = 3
    assert np.all(a == 3)


@pytest.mark.parametrize("shape", [(1, 3, 32, 32), (2, 5, 1, 7), (0, 4, 2, 2), (3, 1, 1, 1)])
def test_channels_last_empty_is_nhwc_memory_in_nchw_shape(shape):
    a = channels_last_empty(*shape, np.float32)
    assert a.shape == shape and a.dtype == np.float32
    assert a.ctypes.data % 64 == 0
    assert a.transpose(0, 2, 3, 1).flags.c_contiguous
    a[...] = np.arange(a.size, dtype=np.float32).reshape(shape)
    assert np.array_equal(np.asarray(a), np.arange(a.size, dtype=np.float32).reshape(shape))


def test_made_here_knows_the_arrays_and_their_views_only():
    a = channels_last_empty(2, 3, 4, 5, np.float64)
    assert made_here(a) and made_here(a[1]) and made_here(a[1, ::2].T)
    assert made_here(aligned_empty(8, np.float32)[2:])
    assert not made_here(np.empty(8)) and not made_here(np.empty(8)[2:])
    assert not made_here(np.array(a))  # a copy owns its memory: numpy's, not ours


def test_memory_lives_as_long_as_any_view():
    a = aligned_empty(1000, np.float64)
    a[...] = 7.0
    view = a[10:20]
    holder = weakref.ref(a.base)
    del a
    gc.collect()
    assert holder() is not None and np.all(view == 7.0)
    del view
    gc.collect()
    assert holder() is None


def test_impossible_sizes_raise_runtime_error_naming_the_size():
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        aligned_empty(1 << 62, np.float64)
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        channels_last_empty(1 << 40, 1 << 20, 1, 1, np.float64)
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        channels_last_empty(1, 3, 1 << 31, 1 << 31, np.float32)  # wraps in 64-bit products
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        channels_last_empty(1, 1 << 21, 1 << 21, 1 << 21, np.float32)
    with pytest.raises(ValueError, match="negative"):
        aligned_empty(-1, np.float32)


def test_scratch_reuses_memory_per_name_and_dtype():
    first = scratch("test_buffers", np.float32, 100)
    again = scratch("test_buffers", np.float32, 50)
    assert again.ctypes.data == first.ctypes.data and again.shape == (50,)
    other = scratch("test_buffers", np.float64, 50)
    assert other.ctypes.data != first.ctypes.data and other.dtype == np.float64
    bigger = scratch("test_buffers", np.float32, 10_000)
    assert bigger.shape == (10_000,) and bigger.ctypes.data % 64 == 0


@pytest.mark.parametrize("dtype", [None, np.float32, np.int64])
def test_tensors_made_from_numpy_data_are_aligned_copies(dtype):
    import minigrad
    data = np.arange(15, dtype=np.float64).reshape(3, 5)[:, ::2]  # strided, float64
    t = minigrad.tensor(data, dtype=dtype)
    assert t.numpy().ctypes.data % 64 == 0 and t.numpy().flags.c_contiguous
    assert t.numpy().dtype == (data.dtype if dtype is None else dtype)
    assert np.array_equal(t.numpy(), data.astype(t.numpy().dtype))
    data[0, 0] = 99.0
    assert t.numpy()[0, 0] == 0  # a copy
