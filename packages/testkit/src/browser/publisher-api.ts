/**
 * What the publisher page (publisher.ts) puts on `window`, for Node code that drives it
 * through playwright's `page.evaluate`. Declared here, not in the page script, so that
 * every compilation that uses testkit sees it.
 */
export type Signal = (op: string, body: unknown) => Promise<unknown>;

export interface PublisherPageApi {
  /** Relays a signaling request to the SFU (exposed by the test with `page.exposeFunction`). */
  signal: Signal;
  publish: (opts: { room: string; stream: string; peer: string; codec: 'VP8' | 'H264' }) => Promise<{ connectionState: string; handler: string; codec: string; producerId: string }>;
  watch: (opts: { room: string; peer: string; producerId: string }) => Promise<{ width: number; height: number; framesDecoded: number }>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an augmentation, not a new type
  interface Window extends PublisherPageApi {}
}
