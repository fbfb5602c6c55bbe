import type { AlertEvent } from '@lookout/contracts';

const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * The room's alert feed, newest first, coloured by severity. The list is a log region:
 * screen readers announce new entries politely without re-reading the whole list.
 */
export function DashboardAlerts({ alerts }: { alerts: AlertEvent[] }) {
  return (
    <section class="card dashboard-alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      <div role="log" aria-live="polite" aria-relevant="additions" aria-labelledby="alerts-title">
      {alerts.length === 0 ? (
        <p class="muted">No alerts yet.</p>
      ) : (
        <ol class="alert-list">
          {alerts.map((a) => (
            <li key={a.id} class={`alert-item sev-${a.severity}`} data-kind={a.kind} data-state={a.state}>
              <div class="alert-top">
                <strong class={`alert-sev alert-sev-${a.severity}`}>{a.severity}</strong>
                <code>{a.kind}</code>
                <span class={`status ${a.state === 'open' ? 'bad' : ''}`}>{a.state}</span>
              </div>
              <div>{a.message}</div>
              <div class="muted alert-when">
                {a.stream} · {time(a.startMs)}
                {a.state === 'closed' && a.endMs !== undefined ? ` – ${time(a.endMs)}` : ''}
              </div>
            </li>
          ))}
        </ol>
      )}
      </div>
    </section>
  );
}
