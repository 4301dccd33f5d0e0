"""When minigrad is imported from a source checkout whose kernels are not compiled.

``python -m minigrad.examples.train`` (or ``python -m pytest``, ``python -c ...``) run from the
checkout's root puts that folder first on ``sys.path``, so ``import minigrad`` finds the source
tree ``minigrad/`` before the package that ``pip install .`` compiled into site-packages. The
source tree only works once its kernels are built in place (``python setup.py build_ext
--inplace``), which is what a developer does; a user who installed with pip has not.

So, when this package sits in a checkout (``setup.py`` and ``kernels/*.pyx`` beside it):

- every kernel compiled in place: nothing to do, the checkout is used (development);
- none compiled: the installed minigrad is loaded instead, under the same name, and this
  source package steps aside (``sys.modules["minigrad"]`` is replaced, which the import
  system honours); with no installed minigrad, an ImportError says what to run;
- some compiled, others not (a half-done build): an ImportError names the missing kernels,
  rather than quietly running another copy of the code than the one being edited.
"""
import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["use_installed_package_if_unbuilt"]

_BUILD_IN_PLACE = "python setup.py build_ext --inplace -j 2"


def _checkout_kernels(package_dir: str):
    """Names of the kernels of the checkout around ``package_dir``; None outside a checkout."""
    checkout = os.path.dirname(package_dir)
    kernels = os.path.join(checkout, "kernels")
    if not (os.path.isfile(os.path.join(checkout, "setup.py")) and os.path.isdir(kernels)):
        return None
    names = {name[:-4] for name in os.listdir(kernels) if name.endswith(".pyx")}
    return names or None


def _compiled_kernels(package_dir: str) -> set:
    folder = os.path.join(package_dir, "_kernels")
    compiled = set()
    for name in os.listdir(folder):
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if name.endswith(suffix):
                compiled.add(name[:-len(suffix)])
    return compiled


def _installed_spec(package_dir: str):
    """The spec of another minigrad package on sys.path (a venv inside the checkout
    counts), or None."""
    source = os.path.realpath(package_dir)
    checkout = os.path.dirname(source)
    elsewhere = [entry for entry in sys.path
                 if os.path.realpath(entry or os.getcwd()) != checkout]
    spec = importlib.machinery.PathFinder.find_spec("minigrad", elsewhere)
    if spec is None or spec.origin is None:
        return None
    if os.path.dirname(os.path.realpath(spec.origin)) == source:
        return None  # this source tree again, reached another way
    return spec


def use_installed_package_if_unbuilt(package_dir: str):
    """Return the installed minigrad module that replaces this unbuilt source tree, or None
    when the source tree is usable as it is. Raises ImportError when neither works."""
    kernels = _checkout_kernels(package_dir)
    if kernels is None:
        return None
    compiled = _compiled_kernels(package_dir)
    missing = sorted(kernels - compiled)
    if not missing:
        return None
    checkout = os.path.dirname(package_dir)
    if compiled:
        raise ImportError(
            f"minigrad: this source checkout ({checkout}) has some kernels compiled in place "
            f"but not {', '.join(missing)}. Build them all: {_BUILD_IN_PLACE}")
    spec = _installed_spec(package_dir)
    if spec is None:
        raise ImportError(
            f"minigrad: the kernels of this source checkout ({checkout}) are not compiled, "
            f"and no installed minigrad was found. Install it with `pip install .` (then "
            f"`python -m minigrad...` works from this folder too), or, to develop, build the "
            f"kernels in place: {_BUILD_IN_PLACE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["minigrad"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["minigrad"]
        raise
    return module
