// The "Where a frame's CPU goes" section of docs/performance.md, from bench/frame-cost.mjs
// results (bench/report.mjs calls it with its table helpers).

const STAGES = ['decode', 'detect', 'landmarks', 'pose', 'eyes', 'crops', 'expression', 'liveness', 'text'];

/** Markdown for every machine's frame-cost results; '' when there are none. */
export function frameCostSection(results, { row, sep, agg, machineLine }) {
  if (!results.length) return '';
  let md = `
## Where a frame's CPU goes

\`npm run bench -- frame-cost\` (bench/frame-cost.mjs): JPEGs of 640×480 published to NATS at 5 fps
per stream, below the knee (every frame analysed, so every analyzer runs at its cadence),
through one detector (1 thread) and reid (gallery of 1,000 subjects); one row per analyzer
set, the detector restarted with its \`ANALYZERS\`. **CPU milliseconds per analysed frame**
(every thread of the process, so waiting for a core costs nothing here) in the detector, reid
and nats-server; the SFU and its tap, the gateway and the clients come on top (pipeline and
media tables). "Stages" are the detector's own wall-clock means and how often each ran
(share of frames). The difference between a row and "default" is what that analyzer costs,
give or take the run-to-run noise visible between rounds. Without crops reid has nothing
to embed.
`;
  for (const res of results) {
    const first = res.rounds[0];
    md += `
${machineLine(res)}

${row(['frame', 'streams', 'analyzers', 'analysed fps', 'detector ms', 'reid ms', 'nats-server ms', '**total ms**', 'embeddings per frame', 'stages (share × wall ms)'])}
${sep(10)}
${first.runs
  .map((r, i) => {
    const c = (get) => agg(res.rounds, (round) => get(round.runs[i]));
    const stages = STAGES.filter((s) => r.stages?.[s])
      .map((s) => (r.stages[s].share >= 0.95 ? `${s} ${r.stages[s].wall_ms}` : `${s} ${r.stages[s].share} × ${r.stages[s].wall_ms}`))
      .join(', ');
    return row([
      r.frame.replace('_', ' '),
      r.streams,
      r.set,
      c((x) => x.analysed_fps),
      c((x) => x.cpu_ms_per_frame.detector),
      c((x) => x.cpu_ms_per_frame.reid),
      c((x) => x.cpu_ms_per_frame['nats-server']),
      `**${c((x) => x.cpu_ms_per_frame.total)}**`,
      c((x) => x.embeddings_per_frame),
      stages || '–',
    ]);
  })
  .join('\n')}
`;
  }
  return md;
}
