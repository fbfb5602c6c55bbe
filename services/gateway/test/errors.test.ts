import { ERROR_CODES, LookoutError, ValidationError, WS_CLOSE, type ErrorCode } from '@lookout/contracts';
import { ERROR_STATUS } from '../src/http/error-status.js';
import { toHttpError } from '../src/http/errors.js';
import { closeCodeOf, toWsError } from '../src/ws/errors.js';

describe('errors at the gateway\'s edges', () => {
  it('gives every code of the catalogue an HTTP status', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
  });

  it('answers REST errors with the code\'s status, and details beside code and message', () => {
    const images = [{ index: 0, ok: false, error: { code: 'bad_image', message: 'no' } }];
    const r = toHttpError(new LookoutError('no_usable_image', 'images: none usable', 'images', { images }));
    expect(r).toEqual({ status: 422, body: { error: { code: 'no_usable_image', message: 'images: none usable', field: 'images', images } } });
    expect(Object.keys(r.body.error)).toEqual(['code', 'message', 'field', 'images']);
    expect(toHttpError(new LookoutError('sfu_unavailable', 'sfu x: timeout')).status).toBe(503);
    expect(toHttpError(new ValidationError('body', 'room', 'expected string'))).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', field: 'room' } } });
  });

  it('turns body-parser errors into codes, and anything else into a bare 500', () => {
    expect(toHttpError(Object.assign(new Error('too big'), { type: 'entity.too.large', limit: 2048 }))).toMatchObject({ status: 413, body: { error: { code: 'body_too_large', message: expect.stringMatching(/2048 bytes/) } } });
    expect(toHttpError(Object.assign(new Error('x'), { type: 'entity.parse.failed', status: 400 }))).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(toHttpError(Object.assign(new Error('aborted'), { type: 'request.aborted', status: 400 }))).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(toHttpError(new TypeError('a bug with a secret in it'))).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
  });

  it('closes a WebSocket for credential and access codes only', () => {
    expect((['unauthorized', 'invalid_token', 'token_expired'] as const).map(closeCodeOf)).toEqual([WS_CLOSE.unauthorized, WS_CLOSE.unauthorized, WS_CLOSE.unauthorized]);
    expect(closeCodeOf('forbidden')).toBe(WS_CLOSE.forbidden);
    expect(closeCodeOf('not_found')).toBeUndefined();
  });

  it('sends a bad message as invalid_message, and places a nested field under its prefix', () => {
    expect(toWsError(new ValidationError('sfu.produce request', 'kind', 'expected video'), 'data')).toMatchObject({ code: 'invalid_message', field: 'data/kind' });
    expect(toWsError(new LookoutError('unknown_transport', 'no such transport', 'transportId'), 'data')).toMatchObject({ code: 'unknown_transport', field: 'data/transportId' });
    expect(toWsError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'internal error' });
  });
});
