import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { AnalysisBuffer, Picked } from '../lib/analysis-buffer';
import { inView, NO_ANALYSIS, sameView, type InView } from '../lib/in-view';
import { drawOverlay, faceLabels, fitContain, type FaceLabel } from '../lib/overlay';
import { analysisOf, type PreviewFrame, type PreviewFrames } from '../lib/preview-frames';
import { TilePreview } from './tile-preview';
import './tile-live.css';

/**
 * A video (or the preview frames of a fallback-upload stream, or a placeholder) with the
 * analysis drawn over it. Which result is drawn:
 *
 * - video with `sync="frame"` (dashboard, video consumed from the SFU): on every presented
 *   frame (`requestVideoFrameCallback`) take the frame's wall-clock time — `receiveTime`
 *   (the browser got its last packet from the SFU at about the moment the SFU's tap did,
 *   and the tap stamps `captureMs` when ffmpeg emits the JPEG a few ms later), else
 *   `captureTime` — and draw the buffered result whose `captureMs` is nearest to it plus
 *   the tap's stamping delay (`AnalysisBuffer.tapDelayMs`, measured on the fly). The page
 *   delays the video by the pipeline latency (jitterBufferTarget) so that result has
 *   already arrived. When none is close enough, or without rVFC, draw the current result
 *   dimmed with its age.
 * - preview frames (`previews`, no video): the result of the frame on screen — the same
 *   `captureMs` — or the current one dimmed while it has not arrived.
 * - `sync="latest"` (the publisher's own camera): the current result with its age; the
 *   local preview cannot wait for the analysis of its own frames.
 *
 * Everything said about the result — boxes, labels, the caption, and through `onView` the
 * Publish page's metrics — comes from one `InView`, so no two parts disagree.
 */
export interface TileVideoProps {
  media: MediaStream | null;
  buffer: AnalysisBuffer;
  sync: 'frame' | 'latest';
  /** Accessible name of the picture, e.g. "Live video of stream laptop". */
  label: string;
  /** Shown instead of a video when `media` is null and there are no previews. */
  placeholder?: string;
  /** A fallback-upload stream's preview frames, shown when there is no video. */
  previews?: PreviewFrames;
  /** Told whenever what is shown changes (another result, or synced ↔ latest). */
  onView?: (view: InView) => void;
  /** false: label faces "Face", never a name (a page whose socket is told no identities). */
  names?: boolean;
}

/** No presented video frame for this long: draw the current result instead of per frame. */
const VIDEO_STALL_MS = 500;

export function TileVideo({ media, buffer, sync, label, placeholder, previews, onView, names = true }: TileVideoProps) {
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const labels = useRef<HTMLDivElement>(null);
  const shownFrame = useRef<PreviewFrame | undefined>(undefined);
  const rerender = useRef<() => void>(() => undefined);
  const [view, setView] = useState<InView>(NO_ANALYSIS);
  const usePreview = !media && previews !== undefined;

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    v.srcObject = media;
    if (media) void v.play().catch(() => undefined);
  }, [media]);

  useEffect(() => {
    let shown = NO_ANALYSIS;
    const render = (picked: Picked | undefined) => {
      const next = inView(picked, names);
      const frame = usePreview ? shownFrame.current : undefined;
      drawView(canvas.current, labels.current, next, frameSize(video.current, frame));
      if (sameView(next, shown)) return;
      shown = next;
      setView(next);
      onView?.(next);
    };
    const now = () => render(usePreview && shownFrame.current ? (analysisOf(buffer, shownFrame.current) ?? buffer.current(Date.now())) : buffer.current(Date.now()));
    rerender.current = now;
    let lastFrame = 0;
    const onFrame = (p: Picked | undefined) => ((lastFrame = performance.now()), render(p));
    const following = sync === 'frame' && !!media;
    const stopFrames = following ? followFrames(video.current, buffer, onFrame) : () => undefined;
    const unsubscribe = following ? () => undefined : buffer.subscribe(now);
    // Ages results out (and redraws after a resize) when nothing else triggers a draw,
    // including a video that has not shown a frame for a while (not started, stalled).
    const timer = setInterval(() => (!following || performance.now() - lastFrame > VIDEO_STALL_MS ? now() : undefined), 250);
    const resized = new ResizeObserver(() => sizeCanvas(canvas.current) && now());
    if (canvas.current?.parentElement) resized.observe(canvas.current.parentElement);
    return () => (stopFrames(), unsubscribe(), clearInterval(timer), resized.disconnect());
  }, [buffer, sync, media, usePreview, onView, names]);

  const onShown = useCallback((f: PreviewFrame) => ((shownFrame.current = f), rerender.current()), []);
  const syncInfo = view.msg ? (view.synced ? `in sync (±${Math.abs(Math.round(view.skewMs))} ms)` : `latest, ${Math.round(view.skewMs)} ms old`) : '';
  return (
    <div class="tile-video">
      <div class="tile-media" role="img" aria-label={label}>
        {media ? <video ref={video} muted playsInline autoPlay /> : previews ? <TilePreview frames={previews} buffer={buffer} onShown={onShown} /> : <div class="tile-placeholder">{placeholder ?? 'No video'}</div>}
        <canvas ref={canvas} aria-hidden="true" />
        <div ref={labels} class="tile-labels" />
      </div>
      <p class="tile-people" aria-live="polite" data-sync={view.msg ? (view.synced ? 'frame' : 'latest') : 'none'} data-seq={view.msg?.seq ?? ''}>
        {view.summary}
        {syncInfo && (
          <span class="muted" title={sync === 'frame' && media ? `The SFU's tap stamps frames ${buffer.tapDelayMs()} ms after this browser receives them` : undefined}>
            {' '}
            · overlay {syncInfo}
          </span>
        )}
      </p>
    </div>
  );
}

/** The size of the picture the boxes go on: the video's, the preview frame's, else the analysed frame's. */
function frameSize(v: HTMLVideoElement | null, frame: PreviewFrame | undefined): { w: number; h: number } | undefined {
  if (v && v.videoWidth) return { w: v.videoWidth, h: v.videoHeight };
  return frame ? { w: frame.width, h: frame.height } : undefined;
}

/** Boxes on the canvas and the names as DOM labels, from one view. */
function drawView(c: HTMLCanvasElement | null, labelRoot: HTMLDivElement | null, view: InView, size: { w: number; h: number } | undefined): void {
  const box = c?.parentElement;
  if (!c || !box) return;
  const msg = view.msg;
  const frameW = size?.w ?? msg?.width ?? 640;
  const frameH = size?.h ?? msg?.height ?? 480;
  const shown = fitContain(box.clientWidth, box.clientHeight, frameW, frameH);
  // Boxes are in analysis pixels; the tap (or the preview) may have scaled the frame.
  const fit = msg ? { ...shown, scale: (shown.scale * frameW) / msg.width } : shown;
  drawOverlay(c, msg ? view.faces : undefined, fit, msg ? !view.synced : false);
  placeLabels(labelRoot, msg ? faceLabels(view.faces, fit) : []);
  // Which result the labels are of (tests compare it with the caption's and the metrics').
  if (labelRoot) labelRoot.dataset.seq = String(msg?.seq ?? '');
}

/** Draws on every presented video frame the result closest to that frame's time. */
function followFrames(v: HTMLVideoElement | null, buffer: AnalysisBuffer, render: (p: Picked | undefined) => void): () => void {
  if (!v || !v.requestVideoFrameCallback) return () => undefined;
  let handle = 0;
  const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
    const t = meta.receiveTime ?? meta.captureTime;
    const nowMs = performance.timeOrigin + now;
    // Half an analysis interval either side is "the same moment"; more means it has not
    // arrived (or was dropped), and the current result is shown dimmed with its age.
    const maxSkew = buffer.intervalMs() * 0.6 + 40;
    let picked: Picked | undefined;
    if (t !== undefined) {
      const received = performance.timeOrigin + t;
      buffer.noteFrame(received);
      picked = buffer.closest(received + buffer.tapDelayMs(), maxSkew);
    }
    render(picked ?? buffer.current(nowMs));
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
