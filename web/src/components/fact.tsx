/** One term and its value in a `<dl>` of facts (a report's header, a job's progress). */
export function Fact({ term, value }: { term: string; value: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}
