"""Benchmark: ``processing.ingest`` of a 12 MP phone JPEG against one plain Pillow decode of it.

Run from the repository root:  .venv/bin/python bench/ingest.py [--runs N]

The input is ``synthetic.phone_jpeg()``: a 4032×3024 dermoscopic photo, JPEG q92 (~2.4 MB),
with full phone EXIF (GPS, times, camera, thumbnail) and orientation 6 (a portrait photo, so
the derivatives must be rotated: the dearer case).

Prints, each measured in a fresh child process:

* the median time of ``ingest()`` and of ``Image.open(...).load()`` over N interleaved runs
  (default 15, after two warm-up runs of each), twice:
  - **steady state** — glibc told to keep freed buffers (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``), so both reuse memory as a busy worker does. Without this,
    glibc sometimes returns the 46 MiB decode buffer to the kernel after each call and the
    next call page-faults it back (~20 ms), and sometimes not, so the plain decode swings
    between ~40 and ~60 ms from one run of this script to the next;
  - **glibc defaults**, for reference;
* the peak memory of one call of each (resident-set growth, which counts Pillow's and
  libjpeg's C buffers, and tracemalloc's peak, which counts Python and numpy allocations only;
  measured after one warm-up call);
* last, ``ingest/decode ratio: X.XX`` from the steady-state medians. Target: at most 1.5.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import PIL  # noqa: E402
from PIL import Image  # noqa: E402

from telederm.images import synthetic  # noqa: E402
from telederm.images.processing import ingest  # noqa: E402

STEADY = {"MALLOC_MMAP_THRESHOLD_": str(256 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.load()


def run_ingest(data: bytes) -> None:
    ingest(data, kind="dermoscopic")


OPERATIONS = {"ingest": run_ingest, "decode": decode}


def timed(operation: str, data: bytes) -> float:
    started = time.perf_counter()
    OPERATIONS[operation](data)
    return (time.perf_counter() - started) * 1000


def time_child(path: str, runs: int) -> None:
    data = Path(path).read_bytes()
    for _ in range(2):  # warm up: plugin imports, caches, allocator arenas
        timed("ingest", data)
        timed("decode", data)
    # Interleaved, so that frequency scaling or a noisy neighbour hits both alike.
    times: dict[str, list[float]] = {"ingest": [], "decode": []}
    for _ in range(runs):
        for operation, samples in times.items():
            samples.append(timed(operation, data))
    print(json.dumps({name: statistics.median(samples) for name, samples in times.items()}))


def rss_kib() -> tuple[int, int]:
    """(current, peak) resident set of this process in KiB. Linux's VmHWM belongs to this
    process image; ru_maxrss would include the parent's size inherited through fork/exec."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak, peak
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def memory_child(operation: str, path: str) -> None:
    """One warm-up call, then one measured call; print the measured call's peaks as JSON."""
    data = Path(path).read_bytes()
    OPERATIONS[operation](data)
    # Reset VmHWM to the current RSS (Linux ≥ 4.0), so the warm-up does not count.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    before, _ = rss_kib()
    tracemalloc.start()
    OPERATIONS[operation](data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _, high = rss_kib()
    print(json.dumps({"rss_kib": high - before, "tracemalloc_bytes": peak}))


def child(*args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 — our own interpreter running this very file
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--time-child", metavar="PATH")
    parser.add_argument("--memory-child", nargs=2, metavar=("OPERATION", "PATH"))
    args = parser.parse_args()
    if args.time_child:
        time_child(args.time_child, args.runs)
        return
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    data = synthetic.phone_jpeg()
    with Image.open(io.BytesIO(data)) as im:
        size = im.size
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}")
    print(f"Python {platform.python_version()}, Pillow {PIL.__version__}")
    print(f"input: synthetic {size[0]}×{size[1]} JPEG q92, full EXIF, {len(data) / 1e6:.2f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "phone.jpg")
        Path(path).write_bytes(data)
        runs = ["--runs", str(args.runs), "--time-child", path]
        default = child(*runs)
        steady = child(*runs, env=STEADY)
        print(
            f"glibc default allocator: ingest() {default['ingest']:.1f} ms, "
            f"decode {default['decode']:.1f} ms (medians, {args.runs} runs)"
        )
        print(f"steady state: ingest() median {steady['ingest']:.1f} ms over {args.runs} runs")
        print(f"steady state: Pillow decode (Image.open().load()) median {steady['decode']:.1f} ms")
        for operation in ("ingest", "decode"):
            peak = child("--memory-child", operation, path)
            print(
                f"peak memory, one {operation}: RSS +{peak['rss_kib'] / 1024:.1f} MiB, "
                f"tracemalloc {peak['tracemalloc_bytes'] / 2**20:.1f} MiB"
            )
    print(f"ingest/decode ratio: {steady['ingest'] / steady['decode']:.2f}")


if __name__ == "__main__":
    main()
