import { redactorFor, redactUrl } from '../../src/ingest/redact.js';

describe('credential redaction', () => {
  it('replaces the password of a URL, keeps the user, host and path', () => {
    expect(redactUrl('rtsp://admin:hunter22@10.0.0.5:554/stream1')).toBe('rtsp://admin:***@10.0.0.5:554/stream1');
    expect(redactUrl('rtsps://a%40b:p%2Fw@cam/x')).toBe('rtsps://a%40b:***@cam/x');
    expect(redactUrl('rtsp://cam.local/stream')).toBe('rtsp://cam.local/stream');
    expect(redactUrl('rtsp://onlyuser@cam/stream')).toBe('rtsp://onlyuser@cam/stream');
    expect(redactUrl('video/file.webm')).toBe('video/file.webm');
    // An unencoded @ in the password: everything up to the host's @ goes.
    expect(redactUrl('rtsp://u:p@ss@cam/s')).toBe('rtsp://u:***@cam/s');
  });

  it('redacts URLs inside a text, e.g. ffmpeg\'s stderr', () => {
    const r = redactorFor('rtsp://u:s3cret-pw@127.0.0.1:8554/cam');
    expect(r('[tcp] Connection to tcp://127.0.0.1:8554 failed | rtsp://u:s3cret-pw@127.0.0.1:8554/cam: Connection refused')).toBe(
      '[tcp] Connection to tcp://127.0.0.1:8554 failed | rtsp://u:***@127.0.0.1:8554/cam: Connection refused',
    );
  });

  it('removes the password on its own too, as written and percent-decoded', () => {
    const r = redactorFor('rtsp://u:p%40ss-word@cam/s');
    expect(r("Input #0, rtsp, from 'p@ss-word' and p%40ss-word")).toBe("Input #0, rtsp, from '***' and ***");
    // Too short to search for on its own without blanking out words: only in URL form.
    expect(redactorFor('rtsp://u:ab@cam/s')('about rtsp://u:ab@cam/s')).toBe('about rtsp://u:***@cam/s');
  });
});
