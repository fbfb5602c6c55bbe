import { LookoutError, type SessionInfo } from '@lookout/contracts';
import type { Principal } from '../src/http/auth.js';
import { authorizeSession, sessionStarter, sessionView, type SessionAction } from '../src/sessions/access.js';

const admin: Principal = { kind: 'admin', name: 'ops' };
const token = (room: string, role: 'publisher' | 'viewer', peer = 'p1'): Principal => ({ kind: 'room', claims: { room, role, peer, exp: 0 } });

const session = (startedBy?: SessionInfo['startedBy']): SessionInfo => ({
  sessionId: 's1',
  room: 'exam',
  stream: 'cam',
  metadata: {},
  status: 'running',
  startedMs: 1,
  ...(startedBy ? { startedBy } : {}),
});

/** The error code (or 'ok') of one attempt. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof LookoutError) return err.code;
    throw err;
  }
}

/** The whole error body (code, message, field) of one attempt, or 'ok'. */
function answer(fn: () => unknown): unknown {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as LookoutError).toBody();
  }
}

const ACTIONS: SessionAction[] = ['read', 'report', 'end'];
const row = (p: Principal, info: SessionInfo | undefined) => ACTIONS.map((a) => outcome(() => authorizeSession(p, 's1', info, a)));

describe('who may do what with a session', () => {
  it('admin: everything; unknown ids are not_found', () => {
    expect(row(admin, session({ role: 'publisher', peer: 'p1' }))).toEqual(['ok', 'ok', 'ok']);
    expect(row(admin, undefined)).toEqual(['not_found', 'not_found', 'not_found']);
  });

  it('a publisher reads its room\'s sessions, but reads reports of and ends only what its own peer started', () => {
    expect(row(token('exam', 'publisher'), session({ role: 'admin' }))).toEqual(['ok', 'forbidden', 'forbidden']);
    // A record from before startedBy existed counts as an admin's.
    expect(row(token('exam', 'publisher'), session())).toEqual(['ok', 'forbidden', 'forbidden']);
    expect(row(token('exam', 'publisher', 'p2'), session({ role: 'publisher', peer: 'p1' }))).toEqual(['ok', 'forbidden', 'forbidden']);
    expect(row(token('exam', 'publisher', 'p1'), session({ role: 'publisher', peer: 'p1' }))).toEqual(['ok', 'ok', 'ok']);
  });

  it('a viewer reads sessions and reports of its room, and ends none', () => {
    expect(row(token('exam', 'viewer'), session({ role: 'admin' }))).toEqual(['ok', 'ok', 'forbidden']);
    // Even one started with the same peer name.
    expect(row(token('exam', 'viewer', 'p1'), session({ role: 'publisher', peer: 'p1' }))).toEqual(['ok', 'ok', 'forbidden']);
  });

  it('a token of another room gets exactly what an unknown id gets', () => {
    for (const p of [token('other', 'viewer'), token('other', 'publisher')]) {
      const existing = ACTIONS.map((a) => answer(() => authorizeSession(p, 's1', session({ role: 'publisher', peer: 'p1' }), a)));
      const missing = ACTIONS.map((a) => answer(() => authorizeSession(p, 's1', undefined, a)));
      expect(existing).toEqual(missing);
      expect(existing[0]).toMatchObject({ code: 'not_found' });
    }
  });

  it('starting: admin anything; a publisher of the room on the room config only; a viewer never', () => {
    const body = { room: 'exam', stream: 'cam' };
    expect(sessionStarter(admin, { ...body, expectedSubjectId: 'x', rules: { no_face: { enabled: false } } })).toEqual({ role: 'admin' });
    expect(sessionStarter(token('exam', 'publisher', 'p9'), { ...body, metadata: { seat: 3 } })).toEqual({ role: 'publisher', peer: 'p9' });
    const start = (p: Principal, b: Parameters<typeof sessionStarter>[1]) => {
      try {
        sessionStarter(p, b);
        return 'ok';
      } catch (err) {
        return `${(err as LookoutError).code}:${(err as LookoutError).field ?? ''}`;
      }
    };
    expect(start(token('exam', 'publisher'), { ...body, rules: { looking_away: { enabled: false } } })).toBe('forbidden:rules');
    // Raising a threshold is switching a rule off by other means: any rules are the admin's.
    expect(start(token('exam', 'publisher'), { ...body, rules: { no_face: { frames: 10_000 } } })).toBe('forbidden:rules');
    expect(start(token('exam', 'publisher'), { ...body, expectedSubjectId: 'obama' })).toBe('forbidden:expectedSubjectId');
    expect(start(token('exam', 'viewer'), body)).toBe('forbidden:');
    expect(start(token('other', 'publisher'), body)).toBe('forbidden:room');
  });

  it('a publisher reads a session without its expected subject; admins and viewers see it', () => {
    const expecting = { ...session(), expectedSubjectId: 'candidate_7' };
    expect(sessionView(token('exam', 'publisher'), expecting)).not.toHaveProperty('expectedSubjectId');
    expect(sessionView(token('exam', 'publisher'), expecting)).toMatchObject({ sessionId: 's1', status: 'running' });
    expect(sessionView(token('exam', 'viewer'), expecting).expectedSubjectId).toBe('candidate_7');
    expect(sessionView(admin, expecting).expectedSubjectId).toBe('candidate_7');
  });
});
