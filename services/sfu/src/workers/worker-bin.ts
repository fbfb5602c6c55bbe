/** Debian's multiarch directory per Node architecture (scripts/ensure-setup.mjs has the same table: it runs before any build). */
const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** Where Debian's mediasoup-worker package puts the binary on this architecture. */
export function debianWorkerBin(arch: string = process.arch): string {
  return `/usr/lib/${MULTIARCH[arch] ?? `${arch}-linux-gnu`}/mediasoup/mediasoup-worker`;
}
