import { useEffect, useState } from 'preact/hooks';
import type { Ref } from 'preact';
import { roomToken } from '../lib/api';
import { videoClock, type Recording } from '../lib/job-progress';
import { fetchJobVideoBlob, jobVideoUrl } from '../lib/jobs';
import { href } from '../lib/route';

/**
 * Seeks `video` to `ms` into the recording and brings the player into view. Before the
 * metadata is in, a seek would be lost on some browsers: it waits for it then.
 */
export function seekVideo(video: HTMLVideoElement | null, ms: number): void {
  if (!video) return;
  const go = () => {
    video.currentTime = ms / 1000;
  };
  if (video.readyState >= HTMLMediaElement.HAVE_METADATA) go();
  else video.addEventListener('loadedmetadata', go, { once: true });
  video.scrollIntoView({ block: 'nearest' });
}

/**
 * Where the player gets the video: `GET /jobs/:id/video?token=` with a viewer token of the
 * job's room (a media element sends no Authorization header; the admin key never goes
 * into a URL). If that fails, the video is fetched once with the admin key into a blob: URL.
 */
function useVideoSource(recording: Recording, room: string): { src: string | null; failed: string | null; onError: () => void } {
  const [src, setSrc] = useState<string | null>(null);
  const [fallback, setFallback] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let blobUrl: string | null = null;
    setFailed(null);
    const load = fallback ? fetchJobVideoBlob(recording.jobId).then((u) => (blobUrl = u)) : roomToken(room, 'viewer').then((t) => jobVideoUrl(recording.jobId, t));
    load.then(
      (u) => live && setSrc(u),
      (e: Error) => live && (fallback ? setFailed(e.message) : setFallback(true)),
    );
    return () => {
      live = false;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
    };
  }, [recording.jobId, room, fallback]);
  const onError = () => (fallback ? setFailed('the browser could not play this video') : setFallback(true));
  return { src, failed, onError };
}

/** The recording above its report: the report's episodes (and timelines) seek it. */
export function RecordingPlayer({ recording, room, videoRef }: { recording: Recording; room: string; videoRef: Ref<HTMLVideoElement> }) {
  const { src, failed, onError } = useVideoSource(recording, room);
  return (
    <section class="card recording-player no-print" aria-labelledby="player-title" data-testid="recording-player">
      <h2 id="player-title">Recording</h2>
      <p class="muted">
        Times in this report are video times. Click an episode's start (or a point on a timeline) to play the video from there ·{' '}
        <a href={href('sessions', { job: recording.jobId })}>the job</a>
      </p>
      {failed ? (
        <p class="error" role="alert">
          The video is not available: {failed}
        </p>
      ) : (
        <video ref={videoRef} controls preload="auto" {...(src ? { src } : {})} onError={src ? onError : undefined} aria-label="The analysed recording" />
      )}
    </section>
  );
}

/** A video time of a recording's report: a button that plays the video from there, or plain text without a player. */
export function SeekButton({ ms, what, onSeek }: { ms: number; what: string; onSeek?: (videoMs: number) => void }) {
  const t = videoClock(ms);
  if (!onSeek) return <span data-video-ms={ms}>{t}</span>;
  return (
    <button type="button" class="link recording-seek" data-video-ms={ms} aria-label={`Play the recording from ${t} (${what})`} onClick={() => onSeek(ms)}>
      ▶ {t}
    </button>
  );
}
