/** A signaling request that cannot be served; `code` is stable, `field` names the bad input. */
export class RoomError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RoomError';
  }
}
