import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { galleryCall } from '../rpc-client.js';
import { FIXTURES } from '../services.js';

/**
 * The sequential two-person fixture video (test/fixtures/faces/README.md): Barack Obama
 * for frames 0–89, Angelina Jolie from frame 90, 15 fps.
 */
export const TWO_PEOPLE_VIDEO = path.join(FIXTURES, 'video/two-people-sequential-640x480-15fps.webm');
export const VIDEO_FPS = 15;
export const SWITCH_FRAME = 90;

/** Every frame of the video as a JPEG in `dir` (`f0001.jpg`, …: sorted names are frame order). */
export function extractVideoFrames(dir: string): void {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-i', TWO_PEOPLE_VIDEO, '-q:v', '3', path.join(dir, 'f%04d.jpg')]);
}

const photo = (person: string, file: string) => fs.readFileSync(path.join(FIXTURES, 'faces/identities', person, file)).toString('base64');

/** Enrolls both people (ids `obama`, `jolie`) from other photos than the ones the video was made of. */
export async function enrollVideoPeople(nc: NatsConnection): Promise<void> {
  const obama = await galleryCall(nc, 'enroll', { subjectId: 'obama', name: 'Barack Obama', images: ['fr_obama.jpg', 'fr_obama2.jpg'].map((f) => photo('barack_obama', f)) });
  const jolie = await galleryCall(nc, 'enroll', { subjectId: 'jolie', name: 'Angelina Jolie', images: ['df_img1.jpg', 'df_img2.jpg'].map((f) => photo('angelina_jolie', f)) });
  if (!obama.ok || !jolie.ok) throw new Error(JSON.stringify([obama, jolie]));
}
