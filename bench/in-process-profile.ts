/**
 * A CPU profile of the benchmark's own process (the server under test runs in it), taken with the inspector's
 * sampling profiler for one stretch of a run, and the share of its samples spent in given source files.
 *
 * The share counts a sample when any frame of its stack lies in one of the files (inclusive time), so it covers
 * what those files call (the SQLite driver under an audit insert, hashing, JSON): it is a lower bound of the cost
 * of that path where work continues outside its stack (a PostgreSQL driver parsing the reply on a socket event).
 */
import { writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import { join } from 'node:path';

export interface InProcessProfiler {
  /** Stops sampling and returns the profile. */
  stop(): Promise<Profiler.Profile>;
}

/** Starts sampling this process every `intervalUs` microseconds. */
export async function startInProcessProfile(intervalUs = 250): Promise<InProcessProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = await session.post('Profiler.stop');
        return profile;
      } finally {
        await session.post('Profiler.disable');
        session.disconnect();
      }
    },
  };
}

/** Writes `profile` as `<dir>/<name>.cpuprofile` (open it in Chrome DevTools or speedscope); returns the path. */
export async function writeProfile(dir: string, name: string, profile: Profiler.Profile): Promise<string> {
  const path = join(dir, `${name}.cpuprofile`);
  await writeFile(path, JSON.stringify(profile));
  return path;
}

/**
 * The share of `profile`'s non-idle samples whose stack holds a frame of a script whose URL ends with one of
 * `fileSuffixes` (`/src/store/group-commit.ts`).
 */
export function shareOfFiles(profile: Profiler.Profile, fileSuffixes: readonly string[]): number {
  const parentOf = new Map<number, number>();
  const byId = new Map<number, Profiler.ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const inFiles = new Map<number, boolean>();
  const matches = (id: number): boolean => {
    const known = inFiles.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const url = node?.callFrame.url ?? '';
    const parent = parentOf.get(id);
    const result =
      fileSuffixes.some((suffix) => url.endsWith(suffix)) || (parent !== undefined && matches(parent));
    inFiles.set(id, result);
    return result;
  };
  let busy = 0;
  let inside = 0;
  for (const id of profile.samples ?? []) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    busy++;
    if (matches(id)) inside++;
  }
  return busy === 0 ? 0 : inside / busy;
}
