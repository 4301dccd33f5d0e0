"""DistributedDataParallel against one process with the global batch (run under mpirun by
test_distributed.py): rank r trains on rows r*B/N..(r+1)*B/N of each global batch of B."""
import copy
import hashlib

import numpy as np

import minigrad
import minigrad.distributed as dist
from common import gather_bytes, run_cases, same_on_every_rank
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

BATCH = 12   # divisible by 1, 2, 3 and 4 ranks


def small_cnn(dtype=minigrad.float32, seed=0):
    minigrad.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 16), nn.Tanh(), nn.Linear(16, 10))
    return model.to(dtype)


def batch(step, dtype=np.float32):
    rng = np.random.default_rng(100 + step)
    x = rng.standard_normal((BATCH, 1, 8, 8)).astype(dtype)
    y = rng.integers(0, 10, BATCH)
    return minigrad.tensor(x), minigrad.tensor(y)


def my_rows(tensor):
    share = BATCH // dist.get_world_size()
    return tensor[dist.get_rank() * share:(dist.get_rank() + 1) * share]


def loss_of(model, x, y):
    return nn.CrossEntropyLoss()(model(x), y)


def tolerance(dtype):
    return 1e-12 if dtype == minigrad.float64 else 2e-6


def case_construction_broadcasts_rank_0s_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    minigrad.manual_seed(dist.get_rank())           # a different init on every rank
    for p in model.parameters():
        p.data.normal_()
    model[1].running_mean.fill_(float(dist.get_rank()))
    DDP(model)
    for value in list(model.state_dict().values()):
        assert same_on_every_rank(value.numpy())


def case_gradients_match_one_process_at_the_global_batch():
    for dtype in (minigrad.float32, minigrad.float64):
        for cap in (None, 0.001):                    # one bucket; several small buckets
            model = small_cnn(dtype, seed=dist.get_rank() + 1)
            reference = copy.deepcopy(model)
            ddp = DDP(model, bucket_cap_mb=cap)
            reference.load_state_dict(model.state_dict())
            for step in range(3):                   # step 2 runs on the rebuilt buckets
                x, y = batch(step, np.dtype(dtype))
                model.zero_grad()
                loss_of(ddp, my_rows(x), my_rows(y)).backward()
                reference.zero_grad()
                loss_of(reference, x, y).backward()
                for (name, p), q in zip(model.named_parameters(), reference.parameters()):
                    scale = np.abs(q.grad.numpy()).max() + 1e-30
                    error = np.abs(p.grad.numpy() - q.grad.numpy()).max() / scale
                    assert error < tolerance(dtype), (dtype, cap, step, name, error)
                    assert same_on_every_rank(p.grad.numpy())
            if cap is not None:
                assert len(ddp.reducer.bucket_indices()) > 2, ddp.reducer.bucket_indices()


def train(steps, **ddp_arguments):
    model = small_cnn()
    ddp = DDP(model, **ddp_arguments)
    optimizer = minigrad.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        x, y = batch(step)
        optimizer.zero_grad()
        loss_of(ddp, my_rows(x), my_rows(y)).backward()
        optimizer.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def case_training_is_bit_identical_to_itself_and_across_ranks():
    first = train(4, bucket_cap_mb=0.001)
    again = train(4, bucket_cap_mb=0.001)
    one_bucket = train(4, bucket_cap_mb=100)
    for a, b, c in zip(first, again, one_bucket):
        assert a.tobytes() == b.tobytes() == c.tobytes()   # buckets never change a bit
        assert same_on_every_rank(a)


def case_gradient_as_bucket_view_gives_the_same_gradients():
    default = train(3, bucket_cap_mb=0.001)
    views = train(3, bucket_cap_mb=0.001, gradient_as_bucket_view=True)
    for a, b in zip(default, views):
        assert a.tobytes() == b.tobytes()


def case_buckets_are_reduced_during_backward():
    """When the first layer's gradient arrives (last in backward) the bucket of the last
    layers has already been handed to the communication thread."""
    model = small_cnn()
    ddp = DDP(model, bucket_cap_mb=0.001)
    seen = []
    model[0].weight.register_hook(
        lambda grad: seen.append(ddp.reducer.buckets[0].work is not None))
    for step in range(2):                           # the second runs on rebuilt buckets
        x, y = batch(step)
        model.zero_grad()
        loss_of(ddp, my_rows(x), my_rows(y)).backward()
    assert seen == [False, True], seen


def case_no_sync_accumulates_locally_then_averages_the_sum():
    model = small_cnn(seed=5)
    reference = copy.deepcopy(model)
    ddp = DDP(model)
    batches = [batch(step) for step in range(3)]
    model.zero_grad()
    with ddp.no_sync():
        for x, y in batches[:2]:
            loss_of(ddp, my_rows(x), my_rows(y)).backward()
    local = model[0].weight.grad.numpy().copy()
    if dist.get_world_size() > 1:
        assert not same_on_every_rank(local)        # nothing was communicated
    x, y = batches[2]
    loss_of(ddp, my_rows(x), my_rows(y)).backward()
    reference.zero_grad()
    for x, y in batches:
        loss_of(reference, x, y).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert np.allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


class TwoHeads(nn.Module):
    """``head`` is used by rank 0 only (and by no rank when ``use_head`` is False)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 3)
        self.head = nn.Linear(3, 3)
        self.spare = nn.Linear(3, 3)                 # never used

    def forward(self, x, use_head):
        out = self.body(x)
        return self.head(out) if use_head else out


def case_find_unused_parameters():
    minigrad.manual_seed(0)
    model = TwoHeads()
    ddp = DDP(model, find_unused_parameters=True)
    x = minigrad.ones(2, 4) * (dist.get_rank() + 1)
    for step in range(2):
        model.zero_grad()
        ddp(x, use_head=dist.get_rank() == 0).sum().backward()
        assert model.spare.weight.grad is None      # no rank used it: left alone
        head = model.head.weight.grad
        assert head is not None and same_on_every_rank(head.numpy())
        if dist.get_rank() == 0:                    # rank 0's gradient / N, zeros elsewhere
            features = model.body(minigrad.ones(2, 4)).detach().numpy().sum(0, keepdims=True)
            expected = np.repeat(features, 3, axis=0) / dist.get_world_size()
            assert np.allclose(head.numpy(), expected, atol=1e-6)


def case_an_unused_parameter_without_find_unused_raises_at_the_next_forward():
    model = TwoHeads()
    ddp = DDP(model)
    ddp(minigrad.ones(2, 4), use_head=True).sum().backward()
    try:
        ddp(minigrad.ones(2, 4), use_head=True)
    except RuntimeError as error:
        assert "Expected to have finished reduction" in str(error)
        assert "spare.weight" in str(error) and "find_unused_parameters=True" in str(error)
    else:
        raise AssertionError("no error")


def case_batch_norm_buffers_follow_rank_0():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5))
    ddp = DDP(model)
    seen = []
    model[1].register_forward_pre_hook(
        lambda module, args: seen.append(module.running_mean.numpy().copy()))
    for step in range(3):
        x = minigrad.randn(6, 4) + dist.get_rank()   # each rank its own statistics
        model.zero_grad()
        ddp(x).sum().backward()
    for before in seen:
        assert same_on_every_rank(before)            # rank 0's, broadcast before forward
    assert not np.array_equal(seen[1], seen[0])
    mine = model[1].running_mean.numpy()
    if dist.get_world_size() > 1:
        assert not same_on_every_rank(mine)          # the last forward's own update


def case_different_models_on_the_ranks_are_refused_on_every_rank():
    width = 3 + (dist.get_rank() == dist.get_world_size() - 1)
    try:
        DDP(nn.Linear(width, 2))
    except RuntimeError as error:
        assert "DDP expects same model across all ranks" in str(error)
    else:
        assert dist.get_world_size() == 1


def case_constructor_arguments():
    model = nn.Linear(2, 2)
    checks = [(ValueError, lambda: DDP(model, device_ids=[0])),
              (ValueError, lambda: DDP(model, bucket_cap_mb=0)),
              (TypeError, lambda: DDP(lambda x: x)),
              (RuntimeError, lambda: DDP(nn.ReLU()))]
    for error, call in checks:
        try:
            call()
        except error:
            continue
        raise AssertionError(f"expected {error.__name__}")
    ddp = DDP(model, bucket_cap_mb=2)
    assert ddp.bucket_bytes_cap == 2 * 1024 * 1024 and ddp.broadcast_buffers is True
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]


def case_gathered_checksum():
    params = train(2)
    if dist.get_rank() == 0:
        digest = hashlib.sha256(np.concatenate([p.ravel() for p in params]).tobytes())
        print("params", digest.hexdigest(), flush=True)   # compared across runs by pytest
    assert len(gather_bytes(np.zeros(1))) == dist.get_world_size()


run_cases(globals())
