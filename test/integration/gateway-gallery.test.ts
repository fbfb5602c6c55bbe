import fs from 'node:fs';
import path from 'node:path';
import type { EnrollJob, IdentifyResult, ImageResult, SubjectSummary } from '@lookout/contracts';
import type { Static } from '@sinclair/typebox';
import { buildZip } from '@lookout/testkit';
import { FIXTURES, TEST_GATEWAY_ENV, apiCall, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const FACES = path.join(FIXTURES, 'faces', 'identities');
const photos = (person: string) => fs.readdirSync(path.join(FACES, person)).sort();
const photo = (person: string, i: number) => fs.readFileSync(path.join(FACES, person, photos(person)[i]!));
const UPLOAD_LIMIT = 6_000_000;

type Enrolled = { subject: SubjectSummary; images: ImageResult[] };
type ErrorBody = { error: { code: string; message: string; field?: string; images?: ImageResult[] } };

function form(fields: Record<string, string>, files: Array<{ field: string; name: string; data: Buffer; type?: string }>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const file of files) f.append(file.field, new Blob([new Uint8Array(file.data)], { type: file.type ?? 'image/jpeg' }), file.name);
  return f;
}

describe('gateway gallery API (real nats-server, detector, reid and gateway)', () => {
  let nats: NatsServer;
  let services: RunningService[] = [];
  let base: string;
  const call = <T>(method: string, p: string, opts: Parameters<typeof apiCall>[3] = {}) => apiCall<T>(base, method, p, opts);

  beforeAll(async () => {
    nats = await startNatsServer();
    services = await Promise.all([startService('detector', nats.url), startService('reid', nats.url)]);
    const gateway = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT) });
    services.push(gateway);
    base = `http://127.0.0.1:${gateway.httpPort}`;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
  });

  it('enrolls (multipart), adds images, gets, lists, renames and deletes a subject', async () => {
    const created = await call<Enrolled>('POST', '/gallery/subjects', { body: form({ name: 'Matt D', subjectId: 'matt', metadata: '{"team":"a"}' }, [{ field: 'images', name: 'm0.jpg', data: photo('matt_damon', 0) }]) });
    expect(created.status).toBe(201);
    expect(created.body.subject).toMatchObject({ subjectId: 'matt', name: 'Matt D', metadata: { team: 'a' }, embeddings: 1 });
    expect(created.body.images).toEqual([expect.objectContaining({ index: 0, ok: true })]);

    const files = [photo('matt_damon', 1), photo('matt_damon', 2), Buffer.from('not an image at all')].map((data, i) => ({ field: 'images', name: `m${i + 1}.jpg`, data }));
    const added = await call<Enrolled>('POST', '/gallery/subjects/matt/images', { body: form({}, files) });
    expect(added.status).toBe(200);
    expect(added.body.images.map((i) => [i.index, i.ok, i.error?.code])).toEqual([[0, true, undefined], [1, true, undefined], [2, false, 'bad_image']]);
    expect(added.body.subject.embeddings).toBe(3);

    expect((await call<{ subject: SubjectSummary }>('GET', '/gallery/subjects/matt')).body.subject).toMatchObject({ name: 'Matt D', embeddings: 3 });
    const listed = await call<{ subjects: SubjectSummary[]; total: number; limit: number }>('GET', '/gallery/subjects?offset=0&limit=50');
    expect(listed.status).toBe(200);
    expect(listed.body.subjects.map((s) => s.subjectId)).toContain('matt');
    expect(listed.body.limit).toBe(50);

    const renamed = await call<{ subject: SubjectSummary }>('PATCH', '/gallery/subjects/matt', { json: { name: 'Matt Damon' } });
    expect(renamed.body.subject).toMatchObject({ name: 'Matt Damon', metadata: { team: 'a' } });
    expect(await call('DELETE', '/gallery/subjects/matt')).toMatchObject({ status: 200, body: { subjectId: 'matt' } });
    expect(await call('GET', '/gallery/subjects/matt')).toMatchObject({ status: 404, body: { error: { code: 'not_found', field: 'subjectId' } } });
  });

  it('answers bad requests with the documented errors', async () => {
    const face = { field: 'images', name: 'e.jpg', data: photo('elon_musk', 0) };
    const expectError = async (p: Promise<{ status: number; body: unknown }>, status: number, error: Partial<ErrorBody['error']>) => {
      const r = await p;
      expect({ status: r.status, body: r.body }).toMatchObject({ status, body: { error } });
      expect((r.body as ErrorBody).error.message).toMatch(/\S/);
    };
    await expectError(call('POST', '/gallery/subjects/ghost/images', { body: form({}, [face]) }), 404, { code: 'not_found' });
    await expectError(call('PATCH', '/gallery/subjects/ghost', { json: { name: 'x' } }), 404, { code: 'not_found' });
    await expectError(call('PATCH', '/gallery/subjects/matt', { json: '{"name": ' }), 400, { code: 'invalid_json' });
    await expectError(call('PATCH', '/gallery/subjects/matt', { json: { name: 5 } }), 400, { code: 'invalid_request', field: 'name' });
    await expectError(call('PATCH', '/gallery/subjects/matt', { json: { name: 'x'.repeat(2_000_000) } }), 413, { code: 'body_too_large' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'Big' }, [{ ...face, data: Buffer.alloc(UPLOAD_LIMIT + 1000) }]) }), 413, { code: 'body_too_large' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'Big' }, [{ ...face, data: Buffer.alloc(4_500_000) }]) }), 413, { code: 'body_too_large', field: 'images/0' });
    await expectError(call('POST', '/gallery/subjects', { body: form({}, [face]) }), 400, { code: 'invalid_request', field: 'name' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'X', metadata: '{oops' }, [face]) }), 400, { code: 'invalid_json', field: 'metadata' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'X', colour: 'red' }, [face]) }), 400, { code: 'invalid_request', field: 'colour' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'X' }, []) }), 400, { code: 'invalid_request', field: 'images' });
    await expectError(call('POST', '/gallery/subjects', { json: { name: 'X' } }), 415, { code: 'unsupported_media_type' });
    await expectError(call('POST', '/gallery/subjects', { body: form({ name: 'Nobody' }, [{ ...face, data: Buffer.from('nope') }]) }), 422, { code: 'no_usable_image', images: [expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'bad_image' }) })] });
    // A form cut short is a 400, and the gateway keeps serving.
    const cut = '--XYZ\r\nContent-Disposition: form-data; name="images"; filename="a.jpg"\r\n\r\nabc';
    await expectError(call('POST', '/gallery/subjects', { body: cut, headers: { 'content-type': 'multipart/form-data; boundary=XYZ' } }), 400, { code: 'bad_request' });
    await expectError(call('POST', '/gallery/subjects/ghost/negatives', { json: { faceRef: 'nope' } }), 404, { code: 'not_found' });
    await expectError(call('POST', '/gallery/subjects/ghost/negatives', { json: {} }), 400, { code: 'invalid_request', field: 'faceRef' });
    await expectError(call('GET', '/gallery/subjects?limit=abc'), 400, { code: 'invalid_request', field: 'limit' });
    await expectError(call('GET', '/gallery/subjects/a.b'), 400, { code: 'invalid_request', field: 'subject' });
    await expectError(call('GET', '/gallery/nothing-here'), 404, { code: 'not_found' });
    await expectError(call('GET', '/gallery/subjects', { auth: null }), 401, { code: 'unauthorized' });
    await expectError(call('GET', '/gallery/jobs/job_missing'), 404, { code: 'not_found' });
    const listed = await call<{ subjects: SubjectSummary[] }>('GET', '/gallery/subjects');
    expect(listed.body.subjects.map((s) => s.name)).not.toEqual(expect.arrayContaining(['Nobody']));
  });

  async function runJob(zip: Buffer): Promise<EnrollJob> {
    const started = await call<EnrollJob>('POST', '/gallery/jobs', { body: form({}, [{ field: 'zip', name: 'people.zip', data: zip, type: 'application/zip' }]) });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', jobId: expect.stringMatching(/^job_/) });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await call<EnrollJob>('GET', `/gallery/jobs/${started.body.jobId}`);
      expect(r.status).toBe(200);
      if (r.body.status !== 'running' || Date.now() > deadline) return r.body;
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  it('ZIP batch: two entries of one name fail the whole job, naming the entry, before anyone is enrolled (issue 17)', async () => {
    const zip = buildZip([
      { name: 'pat_doe.jpg', data: photo('barack_obama', 2) },
      { name: 'sam_roe.jpg', data: photo('katy_perry', 1) },
      { name: 'pat_doe.jpg', data: photo('angelina_jolie', 2) },
    ]);
    const job = await runJob(zip);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'duplicate_entry', message: expect.stringContaining('"pat_doe.jpg"') } });
    const listed = await call<{ subjects: SubjectSummary[] }>('GET', '/gallery/subjects');
    expect(listed.body.subjects.filter((s) => s.metadata.enrollJob === job.jobId)).toEqual([]);
  });

  it('ZIP batch: enrolls the good entries (then single-image analysis names them) and refuses bomb, traversal and non-images', async () => {
    const zip = buildZip([
      { name: 'barack_obama/', data: Buffer.alloc(0) },
      { name: 'barack_obama/portrait.jpg', data: photo('barack_obama', 0) },
      { name: 'angelina_jolie/a.jpg', data: photo('angelina_jolie', 0) },
      { name: 'george_clooney_1.jpg', data: photo('george_clooney', 0) },
      { name: 'katy_perry.jpg', data: photo('katy_perry', 0) },
      { name: 'bomb.jpg', data: Buffer.concat([photo('matt_damon', 3).subarray(0, 100), Buffer.alloc(3_000_000)]) },
      { name: '../evil.jpg', data: photo('matt_damon', 4) },
      { name: 'notes.txt', data: Buffer.from('enroll everyone please') },
      { name: 'fake.jpg', data: Buffer.from('plain text dressed as a JPEG') },
    ]);
    const job = await runJob(zip);
    expect(job).toMatchObject({ status: 'done', total: 8, processed: 8 });
    const byEntry = Object.fromEntries(job.results.map((r) => [r.entry, r]));
    for (const e of ['barack_obama/portrait.jpg', 'angelina_jolie/a.jpg', 'george_clooney_1.jpg', 'katy_perry.jpg']) expect(byEntry[e]).toMatchObject({ ok: true, subjectId: expect.any(String) });
    expect(byEntry['barack_obama/portrait.jpg']?.person).toBe('barack obama');
    expect(byEntry['george_clooney_1.jpg']?.person).toBe('george clooney');
    expect(byEntry['bomb.jpg']).toMatchObject({ ok: false, error: { code: 'compression_ratio', message: expect.stringMatching(/bomb/) } });
    expect(byEntry['../evil.jpg']).toMatchObject({ ok: false, error: { code: 'unsafe_path', message: expect.stringMatching(/traversal/) } });
    expect(byEntry['notes.txt']).toMatchObject({ ok: false, error: { code: 'not_image' } });
    expect(byEntry['fake.jpg']).toMatchObject({ ok: false, error: { code: 'not_image', message: expect.stringMatching(/JPEG or PNG/) } });
    for (const r of job.results.filter((x) => !x.ok)) expect(r.subjectId).toBeUndefined();

    // Only the four people exist; nothing for the refused entries.
    const listed = await call<{ subjects: SubjectSummary[] }>('GET', '/gallery/subjects');
    const fromJob = listed.body.subjects.filter((s) => s.metadata.enrollJob === job.jobId);
    expect(fromJob.map((s) => s.name).sort()).toEqual(['angelina jolie', 'barack obama', 'george clooney', 'katy perry']);
    expect(listed.body.subjects.map((s) => s.name)).not.toEqual(expect.arrayContaining([expect.stringMatching(/evil|bomb|notes|fake|matt/i)]));

    const analysed = await call<Static<typeof IdentifyResult>>('POST', '/analyze', { body: photo('barack_obama', 1), headers: { 'content-type': 'image/jpeg' } });
    expect(analysed.status).toBe(200);
    expect(analysed.body.faces[0]?.identity).toMatchObject({ subjectId: byEntry['barack_obama/portrait.jpg']?.subjectId, name: 'barack obama' });
  }, 120_000);

  it('ZIP batch: a person none of whose images is usable is not created; a non-ZIP fails the job', async () => {
    const job = await runJob(buildZip([{ name: 'nobody_face/blank.png', data: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('broken')]) }]));
    expect(job).toMatchObject({ status: 'done', results: [{ entry: 'nobody_face/blank.png', person: 'nobody face', ok: false, error: { code: 'bad_image' } }] });
    const listed = await call<{ subjects: SubjectSummary[] }>('GET', '/gallery/subjects');
    expect(listed.body.subjects.filter((s) => s.metadata.enrollJob === job.jobId)).toEqual([]);

    const notZip = await runJob(Buffer.from('this is not a zip archive'));
    expect(notZip).toMatchObject({ status: 'failed', error: { code: 'not_zip', message: expect.stringMatching(/not a readable ZIP/) } });
  }, 60_000);
});
