import { LookoutError, type GalleryOp, type ImageResult, type SubjectSummary } from '@lookout/contracts';
import type { ReidClient } from '../src/clients/reid.js';
import { ChunkedEnroller } from '../src/gallery/chunked-enrollment.js';

const subject: SubjectSummary = { subjectId: 's1', name: 'Ada', metadata: {}, embeddings: 1, negatives: 0, imagesKept: 1, createdMs: 1, updatedMs: 1 };

/** A reid that answers each image by its first byte: 1 = usable face, anything else = bad_image. */
function fakeReid(maxPayload: number, calls: Array<{ op: GalleryOp; images: number }>): ReidClient {
  const verdicts = (images: string[]): ImageResult[] =>
    images.map((b64, index) => (Buffer.from(b64, 'base64')[0] === 1 ? { index, ok: true } : { index, ok: false, error: { code: 'bad_image', message: 'not an image' } }));
  return {
    maxPayload,
    async gallery(op: GalleryOp, request: { images: string[] }) {
      calls.push({ op, images: request.images.length });
      const images = verdicts(request.images);
      if (!images.some((i) => i.ok)) throw new LookoutError('no_usable_image', 'images: no usable face', 'images', { images });
      return { subject, images };
    },
  } as unknown as ReidClient;
}

const image = (usable: boolean, bytes = 1000) => Buffer.concat([Buffer.from([usable ? 1 : 0]), Buffer.alloc(bytes - 1)]);

describe('chunked enrollment', () => {
  it('creates the subject with the first request that has a usable image and adds the rest to it', async () => {
    const calls: Array<{ op: GalleryOp; images: number }> = [];
    // Room for two 1000-byte images per request.
    const enroller = new ChunkedEnroller(fakeReid(1024 + 1024 + 2 * 1340, calls));
    const r = await enroller.enroll({ mode: 'enroll', name: 'Ada' }, [image(false), image(false), image(true), image(false), image(true)]);
    expect(calls).toEqual([{ op: 'enroll', images: 2 }, { op: 'enroll', images: 2 }, { op: 'add_images', images: 1 }]);
    expect(r.subject?.subjectId).toBe('s1');
    expect(r.error).toBeUndefined();
    expect(r.images.map((i) => [i?.index, i?.ok])).toEqual([[0, false], [1, false], [2, true], [3, false], [4, true]]);
  });

  it('creates nobody when no image is usable, and keeps every verdict in details.images', async () => {
    const enroller = new ChunkedEnroller(fakeReid(1024 + 1024 + 2 * 1340, []));
    const r = await enroller.enroll({ mode: 'enroll', name: 'Nobody' }, [image(false), image(false), image(false)]);
    expect(r.subject).toBeUndefined();
    expect(r.error).toMatchObject({ code: 'no_usable_image', field: 'images' });
    expect((r.error?.details?.images as ImageResult[]).map((i) => i.index)).toEqual([0, 1, 2]);
  });

  it('stops at an error that is not about the images, keeping what was done', async () => {
    const reid = fakeReid(1024 + 1024 + 2 * 1340, []);
    let n = 0;
    const failing = { maxPayload: reid.maxPayload, gallery: (op: GalleryOp, req: never) => (++n === 2 ? Promise.reject(new LookoutError('unavailable', 'no reid')) : reid.gallery(op, req)) } as unknown as ReidClient;
    const r = await new ChunkedEnroller(failing).enroll({ mode: 'enroll', name: 'Ada' }, [image(true), image(true), image(true)]);
    expect(r).toMatchObject({ subject: { subjectId: 's1' }, error: { code: 'unavailable' } });
    expect(r.images.map((i) => i?.ok)).toEqual([true, true, undefined]);
  });
});
