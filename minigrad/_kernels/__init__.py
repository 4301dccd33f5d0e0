"""Compiled kernels, one extension module per kernels/<name>.pyx.

OpenMP wait policy. libgomp reads its environment once, when it is loaded, which is when the
first kernel module below is imported: so a default set here, before any of them, applies to
it (and to any other libgomp loaded later in the process, torch's included). Unless the user
chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT, never overridden), idle OpenMP threads spin
for GOMP_SPINCOUNT=10000 iterations (tens of microseconds) and then sleep, instead of libgomp's
default 300000. Measured on the seed model's training step, 2 threads on 2 cores (medians of
5, +-20% run to run; "other process busy": a second process spinning on one core, otherwise
the machine was idle):

    step, ms                      default spin   GOMP_SPINCOUNT=10000   OMP_WAIT_POLICY=passive
    minigrad alone, batch 1       1.06 - 1.10    1.02 - 1.19            3.4 - 3.6
    minigrad alone, batch 64      50 - 64        45 - 53                78 - 83
    torch imported, batch 1       2.5 - 7.1      1.02 - 1.17            2.9 - 3.4
    torch imported, batch 64      91 - 143       44 - 62                70 - 76
    other process busy, batch 1   2.7 - 3.8      6.6 - 7.2              1.8
    other process busy, batch 64  161            190                    96

(one thread when another process keeps a core busy: 1.5 ms and 83 ms, the best of all). A
short spin keeps the team awake across the few microseconds of Python between two kernels
(passive sleeps and pays a futex wake-up per parallel region, 3x slower at batch 1), but
stops threads spinning for long on cores that another thread pool needs: with torch's OpenMP
threads in the same process the default spin halves minigrad's speed or worse. The cost: when
another process holds a core, waking the sleeping thread is slower than finding it spinning;
there, OMP_WAIT_POLICY=passive or one thread (set_num_threads(1)) is the right setting.
If libgomp was loaded before minigrad (torch imported first), this default comes too late:
set GOMP_SPINCOUNT=10000 in the environment, or import minigrad first. The variable stays in
os.environ, so child processes inherit it; MINIGRAD_PROCESS_SETTINGS=0 leaves the
environment untouched.
"""
import os

if ("OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
        and os.environ.get("MINIGRAD_PROCESS_SETTINGS", "1").strip() != "0"):
    os.environ["GOMP_SPINCOUNT"] = "10000"
