"""Run provider simulators from a shell.

    python -m plugins.simulators turbosms --port 9001
    python -m plugins.simulators all --port 9001      # every simulator on ports 9001, 9002...

Prints each simulator's URL and test credentials as JSON lines, then serves until Ctrl-C.
Faults and webhooks are driven over HTTP under /__sim__/ (see docs/simulators.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from server.plugins.simulator import SimulatorServer, start_all

from . import SIMULATORS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plugins.simulators", description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=[*SIMULATORS, "all"])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one; 'all' counts up from it)")
    args = parser.parse_args(argv)

    names = list(SIMULATORS) if args.provider == "all" else [args.provider]
    sims: list[SimulatorServer] = [
        SIMULATORS[name](host=args.host, port=(args.port + index if args.port else 0))
        for index, name in enumerate(names)
    ]
    started = start_all(sims)
    for sim in started:
        print(json.dumps(sim.describe(), ensure_ascii=False), flush=True)
    print("Serving; Ctrl-C to stop.", file=sys.stderr, flush=True)
    try:
        while all(sim.running for sim in started):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for sim in started:
            sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
