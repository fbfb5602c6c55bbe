import { useEffect, useState } from 'preact/hooks';
import type { StreamAnalysis } from '@lookout/contracts';
import type { Publisher, PublisherState } from '../lib/publisher';
import { analysisLabel } from '../lib/stream-status';

const PATH_TONE: Record<PublisherState['path'], string> = { connecting: '', webrtc: 'ok', 'ice-restart': 'warn', fallback: 'warn', stopped: '' };
const PATH_LABEL: Record<PublisherState['path'], string> = {
  connecting: 'Connecting',
  webrtc: 'WebRTC',
  'ice-restart': 'Reconnecting (ICE restart)',
  fallback: 'Fallback upload',
  stopped: 'Stopped',
};

/**
 * The gateway connection, the media path and (over WebRTC) whether the SFU is analysing
 * the stream, in a polite live region so changes are announced; the upload counter sits
 * outside it (it changes every second).
 */
export function PublishStatus({ conn, publisher, state, analysis }: { conn: { text: string; tone: string }; publisher: Publisher | null; state: PublisherState; analysis?: StreamAnalysis | undefined }) {
  const sfuAnalysis = publisher && state.path !== 'fallback' && analysis ? analysisLabel(analysis) : null;
  return (
    <section class="card" aria-labelledby="publish-status-title">
      <h2 id="publish-status-title">Status</h2>
      <div role="status" aria-live="polite" class="publish-status">
        <p>
          Gateway: <span class={`status ${conn.tone}`} data-testid="socket-status">{conn.text}</span>
        </p>
        <p>
          Media:{' '}
          <span class={`status ${publisher ? PATH_TONE[state.path] : ''}`} data-testid="media-path" data-path={publisher ? state.path : 'idle'}>
            {publisher ? PATH_LABEL[state.path] : 'Not publishing'}
          </span>
        </p>
        {sfuAnalysis && (
          <p>
            Analysis:{' '}
            <span class={`status status-long ${sfuAnalysis.tone}`} data-testid="analysis-state" data-state={analysis!.state}>
              {sfuAnalysis.text}
            </span>
          </p>
        )}
        {publisher && state.detail && (
          <p class="muted" data-testid="media-detail">
            {state.detail}
          </p>
        )}
      </div>
      {publisher && state.path === 'fallback' && <UploadCounter publisher={publisher} />}
    </section>
  );
}

function UploadCounter({ publisher }: { publisher: Publisher }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  const { sent, skipped, lastSkip } = publisher.uploader;
  return (
    <p class="muted publish-upload" data-testid="upload-count">
      Frames uploaded: {sent} (skipped {skipped}
      {lastSkip ? `; last: ${lastSkip}` : ''})
    </p>
  );
}
