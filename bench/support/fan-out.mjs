// Waiting for a frame to reach every one of many sockets: each socket's `stream` frames go to the
// waits registered at that moment, and a wait resolves once every socket has received a frame it
// matches. Several waits may be open at once (a trade's `new-trade` and, behind it, its `tick`);
// a frame goes to the first wait it matches, and frames no wait matches are only counted.
import { withTimeout } from './wait.mjs';

/** Receives `stream` frames on `sockets` (socket.io-client sockets) until close(). */
export function streamReceiver(sockets) {
  const waits = new Set();
  let unmatched = 0;
  const onFrame = (frame) => {
    const now = process.hrtime.bigint();
    for (const wait of waits) {
      if (!wait.match(frame)) continue;
      wait.onReceipt?.(now);
      if (--wait.pending === 0) {
        waits.delete(wait);
        wait.done();
      }
      return;
    }
    unmatched += 1;
  };
  for (const socket of sockets) socket.on('stream', onFrame);

  return {
    /**
     * Resolves once every socket received a frame for which `match(frame)` is true, calling
     * `onReceipt(hrtime)` at each receipt; rejects after `timeoutMs`. Register it before causing
     * the frame.
     */
    expect(match, { onReceipt, timeoutMs, what }) {
      let wait;
      const received = new Promise((done) => {
        wait = { match, onReceipt, pending: sockets.length, done };
        waits.add(wait);
      });
      return withTimeout(received, timeoutMs, `${what} reaching ${sockets.length} sockets`).finally(() =>
        waits.delete(wait),
      );
    },
    /** Frames that no wait matched (other events of the channels, or strays). */
    get unmatched() {
      return unmatched;
    },
    close() {
      for (const socket of sockets) socket.off('stream', onFrame);
    },
  };
}
