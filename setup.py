"""Build minigrad's Cython kernels.

Every ``kernels/<name>.pyx`` becomes the extension module ``minigrad._kernels.<name>``.

Environment variables:
  MINIGRAD_DEBUG=1         bounds checks and wraparound on, -O0 -g: for fuzz and sanitizer runs.
  MINIGRAD_KERNELS=a,b     build only these kernels (a development convenience).
  MINIGRAD_NO_OPENMP=1     build serial kernels even when the compiler has OpenMP.

The code is compiled for the baseline x86-64 (or aarch64) ISA; kernels that want AVX2 or
AVX-512 carry per-ISA variants (``__attribute__((target(...)))``) chosen at run time.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
DEBUG = os.environ.get("MINIGRAD_DEBUG") == "1"

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
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


class BuildExtWithOpenMP(build_ext):
    """Adds -fopenmp to every kernel when the compiler supports it."""

    def build_extensions(self):
        has_openmp = self.compiler.compiler_type == "unix" and compiler_has_openmp(self.compiler)
        if not has_openmp:
            print("minigrad: building kernels WITHOUT OpenMP (serial)", file=sys.stderr)
        for ext in self.extensions:
            if has_openmp:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
        super().build_extensions()

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
    opt = ["-O0", "-g"] if DEBUG else ["-O3", "-g0"]
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
                extra_compile_args=opt + ["-Wno-unused-function", "-Wno-unreachable-code"],
                extra_link_args=[],
            )
        )
    return extensions


setup(
    ext_modules=cythonize(
        kernel_extensions(),
        compiler_directives=DIRECTIVES,
        include_path=["kernels"],
        # Debug and release C files live apart, so switching MINIGRAD_DEBUG regenerates them.
        build_dir=os.path.join("build", "cython-debug" if DEBUG else "cython-release"),
        nthreads=int(os.environ.get("MINIGRAD_CYTHONIZE_JOBS", "0")),
    ),
    cmdclass={"build_ext": BuildExtWithOpenMP},
)
