# ruff: noqa: E402, E731, PLC0415 - a diagnostic wrapper: it patches flows.steps before the CLI imports it
"""enrich with an in-process sampler thread writing JSON lines to $MEMSAMPLE_OUT."""

import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc


class MI2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MI2
out = open(os.environ["MEMSAMPLE_OUT"], "w", buffering=1)
t0 = time.perf_counter()


def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 // 1024


def smaps():
    cats = {"heap": 0, "file": 0, "anon1M": 0, "anon64M": 0, "anonbig": 0, "anonsmall": 0}
    cur = None
    with open("/proc/self/smaps") as fh:
        for line in fh:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split()
                a, b = (int(x, 16) for x in parts[0].split("-"))
                size = b - a
                name = parts[5] if len(parts) > 5 else ""
                if name == "[heap]":
                    cur = "heap"
                elif name.startswith("/"):
                    cur = "file"
                elif size == 1 << 20:
                    cur = "anon1M"
                elif size in (64 << 20, (64 << 20) - 4096) or (
                    size <= 64 << 20 and size >= 60 << 20
                ):
                    cur = "anon64M"
                elif size >= 2 << 20:
                    cur = "anonbig"
                else:
                    cur = "anonsmall"
            elif first == "Rss:":
                cats[cur] += int(line.split()[1])
    return {k: v >> 10 for k, v in cats.items()}


_best = [0]
_lastg = [0.0]


def sample():
    n = 0
    while True:
        n += 1
        m = libc.mallinfo2()
        pa = sys.modules.get("pyarrow")
        try:
            ar = pa.total_allocated_bytes() >> 10 if pa else 0
        except Exception:
            ar = -1
        tm = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else (0, 0)
        rec = {
            "tm": tm[0] >> 10,
            "tmpeak": tm[1] >> 10,
            "t": round(time.perf_counter() - t0, 3),
            "rss": rss(),
            "arena": m.arena >> 10,
            "mmap": m.hblkhd >> 10,
            "used": m.uordblks >> 10,
            "free": m.fordblks >> 10,
            "blocks": sys.getallocatedblocks(),
            "gc": gc.isenabled(),
            "gcc": gc.get_count(),
            "arrow": ar,
            "threads": threading.active_count(),
        }
        if tracemalloc.is_tracing() and tm[0] > _best[0] + (8 << 20) and rec["rss"] > 420 * 1024:
            _best[0] = tm[0]
            snap = tracemalloc.take_snapshot()
            top = snap.statistics("lineno")[:30]
            out.write(
                json.dumps(
                    {
                        "snap": rec["t"],
                        "tm": tm[0] >> 10,
                        "rss": rec["rss"],
                        "top": [(str(st.traceback), st.size >> 10, st.count) for st in top],
                    }
                )
                + "\n"
            )
        if (
            os.environ.get("MEMGARBAGE")
            and rec["rss"] > 350 * 1024
            and time.perf_counter() - _lastg[0] > 2.5
        ):
            _lastg[0] = time.perf_counter()
            flags = gc.get_debug()
            gc.set_debug(gc.DEBUG_SAVEALL)
            found = gc.collect()
            gc.set_debug(flags)
            import collections

            kinds = collections.Counter()
            big = 0
            nbig = 0
            for o in gc.garbage:
                kinds[type(o).__name__] += 1
                if isinstance(o, (str, bytes)) and len(o) > 100_000:
                    big += len(o)
                    nbig += 1
            for o in gc.garbage:
                for r in gc.get_referents(o):
                    if isinstance(r, (str, bytes)) and len(r) > 100_000:
                        big += len(r)
                        nbig += 1
            out.write(
                json.dumps(
                    {
                        "garbage": rec["t"],
                        "gcenabled": rec["gc"],
                        "rss": rec["rss"] >> 10,
                        "n": found,
                        "bigtext_mb": big >> 20,
                        "nbig": nbig,
                        "kinds": kinds.most_common(12),
                    }
                )
                + "\n"
            )
            gc.garbage.clear()
        if n % 3 == 0:
            rec["smaps"] = smaps()
        out.write(json.dumps(rec) + "\n")
        time.sleep(0.05)


threading.Thread(target=sample, daemon=True, name="memsampler").start()
_gcstart = {}


def _gccb(phase, info):
    if phase == "start":
        _gcstart["t"] = time.perf_counter()
    else:
        if info["collected"] > 1000 or info["generation"] == 2:
            out.write(
                json.dumps(
                    {
                        "gcev": info["generation"],
                        "collected": info["collected"],
                        "t": round(time.perf_counter() - t0, 3),
                        "secs": round(time.perf_counter() - _gcstart.get("t", 0), 4),
                    }
                )
                + "\n"
            )


gc.callbacks.append(_gccb)
import flows.steps as _st

_lock = threading.Lock()


def ev(name, **kw):
    with _lock:
        out.write(
            json.dumps(
                {
                    "ev": name,
                    "t": round(time.perf_counter() - t0, 3),
                    "rss": rss(),
                    "thr": threading.current_thread().name,
                    **kw,
                }
            )
            + "\n"
        )


_call = _st.Writer.__call__


def call(self, fn, *a, **k):
    name = getattr(fn, "__name__", "?")
    ev("w+", fn=name)
    try:
        return _call(self, fn, *a, **k)
    finally:
        ev("w-", fn=name)


_st.Writer.__call__ = call
_ck = _st.Writer.checkpoint_if_due


def ck(self):
    t = time.perf_counter()
    r0 = rss()
    done = _ck(self)
    if done:
        ev("ckpt", secs=round(time.perf_counter() - t, 3), rss0=r0)
    return done


_st.Writer.checkpoint_if_due = ck
_nl = _st._load_group


def nl(group, *a, **k):
    ev("lg+", batches=len(group))
    try:
        return _nl(group, *a, **k)
    finally:
        ev("lg-")


_st._load_group = nl
if "nopause" in os.environ.get("MEMPATCH", "").split(","):
    import contextlib

    import flows.steps

    flows.steps.collector_paused = contextlib.nullcontext
_p = os.environ.get("MEMPATCH", "").split(",")
if "release" in _p:
    import flows.enrich

    flows.enrich.RELEASE_AFTER_MENTIONS = 0
if "nopreload" in _p:
    import pipeline.readers

    pipeline.readers.preload = lambda: None
import atexit

from flows.cli import entry


def _fin():
    if tracemalloc.is_tracing():
        out.write(json.dumps({"final_tm": tracemalloc.get_traced_memory()}) + "\n")


atexit.register(_fin)
rc = entry()
_fin()
out.flush()
sys.exit(rc)
