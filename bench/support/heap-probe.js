// Preloaded into every server process under measurement (node --expose-gc --require <this file>;
// CommonJS like the rest of the repo's .js, named .js rather than .cjs so the repo's lint config
// treats it as plain JavaScript). On the IPC message 'heap' it collects garbage and replies with
// the memory figures, so the bench reads the heap of the server, not its own. Two collections with
// a pause between them let objects freed by finalizers and weak callbacks of the first go in the
// second.
const PAUSE_MS = 50;

function collect() {
  globalThis.gc();
  return new Promise((resolve) => globalThis.setTimeout(resolve, PAUSE_MS)).then(() => globalThis.gc());
}

process.on('message', (message) => {
  if (message !== 'heap') return;
  void collect().then(() => {
    const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
    process.send({ heap: { heapUsed, external, arrayBuffers, rss } });
  });
});
// The IPC channel must not keep the server alive on its own once it wants to exit.
process.channel?.unref();
