import {
  assertId,
  clientMessage,
  decodeFrameHeaders,
  decodeJson,
  encodeFrameHeaders,
  facesMessage,
  isId,
  parseStreamSubject,
  subjects,
  ValidationError,
} from '@lookout/contracts';

describe('ids', () => {
  it.each(['a', 'room-1', 'CAM_02', 'x'.repeat(64)])('accepts %s', (id) => expect(isId(id)).toBe(true));
  it.each(['', 'a.b', 'a*', '>', 'a/b', '../x', 'a b', 'x'.repeat(65), 'é', 'a\nb'])('rejects %j', (id) => expect(isId(id)).toBe(false));
  it('names the field in the error', () => expect(() => assertId('room', 'a.b')).toThrow(/^room: invalid id "a\.b"/));
});

describe('subjects', () => {
  it('builds stream subjects', () => {
    expect(subjects.frames('r1', 's1')).toBe('frames.r1.s1');
    expect(subjects.faces('r1', 's1')).toBe('faces.r1.s1');
    expect(subjects.analysis('r1', 's1')).toBe('analysis.r1.s1');
    expect(subjects.roomStreams('analysis', 'r1')).toBe('analysis.r1.*');
    expect(subjects.all('frames')).toBe('frames.>');
    expect(subjects.sfu('sfu-1', 'produce')).toBe('sfu.sfu-1.produce');
  });
  it('refuses ids that would inject tokens or wildcards', () => {
    expect(() => subjects.frames('r1.>', 's1')).toThrow(/room/);
    expect(() => subjects.frames('r1', '*')).toThrow(/stream/);
    expect(() => subjects.roomStreams('analysis', '>')).toThrow(/room/);
    expect(() => subjects.sfu('a.b', 'x')).toThrow(/instance/);
  });
  it('parses what it builds and nothing else', () => {
    expect(parseStreamSubject(subjects.faces('r', 's'))).toEqual({ kind: 'faces', room: 'r', stream: 's' });
    expect(parseStreamSubject('frames.r')).toBeUndefined();
    expect(parseStreamSubject('other.r.s')).toBeUndefined();
    expect(parseStreamSubject('frames.r.s.t')).toBeUndefined();
  });
});

describe('frame headers', () => {
  const meta = { seq: 7, captureMs: 1_700_000_000_000, width: 640, height: 480, room: 'r', stream: 's', peer: 'p' };
  const asGetter = (h: Array<[string, string]>) => (name: string) => new Map(h).get(name);

  it('round-trips', () => expect(decodeFrameHeaders(asGetter(encodeFrameHeaders(meta)))).toEqual(meta));

  it('names the missing or malformed header', () => {
    const h = encodeFrameHeaders(meta).filter(([k]) => k !== 'Lookout-Seq');
    expect(() => decodeFrameHeaders(asGetter(h))).toThrow(/seq: missing header Lookout-Seq/);
    const bad = encodeFrameHeaders(meta).map(([k, v]): [string, string] => (k === 'Lookout-Width' ? [k, '-3'] : [k, v]));
    expect(() => decodeFrameHeaders(asGetter(bad))).toThrow(/width/);
    const huge = encodeFrameHeaders(meta).map(([k, v]): [string, string] => (k === 'Lookout-Height' ? [k, '99999'] : [k, v]));
    expect(() => decodeFrameHeaders(asGetter(huge))).toThrow(ValidationError);
    const room = encodeFrameHeaders(meta).map(([k, v]): [string, string] => (k === 'Lookout-Room' ? [k, 'a.b'] : [k, v]));
    expect(() => decodeFrameHeaders(asGetter(room))).toThrow(/room/);
  });
});

describe('payload validation', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const faces = { room: 'r', stream: 's', seq: 1, captureMs: 5, width: 10, height: 10, faces: [{ box: [0, 0, 1, 1], score: 0.9 }], timings: {}, worker: 'w' };

  it('accepts a valid message', () => expect(decodeJson(facesMessage, enc(faces)).faces).toHaveLength(1));

  it('names the deepest bad field', () => {
    const bad = { ...faces, faces: [{ box: [0, 0, 1], score: 0.9 }] };
    expect(() => decodeJson(facesMessage, enc(bad))).toThrow(expect.objectContaining({ field: 'faces/0/box' }));
  });

  it('reports invalid JSON', () => expect(() => decodeJson(facesMessage, enc('x').subarray(1))).toThrow(/faces message: \(root\): not valid JSON/));

  it('finds the bad field inside the variant of a tagged union the sender meant', () => {
    expect(() => clientMessage.parse({ type: 'unsubscribe', room: 'a.b' })).toThrow(expect.objectContaining({ field: 'room' }));
    expect(() => clientMessage.parse({ type: 'subscribe', room: 'ok', extra: 1 })).toThrow(ValidationError);
    expect(() => clientMessage.parse({ type: 'nope' })).toThrow(expect.objectContaining({ field: 'type' }));
  });
});
