"""One BLAS thread for the small matrix products of the engine.

numpy hands every matrix product to its BLAS (OpenBLAS on most installs), which starts one thread per core
and spins them up for every call. For the engine's products (a sentence of a few dozen tokens times a
384-wide layer, a few hundred knowledge vectors times one query) the threads cost far more than they save,
and on a busy machine they wait for cores that other processes hold: loading the knowledge base with the
MiniLM transformer took 49 s on a shared 2-core machine and 7 s with one BLAS thread. Setting
``OPENBLAS_NUM_THREADS`` works only before numpy is imported, which a library cannot promise, so the
limit is applied with threadpoolctl around the engine's own numpy work: the worker, the CLI and the tests
all get it, and the host process keeps its own BLAS settings outside those calls.

Setting and restoring the limit costs ~80 us a call (threadpoolctl reads every library's state first),
more than the product it guards (one knowledge query against 500 articles: ~20 us). When every BLAS is
already at one thread (``OPENBLAS_NUM_THREADS=1``, as the benches and the worker's soak set it, or an
outer limit), there is nothing to limit: the body runs as it is, on the same single thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # Finding the loaded BLAS libraries walks the process's shared objects: do it once.
    return ThreadpoolController()


@lru_cache(maxsize=1)
def _thread_counts() -> tuple[Callable[[], int | None], ...]:
    """How to read each loaded BLAS library's thread count (one C call each)."""
    return tuple(lib.get_num_threads for lib in _controller().select(user_api="blas").lib_controllers)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with every loaded BLAS library limited to one thread, then restore the previous limits."""
    if all(count() == 1 for count in _thread_counts()):
        yield  # already one thread each: the limit would change nothing
        return
    with _controller().limit(limits=1, user_api="blas"):
        yield
