import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Optional webcam snapshot for enrollment: getUserMedia → <video> → canvas → JPEG file.
 * The camera is opened only on request and released when closed or unmounted.
 */
export function GalleryCamera({ onSnapshot }: { onSnapshot: (file: File) => void }) {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [count, setCount] = useState(0);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (!stream || !video.current) return;
    video.current.srcObject = stream;
    void video.current.play().catch(() => undefined);
    return () => stream.getTracks().forEach((t) => t.stop());
  }, [stream]);

  async function open() {
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('No camera access here: browsers allow cameras only on https:// or localhost pages.');
      return;
    }
    try {
      setStream(await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false }));
    } catch (e) {
      setError(`The camera could not be opened: ${(e as Error).message}`);
    }
  }

  function snap() {
    const v = video.current;
    if (!v || !v.videoWidth) return setError('The camera has no picture yet; try again in a moment.');
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    canvas.toBlob(
      (blob) => {
        if (!blob) return setError('The snapshot could not be encoded.');
        const n = count + 1;
        setCount(n);
        onSnapshot(new File([blob], `camera-${n}.jpg`, { type: 'image/jpeg' }));
      },
      'image/jpeg',
      0.92,
    );
  }

  if (!stream) {
    return (
      <div class="gallery-camera">
        <button type="button" class="secondary" onClick={() => void open()}>
          Use camera
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  }
  return (
    <div class="gallery-camera">
      <video ref={video} muted playsInline aria-label="Camera preview" />
      <div class="row">
        <button type="button" onClick={snap}>
          Take snapshot
        </button>
        <button type="button" class="secondary" onClick={() => setStream(null)}>
          Close camera
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
