import type { JetStreamManager } from '@nats-io/jetstream';
import type { KvDecl } from '@lookout/contracts';
import { streamNameOf } from './storage.js';

/**
 * Erasing KV entries for good (docs/gallery.md): JetStream's file store keeps the bytes of
 * a message that is deleted, purged or dropped by a bucket's history limit in its block
 * file; only a message deleted with **erase** (secure delete) is overwritten in place.
 */

/** A KV bucket as JetStream stores it: its stream, and its name (a key's subject is `$KV.<name>.<key>`). */
export interface KvStream {
  stream: string;
  bucket: string;
}

export const kvStreamOf = (decl: KvDecl): KvStream => ({ stream: streamNameOf(decl), bucket: decl.name });

/**
 * Erases every stored message of one KV key (all revisions and markers): JetStream's
 * secure delete overwrites the message in the block file, where a purge or a KV delete
 * would only mark it deleted (and a KV purge adds a marker carrying the key). Messages are
 * found by "last message on the subject" gets, not by a consumer: a consumer filtered on
 * the key would leave the key in its config file under the store directory.
 */
export async function eraseKey(jsm: JetStreamManager, kv: KvStream, key: string): Promise<number> {
  const subject = `$KV.${kv.bucket}.${key}`;
  let erased = 0;
  let previous = -1;
  for (;;) {
    const m = await jsm.streams.getMessage(kv.stream, { last_by_subj: subject });
    // The same message again means it could not be erased: stop rather than spin.
    if (!m || m.seq === previous) return erased;
    previous = m.seq;
    await eraseMessage(jsm, kv.stream, m.seq);
    erased++;
  }
}

/** Erases one message (a KV revision: its sequence); one already gone is no error. */
export async function eraseMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<void> {
  await jsm.streams.deleteMessage(stream, seq, true).catch((err: Error) => {
    // Already gone (erased by a concurrent delete, or expired): nothing left to erase.
    if (!/no message found|not found/i.test(err.message)) throw err;
  });
}

/**
 * The server's own index of a stream's subjects may still list an erased key: nats-server
 * 2.10+ keeps every subject in `msgs/index.db`, rewritten only every two minutes; 2.9
 * keeps a block's subjects in `<n>.fss`, rewritten when the block idles. A purge of the
 * messages below the stream's first sequence removes no message (the first sequence only
 * grows), but makes the server compact from there: 2.10 removes index.db (written again,
 * without the key, at its next save) and 2.9 rewrites a half-deleted first block and its
 * .fss. Best effort: on failure the index goes at its next rewrite.
 */
export async function dropStaleIndex(jsm: JetStreamManager, stream: string): Promise<void> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages > 0) await jsm.streams.purge(stream, { seq: info.state.first_seq });
}
