import type { FaceKind, ViewFace } from './in-view';

/**
 * Draws one analysis result over the video it describes: on the canvas a box per face
 * (green for a recognised person, amber for anyone else; dashed for a face beside the
 * stream's principal) and an arrow for the head pose. The caption of each face (name,
 * similarity, track id) is a DOM label placed with the same geometry (`faceLabels`) in the
 * same render call: canvas text cannot be read by screen readers, found by tests or
 * selected, and drawing it twice would blur the two. Boxes and labels are both drawn from
 * `in-view`'s faces, like every other description of the result.
 */
export interface Fit {
  /** Scale from analysis pixels to CSS pixels of the overlay, and the letterbox offset. */
  scale: number;
  dx: number;
  dy: number;
}

/** Where an object-fit: contain picture of `frameW`×`frameH` lies in a `boxW`×`boxH` element. */
export function fitContain(boxW: number, boxH: number, frameW: number, frameH: number): Fit {
  if (frameW <= 0 || frameH <= 0 || boxW <= 0 || boxH <= 0) return { scale: 0, dx: 0, dy: 0 };
  const scale = Math.min(boxW / frameW, boxH / frameH);
  return { scale, dx: (boxW - frameW * scale) / 2, dy: (boxH - frameH * scale) / 2 };
}

export const FACE_COLOURS: Record<FaceKind, string> = { known: '#2fbf5f', unknown: '#ffb020', anonymous: '#4aa3ff' };

export interface FaceLabel {
  key: string;
  text: string;
  kind: FaceKind;
  /** Top-left corner of the face box and its size, CSS pixels in the overlay. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export function faceLabels(faces: ViewFace[], fit: Fit): FaceLabel[] {
  return faces.map((f) => {
    const [x1, y1, x2, y2] = f.face.box;
    return { key: f.key, text: f.caption, kind: f.kind, x: fit.dx + x1 * fit.scale, y: fit.dy + y1 * fit.scale, w: (x2 - x1) * fit.scale, h: (y2 - y1) * fit.scale };
  });
}

/**
 * Clears the canvas and draws the faces (nothing when undefined). `stale` dims them: the
 * result is not the one for the frame on screen (latest-with-age).
 */
export function drawOverlay(canvas: HTMLCanvasElement, faces: ViewFace[] | undefined, fit: Fit, stale = false): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!faces || fit.scale === 0) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.globalAlpha = stale ? 0.55 : 1;
  const hasPrincipal = faces.some((f) => f.principal);
  for (const face of faces) drawFace(ctx, face, fit, hasPrincipal && !face.principal);
  ctx.globalAlpha = 1;
}

function drawFace(ctx: CanvasRenderingContext2D, v: ViewFace, fit: Fit, others: boolean): void {
  const f = v.face;
  const [x1, y1, x2, y2] = f.box;
  const x = fit.dx + x1 * fit.scale;
  const y = fit.dy + y1 * fit.scale;
  const w = (x2 - x1) * fit.scale;
  const h = (y2 - y1) * fit.scale;
  const colour = FACE_COLOURS[v.kind];
  ctx.lineWidth = f.principal ? 3 : 2;
  ctx.strokeStyle = colour;
  // Dashed: someone other than the stream's principal while the principal is in view.
  ctx.setLineDash(others ? [6, 4] : []);
  ctx.strokeRect(x, y, w, h);
  ctx.setLineDash([]);
  if (f.pose) drawPoseArrow(ctx, f, x + w / 2, y + h / 2, Math.max(20, w * 0.6));
}

/**
 * Head direction from the box centre. Yaw > 0 turns the head towards the image left
 * (docs/detector.md); pitch is drawn as "positive = up", a sign the fixtures cannot
 * confirm. Green when looking at the camera, red when not.
 */
function drawPoseArrow(ctx: CanvasRenderingContext2D, f: ViewFace['face'], cx: number, cy: number, len: number): void {
  const pose = f.pose!;
  const rad = Math.PI / 180;
  const ex = cx - Math.sin(pose.yaw * rad) * len;
  const ey = cy - Math.sin(pose.pitch * rad) * len;
  ctx.strokeStyle = ctx.fillStyle = pose.lookingAtCamera ? '#2fbf5f' : '#ff4d4f';
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.arc(cx, cy, 3, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(cx, cy);
  ctx.lineTo(ex, ey);
  ctx.stroke();
  const angle = Math.atan2(ey - cy, ex - cx);
  if (Math.hypot(ex - cx, ey - cy) < 4) return;
  ctx.beginPath();
  ctx.moveTo(ex, ey);
  ctx.lineTo(ex - 9 * Math.cos(angle - 0.5), ey - 9 * Math.sin(angle - 0.5));
  ctx.lineTo(ex - 9 * Math.cos(angle + 0.5), ey - 9 * Math.sin(angle + 0.5));
  ctx.closePath();
  ctx.fill();
}
