"""Bad input gets a clear Python exception of the type torch raises, with a message that names
the shapes, dtypes or values involved. Every case runs in torch too, to hold the type to it."""
import numpy as np
import pytest
import torch

import minigrad as mg


def _backward_twice(m):
    x = m.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _no_grad_leaf_backward(m):
    m.ones(3).sum().backward()


def _output_of_no_grad_backward(m):
    x = m.ones(3, requires_grad=True)
    with m.no_grad():
        y = (x * 2).sum()
    y.backward()


# name: (code run with m = minigrad and m = torch, exception type, pattern minigrad's message
#        must contain: the shapes, dtypes or values at fault)
CASES = {
    "add of mismatched shapes": (
        lambda m: m.ones(2, 3) + m.ones(4), RuntimeError,
        r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
        r"dimension 1"),
    "mul of mismatched shapes": (
        lambda m: m.ones(2, 3, 4) * m.ones(5, 1), RuntimeError, r"\(3\).*\(5\).*dimension 1"),
    "sub of mismatched shapes": (lambda m: m.ones(3) - m.ones(2, 2), RuntimeError, r"\(3\).*\(2\)"),
    "div of mismatched shapes": (lambda m: m.ones(5) / m.ones(4), RuntimeError, r"\(5\).*\(4\)"),
    "pow of mismatched shapes": (lambda m: m.ones(5) ** m.ones(4), RuntimeError, r"\(5\).*\(4\)"),
    "comparison of mismatched shapes": (lambda m: m.ones(5) < m.ones(4), RuntimeError,
                                        r"\(5\).*\(4\)"),
    "where of mismatched shapes": (
        lambda m: m.where(m.ones(3) > 0, m.ones(3), m.ones(4)), RuntimeError, r"\(3\).*\(4\)"),
    "matmul of incompatible matrices": (
        lambda m: m.ones(2, 3) @ m.ones(4, 5), RuntimeError,
        r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    "matmul of incompatible vectors": (lambda m: m.ones(3) @ m.ones(4), RuntimeError, r"3.*4"),
    "matmul matrix-vector incompatible": (
        lambda m: m.ones(2, 3) @ m.ones(4), RuntimeError, r"2x3 and 4"),
    "batched matmul incompatible": (
        lambda m: m.ones(5, 2, 3) @ m.ones(5, 4, 2), RuntimeError, r"5x2x3 and 5x4x2"),
    "batched matmul with batch dims that do not broadcast": (
        lambda m: m.ones(5, 2, 3) @ m.ones(4, 3, 2), RuntimeError, r"\(5, 2, 3\).*\(4, 3, 2\)"),
    "matmul of a 0-d tensor": (lambda m: m.tensor(2.0) @ m.ones(2), RuntimeError, r"0D"),
    "matmul float32 @ float64": (
        lambda m: m.ones(2, 3) @ m.ones(3, 2, dtype=m.float64), RuntimeError,
        r"same dtype.*float != double"),
    "matmul float32 @ int64": (
        lambda m: m.ones(2, 3) @ m.ones(3, 2, dtype=m.int64), RuntimeError, r"float != long"),
    "mm of a 3-d tensor": (
        lambda m: m.mm(m.ones(2, 2, 2), m.ones(2, 2)), RuntimeError, r"self must be a matrix"),
    "bmm of mismatched batches": (
        lambda m: m.bmm(m.ones(2, 2, 3), m.ones(3, 3, 2)), RuntimeError, r"2.*3"),
    "backward of a non-scalar without gradient": (
        lambda m: (m.ones(3, requires_grad=True) * 2).backward(), RuntimeError,
        r"grad can be implicitly created only for scalar outputs"),
    "backward with a gradient of the wrong shape": (
        lambda m: (m.ones(3, requires_grad=True) * 2).backward(m.ones(4)), RuntimeError,
        r"\(4,\).*\(3,\)"),
    "backward of a tensor that does not require grad": (
        _no_grad_leaf_backward, RuntimeError, r"does not require grad"),
    "backward of an output made under no_grad": (
        _output_of_no_grad_backward, RuntimeError, r"does not require grad"),
    "backward through a freed graph": (_backward_twice, RuntimeError, r"retain_graph=True"),
    "reshape to a wrong size": (
        lambda m: m.ones(2, 3).reshape(4, 2), RuntimeError,
        r"shape '\[4, 2\]' is invalid for input of size 6"),
    "view to a wrong size": (lambda m: m.ones(2, 3).view(-1, 4), RuntimeError,
                             r"\[-1, 4\].*size 6"),
    "reshape with two -1": (lambda m: m.ones(2, 3).reshape(-1, -1), RuntimeError,
                            r"only one dimension can be inferred"),
    "expand of a non-singleton dim": (
        lambda m: m.ones(2, 3).expand(2, 4), RuntimeError, r"expanded size.*\(4\).*\(3\)"),
    "permute with the wrong number of dims": (
        lambda m: m.ones(2, 3).permute(0, 1, 2), RuntimeError, r"2.*3"),
    "permute with a repeated dim": (lambda m: m.ones(2, 3).permute(1, 1), RuntimeError,
                                    r"duplicate"),
    "cat of mismatched shapes": (
        lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)], dim=0), RuntimeError,
        r"Expected size 3 but got size 4"),
    "cat of different ranks": (lambda m: m.cat([m.ones(2, 3), m.ones(3)]), RuntimeError,
                               r"2 and 1"),
    "stack of mismatched shapes": (
        lambda m: m.stack([m.ones(2, 3), m.ones(3, 2)]), RuntimeError, r"\[2, 3\].*\[3, 2\]"),
    "item of a many-element tensor": (
        lambda m: m.ones(2, 3).item(), RuntimeError, r"6 elements"),
    "bool of a many-element tensor": (lambda m: bool(m.ones(2, 3)), RuntimeError, r"ambiguous"),
    "numpy of a tensor requiring grad": (
        lambda m: m.ones(2, requires_grad=True).numpy(), RuntimeError,
        r"requires grad.*detach\(\)"),
    "mean of an integer tensor": (lambda m: m.arange(4).mean(), RuntimeError, r"int64|Long"),
    "integer tensor requiring grad": (
        lambda m: m.arange(4).requires_grad_(), RuntimeError, r"floating point"),
    "integers to a negative integer power": (
        lambda m: m.arange(1, 4) ** -1, RuntimeError, r"negative integer powers"),
    "where with a float condition": (
        lambda m: m.where(m.ones(3), m.ones(3), m.zeros(3)), RuntimeError, r"boolean.*Float"),
    "clamp without bounds": (lambda m: m.ones(3).clamp(), RuntimeError, r"min.*max"),
    "in-place add of a non-broadcastable shape": (
        lambda m: m.ones(3).add_(m.ones(4)), RuntimeError, r"\(3,\)"),
    "in-place add that would grow the tensor": (
        lambda m: m.ones(3).add_(m.ones(2, 3)), RuntimeError, r"\(3,\)"),
    "in-place float into an integer tensor": (
        lambda m: m.arange(3).add_(1.5), RuntimeError, r"Float can't be cast.*Long"),
    "copy_ from a wrong shape": (lambda m: m.ones(3).copy_(m.ones(4)), RuntimeError, r"\(4,\)"),
    "randint with high <= low": (lambda m: m.randint(5, 5, (2,)), RuntimeError, r"5"),
    "tensor of ragged lists": (lambda m: m.tensor([[1.0, 2.0], [3.0]]), ValueError, r"."),
    "tensor of strings": (lambda m: m.tensor(["a"]), (TypeError, ValueError), r"."),
    "t() of a 3-d tensor": (lambda m: m.ones(2, 2, 2).t(), RuntimeError, r"3D"),
}

# name: code whose dim is out of range (torch: IndexError naming the valid range and the dim).
BAD_DIMS = {
    "sum(dim=2) of 2-d": lambda m: m.ones(2, 3).sum(dim=2),
    "sum(dim=(0, -3))": lambda m: m.ones(2, 3).sum(dim=(0, -3)),
    "mean(dim=-3)": lambda m: m.ones(2, 3).mean(dim=-3),
    "max(dim=2)": lambda m: m.ones(2, 3).max(dim=2),
    "amax(dim=5)": lambda m: m.ones(2, 3).amax(dim=5),
    "var(dim=2)": lambda m: m.ones(2, 3).var(dim=2),
    "argmax(dim=2)": lambda m: m.ones(2, 3).argmax(dim=2),
    "softmax(dim=2)": lambda m: m.ones(2, 3).softmax(2),
    "log_softmax(dim=-3)": lambda m: m.ones(2, 3).log_softmax(-3),
    "transpose(0, 2)": lambda m: m.ones(2, 3).transpose(0, 2),
    "permute(0, 2)": lambda m: m.ones(2, 3).permute(0, 2),
    "unsqueeze(3)": lambda m: m.ones(2, 3).unsqueeze(3),
    "squeeze(2)": lambda m: m.ones(2, 3).squeeze(2),
    "flatten(0, 2)": lambda m: m.ones(2, 3).flatten(0, 2),
    "size(2)": lambda m: m.ones(2, 3).size(2),
    "cat(dim=2)": lambda m: m.cat([m.ones(2, 3), m.ones(2, 3)], dim=2),
    "stack(dim=4)": lambda m: m.stack([m.ones(2, 3), m.ones(2, 3)], dim=4),
}

# name: indexing outside the tensor (torch and numpy: IndexError).
BAD_INDEXES = {
    "int past the end": lambda m: m.ones(3, 2)[3],
    "negative int past the start": lambda m: m.ones(3, 2)[-4],
    "second dim past the end": lambda m: m.ones(3, 2)[0, 2],
    "too many indices": lambda m: m.ones(3, 2)[0, 0, 0],
    "integer array past the end": lambda m: m.ones(3, 2)[m.tensor([0, 3])],
    "float index tensor": lambda m: m.ones(3, 2)[m.tensor([0.0, 1.0])],
    "mask of the wrong shape": lambda m: m.ones(3, 2)[m.tensor([True, False])],
    "index of a 0-d tensor": lambda m: m.tensor(1.0)[0],
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_raises_torchs_exception_type(name):
    code, error, pattern = CASES[name]
    with pytest.raises(error):
        code(torch)
    with pytest.raises(error, match=pattern):
        code(mg)


@pytest.mark.parametrize("name", list(BAD_DIMS))
def test_dim_out_of_range_raises_index_error(name):
    code = BAD_DIMS[name]
    with pytest.raises(IndexError, match="Dimension out of range"):
        code(torch)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-\d, \d\], but got -?\d\)"):
        code(mg)


@pytest.mark.parametrize("name", list(BAD_INDEXES))
def test_index_out_of_range_raises_index_error(name):
    code = BAD_INDEXES[name]
    with pytest.raises(IndexError):
        code(torch)
    with pytest.raises(IndexError):
        code(mg)


def test_broadcast_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4,\)"):
        mg.ones(2, 3) + mg.ones(4)


def test_float32_with_float64_is_allowed_where_torch_allows_it():
    # Elementwise ops promote (torch does too); only matmul refuses mixed float dtypes.
    for module in (mg, torch):
        assert str((module.ones(2) + module.ones(2, dtype=module.float64)).dtype).endswith(
            "float64")
        assert str(module.cat([module.ones(2), module.ones(2, dtype=module.float64)]).dtype
                   ).endswith("float64")


def test_errors_leave_no_graph_behind_and_grad_mode_on():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x @ mg.ones(4, 5)
    with pytest.raises(RuntimeError):
        with mg.no_grad():
            x.reshape(7)
    assert mg.is_grad_enabled()
    (x * 2).sum().backward()
    assert np.all(x.grad.numpy() == 2.0)
