import express from 'express';
import { galleryReply, IdentifyResult, subjects } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import { ApiError } from '../http/errors.js';
import type { GatewayDeps } from '../deps.js';
import { galleryError } from './gallery-errors.js';

/** Single-image analysis: POST a JPEG or PNG, get the detector + reid result. */
export function registerAnalyzeRoutes(api: ApiRouter, d: GatewayDeps): void {
  const raw = express.raw({ type: ['image/jpeg', 'image/png'], limit: d.config.uploadLimitBytes });
  api.router.post('/analyze', raw);
  api.route(
    {
      method: 'post',
      path: '/analyze',
      tag: 'analysis',
      summary: 'Analyse one image: faces, landmarks, pose, eyes, expression, liveness, text, and identities from the gallery',
      access: 'any',
      upload: { contentType: 'image/jpeg', description: 'The image itself (image/jpeg or image/png); `?room=` applies that room\'s analysis config' },
      response: IdentifyResult,
    },
    async (req) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new ApiError(415, 'unsupported_media_type', 'body: send the image as image/jpeg or image/png');
      const room = typeof req.query.room === 'string' ? req.query.room : undefined;
      if (req.principal?.kind === 'room' && room !== req.principal.claims.room) throw new ApiError(403, 'forbidden', 'room: a room token may only analyse for its own room (?room=)', 'room');
      const msg = await d.nc.request(subjects.gallery('identify'), JSON.stringify({ image: req.body.toString('base64'), ...(room ? { room } : {}) }), { timeout: 30_000 }).catch((err: Error) => {
        throw new ApiError(503, 'unavailable', `reid: ${err.message}`);
      });
      const reply = galleryReply.identify.parse(JSON.parse(new TextDecoder().decode(msg.data)));
      if (!reply.ok) throw galleryError(reply.error);
      const { ok: _ok, ...result } = reply;
      return result;
    },
  );
}
