"""Sample RSS of every `enrich run` process under a bench-mem- temp dir, and its WAL size, every 0.5 s."""

import json
import os
import sys
import time

out = open(sys.argv[1], "w", buffering=1)
stop_after = float(sys.argv[2]) if len(sys.argv) > 2 else 3600
t0 = time.time()
while time.time() - t0 < stop_after:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        cmd = [c.decode(errors="replace") for c in cmd]
        if (
            len(cmd) > 3
            and cmd[1].endswith("/enrich")
            and cmd[2] == "run"
            and "bench-mem-" in " ".join(cmd)
        ):
            try:
                st = {
                    row.split(":")[0]: int(row.split()[1])
                    for row in open(f"/proc/{pid}/status")
                    if row.startswith(("VmRSS", "VmHWM"))
                }
                db = cmd[cmd.index("--db") + 1]
                wal = os.path.getsize(db + ".wal") if os.path.exists(db + ".wal") else 0
                dbs = os.path.getsize(db) if os.path.exists(db) else 0
                out.write(
                    json.dumps(
                        {
                            "t": round(time.time() - t0, 1),
                            "pid": int(pid),
                            "db": os.path.basename(db),
                            "rss": st.get("VmRSS"),
                            "hwm": st.get("VmHWM"),
                            "wal": wal >> 20,
                            "dbmb": dbs >> 20,
                        }
                    )
                    + "\n"
                )
            except (OSError, ValueError):
                pass
    time.sleep(0.5)
