"""Random number generation: one seeded generator drives every random draw in minigrad.

``minigrad.manual_seed(s)`` reseeds ``default_generator``; functions that take a
``generator=`` argument use that one instead. Draws go through numpy's PCG64.
"""
import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "numpy_generator", "get_rng_state", "set_rng_state"]


class Generator:
    """A seedable source of random numbers (as ``torch.Generator``)."""

    def __init__(self, seed: int | None = None):
        self._seed = int(np.random.SeedSequence().entropy % (2**63)) if seed is None else seed
        self.np = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as a JSON-friendly dict (for checkpoints)."""
        return {"seed": self._seed, "bit_generator": self.np.bit_generator.state}

    def set_state(self, state: dict) -> None:
        self._seed = int(state["seed"])
        bit_generator = np.random.PCG64()
        bit_generator.state = state["bit_generator"]
        self.np = np.random.Generator(bit_generator)


default_generator = Generator(seed=0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as ``torch.manual_seed``)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    """The numpy Generator behind ``generator``, or behind the default one."""
    if generator is None:
        return default_generator.np
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got {type(generator).__name__}")
    return generator.np
