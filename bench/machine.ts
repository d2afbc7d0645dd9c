import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Description of the machine a run happened on, for the benchmark page. */
export interface MachineDescription {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  tempFolder: string;
  tempFileSystem: string;
}

export function describeMachine(): MachineDescription {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';

  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    cpuModel = match?.[1]?.trim() ?? cpuModel;
  } catch {
    // Not Linux: os.cpus() has the model.
  }

  const tempFolder = os.tmpdir();
  // `df -PT` prints the file system type in the second column of its second line.
  const df = spawnSync('df', ['-PT', tempFolder], { encoding: 'utf8' });
  const tempFileSystem = df.status === 0 ? (df.stdout.split('\n')[1]?.split(/\s+/)[1] ?? '?') : '?';

  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    tempFolder,
    tempFileSystem,
  };
}
