import http from 'node:http';

/**
 * A POST whose body `write` streams (it may stop once `answered()`), for bodies fetch
 * cannot send: a length declared but not sent, a chunked body stopped at the answer.
 * Resolves with the status and the JSON body; once answered, the server closing the
 * connection under a body still being sent is expected, not an error.
 */
export function rawPost<B = unknown>(url: URL, headers: Record<string, string>, write: (req: http.ClientRequest, answered: () => boolean) => void): Promise<{ status: number; body: B }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as B });
        // Whatever the client had left to send is no longer wanted.
        req.destroy();
      });
    });
    // A write failing (EPIPE, ECONNRESET) as the server closes after answering can come
    // before the answer is parsed: give the answer a moment before calling it a failure.
    req.on('error', (err) => {
      if (answered) return;
      const timer = setTimeout(() => !answered && reject(err), 5000);
      req.once('response', () => clearTimeout(timer));
    });
    write(req, () => answered);
  });
}
