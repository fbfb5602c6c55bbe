#!/usr/bin/python3
"""The usual alternative, as people build it today: one Python process with aiortc
(WebRTC) and OpenCV. It receives K video streams over WebRTC, decodes them, samples
5 fps, and runs the same face detector ONNX through cv2.dnn (RGB, 320x240, confidence
0.65, NMS 0.4) on the event loop.

To measure it without a browser, the senders are aiortc peers in the same process playing
the fixture video (VP8), connected over loopback, which is also what this baseline costs
when a server relays. Prints one JSON object. Run with Debian's interpreter:
  /usr/bin/python3 bench/baseline_aiortc.py --streams 2 --seconds 10 --video ... --model ...
"""
import argparse
import asyncio
import json
import resource
import time

import cv2
import numpy as np
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer


def detector(model_path):
    net = cv2.dnn.readNetFromONNX(model_path)

    def detect(rgb):
        h, w = rgb.shape[:2]
        blob = cv2.dnn.blobFromImage(rgb, scalefactor=1 / 128.0, size=(320, 240), mean=(127, 127, 127), swapRB=False)
        net.setInput(blob)
        scores, boxes = net.forward(["scores", "boxes"])
        s = scores[0, :, 1]
        keep = s >= 0.65
        b = boxes[0][keep] * np.array([w, h, w, h], dtype=np.float32)
        rects = [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in b]
        idx = cv2.dnn.NMSBoxes(rects, [float(v) for v in s[keep]], 0.65, 0.4)
        return len(idx)

    return detect


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


async def consume(track, detect, fps, seconds, stats):
    """Takes every decoded frame, keeps `fps` of them per second, detects faces on each."""
    interval = 1.0 / fps
    next_at = 0.0
    end = None
    while True:
        frame = await track.recv()
        now = time.monotonic()
        if end is None:
            end = now + seconds + stats["warmup"]
        if now >= end:
            return
        if now < next_at:
            continue
        # Keep the schedule (not "interval after this frame"), so 15 fps in gives 5 fps out.
        next_at = max(next_at + interval, now - interval)
        rgb = frame.to_ndarray(format="rgb24")
        faces = detect(rgb)
        if now >= end - seconds:
            stats["latencies"].append((time.monotonic() - now) * 1000)
            stats["frames"] += 1
            stats["faces"] += faces


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--fps", type=float, default=5)
    ap.add_argument("--video", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    detect = detector(args.model)
    pairs = [await connect_pair(args.video, True) for _ in range(args.streams)]
    stats = [{"latencies": [], "frames": 0, "faces": 0, "warmup": 3.0} for _ in pairs]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    await asyncio.gather(*(consume(p[3], detect, args.fps, args.seconds, s) for p, s in zip(pairs, stats)))
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for sender, receiver, player, _ in pairs:
        await sender.close()
        await receiver.close()
        if player.video:
            player.video.stop()
    lat = sorted(v for s in stats for v in s["latencies"])
    q = lambda p: round(lat[min(len(lat) - 1, max(0, int(np.ceil(p * len(lat))) - 1))], 2) if lat else None
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    print(json.dumps({
        "streams": args.streams,
        "frames_per_second_per_stream": [round(s["frames"] / args.seconds, 2) for s in stats],
        "faces_per_frame": round(sum(s["faces"] for s in stats) / max(1, sum(s["frames"] for s in stats)), 2),
        "latency_ms": {"n": len(lat), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99)},
        "cpu_percent": round(cpu / wall * 100, 1),
        "rss_mib": round(cpu1.ru_maxrss / 1024),
    }))


asyncio.run(main())
