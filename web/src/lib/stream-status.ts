import type { StreamAnalysis } from '@lookout/contracts';

export interface StatusLabel {
  text: string;
  tone: '' | 'ok' | 'warn' | 'bad';
}

/**
 * What a page says about a stream's analysis (the SFU sampling its frames), apart from its
 * media: video can play while analysis is unavailable, and saying "failed" about the video
 * then would send a user after the wrong problem.
 */
export function analysisLabel(a: StreamAnalysis | undefined): StatusLabel {
  if (!a) return { text: 'analysis: unknown', tone: '' };
  const why = a.reason ? `: ${a.reason}` : '';
  switch (a.state) {
    case 'live':
      return { text: 'analysed', tone: 'ok' };
    case 'starting':
      return { text: 'analysis starting…', tone: '' };
    case 'retrying':
      return { text: `analysis restarting (attempt ${a.failures + 1})${why}`, tone: 'warn' };
    case 'stalled':
      // The picture stopped, froze or flooded: never shown as if the person were there.
      return { text: `picture not live, analysis restarting${why}`, tone: 'warn' };
    case 'unavailable':
      return { text: `analysis unavailable${why}`, tone: 'bad' };
    case 'paused':
      return { text: 'analysis paused: the video is paused', tone: '' };
    default:
      return { text: `analysis ${String(a.state)}${why}`, tone: '' };
  }
}

/** The media's own state: `failed` only when the video itself failed (e.g. a camera URL). */
export function mediaTone(state: string): StatusLabel['tone'] {
  return state === 'live' ? 'ok' : state === 'failed' ? 'bad' : state === 'reconnecting' ? 'warn' : '';
}
