/** TEST-ONLY Piscina worker: blocks its thread for `ms` milliseconds and returns the task's tag. */
const cell = new Int32Array(new SharedArrayBuffer(4));
export default function sleeper(task) {
  if (task.kind === 'ping') return { kind: 'pong' };
  Atomics.wait(cell, 0, 0, task.ms);
  return { tag: task.tag };
}
