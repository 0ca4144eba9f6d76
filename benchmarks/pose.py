"""Per-stage cost of one 640x480 camera stream through pose and tracking, at several model input sizes.

The frames are Sports2D's real demo video (people jumping and walking) scaled to 640x480 and
encoded as VP8, the codec a browser sends over WebRTC, then decoded with PyAV as the server
does. Stages, in milliseconds per frame: decode (VP8 -> BGR array), preprocess (letterbox and
blob), inference (onnxruntime), postprocess (NMS, back to frame pixels), tracking (subject
match and one-euro smoothing). fps is 1000 / total of those stages on one stream.

    .venv/bin/python benchmarks/pose.py [--frames 150] [--threads 2] [--sizes 320 480 640] [--precisions int8 fp32]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coaching.tracking import SubjectTracker  # noqa: E402
from models.paths import pin_caches, weights_dir  # noqa: E402
from models.pose import PoseOptions, PosePipeline, prepare_embedded  # noqa: E402
from models.pose.image import to_bgr  # noqa: E402
from models.pose.yolo import YoloPose  # noqa: E402
from tests.media import sports2d_demo_video  # noqa: E402

STAGES = ("decode", "preprocess", "inference", "postprocess", "tracking")


def vp8_stream(source: Path, frames: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """The first `frames` frames of `source`, centre-cropped to 4:3 and scaled to `size`, as VP8 WebM."""
    capture = cv2.VideoCapture(str(source))
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_500_000
        for _ in range(frames):
            ok, frame = capture.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            crop_w = min(w, h * size[0] // size[1])
            frame = frame[:, (w - crop_w) // 2 : (w - crop_w) // 2 + crop_w]
            image = av.VideoFrame.from_ndarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), "bgr24")
            container.mux(stream.encode(image))
        container.mux(stream.encode(None))
    capture.release()
    return buffer.getvalue()


def measure(video: bytes, estimator: YoloPose) -> tuple[dict[str, np.ndarray], float, float]:
    """Per-frame times (ms) of each stage; shares of frames with anyone found and with the subject."""
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    tracker = SubjectTracker(start_score=estimator.options.score_threshold)
    found = tracked = 0
    with av.open(io.BytesIO(video), "r") as container:
        packets = container.demux(video=0)
        decoder = iter(f for packet in packets for f in packet.decode())
        index = 0
        while True:
            t0 = time.perf_counter()
            frame = next(decoder, None)
            if frame is None:
                break
            image = frame.to_ndarray(format="bgr24")
            t1 = time.perf_counter()
            bgr = to_bgr(image)
            blob, box = estimator.preprocess(bgr)
            t2 = time.perf_counter()
            raw = estimator.run(blob)
            t3 = time.perf_counter()
            people = estimator.postprocess(raw, box, *bgr.shape[:2])
            t4 = time.perf_counter()
            subject = tracker.update(people, index / 30.0, frame_size=(bgr.shape[1], bgr.shape[0]))
            t5 = time.perf_counter()
            found += any(p.score >= tracker.start_score for p in people)  # not the unsure ones alone
            tracked += subject is not None
            for stage, (start, end) in zip(STAGES, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)), strict=True):
                times[stage].append((end - start) * 1000.0)
            index += 1
    frames = max(index, 1)
    return {stage: np.array(values) for stage, values in times.items()}, found / frames, tracked / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[320, 480, 640])
    parser.add_argument("--precisions", nargs="+", choices=["int8", "fp32"], default=["int8", "fp32"])
    parser.add_argument("--warmup", type=int, default=5, help="frames run before timing, per size")
    args = parser.parse_args()

    pin_caches()
    prepare_embedded(weights_dir())
    video = vp8_stream(sports2d_demo_video(), args.frames)

    header = (
        f"{'graph':>5} {'input':>8} | " + " | ".join(f"{s:>11}" for s in STAGES)
        + f" | {'total':>6} | {'p90':>6} | {'fps':>5} | people | subject"
    )
    print(f"640x480 VP8 stream, {args.frames} frames, {args.threads} threads, ms per frame (mean)")
    print(header)
    print("-" * len(header))
    for precision in args.precisions:
        for size in args.sizes:
            options = PoseOptions(input_size=size, threads=args.threads, int8=precision == "int8")
            estimator = PosePipeline(options=options).estimator
            assert isinstance(estimator, YoloPose)
            warm = np.zeros((480, 640, 3), np.uint8)
            for _ in range(args.warmup):
                estimator.infer_2d(warm)
            times, found, tracked = measure(video, estimator)
            total = sum(times.values())
            h, w = estimator.input_shape(480, 640)
            print(
                f"{precision:>5} {w:>3}x{h:<4} | "
                + " | ".join(f"{times[s].mean():>11.2f}" for s in STAGES)
                + f" | {total.mean():>6.1f} | {np.percentile(total, 90):>6.1f} | {1000.0 / total.mean():>5.1f}"
                + f" | {found:>6.0%} | {tracked:>7.0%}"
            )


if __name__ == "__main__":
    main()
