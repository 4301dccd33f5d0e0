"""Build minigrad's Cython kernels.

Every ``kernels/<name>.pyx`` becomes the extension module ``minigrad._kernels.<name>``.

Environment variables:
  MINIGRAD_DEBUG=1         bounds checks and wraparound on, -O0 -g: for fuzz and sanitizer runs.
  MINIGRAD_KERNELS=a,b     build only these kernels (a development convenience).
  MINIGRAD_NO_OPENMP=1     build serial kernels even when the compiler has OpenMP.
  MINIGRAD_BUILD_JOBS=n    compile n extensions at once (default: the cores this process may
                           use; ``build_ext -j n`` says the same).

Rebuilding is incremental: a kernel's C file is regenerated only when its .pyx or a .pxd of
this checkout changed (or Cython, numpy, the directives did), and it is recompiled only when
that C file or a header changed (or the build configuration did: debug, OpenMP, compiler
flags). So a second ``pip install .`` of an unchanged checkout compiles nothing.

The code is compiled for the baseline x86-64 (or aarch64) ISA; kernels that want AVX2 or
AVX-512 carry per-ISA variants (``__attribute__((target(...)))``) chosen at run time.
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import Cython
import numpy as np
from Cython.Build import Dependencies, cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
DEBUG = os.environ.get("MINIGRAD_DEBUG") == "1"
# Debug and release C files live apart, so switching MINIGRAD_DEBUG regenerates them.
CYTHON_BUILD_DIR = os.path.join("build", "cython-debug" if DEBUG else "cython-release")
OPTIMIZATION = ["-O0", "-g"] if DEBUG else ["-O3", "-g0"]

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    # C division in both builds: with Python's (a check for zero, the divisor's sign for %)
    # the bounds-checked build would compute other numbers than the release build (a float
    # x / 0 raised ZeroDivisionError inside a nogil loop instead of giving inf or NaN)
    "cdivision": True,
    "embedsignature": True,
}


def compiler_has_openmp(compiler) -> bool:
    """Compile and link a tiny OpenMP program with this compiler."""
    if os.environ.get("MINIGRAD_NO_OPENMP") == "1":
        return False
    source = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        objects = compiler.compile([path], output_dir=tmp, extra_postargs=["-fopenmp"])
        compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=["-fopenmp"])
        return subprocess.run([os.path.join(tmp, "probe")]).returncode == 0
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def build_jobs() -> int:
    jobs = os.environ.get("MINIGRAD_BUILD_JOBS", "")
    return int(jobs) if jobs.isdigit() and int(jobs) > 0 else available_cores()


def stamp_differs(path: str, stamp: dict) -> bool:
    """Whether ``stamp`` differs from the one recorded at ``path`` by the last build."""
    try:
        with open(path) as f:
            return json.load(f) != stamp
    except (OSError, ValueError):
        return True


def record_stamp(path: str, stamp: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(stamp, f)


class BuildExtWithOpenMP(build_ext):
    """Adds -fopenmp to every kernel when the compiler supports it; compiles the kernels in
    parallel; rebuilds them all when the build configuration changed since the last build."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = build_jobs()

    def build_extensions(self):
        has_openmp = self.compiler.compiler_type == "unix" and compiler_has_openmp(self.compiler)
        if not has_openmp:
            print("minigrad: building kernels WITHOUT OpenMP (serial)", file=sys.stderr)
        checkout = str(HERE.resolve()) + os.sep
        for ext in self.extensions:
            if has_openmp:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
            # numpy's headers sit in pip's fresh build environment, newer at every install;
            # a change of numpy is caught by the configuration stamp below.
            ext.depends = [d for d in ext.depends
                           if not os.path.isabs(d) or d.startswith(checkout)]
        # The build folder is shared by in-place and wheel builds, debug and release: an
        # object compiled under other settings must not be taken as up to date.
        configuration = {"debug": DEBUG, "openmp": has_openmp, "python": sys.version,
                         "numpy": np.__version__, "compiler": self.compiler.compiler_so,
                         "flags": OPTIMIZATION}
        kind = "inplace" if self.inplace else "lib"
        stamp = os.path.join(self.build_temp, f"minigrad-{kind}.json")
        if stamp_differs(stamp, configuration):
            self.force = True
        super().build_extensions()
        record_stamp(stamp, configuration)

    def copy_file(self, infile, outfile, *args, **kwargs):
        """Replace an in-place extension atomically: overwriting the file that a running
        process has mapped would crash it, while a rename leaves its copy intact."""
        if not self.inplace:
            return super().copy_file(infile, outfile, *args, **kwargs)
        temporary = f"{outfile}.{os.getpid()}.tmp"
        shutil.copy2(infile, temporary)
        os.replace(temporary, outfile)
        return outfile, True


def kernel_extensions():
    wanted = os.environ.get("MINIGRAD_KERNELS")
    wanted = set(wanted.split(",")) if wanted else None
    extensions = []
    for pyx in sorted((HERE / "kernels").glob("*.pyx")):
        if wanted is not None and pyx.stem not in wanted:
            continue
        extensions.append(
            Extension(
                f"minigrad._kernels.{pyx.stem}",
                [str(pyx.relative_to(HERE))],
                include_dirs=[np.get_include(), "kernels"],
                depends=[str(h.relative_to(HERE)) for h in sorted((HERE / "kernels").glob("*.h"))],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=OPTIMIZATION + ["-Wno-unused-function",
                                                   "-Wno-unreachable-code"],
                extra_link_args=[],
            )
        )
    return extensions


@contextlib.contextmanager
def only_checkout_files_date_the_c_files():
    """Cython regenerates a C file when any file it depends on is newer, its own .pxd files
    included; pip installs them afresh into a new build environment for every `pip install`,
    so every C file would look stale. Within this block only this checkout's files count
    (a change of Cython or numpy is caught by cythonize_kernels's stamp instead)."""
    tree = Dependencies.DependencyTree
    original = getattr(tree, "newest_dependency", None)
    if original is None or not hasattr(tree, "extract_timestamp"):  # another Cython: as it is
        yield
        return
    checkout = str(HERE.resolve()) + os.sep

    def newest_checkout_dependency(self, filename):
        ours = [f for f in self.all_dependencies(filename)
                if os.path.abspath(f).startswith(checkout)]
        return max(self.extract_timestamp(f) for f in ours or [filename])

    tree.newest_dependency = newest_checkout_dependency
    try:
        yield
    finally:
        tree.newest_dependency = original


def cythonize_kernels():
    toolchain = {"cython": Cython.__version__, "numpy": np.__version__,
                 "directives": DIRECTIVES}
    stamp = os.path.join(CYTHON_BUILD_DIR, "toolchain.json")
    with only_checkout_files_date_the_c_files():
        extensions = cythonize(kernel_extensions(), compiler_directives=DIRECTIVES,
                               include_path=["kernels"], build_dir=CYTHON_BUILD_DIR,
                               force=stamp_differs(stamp, toolchain), nthreads=build_jobs())
    record_stamp(stamp, toolchain)
    return extensions


setup(
    ext_modules=cythonize_kernels(),
    cmdclass={"build_ext": BuildExtWithOpenMP},
)
