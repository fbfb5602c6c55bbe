import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * An FFMPEG_PATH for fault tests: real ffmpeg, except that the SFU's frame-tap starts
 * (the ones reading an SDP: `-f sdp`) can be made to hang without ever binding a socket,
 * or to fail. Controlled through files in its own temp dir, so a running SFU obeys at once.
 */
export class FaultyFfmpeg {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-faulty-ffmpeg-'));
  readonly path = path.join(this.dir, 'ffmpeg');

  constructor() {
    fs.writeFileSync(
      this.path,
      [
        '#!/bin/sh',
        'dir="$(dirname "$0")"',
        'case " $* " in',
        '*" -f sdp "*)',
        '  if [ -f "$dir/taps-fail" ]; then echo "test ffmpeg: $(cat "$dir/taps-fail")" >&2; exit 1; fi',
        '  if mv "$dir/next-tap-hangs" "$dir/hanging" 2>/dev/null; then echo $$ > "$dir/hung.pid.tmp"; mv "$dir/hung.pid.tmp" "$dir/hung.pid"; exec sleep 600; fi',
        '  ;;',
        'esac',
        'exec ffmpeg "$@"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  }

  /** The next tap start hangs (a process that never binds or decodes); resolves with its pid once it runs. */
  async hangNextTap(timeoutMs = 30_000): Promise<number> {
    const pidFile = path.join(this.dir, 'hung.pid');
    fs.rmSync(pidFile, { force: true });
    fs.writeFileSync(path.join(this.dir, 'next-tap-hangs'), '');
    await waitForFile(pidFile, timeoutMs);
    return Number(fs.readFileSync(pidFile, 'utf8').trim());
  }

  /** Every tap start fails with `message` on stderr until `failTaps(undefined)`. */
  failTaps(message: string | undefined): void {
    const file = path.join(this.dir, 'taps-fail');
    if (message === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, message);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once `file` exists (watched, not polled). */
function waitForFile(file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file), () => check());
    const timer = setTimeout(() => done(new Error(`${file} did not appear within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error) => {
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const check = () => fs.existsSync(file) && done();
    check();
  });
}
