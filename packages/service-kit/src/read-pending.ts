import type { Consumer, JsMsg } from '@nats-io/jetstream';

const BATCH = 500;
const FETCH_EXPIRES_MS = 5_000;

/**
 * Hands every message an (ordered, ephemeral) consumer has pending now to `visit`, in
 * order, then deletes the consumer. `visit` returning false stops early. Reading stops at
 * what was pending when it began: messages can vanish meanwhile (max age), so an empty
 * fetch ends it too, rather than waiting for messages that will never come.
 */
export async function readPending(consumer: Consumer, visit: (m: JsMsg) => boolean | void): Promise<void> {
  try {
    let pending = (await consumer.info(true)).num_pending;
    while (pending > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(pending, BATCH), expires: FETCH_EXPIRES_MS });
      let received = 0;
      for await (const m of batch) {
        received++;
        pending = m.info.pending;
        if (visit(m) === false) return;
      }
      if (received === 0) return;
    }
  } finally {
    // Ordered consumers are ephemeral and in memory; delete now rather than at their idle timeout.
    await consumer.delete().catch(() => undefined);
  }
}
