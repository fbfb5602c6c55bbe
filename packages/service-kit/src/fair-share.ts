/**
 * Admission for lossless work that several owners (recording jobs) offer to one bounded
 * queue. A plain bound is first come, first served: whoever filled the queue refills each
 * place the moment it frees, and everyone else, refused and backing off, starves (two jobs
 * at once: one finished while the other had 5 of 60 frames). So past the bound an owner
 * still gets in while it holds less than an equal share of the bound; the one holding more
 * is refused until it is down to its share. The queue then holds at most about twice the
 * bound, and every owner keeps a place.
 */
export function fairlyAdmitted(o: {
  /** Everything waiting now. */
  waiting: number;
  /** What this owner has waiting now. */
  waitingOfOwner: number;
  /** Owners with something waiting, this one included. */
  owners: number;
  /** The bound. */
  max: number;
}): boolean {
  if (o.waiting < o.max) return true;
  return o.waitingOfOwner < Math.ceil(o.max / Math.max(1, o.owners));
}
