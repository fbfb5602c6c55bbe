import fs from 'node:fs';
import { LookoutError } from '@lookout/contracts';
import type { JobsPort } from './intake.js';

/**
 * Why this gateway cannot hold recording jobs' videos, or undefined when it can: JOBS_DIR
 * must exist (it is made) and be writable. A read-only root with no volume there (an
 * older compose file or manifest) is the usual cause.
 */
export function jobsDirProblem(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `JOBS_DIR ${dir} cannot be written (${e.code ?? e.message}); mount a writable volume there or set JOBS_DIR`;
  }
}

/**
 * The jobs of a gateway that cannot hold their videos: the rest of the gateway (live rooms,
 * gallery, sessions) runs, and every job request answers 503 `unavailable` saying why,
 * rather than the whole gateway failing to start over one feature.
 */
export class JobsOff implements JobsPort {
  constructor(private readonly why: string) {}

  private refuse(): never {
    throw new LookoutError('unavailable', `recording jobs are off on this gateway: ${this.why}`);
  }

  create(): never {
    return this.refuse();
  }
  setBytes(): void {}
  mediaReady(): never {
    return this.refuse();
  }
  async mediaFailed(): Promise<void> {}
  get(): never {
    return this.refuse();
  }
  list(): never {
    return this.refuse();
  }
  cancel(): never {
    return this.refuse();
  }
  remove(): never {
    return this.refuse();
  }
  videoFile(): undefined {
    return undefined;
  }
}
