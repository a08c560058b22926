// Server processes under measurement: `node --expose-gc --require heap-probe.js ...` with an IPC
// channel, output read line by line (a pipe nobody reads would eventually block the child), the
// last lines kept for error messages, and a stop that escalates to SIGKILL.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sleep, withTimeout } from './wait.mjs';

const PROBE = fileURLToPath(new URL('./heap-probe.js', import.meta.url));
/** Output kept for error messages: the last lines, each cut short. */
const KEPT_LINES = 20;
const SHOWN_LINE_CHARS = 400;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts `node <args>` with the heap probe; `onLine` sees every stdout/stderr line. Returns a
 * handle with waitForLine, waitForMessage, heap, stop, and `died` (rejects on an unasked exit).
 */
export function startNodeProcess(name, args, { env, cwd, onLine }) {
  const child = spawn(process.execPath, ['--expose-gc', '--require', PROBE, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = new EventEmitter();
  const tail = [];
  const lastLines = () => tail.map((line) => line.slice(0, SHOWN_LINE_CHARS)).join('\n');
  // 'close', not 'exit': by then its output has been read to the end, last lines included.
  const exited = once(child, 'close').then(([code, signal]) => ({ code, signal }));
  let stopping = false;
  // Rejects if the process ends before stop() asked it to: the run cannot go on without it.
  const died = exited.then(({ code, signal }) => {
    if (stopping) return;
    throw new Error(`${name} exited unexpectedly (${signal ?? `code ${code}`}); its last lines:\n${lastLines()}`);
  });
  died.catch(() => undefined);
  if (onLine) output.on('line', onLine);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > KEPT_LINES) tail.shift();
      output.emit('line', line);
    });
  }

  /** Resolves with test(value) for the first `event` where it is not undefined. */
  function waitFor(emitter, event, test, timeoutMs, what) {
    let listener;
    const matched = new Promise((resolve) => {
      listener = (value) => {
        const result = test(value);
        if (result !== undefined) resolve(result);
      };
      emitter.on(event, listener);
    });
    const ended = exited.then(({ code, signal }) => {
      throw new Error(`${name} exited (${signal ?? `code ${code}`}) while ${what}:\n${lastLines()}`);
    });
    return withTimeout(Promise.race([matched, ended]), timeoutMs, `${name}: ${what}`).finally(() =>
      emitter.off(event, listener),
    );
  }

  /** Sends `message` over IPC; resolves with test(reply) for the first reply where it is not undefined. */
  function ask(message, test, what, timeoutMs = 30_000) {
    const reply = waitFor(child, 'message', test, timeoutMs, what);
    child.send(message);
    return reply;
  }

  return {
    name,
    pid: child.pid,
    died,
    waitForLine: (test, timeoutMs, what) => waitFor(output, 'line', test, timeoutMs, what),
    waitForMessage: (test, timeoutMs, what) => waitFor(child, 'message', test, timeoutMs, what),
    /** The child's memory figures after a forced GC (see heap-probe.js). */
    heap: () => ask('heap', (m) => m?.heap, 'reading its heap'),
    ask,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, null)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
