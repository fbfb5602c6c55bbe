// Container healthcheck: exits 0 when the service in this container answers /readyz with
// 200. Slim images have no curl or wget, so it is node; the port comes from HTTP_PORT, the
// same variable the service listens on, the address from HTTP_HOST (a wildcard bind is
// reached on loopback: 0.0.0.0 on 127.0.0.1, :: on ::1, which an IPv6-only socket needs).
//   node healthcheck.mjs [path]     (default /readyz)
const port = Number(process.env.HTTP_PORT);
const bound = process.env.HTTP_HOST ?? '127.0.0.1';
const host = bound === '' || bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '[::1]' : bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound;
const path = process.argv[2] ?? '/readyz';
if (!Number.isInteger(port) || port <= 0) {
  console.error(`healthcheck: HTTP_PORT is not a port: ${process.env.HTTP_PORT ?? '(unset)'}`);
  process.exit(1);
}
try {
  const res = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(2500) });
  if (!res.ok) console.error(`healthcheck: ${path}: HTTP ${res.status} ${await res.text()}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${path}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
