import { useEffect, useRef, useState } from 'preact/hooks';
import type { AnalysisBuffer } from '../lib/analysis-buffer';
import type { PreviewFrame, PreviewFrames } from '../lib/preview-frames';

/** How often the choice of frame is revisited when neither a frame nor a result arrives. */
const TICK_MS = 250;

/**
 * The picture of a stream fed by fallback upload: the gateway's downscaled preview frames
 * (at most 2 a second), each shown once its own analysis arrived (`PreviewFrames.pick`),
 * drawn on a canvas. `onShown` tells the overlay which frame is on screen, so it draws
 * that frame's result. `data-frames` counts the frames drawn (tests, debugging).
 */
export function TilePreview({ frames, buffer, onShown }: { frames: PreviewFrames; buffer: AnalysisBuffer; onShown: (f: PreviewFrame) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drawn, setDrawn] = useState(0);

  useEffect(() => {
    let shown: PreviewFrame | undefined;
    let busy = false;
    let live = true;
    const update = () => {
      const picked = frames.pick(buffer, Date.now());
      if (busy || !picked || picked.frame === shown) return;
      busy = true;
      const frame = picked.frame;
      void decode(frame)
        .then((bitmap) => {
          if (!live || !canvas.current) return bitmap.close();
          drawFrame(canvas.current, bitmap);
          shown = frame;
          setDrawn((n) => n + 1);
          onShown(frame);
        })
        .catch(() => undefined) // a frame that does not decode is skipped; the next one follows
        .finally(() => (busy = false));
    };
    const offs = [frames.subscribe(update), buffer.subscribe(update)];
    const timer = setInterval(update, TICK_MS);
    update();
    return () => ((live = false), offs.forEach((off) => off()), clearInterval(timer));
  }, [frames, buffer, onShown]);

  return (
    <>
      <canvas ref={canvas} class="tile-preview" data-testid="tile-preview" data-frames={drawn} aria-hidden="true" />
      {drawn === 0 && <div class="tile-placeholder">Fallback upload: waiting for the first picture…</div>}
    </>
  );
}

async function decode(frame: PreviewFrame): Promise<ImageBitmap> {
  const bytes = Uint8Array.from(atob(frame.jpeg), (c) => c.charCodeAt(0));
  return createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
}

/** The canvas takes the frame's own size; CSS scales it like the video (object-fit: contain). */
function drawFrame(c: HTMLCanvasElement, bitmap: ImageBitmap): void {
  if (c.width !== bitmap.width || c.height !== bitmap.height) {
    c.width = bitmap.width;
    c.height = bitmap.height;
  }
  c.getContext('2d')?.drawImage(bitmap, 0, 0);
  bitmap.close();
}
