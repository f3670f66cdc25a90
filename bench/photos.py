"""Photo pipeline benchmark: ours (JPEG draft decoding) against the naive one
(full decode, orient, resize, save: the same output sizes), on generated
12-megapixel phone-like JPEGs.

    .venv/bin/python bench/photos.py [--photos 5] [--runs 5] [--quick] [--options]

Prints ms per photo (median of the runs; wall clock, and the process's CPU
time, steadier on a shared machine, side threads included) for both, their
ratio, the page faults a photo, the peak memory one photo costs each (max RSS
growth in a fresh process) and what ours keeps after it (Pillow's arena), and
checks both strip the same metadata. Each runs in its own process, set up as
it would be: ours as the web application sets Pillow (``keep_image_memory``),
the naive one with Pillow's defaults, as a developer who configured nothing
has it; so neither's memory state helps the other. They alternate, run by run. Then the memory of the formats decoded at full size: a
16-megapixel PNG (the largest accepted) and a 49-megapixel one of a few
hundred KB (refused from its header). ``--options`` first prints what each
filter, reducing gap, quality and subsampling setting costs and gives (size,
PSNR against a LANCZOS reference from the full decode). The last line is one
JSON object. It also prints the floor: the CPU any pipeline spends to decode a
photo at the display copy's scale, encode that copy once and hash the upload
(``floor``), and so the most any pipeline can gain over the naive one here.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataclasses import replace  # noqa: E402

from PIL import Image, ImageChops, ImageStat  # noqa: E402

from app.photos import (  # noqa: E402
    DEFAULT_LIMITS,
    PhotoLimits,
    keep_image_memory,
    naive_process,
    process_upload,
)
from app.photos.pipeline import UPRIGHT, decode, plan_size  # noqa: E402
from handlers.ports import PhotoRejected  # noqa: E402


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
    """In a fresh process: how much one photo raises the peak RSS, and how much
    more the process holds after it (ours: the blocks Pillow's arena keeps)."""
    data = Path(path).read_bytes()
    fn = process_upload if which == "ours" else naive_process
    if which == "ours":
        keep_image_memory()
    fn(make_small())  # load the codecs before the baseline
    fn(make_small("PNG"))
    # ru_maxrss survives fork and exec, so reset the kernel's high-water mark
    # (VmHWM) for this process and read it back.
    Path("/proc/self/clear_refs").write_text("5")
    before, rss_before = _vm_kib("VmHWM:"), _vm_kib("VmRSS:")
    try:
        fn(data)
    except PhotoRejected:
        pass
    print((_vm_kib("VmHWM:") - before) / 1024, (_vm_kib("VmRSS:") - rss_before) / 1024)


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _naive_worker(paths: list[str]) -> None:
    """The naive pipeline's own process, Pillow as it comes: for each line read,
    one batch over the photos, answered with a JSON line."""
    photos = [Path(path).read_bytes() for path in paths]
    for _line in sys.stdin:
        print(json.dumps(_batch(naive_process, photos)), flush=True)


def _batch(fn: object, photos: list[bytes]) -> dict[str, float | bool]:
    """Wall and CPU ms a photo, page faults a photo, and whether every stored
    copy came out clean."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start, start_cpu = time.perf_counter(), time.process_time()
    results = [fn(p) for p in photos]  # type: ignore[operator]
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {
        "ms": wall * 1000 / len(photos),
        "cpu_ms": cpu * 1000 / len(photos),
        "faults": faults / len(photos),
        "clean": all(clean(r.display) and clean(r.thumb) for r in results),
    }


def make_small(kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(out, kind)
    return out.getvalue()


def make_png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    """A smooth PNG: a few hundred KB that decode to hundreds of MB."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def peak_mb(which: str, data: bytes) -> float:
    return memory_mb(which, data)[0]


def memory_mb(which: str, data: bytes) -> tuple[float, float]:
    """The peak RSS growth one photo costs in a fresh process, and the RSS it
    leaves held."""
    with tempfile.NamedTemporaryFile(suffix=".img") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            [sys.executable, __file__, "--child", which, handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    peak, kept = out.stdout.strip().splitlines()[-1].split()
    return float(peak), float(kept)


def clean(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return (
        not image.getexif()
        and not ({"exif", "icc_profile", "xmp", "comment"} & set(image.info))
        and b"GPS" not in data
    )


def psnr(data: bytes, reference: Image.Image) -> float:
    """Peak signal-to-noise ratio of a stored JPEG against a reference, in dB."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    squares = ImageChops.difference(image, reference).point(lambda v: v * v)
    mse = sum(ImageStat.Stat(squares).mean) / 3
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def references(
    data: bytes, display: tuple[int, int], thumb: tuple[int, int]
) -> tuple[Image.Image, Image.Image]:
    """What a careful slow pipeline makes of the upright sizes given: full decode,
    LANCZOS straight to each size, then the orientation."""
    image = Image.open(io.BytesIO(data))
    turn = UPRIGHT.get(int(image.getexif().get(0x0112, 1)))
    image.load()
    if turn in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270) or turn in (
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
    ):
        display, thumb = display[::-1], thumb[::-1]
    made = [image.resize(size, Image.Resampling.LANCZOS) for size in (display, thumb)]
    return (made[0].transpose(turn), made[1].transpose(turn)) if turn is not None else (made[0], made[1])


OPTIONS: list[tuple[str, dict[str, object]]] = [
    ("shipped settings", {}),
    ("thumb LANCZOS, no reducing gap", {"thumb_reducing_gap": None}),
    ("thumb LANCZOS, reducing gap 2.0", {"thumb_reducing_gap": 2.0}),
    ("thumb LANCZOS, reducing gap 3.0", {"thumb_reducing_gap": 3.0}),
    (
        "thumb BICUBIC, reducing gap 2.0",
        {"thumb_resample": Image.Resampling.BICUBIC, "thumb_reducing_gap": 2.0},
    ),
    (
        "thumb BILINEAR, reducing gap 2.0",
        {"thumb_resample": Image.Resampling.BILINEAR, "thumb_reducing_gap": 2.0},
    ),
    ("thumb BOX, no reducing gap", {"thumb_resample": Image.Resampling.BOX, "thumb_reducing_gap": None}),
    ("quality 75", {"quality": 75}),
    ("quality 80", {"quality": 80}),
    ("quality 90", {"quality": 90}),
    ("subsampling 4:4:4", {"subsampling": 0}),
    ("subsampling 4:2:2", {"subsampling": 1}),
]


def options(photos: list[bytes], runs: int) -> None:
    """What each setting costs (CPU ms a photo) and gives (bytes, PSNR)."""
    first = process_upload(photos[0])
    ref_display, ref_thumb = references(
        photos[0], (first.width, first.height), (first.thumb_width, first.thumb_height)
    )
    print(f"{'setting':<36} {'CPU ms':>7} {'display KB':>10} {'PSNR':>6} {'thumb KB':>8} {'PSNR':>6}")
    for label, changes in OPTIONS:
        limits = replace(DEFAULT_LIMITS, **changes)  # type: ignore[arg-type]
        cpu = statistics.median(
            _cpu_ms(lambda p, lim=limits: process_upload(p, lim), photos) for _ in range(runs)
        )
        r = process_upload(photos[0], limits)
        print(
            f"{label:<36} {cpu:7.1f} {len(r.display) / 1024:10.0f} {psnr(r.display, ref_display):6.2f} "
            f"{len(r.thumb) / 1024:8.1f} {psnr(r.thumb, ref_thumb):6.2f}"
        )
    naive = naive_process(photos[0])
    print(
        f"{'(naive pipeline)':<36} {'':>7} {len(naive.display) / 1024:10.0f} "
        f"{psnr(naive.display, ref_display):6.2f} {len(naive.thumb) / 1024:8.1f} {psnr(naive.thumb, ref_thumb):6.2f}\n"
    )


def _cpu_ms(fn: object, photos: list[bytes]) -> float:
    start = time.process_time()
    for p in photos:
        fn(p)  # type: ignore[operator]
    return (time.process_time() - start) * 1000 / len(photos)


def timings(photos: list[bytes], runs: int) -> tuple[dict[str, float], bool]:
    """Median wall and CPU ms and page faults a photo for both pipelines, each in
    its own process, alternating; and whether every stored copy of both came
    out clean. Ours runs here, after ``keep_image_memory`` as in the web
    application; the naive one in a child with Pillow's defaults."""
    keep_image_memory()
    batches: dict[str, list[dict[str, float | bool]]] = {"ours": [], "naive": []}
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"photo{i}.jpg" for i in range(len(photos))]
        for path, data in zip(paths, photos, strict=True):
            path.write_bytes(data)
        with subprocess.Popen(
            [sys.executable, __file__, "--naive-worker", *map(str, paths)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as naive:
            assert naive.stdin is not None and naive.stdout is not None
            for _ in range(runs):
                batches["ours"].append(_batch(process_upload, photos))
                naive.stdin.write("run\n")
                naive.stdin.flush()
                batches["naive"].append(json.loads(naive.stdout.readline()))
            naive.stdin.close()
    out = {
        f"{which}_{key}": statistics.median(float(b[key]) for b in runs_of)
        for which, runs_of in batches.items()
        for key in ("ms", "cpu_ms", "faults")
    }
    return out, all(bool(b["clean"]) for runs_of in batches.values() for b in runs_of)


def floor(data: bytes, runs: int) -> dict[str, float]:
    """What no pipeline on Pillow's libjpeg-turbo gets under, in CPU ms (best
    of ``runs``): the decode at each of libjpeg's scales, and the display
    copy's encode. DCT scaling saves the inverse transforms and the colour
    work, not the entropy decoding, which reads every coefficient of the file
    at any scale: so decoding at 1/8 still costs most of decoding at 1/2. A
    pipeline that makes the display copy must at least decode at its scale,
    encode it once and hash the upload (its stored SHA-256); the orientation,
    the thumbnail and its encode come on top."""
    out: dict[str, float] = {}
    for scale in (1, 2, 4, 8):
        out[f"decode_1_{scale}_ms"] = _least_cpu_ms(runs, lambda scale=scale: _drafted(data, scale).load)
    display, _scale = decode(data)
    out["encode_display_ms"] = _least_cpu_ms(
        runs,
        lambda: partial(
            display.save,
            io.BytesIO(),
            "JPEG",
            quality=DEFAULT_LIMITS.quality,
            subsampling=DEFAULT_LIMITS.subsampling,
        ),
    )
    out["sha256_ms"] = _least_cpu_ms(runs, lambda: partial(hashlib.sha256, data))
    _size, scale = plan_size(*Image.open(io.BytesIO(data)).size)
    out["floor_cpu_ms"] = round(out[f"decode_1_{scale}_ms"] + out["encode_display_ms"] + out["sha256_ms"], 1)
    decodes = ", ".join(
        f"{name} {out[f'decode_1_{k}_ms']}" for name, k in (("full", 1), ("1/2", 2), ("1/4", 4), ("1/8", 8))
    )
    print(
        f"decode, CPU ms (best of {runs}): {decodes}; the display's encode {out['encode_display_ms']}; "
        f"the upload's SHA-256 {out['sha256_ms']}; the floor (decode at the display's scale 1/{scale}, "
        f"its encode, the hash): {out['floor_cpu_ms']} ms"
    )
    return out


def _least_cpu_ms(runs: int, prepared: Callable[[], Callable[[], object]]) -> float:
    """The least CPU ms of ``runs`` calls, each of what ``prepared`` answers
    (made outside the timing: an image opened and drafted, say)."""
    best = math.inf
    for _ in range(runs):
        work = prepared()
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


def _drafted(data: bytes, scale: int) -> Image.Image:
    """The JPEG opened to be decoded at 1/``scale``, in one read as ours reads it."""
    image = Image.open(io.BytesIO(data))
    if scale > 1:
        image.draft("RGB", (image.size[0] // scale, image.size[1] // scale))
    image.decodermaxblock = len(data) + 1
    return image


def full_size_formats() -> dict[str, float | str]:
    """Peak memory of the formats decoded at full size: the largest PNG accepted,
    and a 49-megapixel one (a few hundred KB) that used to cost about 445 MB."""
    limit = PhotoLimits().max_pixels_not_jpeg
    side = math.isqrt(limit)
    largest, bomb = make_png((side, side)), make_png((7000, 7000))
    try:
        process_upload(bomb)
        verdict = "accepted"
    except PhotoRejected as refused:
        verdict = f"refused ({refused.code})"
    out: dict[str, float | str] = {
        "png_16mp_peak_mb": round(peak_mb("ours", largest), 1),
        "png_49mp_peak_mb": round(peak_mb("ours", bomb), 1),
        "png_49mp": verdict,
    }
    print(
        f"PNG {side}x{side} RGBA ({len(largest) // 1024} KB): peak {out['png_16mp_peak_mb']} MB; "
        f"PNG 7000x7000 ({len(bomb) // 1024} KB): {verdict}, peak {out['png_49mp_peak_mb']} MB"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 photos, 2 runs")
    parser.add_argument("--options", action="store_true", help="first, what each setting costs and gives")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--naive-worker", nargs="+", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_peak(*args.child)
        return
    if args.naive_worker:
        _naive_worker(args.naive_worker)
        return
    if args.quick:
        args.photos, args.runs = 2, 2

    photos = [make_photo(i) for i in range(args.photos)]
    sizes = [len(p) / 1e6 for p in photos]
    print(f"{len(photos)} photos of 4000x3000, {min(sizes):.1f}–{max(sizes):.1f} MB each")
    if args.options:
        options(photos, args.runs)
    t, same = timings(photos, args.runs)
    ours_peak, ours_kept = memory_mb("ours", photos[0])
    naive_peak, naive_kept = memory_mb("naive", photos[0])
    ours, naive = process_upload(photos[0]), naive_process(photos[0])
    for label, r, peak, kept in (
        ("ours", ours, ours_peak, ours_kept),
        ("naive", naive, naive_peak, naive_kept),
    ):
        print(
            f"{label + ':':<6} {t[label + '_ms']:7.1f} ms/photo ({t[label + '_cpu_ms']:6.1f} ms CPU, "
            f"{t[label + '_faults']:6.0f} page faults)  peak {peak:6.1f} MB, kept {kept:5.1f} MB  "
            f"-> {r.width}x{r.height}, thumb {r.thumb_width}x{r.thumb_height}"
        )
    speedup, cpu_speedup = t["naive_ms"] / t["ours_ms"], t["naive_cpu_ms"] / t["ours_cpu_ms"]
    print(f"speedup {speedup:.2f}x ({cpu_speedup:.2f}x in CPU time); metadata stripped identically: {same}")
    least = floor(photos[0], max(3, args.runs))
    bound = t["naive_cpu_ms"] / least["floor_cpu_ms"]
    print(f"at most {bound:.2f}x the naive pipeline's CPU time for any pipeline that decodes and encodes")
    memory = full_size_formats()
    print(
        json.dumps(
            {
                "ours_ms": round(t["ours_ms"], 1),
                "naive_ms": round(t["naive_ms"], 1),
                "speedup": round(speedup, 2),
                "ours_cpu_ms": round(t["ours_cpu_ms"], 1),
                "naive_cpu_ms": round(t["naive_cpu_ms"], 1),
                "cpu_speedup": round(cpu_speedup, 2),
                "ours_faults": round(t["ours_faults"]),
                "naive_faults": round(t["naive_faults"]),
                "peak_mb": round(ours_peak, 1),
                "naive_peak_mb": round(naive_peak, 1),
                "kept_mb": round(ours_kept, 1),
                "naive_kept_mb": round(naive_kept, 1),
                "same_sizes": (ours.width, ours.height) == (naive.width, naive.height),
                "photos": len(photos),
                "runs": args.runs,
                "input_mb": [round(s, 2) for s in sizes],
                "stripped_identically": same,
                "max_cpu_speedup": round(bound, 2),
            }
            | least
            | memory
        )
    )


if __name__ == "__main__":
    main()
