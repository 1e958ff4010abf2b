"""Where chunks of trials run: in this process, a local process pool, or a Dask cluster.

An executor only decides *where* `run_chunk` runs; what a chunk computes depends on its
seed alone, so every executor gives identical records. Results come back in completion
order; the caller puts them in chunk order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from platsim.errors import ArgumentError

#: Environment variable giving the Dask scheduler address when --dask is not given.
DASK_ADDRESS_ENV = "PLATSIM_DASK_ADDRESS"


class ChunkExecutor(Protocol):
    """Runs a function over tasks, yielding (task, result) as each finishes."""

    def imap_unordered(self, func: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs chunks one after another in this process."""

    def imap_unordered(self, func, tasks):
        for task in tasks:
            yield task, func(task)

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A local process pool (`--workers N`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def imap_unordered(self, func, tasks):
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        futures = {self._pool.submit(func, task): task for task in tasks}
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    yield futures.pop(future), future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Chunks on a Dask distributed cluster (`--dask ADDRESS`, or `--dask local`).

    Every worker needs platsim (same version) and its dependencies installed.
    """

    def __init__(self, address: str, local_workers: int = 1) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask is a declared dependency
            raise ArgumentError(
                "--dask needs dask.distributed: pip install 'dask[distributed]'."
            ) from None
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=local_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(address, timeout="20s")
            except OSError as exc:
                raise ArgumentError(
                    f"cannot reach the Dask scheduler at {address!r}: {exc}. Start one with "
                    "`dask scheduler` and workers with `dask worker ADDRESS`."
                ) from None

    def imap_unordered(self, func, tasks):
        from dask.distributed import as_completed

        futures = self.client.map(func, list(tasks), pure=False)
        by_key = dict(zip((f.key for f in futures), tasks, strict=True))
        try:
            for future in as_completed(futures):
                yield by_key[future.key], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int = 1, dask: str | None = None) -> ChunkExecutor:
    """The executor for `--workers` / `--dask` (address, "local", or PLATSIM_DASK_ADDRESS)."""
    address = dask or os.environ.get(DASK_ADDRESS_ENV) or None
    if address:
        return DaskExecutor(address, local_workers=max(workers, 1))
    if workers > 1:
        return ProcessExecutor(workers)
    return SerialExecutor()
