// Types of scripts/supervisor.mjs for the tests that import it.
export interface RestartPolicy {
  max: number;
  windowMs: number;
  backoffMs: number;
  backoffMaxMs: number;
}
export const RESTART_DEFAULTS: RestartPolicy;
export function restartPolicyFromEnv(env: NodeJS.ProcessEnv): RestartPolicy;
export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string;

export type Verdict = { giveUp: true; crashes: number; spanMs: number } | { giveUp: false; delayMs: number; restart: number };
export class RestartTracker {
  constructor(policy?: RestartPolicy);
  readonly restarts: number;
  crashed(now: number, startedAt: number): Verdict;
}

export interface ChildSpec {
  name: string;
  command: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  ready?: (line: string) => boolean;
  onRestarted?: (readyLine: string, restart: number) => void;
}
export interface SupervisorOptions {
  policy?: RestartPolicy;
  log?: (msg: string) => void;
  onLine?: (name: string, line: string) => void;
  onGiveUp?: (name: string, reason: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stopGraceMs?: number;
}
export class Supervisor {
  constructor(opts?: SupervisorOptions);
  start(spec: ChildSpec): Promise<string>;
  pid(name: string): number | undefined;
  stop(order?: string[]): Promise<void>;
}
