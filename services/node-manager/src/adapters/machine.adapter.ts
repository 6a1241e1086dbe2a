import { statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { cpuTimes, type CpuTimes } from '../domain/usage';

export interface MachineReading {
  cpu: CpuTimes;
  memory: { totalBytes: number; availableBytes: number };
  disk: { totalBytes: number; availableBytes: number; path: string } | { error: string };
}

/** The machine's own figures from plain node:os and fs.statfs (os.freemem() is MemAvailable on Linux). */
export class Machine {
  constructor(private readonly diskPath: string) {}

  async read(): Promise<MachineReading> {
    let disk: MachineReading['disk'];
    try {
      const s = await statfs(this.diskPath);
      disk = { totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, path: this.diskPath };
    } catch (err) {
      disk = { error: `${this.diskPath}: ${(err as Error).message}` };
    }
    return { cpu: cpuTimes(cpus()), memory: { totalBytes: totalmem(), availableBytes: freemem() }, disk };
  }
}
