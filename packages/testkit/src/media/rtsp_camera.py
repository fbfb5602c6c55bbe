#!/usr/bin/python3
"""A stand-in IP camera for tests and the media bench: the GStreamer RTSP server serving a
video file, looped forever, as H.264 the way cameras send it (constrained baseline,
packetization-mode 1, an IDR every `--gop` frames with SPS/PPS in-band before each).

Usage: rtsp_camera.py --port P --file F [--fps 15] [--gop 15] [--user U --password W]
Prints "ready rtsp://127.0.0.1:P/cam" once it listens. Runs until SIGTERM/SIGINT.

The file is decoded by its own pipeline into an appsink and pushed, paced at --fps, into
each served media's appsrc: RTSP media pipelines end at EOS, so looping a file inside one
is not possible, and a decoder that is seeked back to 0 here keeps the camera live.
"""
import argparse
import signal
import sys
import threading
import time

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


class Looper:
    """Decodes the file over and over; `frames()` yields raw frames paced at fps."""

    def __init__(self, path, fps):
        self.fps = fps
        self.pipe = Gst.parse_launch(
            f'filesrc location="{path}" ! decodebin ! videoconvert ! videorate '
            f'! video/x-raw,format=I420,framerate={fps}/1 ! appsink name=sink sync=false max-buffers=4'
        )
        self.sink = self.pipe.get_by_name('sink')
        self.pipe.set_state(Gst.State.PLAYING)

    def next_sample(self):
        sample = self.sink.emit('try-pull-sample', 5 * Gst.SECOND)
        if sample is None:
            # End of file: back to the start (a flushing seek restarts the decoder).
            self.pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
            sample = self.sink.emit('try-pull-sample', 5 * Gst.SECOND)
        return sample


class Camera(GstRtspServer.RTSPMediaFactory):
    def __init__(self, looper, gop, bitrate):
        super().__init__()
        self.looper = looper
        self.launch = (
            '( appsrc name=src is-live=true format=time do-timestamp=true '
            f'! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate} threads=1 '
            '! video/x-h264,profile=constrained-baseline,stream-format=byte-stream '
            '! rtph264pay name=pay0 pt=96 config-interval=-1 )'
        )
        self.set_shared(True)
        self.connect('media-configure', self.on_configure)

    def do_create_element(self, url):
        return Gst.parse_launch(self.launch)

    def on_configure(self, _factory, media):
        src = media.get_element().get_child_by_name('src')
        stop = threading.Event()
        media.connect('unprepared', lambda _m: stop.set())
        threading.Thread(target=self.feed, args=(src, stop), daemon=True).start()

    def feed(self, src, stop):
        period = 1.0 / self.looper.fps
        due = time.monotonic()
        while not stop.is_set():
            sample = self.looper.next_sample()
            if sample is None:
                continue
            if src.get_property('caps') is None:
                src.set_property('caps', sample.get_caps())
            buf = sample.get_buffer().copy()
            buf.pts = buf.dts = Gst.CLOCK_TIME_NONE  # appsrc stamps it (do-timestamp)
            if src.emit('push-buffer', buf) != Gst.FlowReturn.OK:
                return
            due += period
            time.sleep(max(0.0, due - time.monotonic()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--file', required=True)
    ap.add_argument('--fps', type=int, default=15)
    ap.add_argument('--gop', type=int, default=15, help='frames between IDRs')
    ap.add_argument('--bitrate', type=int, default=1500, help='kbit/s')
    ap.add_argument('--user')
    ap.add_argument('--password')
    a = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(a.port))
    factory = Camera(Looper(a.file, a.fps), a.gop, a.bitrate)
    if a.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string('media.factory.role', a.user)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password or ''), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(a.user, 'media.factory.access', True)
        permissions.add_permission_for_role(a.user, 'media.factory.construct', True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory('/cam', factory)
    if server.attach(None) == 0:
        print(f'cannot listen on 127.0.0.1:{a.port}', file=sys.stderr, flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    for s in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    print(f'ready rtsp://127.0.0.1:{a.port}/cam', flush=True)
    loop.run()


if __name__ == '__main__':
    main()
