import { LookoutError } from '@lookout/contracts';
import { HttpError } from '../../web/src/lib/api.js';
import { errorField, errorText } from '../../web/src/lib/upload.js';

describe("the web app's REST error (HttpError, a LookoutError)", () => {
  it('is the error the gateway sent: code, message, field, and the details beside them', () => {
    const images = [{ index: 0, error: { code: 'no_face', message: 'no face found' } }];
    const e = HttpError.fromResponse(422, 'Unprocessable Entity', { error: { code: 'no_usable_image', message: 'no usable image', images } });
    expect(e).toBeInstanceOf(LookoutError);
    expect(e).toMatchObject({ status: 422, code: 'no_usable_image', message: 'no usable image', details: { images } });
    const bad = HttpError.fromResponse(400, 'Bad Request', { error: { code: 'invalid_request', message: 'name: too long', field: 'name' } });
    expect([bad.code, bad.field, bad.details]).toEqual(['invalid_request', 'name', undefined]);
    expect(errorText(bad)).toBe('name: too long (field: name)');
    expect(errorField(bad)).toBe('name');
  });

  it('codes a response without an error body by its status, and an unknown code as internal', () => {
    expect(HttpError.fromResponse(404, 'Not Found', undefined)).toMatchObject({ status: 404, code: 'not_found', message: '404 Not Found' });
    expect(HttpError.fromResponse(502, 'Bad Gateway', '<html>')).toMatchObject({ code: 'unavailable' });
    expect(HttpError.fromResponse(500, '', { error: { code: 'no_such_code', message: 'from a newer gateway' } })).toMatchObject({ code: 'internal', message: 'from a newer gateway' });
  });

  it('asks a person to sign in on 401', () => {
    const e = HttpError.fromResponse(401, 'Unauthorized', { error: { code: 'unauthorized', message: 'missing API key' } });
    expect(errorText(e)).toBe('missing API key. Sign in with the admin key at the top of the page, then try again.');
  });
});
