import { useState } from 'preact/hooks';
import { RecordingForm } from '../components/recording-form';
import { RecordingJobView } from '../components/recording-job';
import { RecordingJobList } from '../components/recording-jobs';
import { SessionDetail } from '../components/session-detail';
import { SessionList } from '../components/session-list';
import { SessionStartForm } from '../components/session-start-form';
import '../components/session-page.css';
import '../components/recording.css';

/**
 * Sessions: the list (with forms to start one or to analyse a recording), one session's
 * live view / report (`?session=`), or one recording job's progress (`?job=`).
 */
export function SessionsPage({ params }: { params: URLSearchParams }) {
  const id = params.get('session');
  const job = params.get('job');
  if (id) return <SessionDetail id={id} />;
  if (job) return <RecordingJobView jobId={job} />;
  return <SessionsHome params={params} />;
}

/** The list and the forms: their own component, so coming back to it starts afresh (the recording form closed). */
function SessionsHome({ params }: { params: URLSearchParams }) {
  const [room, setRoom] = useState(params.get('room') ?? '');
  const [analyse, setAnalyse] = useState(params.has('analyse'));
  return (
    <>
      <div class="row session-head">
        <h1>Sessions</h1>
        <span class="session-head-actions no-print">
          <button type="button" class={analyse ? 'secondary' : ''} aria-expanded={analyse} aria-controls="recording-form" onClick={() => setAnalyse(!analyse)}>
            Analyse a recording
          </button>
        </span>
      </div>
      <div class="no-print">
        {analyse && <RecordingForm />}
        <SessionStartForm room={room} />
      </div>
      <RecordingJobList />
      <SessionList room={room} onRoom={setRoom} />
    </>
  );
}
