/**
 * Recognising a machine's etcd process, so that nothing but it is ever signalled (a pid can be reused).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Whether `pid` is the etcd of the machine in `dir` (its command line names the data dir). */
export function isEtcdOf(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const status = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(status) && cmdline.includes(`--data-dir=${path.join(dir, 'etcd-data')}`);
  } catch {
    return false;
  }
}
