import { randomBytes } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { LookoutError, notFound, sessionInfo, storage, streamKey, streamSession, type SessionInfo, type SessionStart, type SessionStarter, type StreamSession } from '@lookout/contracts';
import { byCodeUnits, eraseKey, eraseMessage, kvKeys, kvStreamOf } from '@lookout/service-kit';

const CAS_RETRIES = 5;
const LIST_CONCURRENCY = 16;

export type StreamEnd = NonNullable<SessionInfo['streamEnd']>;

const SESSIONS = kvStreamOf(storage.sessions);
const STREAM_SESSIONS = kvStreamOf(storage.streamSessions);

/**
 * Sessions live in KV only (`lookout_sessions`: id → SessionInfo, and the stream's
 * `lookout_stream_sessions` entry that reid reads), written by compare-and-set, so any
 * gateway behind a load balancer can start, read or end any session.
 *
 * A record may name a gallery subject (`expectedSubjectId`), so every revision a write
 * replaces is erased (the buckets keep history only so that none is dropped, bytes and
 * all, by the limit), and a subject's delete rewrites the records naming it
 * (`eraseSubject`; docs/gallery.md).
 */
export class SessionStore {
  constructor(
    private readonly sessions: KV,
    private readonly streamSessions: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  /**
   * Creates the session and claims its stream; `session_running` when the stream has a running session.
   * A recording job's session (`recording`) has the id the job reserved and starts at the video's time 0.
   */
  async start(body: SessionStart, startedBy: SessionStarter, nowMs = Date.now(), recording?: { sessionId: string; recording: NonNullable<SessionInfo['recording']> }): Promise<SessionInfo> {
    const info: SessionInfo = {
      sessionId: recording?.sessionId ?? newSessionId(nowMs),
      room: body.room,
      stream: body.stream,
      ...(body.expectedSubjectId ? { expectedSubjectId: body.expectedSubjectId } : {}),
      metadata: body.metadata ?? {},
      ...(body.rules ? { rules: body.rules } : {}),
      status: 'running',
      startedMs: nowMs,
      startedBy,
      ...(recording ? { recording: recording.recording } : {}),
    };
    // The session is written before the stream is claimed, so whoever sees the claim also
    // finds the session it names (an unknown or ended one marks a stale claim).
    await this.sessions.create(info.sessionId, JSON.stringify(sessionInfo.parse(info)));
    try {
      await this.claimStream(info);
    } catch (err) {
      await eraseKey(this.jsm, SESSIONS, info.sessionId).catch(() => undefined);
      throw err;
    }
    return info;
  }

  async get(id: string): Promise<{ info: SessionInfo; revision: number } | undefined> {
    const e = await this.sessions.get(id);
    if (!e || e.operation !== 'PUT') return undefined;
    const info: unknown = e.json();
    // A bad record is our fault, not the caller's: a 500, not a 400 naming a field.
    if (!sessionInfo.is(info)) throw new Error(`lookout_sessions: invalid record ${id}`);
    return { info, revision: e.revision };
  }

  async require(id: string): Promise<SessionInfo> {
    const found = await this.get(id);
    if (!found) throw notFound(`session: no session ${id}`, 'session');
    return found.info;
  }

  /** Every session (optionally of one room), newest first. */
  async list(room?: string): Promise<SessionInfo[]> {
    const ids: string[] = [];
    ids.push(...(await kvKeys(this.jsm, SESSIONS)));
    const out: SessionInfo[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) {
      const found = await Promise.all(ids.slice(i, i + LIST_CONCURRENCY).map((id) => this.get(id).catch(() => undefined)));
      for (const f of found) if (f && (!room || f.info.room === room)) out.push(f.info);
    }
    return out.sort((a, b) => b.startedMs - a.startedMs || byCodeUnits(a.sessionId, b.sessionId));
  }

  /**
   * Ends a session: releases its stream (so reid tags no new event with it), asks reid to
   * close the stream's episodes (`endStream`), then marks it ended by compare-and-set.
   * Idempotent: ending an ended session returns it; of two concurrent ends one write wins
   * and both return the same record.
   */
  async end(id: string, endStream: (room: string, stream: string) => Promise<StreamEnd>, nowMs = Date.now()): Promise<SessionInfo> {
    const first = await this.get(id);
    if (!first) throw notFound(`session: no session ${id}`, 'session');
    if (first.info.status === 'ended') return first.info;
    await this.releaseStream(first.info);
    const streamEnd = await endStream(first.info.room, first.info.stream);
    let cur = first;
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const ended: SessionInfo = { ...cur.info, status: 'ended', endedMs: nowMs, streamEnd };
      try {
        await this.sessions.update(id, JSON.stringify(ended), cur.revision);
      } catch {
        const again = await this.get(id);
        if (!again) throw notFound(`session: no session ${id}`, 'session');
        if (again.info.status === 'ended') return again.info;
        cur = again;
        continue;
      }
      await this.eraseReplaced(SESSIONS.stream, cur.revision);
      return ended;
    }
    throw new LookoutError('conflict', `session: ${id} is being changed by someone else; retry`);
  }

  /** Takes `<room>.<stream>` for this session, replacing only a stale claim. */
  private async claimStream(info: SessionInfo): Promise<void> {
    const key = streamKey(info.room, info.stream);
    const value: StreamSession = {
      sessionId: info.sessionId,
      ...(info.expectedSubjectId ? { expectedSubjectId: info.expectedSubjectId } : {}),
      ...(info.rules ? { rules: info.rules } : {}),
      startedMs: info.startedMs,
    };
    const json = JSON.stringify(streamSession.parse(value));
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const e = await this.streamSessions.get(key);
      if (e && e.operation === 'PUT') {
        const holder = await this.holderOf(e.json());
        if (holder) throw new LookoutError('session_running', `stream: ${info.room}/${info.stream} already has a running session (${holder})`, 'stream');
      }
      try {
        // create() refuses if anyone wrote the key meanwhile; update() only replaces what we just judged stale.
        if (!e) await this.streamSessions.create(key, json);
        else await this.streamSessions.update(key, json, e.revision);
      } catch {
        // Someone else wrote the key between our read and write: judge again.
        continue;
      }
      // The stale claim (or the delete marker of a released one) we replaced.
      if (e) await this.eraseReplaced(STREAM_SESSIONS.stream, e.revision);
      return;
    }
    throw new LookoutError('conflict', `stream: ${info.room}/${info.stream} is being claimed by someone else; retry`, 'stream');
  }

  /** The running session a stream claim names, or undefined when the claim is stale. */
  private async holderOf(claim: unknown): Promise<string | undefined> {
    if (!streamSession.is(claim)) return undefined;
    const found = await this.get(claim.sessionId);
    return found?.info.status === 'running' ? claim.sessionId : undefined;
  }

  /** Deletes the stream's claim if it still names this session (another may have replaced it). */
  private async releaseStream(info: SessionInfo): Promise<void> {
    const key = streamKey(info.room, info.stream);
    const e = await this.streamSessions.get(key);
    if (!e || e.operation !== 'PUT') return;
    const claim: unknown = e.json();
    if (!streamSession.is(claim) || claim.sessionId !== info.sessionId) return;
    try {
      await this.streamSessions.delete(key, { previousSeq: e.revision });
    } catch {
      return; // replaced meanwhile: the claim is someone else's now
    }
    await this.eraseReplaced(STREAM_SESSIONS.stream, e.revision);
  }

  /**
   * A deleted gallery subject leaves no trace here: every session record and stream claim
   * that expects it is rewritten without its id (`expectedSubjectErased: true` instead), and
   * the revision that named it is erased. Returns how many records were rewritten.
   */
  async eraseSubject(subjectId: string): Promise<number> {
    let rewritten = 0;
    for (const id of await kvKeys(this.jsm, SESSIONS)) {
      if (await this.scrub(this.sessions, SESSIONS.stream, id, subjectId, sessionInfo.is)) rewritten++;
    }
    for (const key of await kvKeys(this.jsm, STREAM_SESSIONS)) {
      if (await this.scrub(this.streamSessions, STREAM_SESSIONS.stream, key, subjectId, streamSession.is)) rewritten++;
    }
    return rewritten;
  }

  /** Rewrites one record (by compare-and-set) if it expects `subjectId`; true when it did. */
  private async scrub(kv: KV, stream: string, key: string, subjectId: string, valid: (v: unknown) => boolean): Promise<boolean> {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const e = await kv.get(key);
      if (!e || e.operation !== 'PUT') return false;
      const record: unknown = e.json();
      if (!valid(record) || (record as { expectedSubjectId?: string }).expectedSubjectId !== subjectId) return false;
      const rewritten: Record<string, unknown> = { ...(record as Record<string, unknown>), expectedSubjectErased: true };
      delete rewritten.expectedSubjectId;
      try {
        await kv.update(key, JSON.stringify(rewritten), e.revision);
      } catch {
        continue; // changed meanwhile: judge the new revision
      }
      await this.eraseReplaced(stream, e.revision);
      return true;
    }
    throw new LookoutError('conflict', `sessions: ${key} is being changed by someone else; delete the subject again`);
  }

  /** Erases a replaced revision: dropped or deleted only, its bytes would stay in the store. */
  private eraseReplaced(stream: string, revision: number): Promise<void> {
    return eraseMessage(this.jsm, stream, revision);
  }
}

/** Time-ordered prefix (base 36) and 72 random bits: unique across gateways without coordination. */
export function newSessionId(nowMs: number): string {
  return `s${nowMs.toString(36)}-${randomBytes(9).toString('base64url')}`;
}
