/**
 * TEST-ONLY Piscina worker: the real compiled worker (dist/workers/uplift.js) plus faults triggered by
 * reserved seeds. Only tests load this file (buildApp's `workerFile` option); production always runs
 * dist/workers/uplift.js, so no request body can trigger these faults there.
 *
 *   seed 4000000001  a cv task throws
 *   seed 4000000002  a cv task kills its thread (process.exit in a worker thread ends that thread)
 *   seed 4000000003  the prepare task spins forever (burns a core until its thread is terminated)
 */
import real from '../../dist/workers/uplift.js';

export const FAULT_THROW = 4000000001;
export const FAULT_EXIT = 4000000002;
export const FAULT_SPIN = 4000000003;

function seedOf(task) {
  if (task.kind === 'prepare' || task.kind === 'pipeline') return task.options?.seed;
  return task.prepared?.options?.seed;
}

export default function faulty(task) {
  const seed = seedOf(task);
  if (seed === FAULT_THROW && task.kind === 'cv') throw new Error('injected worker failure (test) with internal detail');
  if (seed === FAULT_EXIT && task.kind === 'cv') process.exit(7);
  if (seed === FAULT_SPIN && task.kind === 'prepare') {
    let x = 0;
    for (;;) x = (x + 1) | 0;
  }
  return real(task);
}
