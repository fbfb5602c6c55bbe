import type { AnalysisMessage } from '@lookout/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AnalysisBuffer, Picked } from '../lib/analysis-buffer';
import { drawOverlay, faceLabels, faceName, fitContain, type FaceLabel } from '../lib/overlay';
import './tile-live.css';

/**
 * A video (or a placeholder when the stream has no SFU video) with the analysis drawn over
 * it. How the overlay follows the video (`sync`):
 *
 * - `frame` (dashboard, video consumed from the SFU): on every presented frame
 *   (`requestVideoFrameCallback`) take the frame's wall-clock time — `receiveTime` (the
 *   browser got its last packet from the SFU at about the moment the SFU's tap did, and the
 *   tap stamps `captureMs` when ffmpeg emits the JPEG a few ms later), else `captureTime` —
 *   and draw the buffered result whose `captureMs` is nearest to it plus the tap's stamping
 *   delay (`AnalysisBuffer.tapDelayMs`, measured on the fly). The page delays the video by
 *   the pipeline latency (jitterBufferTarget) so that result has already arrived.
 *   When none is close enough, or without rVFC, draw the latest result dimmed with its age.
 * - `latest` (the publisher's own camera, fallback tiles): the latest result with its age;
 *   the local preview cannot wait for the analysis of its own frames.
 */
export interface TileVideoProps {
  media: MediaStream | null;
  buffer: AnalysisBuffer;
  sync: 'frame' | 'latest';
  /** Accessible name of the picture, e.g. "Live video of stream laptop". */
  label: string;
  /** Shown instead of a video when `media` is null. */
  placeholder?: string;
}

/** A result older than this is not drawn at all: the person may have left. */
const MAX_AGE_MS = 2_000;
/** No presented video frame for this long: draw latest-with-age instead of per frame. */
const VIDEO_STALL_MS = 500;

export function TileVideo({ media, buffer, sync, label, placeholder }: TileVideoProps) {
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const labels = useRef<HTMLDivElement>(null);
  const [people, setPeople] = useState('');
  const [syncInfo, setSyncInfo] = useState('');

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    v.srcObject = media;
    if (media) void v.play().catch(() => undefined);
  }, [media]);

  useEffect(() => {
    let shownSeq = -1;
    let shownMode = '';
    const render = (picked: Picked | undefined) => {
      const c = canvas.current;
      const box = c?.parentElement;
      if (!c || !box) return;
      const msg = picked?.msg;
      const v = video.current;
      const frameW = v && v.videoWidth ? v.videoWidth : (msg?.width ?? 640);
      const frameH = v && v.videoHeight ? v.videoHeight : (msg?.height ?? 480);
      const shown = fitContain(box.clientWidth, box.clientHeight, frameW, frameH);
      // Boxes are in analysis pixels; the tap may have scaled the frame.
      const fit = msg ? { ...shown, scale: (shown.scale * frameW) / msg.width } : shown;
      drawOverlay(c, msg, fit, picked ? !picked.synced : false);
      placeLabels(labels.current, msg ? faceLabels(msg, fit) : []);
      const mode = picked ? (picked.synced ? 'frame' : 'latest') : 'none';
      if (msg?.seq !== shownSeq || mode !== shownMode) {
        shownSeq = msg?.seq ?? -1;
        shownMode = mode;
        setPeople(summary(msg));
        setSyncInfo(picked ? (picked.synced ? `in sync (±${Math.abs(Math.round(picked.skewMs))} ms)` : `latest, ${Math.round(picked.skewMs)} ms old`) : '');
      }
    };
    const latest = () => render(buffer.latestWithAge(Date.now(), MAX_AGE_MS));
    let lastFrame = 0;
    const onFrame = (p: Picked | undefined) => ((lastFrame = performance.now()), render(p));
    const stopFrames = sync === 'frame' ? followFrames(video.current, buffer, onFrame) : () => undefined;
    const unsubscribe = sync === 'latest' || !media ? buffer.subscribe(latest) : () => undefined;
    // Ages results out (and redraws after a resize) when nothing else triggers a draw,
    // including a video that has not shown a frame for a while (not started, stalled).
    const timer = setInterval(() => (sync === 'latest' || !media || performance.now() - lastFrame > VIDEO_STALL_MS ? latest() : undefined), 250);
    const resized = new ResizeObserver(() => sizeCanvas(canvas.current) && latest());
    if (canvas.current?.parentElement) resized.observe(canvas.current.parentElement);
    return () => (stopFrames(), unsubscribe(), clearInterval(timer), resized.disconnect());
  }, [buffer, sync, media]);

  return (
    <div class="tile-video">
      <div class="tile-media" role="img" aria-label={label}>
        {media ? <video ref={video} muted playsInline autoPlay /> : <div class="tile-placeholder">{placeholder ?? 'No video'}</div>}
        <canvas ref={canvas} aria-hidden="true" />
        <div ref={labels} class="tile-labels" />
      </div>
      <p class="tile-people" aria-live="polite" data-sync={syncInfo ? (syncInfo.startsWith('in sync') ? 'frame' : 'latest') : 'none'}>
        {people || 'Nobody in view'}
        {syncInfo && (
          <span class="muted" title={sync === 'frame' ? `The SFU's tap stamps frames ${buffer.tapDelayMs()} ms after this browser receives them` : undefined}>
            {' '}
            · overlay {syncInfo}
          </span>
        )}
      </p>
    </div>
  );
}

/** Draws on every presented video frame the result closest to that frame's time. */
function followFrames(v: HTMLVideoElement | null, buffer: AnalysisBuffer, render: (p: Picked | undefined) => void): () => void {
  if (!v || !v.requestVideoFrameCallback) return () => undefined;
  let handle = 0;
  const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
    const t = meta.receiveTime ?? meta.captureTime;
    const nowMs = performance.timeOrigin + now;
    // Half an analysis interval either side is "the same moment"; more means it has not
    // arrived (or was dropped), and the latest result is shown dimmed with its age.
    const maxSkew = buffer.intervalMs() * 0.6 + 40;
    let picked: Picked | undefined;
    if (t !== undefined) {
      const received = performance.timeOrigin + t;
      buffer.noteFrame(received);
      picked = buffer.closest(received + buffer.tapDelayMs(), maxSkew);
    }
    render(picked ?? buffer.latestWithAge(nowMs, MAX_AGE_MS));
    handle = v.requestVideoFrameCallback(onFrame);
  };
  handle = v.requestVideoFrameCallback(onFrame);
  return () => v.cancelVideoFrameCallback(handle);
}

/** Canvas backing store = CSS size × devicePixelRatio, so lines stay sharp. */
function sizeCanvas(c: HTMLCanvasElement | null): boolean {
  if (!c) return false;
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(c.clientWidth * dpr);
  c.height = Math.round(c.clientHeight * dpr);
  return true;
}

/** The names as DOM text over each face (canvas text is invisible to screen readers and tests). */
function placeLabels(root: HTMLDivElement | null, list: FaceLabel[]): void {
  if (!root) return;
  while (root.children.length > list.length) root.lastElementChild!.remove();
  list.forEach((l, i) => {
    const el = (root.children[i] as HTMLElement | undefined) ?? root.appendChild(document.createElement('span'));
    el.className = `tile-face tile-face-${l.kind}`;
    el.dataset.track = l.key;
    // Above the box (chip height 22 px), or just inside it when the face touches the top.
    const top = l.y >= 22 ? l.y - 22 : l.y + 2;
    el.style.transform = `translate(${Math.round(l.x)}px, ${Math.round(top)}px)`;
    el.style.maxWidth = `${Math.max(120, Math.round(l.w * 1.6))}px`;
    if (el.textContent !== l.text) el.textContent = l.text;
  });
}

function summary(msg: AnalysisMessage | undefined): string {
  if (!msg || msg.faces.length === 0) return '';
  return `In view: ${msg.faces.map(faceName).join(', ')}`;
}
