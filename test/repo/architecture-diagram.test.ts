import fs from 'node:fs';
import path from 'node:path';
import { RPC_OPS, STORES } from '@lookout/contracts';
import { ROOT } from '@lookout/testkit';

/**
 * docs/architecture.md draws every store and every operation by hand; the tables in
 * contracts are the truth. A store or an operation added to a table and not to the
 * diagram fails here (docs/contracts.md, generated, has the details).
 */
describe('docs/architecture.md draws what the contracts declare', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  const diagram = doc.slice(doc.indexOf('```'), doc.indexOf('```', doc.indexOf('```') + 3));

  it('names every JetStream store', () => {
    expect(STORES.map((s) => s.name).filter((name) => !diagram.includes(name))).toEqual([]);
  });

  it('names every operation family (gallery.<op> and sfu.<instance>.<op> as one line each)', () => {
    const drawn = (subject: string) => diagram.includes(subject) || diagram.includes(`${subject.split('.')[0]}.<`);
    expect(RPC_OPS.map((op) => op.subject('instance')).filter((subject) => !drawn(subject))).toEqual([]);
  });
});
