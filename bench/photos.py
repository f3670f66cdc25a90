"""Photo pipeline benchmark: ours (JPEG draft decoding) against the naive one
(full decode, resize, save), on generated 12-megapixel phone-like JPEGs.

    .venv/bin/python bench/photos.py [--photos 5] [--runs 5] [--quick]

Prints ms per photo (median of the runs) for both, their ratio, the peak
memory one photo costs each (max RSS growth in a fresh process), and checks
both strip the same metadata. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from app.photos import naive_process, process_upload  # noqa: E402


def make_photo(seed: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """Gradients plus noise, with EXIF (GPS, orientation): 3–5 MB like a phone's."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 48 + seed % 5)
    red = Image.blend(gradient, noise, 0.55)
    green = Image.blend(gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.45)
    blue = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (red, green, Image.blend(blue, noise, 0.5)))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "BenchPhone"
    exif[0x8825] = {1: "N", 2: (38.0, 15.0, 30.0), 3: "E", 4: (106.0, 14.0, 10.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


def _child_peak(which: str, path: str) -> None:
    """In a fresh process: how much one photo raises the peak RSS."""
    data = Path(path).read_bytes()
    fn = process_upload if which == "ours" else naive_process
    fn(make_small())  # load the codecs before the baseline
    # ru_maxrss survives fork and exec, so reset the kernel's high-water mark
    # (VmHWM) for this process and read it back.
    Path("/proc/self/clear_refs").write_text("5")
    before = _vm_hwm_kib()
    fn(data)
    print((_vm_hwm_kib() - before) / 1024)


def _vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def make_small() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


def peak_mb(which: str, data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            [sys.executable, __file__, "--child", which, handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def clean(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return (
        not image.getexif()
        and not ({"exif", "icc_profile", "xmp", "comment"} & set(image.info))
        and b"GPS" not in data
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 photos, 2 runs")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_peak(*args.child)
        return
    if args.quick:
        args.photos, args.runs = 2, 2

    photos = [make_photo(i) for i in range(args.photos)]
    sizes = [len(p) / 1e6 for p in photos]
    print(f"{len(photos)} photos of 4000x3000, {min(sizes):.1f}–{max(sizes):.1f} MB each")

    timings: dict[str, list[float]] = {"ours": [], "naive": []}
    same = True
    for _ in range(args.runs):
        for which, fn in (("ours", process_upload), ("naive", naive_process)):
            start = time.perf_counter()
            results = [fn(p) for p in photos]
            timings[which].append((time.perf_counter() - start) * 1000 / len(photos))
            same = same and all(clean(r.display) and clean(r.thumb) for r in results)
    ours_ms = statistics.median(timings["ours"])
    naive_ms = statistics.median(timings["naive"])
    ours_peak = peak_mb("ours", photos[0])
    naive_peak = peak_mb("naive", photos[0])
    ours_result, naive_result = process_upload(photos[0]), naive_process(photos[0])
    print(
        f"ours:  {ours_ms:7.1f} ms/photo  peak {ours_peak:6.1f} MB  -> {ours_result.width}x{ours_result.height}"
    )
    print(
        f"naive: {naive_ms:7.1f} ms/photo  peak {naive_peak:6.1f} MB  -> {naive_result.width}x{naive_result.height}"
    )
    print(f"speedup {naive_ms / ours_ms:.2f}x; metadata stripped identically: {same}")
    print(
        json.dumps(
            {
                "ours_ms": round(ours_ms, 1),
                "naive_ms": round(naive_ms, 1),
                "speedup": round(naive_ms / ours_ms, 2),
                "peak_mb": round(ours_peak, 1),
                "naive_peak_mb": round(naive_peak, 1),
                "photos": len(photos),
                "runs": args.runs,
                "input_mb": [round(s, 2) for s in sizes],
                "stripped_identically": same,
            }
        )
    )


if __name__ == "__main__":
    main()
