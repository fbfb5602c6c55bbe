import WebSocket from 'ws';
import type { ServerMessage } from '@lookout/contracts';

/** A WebSocket client that queues what it receives and lets a test await the next match. */
export class TestWsClient {
  private readonly received: ServerMessage[] = [];
  private readonly waiters = new Set<{ match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as ServerMessage;
      for (const w of this.waiters) {
        if (w.match(msg)) {
          this.waiters.delete(w);
          return w.resolve(msg);
        }
      }
      this.received.push(msg);
    });
  }

  static async connect(url: string): Promise<TestWsClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestWsClient(ws);
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message (already received or future) that matches. */
  next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs = 15_000): Promise<T> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0] as T);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error('timed out waiting for a WebSocket message'));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export const isAnalysis = (m: ServerMessage): m is Extract<ServerMessage, { type: 'analysis' }> => m.type === 'analysis';
export const isAck = (m: ServerMessage): m is Extract<ServerMessage, { type: 'ack' }> => m.type === 'ack';
export const isError = (m: ServerMessage): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error';
