import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { WeftError } from '../../lib/errors/index.js';

export const EnrolledPodSchema = z.object({
  uid: z.string(),
  namespace: z.string(),
  name: z.string(),
  containerId: z.string(),
  netns: z.string(),
  ips: z.array(z.string()),
  probeSources: z.array(z.string()).default([]),
  /** `cni` or `state` (enrolled from cluster state, e.g. namespace labelled later). */
  source: z.enum(['cni', 'state']).default('cni'),
});
export type EnrolledPod = z.infer<typeof EnrolledPodSchema>;

const StateFileSchema = z.object({
  version: z.literal(1),
  pods: z.array(EnrolledPodSchema),
  /** Pods seen at ADD but not captured (yet): their netns lets a later namespace label capture them. */
  known: z.array(EnrolledPodSchema).default([]),
});

export interface SavedState {
  readonly pods: EnrolledPod[];
  readonly known: EnrolledPod[];
}

/**
 * The agent's enrollment record (`<state-dir>/enrollments.json`): what a restarted agent re-enrolls
 * without the CNI. Written atomically (temp file + fsync + rename) so a crash never leaves half a file.
 */
export class StateFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();
  /** The directory was made: later writes skip the mkdir (one worker round trip less per CNI ADD). */
  private dirMade = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'enrollments.json');
  }

  async load(): Promise<SavedState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { pods: [], known: [] };
      throw new WeftError('ERR_WEFT_AGENT_STATE_FILE', { op: 'read', path: this.path, reason: (err as Error).message }, { cause: err });
    }
    try {
      const { pods, known } = StateFileSchema.parse(JSON.parse(text));
      return { pods, known };
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_STATE_FILE', { op: 'parse', path: this.path, reason: (err as Error).message }, { cause: err });
    }
  }

  /** Saves; concurrent saves are serialised so the last call's content wins. */
  save(pods: readonly EnrolledPod[], known: readonly EnrolledPod[] = []): Promise<void> {
    const body = JSON.stringify({ version: 1, pods, known }, null, 1);
    const next = this.writing.then(() => this.write(body));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(body: string): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fh = await this.openTemp(tmp);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      throw new WeftError('ERR_WEFT_AGENT_STATE_FILE', { op: 'write', path: this.path, reason: (err as Error).message }, { cause: err });
    }
  }

  /** Opens the temp file, making the directory first time round, or again when it went away since. */
  private async openTemp(tmp: string): Promise<FileHandle> {
    if (this.dirMade) {
      try {
        return await open(tmp, 'w', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await mkdir(dirname(this.path), { recursive: true });
    this.dirMade = true;
    return open(tmp, 'w', 0o600);
  }
}
