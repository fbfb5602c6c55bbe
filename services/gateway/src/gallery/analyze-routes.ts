import express from 'express';
import { IdentifyResult, LookoutError } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import type { GalleryService } from './service.js';

/** Single-image analysis: POST a JPEG or PNG, get the detector + reid result (reid's `gallery.identify`). */
export function registerAnalyzeRoutes(api: ApiRouter, gallery: GalleryService): void {
  const raw = express.raw({ type: ['image/jpeg', 'image/png'], limit: gallery.uploadLimitBytes });
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
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new LookoutError('unsupported_media_type', 'body: send the image as image/jpeg or image/png');
      const room = typeof req.query.room === 'string' ? req.query.room : undefined;
      if (req.principal?.kind === 'room' && room !== req.principal.claims.room) throw new LookoutError('forbidden', 'room: a room token may only analyse for its own room (?room=)', 'room');
      return gallery.identify(req.body, room);
    },
  );
}
