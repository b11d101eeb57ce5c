# ruff: noqa: E402 - a diagnostic script: it imports the bench helpers of the checkout it is given
"""Trace RSS of `enrich run` on N ids over time. Usage: ROOT/.venv/bin/python trace.py ROOT N OUT [extra env k=v...]"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

root = Path(sys.argv[1])
n = int(sys.argv[2])
out = os.path.abspath(sys.argv[3])
extra = dict(a.split("=", 1) for a in sys.argv[4:])
sys.path.insert(0, str(root))
os.chdir(root)
from bench._fakeapi_proc import FakeApiProcess, child_env, prepared_prefect_home
from bench.bench_memory import FAST, write_seeds
from demo.fakeapi.generate import generate_catalog

works = int(n / 2.4) + 100
catalog = list(generate_catalog(works, 0))


def status(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile")):
                    k, v = line.split(":")
                    d[k] = int(v.split()[0])
    except OSError:
        return None
    return d


with FakeApiProcess(works=works) as api, tempfile.TemporaryDirectory(prefix="memtrace-") as tmp:
    env = child_env({**api.env, **FAST, **extra}, prefect_home=prepared_prefect_home())
    env["MEMSAMPLE_OUT"] = out + ".samples"
    write_seeds(Path(tmp) / "seeds", catalog, n)
    t0 = time.perf_counter()
    cmd = [
        str(root / ".venv/bin/python"),
        str(Path(__file__).with_name("sampled_enrich.py")),
        "-v",
        "run",
        str(Path(tmp) / "seeds"),
        "--db",
        str(Path(tmp) / "w.duckdb"),
    ]
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    samples, lines = [], []

    def reader(stream, tag):
        for line in stream:
            lines.append((time.perf_counter() - t0, tag, line.rstrip()[:300]))

    ths = [
        threading.Thread(target=reader, args=(proc.stdout, "o"), daemon=True),
        threading.Thread(target=reader, args=(proc.stderr, "e"), daemon=True),
    ]
    for th in ths:
        th.start()
    while proc.poll() is None:
        s = status(proc.pid)
        if s:
            samples.append(
                (time.perf_counter() - t0, s.get("VmRSS"), s.get("VmHWM"), s.get("RssAnon"))
            )
        time.sleep(0.05)
    for th in ths:
        th.join()
    ru = os.times()
    json.dump(
        {
            "samples": samples,
            "lines": lines,
            "exit": proc.returncode,
            "cpu_children": ru.children_user + ru.children_system,
        },
        open(out, "w"),
    )
    peak = max(samples, key=lambda x: x[1])
    print(
        f"exit {proc.returncode} hwm {samples[-1][2] / 1024:.0f} MB peak-sample {peak[1] / 1024:.0f} MB at {peak[0]:.1f}s of {samples[-1][0]:.1f}s"
    )
