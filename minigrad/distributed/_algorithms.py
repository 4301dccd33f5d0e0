"""The collectives' algorithms, written so that a result depends only on the inputs and the
number of ranks, never on which algorithm the MPI library picks for its own collectives.

MPI only moves bytes here (alltoallv, allgather, allgatherv, bcast, barrier): moving data
never rounds. Every reduction is computed with numpy, element by element in rank order,

    fold(x_0, ..., x_{N-1}) = op(...op(op(x_0, x_1), x_2)..., x_{N-1}),

the same operations on every rank, so every rank gets the same bits, and a run gets the same
bits each time it runs on N ranks.

all_reduce of a buffer of n elements on N ranks:

1. reduce-scatter: the buffer is cut into N chunks (chunk r has n // N elements, one more
   when r < n % N); an alltoallv sends chunk j to rank j, so rank r holds chunk r of every
   rank, and folds those N pieces in rank order;
2. all-gather: an allgatherv in place hands every rank every folded chunk.

Each rank sends and receives (N - 1) / N of the buffer in each step: the 2 (N - 1) / N n bytes
of a ring all-reduce, which is the least any all-reduce must move. A small buffer
(N x its bytes <= ``SMALL_ALL_REDUCE_BYTES``, or fewer elements than ranks) takes one
allgather of the whole buffer instead, folded on every rank: one message latency instead of
two, the same fold, the same bits.
"""
import numpy as np

__all__ = ["FOLDS", "SMALL_ALL_REDUCE_BYTES", "all_reduce", "reduce_scatter", "all_gather",
           "broadcast", "barrier", "chunks"]

FOLDS = {"sum": np.add, "product": np.multiply, "min": np.minimum, "max": np.maximum}

# Below this many bytes gathered per rank, one allgather beats alltoallv + allgatherv (both
# measured on 2 ranks here: 4 us against 16 us at 4 bytes, 91 us against 103-159 us at 64 KiB).
SMALL_ALL_REDUCE_BYTES = 128 * 1024

_chunk_cache = {}


def chunks(n: int, size: int):
    """(counts, displacements) of n elements cut into ``size`` chunks, the first n % size
    of them one element longer."""
    key = (n, size)
    cut = _chunk_cache.get(key)
    if cut is None:
        base, extra = divmod(n, size)
        counts = [base + (1 if r < extra else 0) for r in range(size)]
        displacements = [0] * size
        for r in range(1, size):
            displacements[r] = displacements[r - 1] + counts[r - 1]
        cut = (counts, displacements)
        if len(_chunk_cache) > 4096:
            _chunk_cache.clear()
        _chunk_cache[key] = cut
    return cut


def fold(pieces: np.ndarray, ufunc, out: np.ndarray) -> None:
    """out = ufunc(...ufunc(pieces[0], pieces[1])..., pieces[-1]), in that order."""
    if len(pieces) == 1:
        np.copyto(out, pieces[0])
        return
    ufunc(pieces[0], pieces[1], out=out)
    for piece in pieces[2:]:
        ufunc(out, piece, out=out)


def all_reduce(engine, flat: np.ndarray, ufunc) -> None:
    """Reduce the 1-D contiguous ``flat`` over the ranks, in place, in rank order."""
    size, n = engine.size, flat.size
    if size == 1 or n == 0:
        return
    mpi, comm, datatype = engine.mpi, engine.comm, engine.datatype(flat.itemsize)
    if n < size or size * flat.nbytes <= SMALL_ALL_REDUCE_BYTES:
        gathered = engine.scratch(size * n, flat.dtype).reshape(size, n)
        engine.complete(comm.Iallgather([flat, n, datatype], [gathered, n, datatype]))
        fold(gathered, ufunc, out=flat)
        return
    counts, displacements = chunks(n, size)
    mine, start = counts[engine.rank], displacements[engine.rank]
    pieces = engine.scratch(size * mine, flat.dtype).reshape(size, mine)
    received = ([mine] * size, [r * mine for r in range(size)])
    engine.complete(comm.Ialltoallv([flat, (counts, displacements), datatype],
                                    [pieces, received, datatype]))
    fold(pieces, ufunc, out=flat[start:start + mine])
    engine.complete(comm.Iallgatherv(mpi.IN_PLACE, [flat, (counts, displacements), datatype]))


def reduce_scatter(engine, send: np.ndarray, out: np.ndarray, ufunc) -> None:
    """out (m elements) = the rank-order fold of every rank's ``send[rank * m:(rank + 1) * m]``
    (``send`` is 1-D contiguous, size * m elements)."""
    size, m = engine.size, out.size
    if size == 1:
        np.copyto(out, send)
        return
    datatype = engine.datatype(send.itemsize)
    pieces = engine.scratch(size * m, send.dtype).reshape(size, m)
    engine.complete(engine.comm.Ialltoall([send, m, datatype], [pieces, m, datatype]))
    fold(pieces, ufunc, out=out)


def all_gather(engine, flat: np.ndarray, out: np.ndarray) -> None:
    """out (size x n, contiguous) row r = rank r's ``flat`` (n elements)."""
    datatype = engine.datatype(flat.itemsize)
    engine.complete(engine.comm.Iallgather([flat, flat.size, datatype],
                                           [out, flat.size, datatype]))


def broadcast(engine, flat: np.ndarray, src: int) -> None:
    """Every rank's ``flat`` (1-D contiguous) becomes rank ``src``'s."""
    if engine.size > 1 and flat.size:
        datatype = engine.datatype(flat.itemsize)
        engine.complete(engine.comm.Ibcast([flat, flat.size, datatype], root=src))


def barrier(engine) -> None:
    """Returns once every rank has entered it."""
    if engine.size > 1:
        engine.complete(engine.comm.Ibarrier())
