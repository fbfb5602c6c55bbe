import { pino } from 'pino';
import { Lifecycle } from '@lookout/service-kit';

describe('Lifecycle', () => {
  const log = pino({ level: 'silent' });

  it('closes in reverse order, once, and survives a failing closer', async () => {
    const order: string[] = [];
    const lc = new Lifecycle(log, 1000);
    lc.onShutdown('http', () => void order.push('http'));
    lc.onShutdown('nats', async () => {
      order.push('nats');
      throw new Error('boom');
    });
    lc.onShutdown('worker', async () => void order.push('worker'));
    expect(lc.shuttingDown).toBe(false);
    const a = lc.shutdown('test');
    const b = lc.shutdown('again');
    expect(lc.shuttingDown).toBe(true);
    await Promise.all([a, b]);
    expect(order).toEqual(['worker', 'nats', 'http']);
  });
});
