// Checks of deploy/docker/Dockerfile: syntax (dockerfile-utils) and Lookout rules per target.
import { SERVICES, problem, read } from './common.mjs';

// Dockerfile

/** Instructions of a Dockerfile: continuation lines joined, comments and blanks dropped. */
function dockerInstructions(text) {
  const out = [];
  let current = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!current && (/^\s*#/.test(line) || !line.trim())) return;
    if (current && /^\s*#/.test(line)) return; // comments inside a continued instruction
    if (!current) startLine = i + 1;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    current += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(current);
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: startLine });
    current = '';
  });
  return out;
}

/** Build stages with what each sets itself, and what a target ends up with through FROM <stage>. */
function dockerStages(text) {
  const args = new Map();
  const stages = [];
  for (const ins of dockerInstructions(text)) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = ins.args.split('=');
      args.set(name, value ?? '');
      continue;
    }
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      const from = (m?.[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, n) => args.get(n) ?? '');
      stages.push({ name: m?.[2] ?? String(stages.length), from, line: ins.line, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(ins);
  }
  const byName = new Map(stages.map((s) => [s.name, s]));
  const effective = (stage, key) => {
    for (let s = stage; s; s = byName.get(s.from)) {
      const hit = s.instructions.filter((i) => i.keyword === key).at(-1);
      if (hit) return hit.args;
    }
    return undefined;
  };
  const baseImage = (stage) => {
    let s = stage;
    while (byName.has(s.from)) s = byName.get(s.from);
    return s.from;
  };
  return stages.map((s) => ({
    name: s.name,
    from: s.from,
    line: s.line,
    baseImage: baseImage(s),
    user: effective(s, 'USER'),
    healthcheck: effective(s, 'HEALTHCHECK'),
    cmd: effective(s, 'CMD'),
    entrypoint: effective(s, 'ENTRYPOINT'),
    copyFrom: s.instructions
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'RUN')
      .flatMap((i) => [...i.args.matchAll(/--from=(\S+)/g)].map((m) => m[1])),
    env: Object.fromEntries(
      s.instructions
        .filter((i) => i.keyword === 'ENV')
        .flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
    ),
  }));
}

export async function validateDockerfile() {
  const file = 'deploy/docker/Dockerfile';
  const text = read(file);
  const { validate } = await import('dockerfile-utils');
  for (const d of validate(text)) {
    const where = `${file}:${d.range.start.line + 1}`;
    if (d.severity === 1) problem('dockerfile', `${where}: ${d.message}`);
  }
  const stages = dockerStages(text);
  const names = new Set(stages.map((s) => s.name));
  for (const s of stages) {
    for (const ref of s.copyFrom) if (!names.has(ref)) problem('dockerfile', `stage ${s.name}: --from=${ref} names no stage`);
  }
  for (const svc of SERVICES) {
    const s = stages.find((st) => st.name === svc);
    if (!s) {
      problem('dockerfile', `no build target "${svc}"`);
      continue;
    }
    const user = (s.user ?? 'root').split(':')[0];
    if (user === 'root' || user === '0') problem('dockerfile', `target ${svc} runs as root`);
    if (!s.healthcheck || /^NONE$/i.test(s.healthcheck)) problem('dockerfile', `target ${svc} has no HEALTHCHECK`);
    if (!s.cmd?.startsWith('[')) problem('dockerfile', `target ${svc}: CMD is not exec form (SIGTERM would go to a shell)`);
    if (s.entrypoint && !s.entrypoint.startsWith('[')) problem('dockerfile', `target ${svc}: ENTRYPOINT is not exec form`);
    if (!/^node:20-bookworm-slim(@|$)/.test(s.baseImage)) problem('dockerfile', `target ${svc} is not based on node:20-bookworm-slim (${s.baseImage})`);
  }
  return { file, stages };
}
