/**
 * Splits a concatenated MJPEG byte stream (ffmpeg's image2pipe) into whole JPEGs by
 * walking the marker segments, so a 0xFFD9 inside entropy-coded data or a segment
 * payload cannot end a frame early (a naive FFD8/FFD9 search can be fooled). Used by the
 * SFU's frame tap and by the gateway's recording-job decoder, which counts on every frame
 * coming out whole (each one is a sequence number of the job).
 */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Offset of the next unparsed byte in the current frame. */
  private pos = 0;
  /** Inside entropy-coded scan data (after SOS) until a real marker appears. */
  private inScan = false;

  constructor(private readonly onFrame: (jpeg: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.parse();
  }

  private parse(): void {
    for (;;) {
      if (this.pos === 0) {
        const soi = this.findSoi();
        if (soi < 0) return;
        this.pos = 2;
        this.inScan = false;
      }
      const end = this.inScan ? this.scanToMarker() : this.walkSegments();
      if (end === undefined) return;
      if (end > 0) {
        this.onFrame(Buffer.from(this.buf.subarray(0, end)));
        this.buf = this.buf.subarray(end);
        this.pos = 0;
      }
    }
  }

  /** Drops bytes before the next SOI; returns its index (0 after the drop) or -1. */
  private findSoi(): number {
    for (let i = 0; i + 1 < this.buf.length; i++) {
      if (this.buf[i] === 0xff && this.buf[i + 1] === 0xd8) {
        this.buf = this.buf.subarray(i);
        return 0;
      }
    }
    this.buf = this.buf.subarray(Math.max(0, this.buf.length - 1));
    return -1;
  }

  /** Walks length-prefixed segments; returns the frame end, 0 to continue, undefined for more data. */
  private walkSegments(): number | undefined {
    const b = this.buf;
    while (this.pos + 2 <= b.length) {
      if (b[this.pos] !== 0xff) {
        // Not a marker where one must be: resynchronise on the next SOI.
        this.buf = b.subarray(this.pos);
        this.pos = 0;
        return 0;
      }
      const marker = b[this.pos + 1]!;
      if (marker === 0xff) {
        this.pos++; // fill byte
        continue;
      }
      if (marker === 0xd9) return this.pos + 2;
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        this.pos += 2;
        continue;
      }
      if (this.pos + 4 > b.length) return undefined;
      const length = (b[this.pos + 2]! << 8) | b[this.pos + 3]!;
      if (this.pos + 2 + length > b.length) return undefined;
      this.pos += 2 + length;
      if (marker === 0xda) {
        this.inScan = true;
        return 0;
      }
    }
    return undefined;
  }

  /** Skips scan data: FF00 is a stuffed byte, FFD0–D7 restart markers; any other FFxx ends it. */
  private scanToMarker(): number | undefined {
    const b = this.buf;
    for (let i = this.pos; i + 1 < b.length; i++) {
      if (b[i] !== 0xff) continue;
      const next = b[i + 1]!;
      if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) continue;
      this.pos = i;
      this.inScan = false;
      return 0;
    }
    this.pos = Math.max(this.pos, b.length - 1);
    return undefined;
  }
}
