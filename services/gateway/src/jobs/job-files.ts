import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The videos a gateway holds, one file per job in JOBS_DIR (`<jobId>.video`), kept until
 * the job is deleted (the report's player reads it). The directory has an id of its own
 * (`.host-id`, made once) that the job records as `mediaHost`: a restarted gateway — or
 * another one sharing the directory — knows which jobs it can resume.
 */
export class JobFiles {
  readonly hostId: string;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.hostId = dirId(dir);
  }

  path(jobId: string): string {
    return path.join(this.dir, `${jobId}.video`);
  }

  /** The held video, or undefined when this gateway has none for the job. */
  find(jobId: string): string | undefined {
    const p = this.path(jobId);
    return fs.existsSync(p) ? p : undefined;
  }

  erase(jobId: string): void {
    fs.rmSync(this.path(jobId), { force: true });
  }

  /** Ids of the jobs whose video is here. */
  held(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.video'))
      .map((f) => f.slice(0, -'.video'.length));
  }
}

function dirId(dir: string): string {
  const file = path.join(dir, '.host-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = `jobs-${randomBytes(9).toString('base64url')}`;
    try {
      // wx: of two gateways starting on a shared directory, one writes it and both read it.
      fs.writeFileSync(file, id, { flag: 'wx' });
      return id;
    } catch {
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}
