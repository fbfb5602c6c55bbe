/** Lookout's processes: what owns a bucket, serves an operation, names a metric. */
export const SERVICES = ['gateway', 'sfu', 'detector', 'reid'] as const;
export type ServiceName = (typeof SERVICES)[number];
