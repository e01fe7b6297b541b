"""Giving memory back to the operating system after a one-off build (grid index, model load), and
keeping the garbage collector off the objects a process holds for its whole life.

CPython frees the temporaries of a big build into glibc's heap, which keeps the pages: a web
worker's resident size stays at the build's peak for its whole life. ``malloc_trim`` returns the
free pages (issue 7: ≤ 300 MB per web process with the megacity's index and the classifier)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> None:
    """Collect garbage and hand free heap pages back (a no-op where libc has no malloc_trim)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, settings, URL patterns, templates: what a web process
    loads at startup and keeps) out of the collector's reach. A request that builds many objects
    (a dashboard's 15 000 grid rows) triggers collections that would otherwise walk all of them
    again each time: a third of that request's CPU at 1 M cases. Call it once, after setup."""
    gc.collect()
    gc.freeze()
