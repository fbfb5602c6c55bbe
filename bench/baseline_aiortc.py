#!/usr/bin/python3
"""The usual alternative, as people build it today: one Python process with aiortc
(WebRTC) and OpenCV. It receives K video streams over WebRTC, decodes them, samples
5 fps, and analyses each sampled frame on the event loop with cv2.dnn on the same ONNX
files as Lookout (models/).

--work full (default) gives it the same per-frame work as Lookout's detector + reid at
their defaults (services/detector/src/analyzers/*, services/reid/src/embedding):
  every frame:  face detection (RGB 320x240, confidence 0.65, NMS 0.4, faces >= 16 px),
                68 landmarks (grey 64x64 of the box), head pose (224x224 ImageNet of the
                box grown by 1/4 each side), eye state (two 24x24 grey eye crops from the
                landmarks), the aligned 112x112 crop (similarity to the ArcFace template
                from five landmark points), its 512-d embedding and a search of a gallery
                of --gallery random unit vectors (exact: one matrix product);
  per stream:   expression and liveness at most once per second (Lookout's default cadences).
  Text detection (Lookout's default: once per 5 s) is off on both sides: cv2.dnn 4.6 cannot
  load ppocr_det.onnx, so bench/baseline.mjs runs Lookout without it too.
--work detect: face detection only (Lookout with ANALYZERS=none).

To measure it without a browser, the senders are aiortc peers in the same process playing
the fixture video (VP8), connected over loopback, which is also what this baseline costs
when a server relays. Frames are sampled on media time (the RTP timestamps), so a loop
that falls behind still takes 5 of each second of video and its latency grows: latency is
from when the frame was due on the sender's clock to
its results, so waiting in aiortc's queue counts (the sender's clock: media time plus the
smallest arrival offset seen, i.e. the fastest frame counts as on time). Prints one JSON object. Run with Debian's
interpreter:
  /usr/bin/python3 bench/baseline_aiortc.py --streams 2 --seconds 10 --video ... --models models
"""
import argparse
import asyncio
import json
import os
import resource
import time

import cv2
import numpy as np
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer

cv2.setNumThreads(1)  # one process, one thread of inference: like Lookout's INFERENCE_THREADS=1

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
EXPRESSIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


def rect_affine(rect, out_w, out_h):
    """dst pixel -> src pixel, pixel centres, as services/detector/src/pipeline/sampler.ts rectToAffine."""
    x1, y1, x2, y2 = rect
    sx, sy = (x2 - x1) / out_w, (y2 - y1) / out_h
    return np.array([[sx, 0, x1 + 0.5 * sx - 0.5], [0, sy, y1 + 0.5 * sy - 0.5]], dtype=np.float64)


def sample(img, m, w, h):
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def box_inside(box, factor, iw, ih):
    """The box grown by `factor` around its centre, moved (not shrunk) inside the image where it fits."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    s = min(factor, (iw - 1) / w, (ih - 1) / h)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    nx1, ny1 = cx - w * s / 2, cy - h * s / 2
    nx1 = min(max(0, nx1), iw - 1 - w * s)
    ny1 = min(max(0, ny1), ih - 1 - h * s)
    return (nx1, ny1, nx1 + w * s, ny1 + h * s)


def grey(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def chw(img):
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None])


class Analyzer:
    def __init__(self, models_dir, work, gallery_size, text=False):
        load = lambda name: cv2.dnn.readNetFromONNX(os.path.join(models_dir, name))
        self.work = work
        self.detector = load("fr_detect.onnx")
        if work == "full":
            self.landmarks = load("fr_landmark.onnx")
            self.pose = load("fr_pose.onnx")
            self.eyes = load("fr_eye.onnx")
            self.expression = load("fr_expression.onnx")
            self.liveness = load("fr_liveness.onnx")
            self.embedder = load("fr_feature.onnx")
            # Text detection (Lookout: 1/5 s) is left out on both sides: OpenCV 4.6's cv2.dnn
            # cannot load ppocr_det.onnx (its Clip node); --text tries anyway.
            self.text = None
            if text:
                try:
                    self.text = load("ppocr_det.onnx")
                except cv2.error:
                    pass
            g = np.random.default_rng(1).standard_normal((gallery_size, 512)).astype(np.float32)
            self.gallery = g / np.linalg.norm(g, axis=1, keepdims=True)
        self.last = {}
        self.counts = {"faces": 0, "embeddings": 0, "expression": 0, "liveness": 0, "text": 0}

    def due(self, stream, name, interval_s, now):
        key = (stream, name)
        if now - self.last.get(key, -1e9) >= interval_s:
            self.last[key] = now
            return True
        return False

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        blob = cv2.dnn.blobFromImage(rgb, scalefactor=1 / 128.0, size=(320, 240), mean=(127, 127, 127), swapRB=False)
        self.detector.setInput(blob)
        scores, boxes = self.detector.forward(["scores", "boxes"])
        s = scores[0, :, 1]
        keep = s >= 0.65
        b = boxes[0][keep] * np.array([w, h, w, h], dtype=np.float32)
        rects = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in b]
        idx = cv2.dnn.NMSBoxes(rects, [float(v) for v in s[keep]], 0.65, 0.4)
        out = []
        for i in np.array(idx).flatten():
            x1, y1, x2, y2 = (float(v) for v in b[i])
            x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
            if min(x2 - x1, y2 - y1) >= 16:
                out.append((x1, y1, x2, y2))
        return out

    def analyze(self, stream, rgb, now):
        faces = self.detect(rgb)
        self.counts["faces"] += len(faces)
        if self.work != "full":
            return len(faces)
        ih, iw = rgb.shape[:2]
        g = None
        slow = {n: self.due(stream, n, i, now) for n, i in (("expression", 1.0), ("liveness", 1.0), ("text", 5.0))}
        for box in faces:
            x1, y1, x2, y2 = box
            if g is None:
                g = grey(rgb)
            # landmarks: grey 64x64 / 256 of the box (scaled by 1, kept inside)
            self.landmarks.setInput(sample(g, rect_affine(box_inside(box, 1, iw, ih), 64, 64), 64, 64)[None, None] / 256.0)
            raw = self.landmarks.forward().reshape(-1)[:136]
            lm = np.empty((68, 2), dtype=np.float64)
            lm[:, 0] = x1 + raw[0::2] * (x2 - x1)
            lm[:, 1] = y1 + raw[1::2] * (y2 - y1)
            # head pose: box grown by a quarter each side, 224x224, ImageNet normalisation (RGB)
            dw, dh = (x2 - x1) / 4, (y2 - y1) / 4
            prect = (max(0, x1 - dw), max(0, y1 - dh), min(iw, x2 + dw), min(ih, y2 + dh))
            p = (sample(rgb, rect_affine(prect, 224, 224), 224, 224).astype(np.float32) / 255 - IMAGENET_MEAN) / IMAGENET_STD
            self.pose.setInput(chw(p))
            yaw, pitch, roll = (float(softmax(o.reshape(-1)) @ np.arange(66)) * 3 - 99 for o in self.pose.forward(["output", "617", "618"]))
            # eyes: two 24x24 grey crops from landmarks 36-41 and 42-47, / 255
            for first in (36, 42):
                e = lm[first:first + 6]
                cx, cy = (e[1] + e[2] + e[4] + e[5])[0] / 4, (e[1] + e[2] + e[4] + e[5])[1] / 4
                size = max(2.0, (e[3, 0] - e[0, 0]) * 1.6)
                self.eyes.setInput(sample(g, rect_affine((cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2), 24, 24), 24, 24)[None, None] / 255.0)
                softmax(self.eyes.forward().reshape(-1))
            # aligned crop: similarity transform from five points to the ArcFace template
            five = np.array([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])
            m, _ = cv2.estimateAffinePartial2D(five, ARCFACE, method=cv2.LMEDS)
            crop = cv2.warpAffine(rgb, m, (112, 112), flags=cv2.INTER_LINEAR)
            # embedding + gallery search (what reid does per face)
            self.embedder.setInput(chw((crop.astype(np.float32) - 127.5) / 128))
            v = self.embedder.forward().reshape(-1)
            v = v / np.linalg.norm(v)
            sims = self.gallery @ v
            int(np.argmax(sims))
            self.counts["embeddings"] += 1
            if slow["expression"]:
                x = sample(rgb, rect_affine(box, 224, 224), 224, 224)[:, :, ::-1].astype(np.float32) / 255
                self.expression.setInput(chw(x))
                EXPRESSIONS[int(np.argmax(softmax(self.expression.forward().reshape(-1))))]
                self.counts["expression"] += 1
            if slow["liveness"]:
                x = sample(rgb, rect_affine(box_inside(box, 2.7, iw, ih), 128, 128), 128, 128)[:, :, ::-1].astype(np.float32)
                self.liveness.setInput(chw(x))
                softmax(self.liveness.forward().reshape(-1))
                self.counts["liveness"] += 1
            _ = (yaw, pitch, roll)
        if slow.get("text") and self.text is not None:
            x = (cv2.resize(rgb, (iw // 32 * 32, ih // 32 * 32), interpolation=cv2.INTER_LINEAR)[:, :, ::-1].astype(np.float32) / 255 - IMAGENET_MEAN[::-1]) / IMAGENET_STD[::-1]
            self.text.setInput(chw(x))
            prob = self.text.forward()[0, 0]
            contours, _ = cv2.findContours((prob > 0.3).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
            for c in contours[:50]:
                cv2.boundingRect(c)
            self.counts["text"] += 1
        return len(faces)


async def connect_pair(video, loop_video):
    player = MediaPlayer(video, loop=loop_video)
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    got = asyncio.get_event_loop().create_future()
    receiver.on("track", lambda track: got.done() or got.set_result(track))
    sender.addTrack(player.video)
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender, receiver, player, await got


async def consume(stream, track, analyzer, fps, seconds, stats, t_start):
    """Takes every decoded frame, keeps `fps` per second of media time, analyses each."""
    interval = 1.0 / fps
    # Sender clock: due = media time + the smallest (arrival - media time) seen, so the
    # fastest frame counts as on time and any wait after that (aiortc's queue included) counts.
    offset = None
    last_media = None
    next_media = 0.0
    measure_from = t_start + stats["warmup"]
    measure_to = measure_from + seconds
    while True:
        frame = await track.recv()
        now = time.monotonic()
        media = float(frame.pts * frame.time_base) if frame.pts is not None else now
        if offset is None or last_media is None or media < last_media - 1.0 or media > last_media + 5.0:
            offset = now - media  # first frame, or the looped video's timestamps jumped
            next_media = media
        offset = min(offset, now - media)
        last_media = media
        due = media + offset
        # Done at the window's end of media time, or 10 s of wall time after it when the loop
        # has fallen that far behind (the frames it did not reach count as not delivered).
        if due >= measure_to or now >= measure_to + 10:
            return
        if media < next_media:
            continue
        next_media = max(next_media + interval, media - interval)
        rgb = frame.to_ndarray(format="rgb24")
        faces = analyzer.analyze(stream, rgb, due)
        if due >= measure_from:
            stats["latencies"].append((time.monotonic() - due) * 1000)
            stats["frames"] += 1
            stats["faces"] += faces


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--fps", type=float, default=5)
    ap.add_argument("--video", required=True)
    ap.add_argument("--models", required=True, help="the models/ directory")
    ap.add_argument("--work", choices=["full", "detect"], default="full")
    ap.add_argument("--gallery", type=int, default=1000)
    ap.add_argument("--text", action="store_true", help="also text detection every 5 s (needs an OpenCV that loads ppocr_det.onnx)")
    args = ap.parse_args()
    analyzer = Analyzer(args.models, args.work, args.gallery, args.text)
    pairs = [await connect_pair(args.video, True) for _ in range(args.streams)]
    warmup = 3.0
    stats = [{"latencies": [], "frames": 0, "faces": 0, "warmup": warmup} for _ in pairs]
    t_start = time.monotonic()
    cpu_task = asyncio.ensure_future(cpu_window(warmup, args.seconds))
    await asyncio.gather(*(consume(i, p[3], analyzer, args.fps, args.seconds, s, t_start) for i, (p, s) in enumerate(zip(pairs, stats))))
    cpu, wall = await cpu_task
    for sender, receiver, player, _ in pairs:
        await sender.close()
        await receiver.close()
        if player.video:
            player.video.stop()
    lat = sorted(v for s in stats for v in s["latencies"])
    q = lambda p: round(lat[min(len(lat) - 1, max(0, int(np.ceil(p * len(lat))) - 1))], 2) if lat else None
    expected = args.fps * args.seconds
    frames = sum(s["frames"] for s in stats)
    print(json.dumps({
        "streams": args.streams,
        "work": args.work,
        "text_model": args.work == "full" and analyzer.text is not None,
        "frames_per_second_per_stream": [round(s["frames"] / args.seconds, 2) for s in stats],
        # frames analysed of those due in the window; one frame per stream of slack for where
        # the 5 fps grid falls at the window's edges
        "delivered_fraction": round(min(1.0, frames / (max(1.0, expected - 1) * args.streams)), 3),
        "faces_per_frame": round(sum(s["faces"] for s in stats) / max(1, frames), 2),
        # every face of every analysed frame is embedded (full work): faces in the window per second
        "embeddings_per_s": round(sum(s["faces"] for s in stats) / args.seconds, 1) if args.work == "full" else 0,
        "latency_ms": {"n": len(lat), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": q(1.0)},
        "cpu_percent": round(cpu / wall * 100, 1),
        "cpu_percent_per_stream": round(cpu / wall * 100 / args.streams, 1),
        "runs": analyzer.counts,
        "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


async def cpu_window(warmup, seconds):
    """CPU seconds of this process (receivers, senders' VP8 encode, analysis) over the measured window."""
    await asyncio.sleep(warmup)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    await asyncio.sleep(seconds)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    return (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), t1 - t0


asyncio.run(main())
