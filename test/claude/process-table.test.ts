// The process table's backends: which one is chosen, that `ps` reads what /proc shows, and that a table that
// cannot be read is an error (never "every process is gone").
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chooseProcessTable,
  parseLstart,
  parsePsLine,
  PROCESS_TABLE_ENV,
  processTable,
  ProcessTableError,
  procTable,
  psTable,
  startTimeKind,
} from '../../machines/claude/process-table.js';
import { endRecordedProcesses, isAlive, killTree } from '../../machines/claude/process-tree.js';
import { waitFor } from '../support/wait.js';

const binPath = (name: string) => fileURLToPath(new URL(`./bin/${name}`, import.meta.url));
const NO_PROC = '/nonexistent-proc-for-this-test';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  children.push(child);
  return child;
}

describe('choosing the table', () => {
  it(`uses the backend ${PROCESS_TABLE_ENV} names, /proc when it is unset on Linux`, () => {
    // this is what proves that a run with SPRINT_RUNNER_PROCESS_TABLE=ps tests the ps backend
    expect(processTable().kind).toBe(process.env[PROCESS_TABLE_ENV] === 'ps' ? 'ps' : 'proc');
  });

  it('falls back to ps where /proc cannot be read, as on macOS', () => {
    expect(chooseProcessTable({}, NO_PROC).kind).toBe('ps');
    expect(chooseProcessTable({ [PROCESS_TABLE_ENV]: 'ps' }).kind).toBe('ps');
    expect(chooseProcessTable({ [PROCESS_TABLE_ENV]: 'proc' }).kind).toBe('proc');
  });

  it('refuses a backend that cannot work, or a value it does not know, with a clear error', () => {
    expect(() => chooseProcessTable({ [PROCESS_TABLE_ENV]: 'proc' }, NO_PROC)).toThrow(
      new ProcessTableError(`${PROCESS_TABLE_ENV}=proc, but ${NO_PROC}/${process.pid}/stat cannot be read`),
    );
    expect(() => chooseProcessTable({ [PROCESS_TABLE_ENV]: 'sysctl' })).toThrow(`${PROCESS_TABLE_ENV} must be "proc" or "ps", not "sysctl"`);
    expect(() => chooseProcessTable({}, NO_PROC, '/nonexistent/ps')).toThrow(/cannot read the process table \(ps\): cannot run `\/nonexistent\/ps`/);
    expect(() => chooseProcessTable({ [PROCESS_TABLE_ENV]: 'ps' }, '/proc', binPath('ps-denied.sh'))).toThrow(/Operation not permitted/);
  });
});

describe('a table that cannot be read is an error, not an empty table', () => {
  it('a /proc that went away: lookups throw, and killTree rejects while the child lives on', async () => {
    const child = sleeper();
    const hidden = procTable(NO_PROC);
    expect(() => hidden.get(child.pid!)).toThrow(ProcessTableError);
    expect(() => hidden.list()).toThrow(ProcessTableError);
    await expect(killTree(child.pid!, { table: hidden })).rejects.toThrow(ProcessTableError);
    expect(isAlive(child.pid!)).toBe(true);
  });

  it('a ps that fails or prints something else: lookups throw', async () => {
    const denied = psTable(binPath('ps-denied.sh'));
    expect(() => denied.list()).toThrow(/ps-denied.sh` failed \(exit 1\): ps: kvm_getprocs: Operation not permitted/);
    expect(() => denied.get(process.pid)).toThrow(ProcessTableError);
    const garbage = psTable(binPath('ps-garbage.sh'));
    expect(() => garbage.list()).toThrow(/cannot parse this line .*"  12 this is not a process line"/);
    expect(() => garbage.get(12)).toThrow(ProcessTableError);
    await expect(endRecordedProcesses([{ pid: process.pid, startTime: 1 }], { table: denied })).rejects.toThrow(ProcessTableError);
  });

  it('a ps that never answers is killed after its time limit and reported, so stop and recovery never wait for ever', async () => {
    const stuck = psTable(binPath('ps-stuck.sh'), 300);
    expect(() => stuck.list()).toThrow(/ps-stuck.sh` did not answer within 300 ms and was killed/);
    await expect(stuck.snapshotAsync()).rejects.toThrow(/ps-stuck.sh` did not answer within 300 ms and was killed/);
    await expect(endRecordedProcesses([{ pid: process.pid, startTime: 1 }], { table: stuck })).rejects.toThrow(ProcessTableError);
  });
});

describe('parsing ps', () => {
  it('reads lstart in the C locale and UTC, whatever the width of the day', () => {
    expect(parseLstart(['Mon', 'Dec', '7', '05:05:04', '2026'])).toBe(Date.UTC(2026, 11, 7, 5, 5, 4));
    expect(parseLstart(['Thu', 'Jan', '30', '23:59:59', '2025'])).toBe(Date.UTC(2025, 0, 30, 23, 59, 59));
    expect(parseLstart(['lun', 'déc', '7', '05:05:04', '2026'])).toBeNull(); // a French locale would not parse
    expect(parseLstart(['Mon', 'Dec', '7', '5:05', '2026'])).toBeNull();
  });

  it('reads the lines procps and macOS ps print (the day is padded: one more blank, the same words)', () => {
    expect(parsePsLine('  812     1   812 Ss   Mon Dec  7 05:05:04 2026')).toEqual({
      pid: 812,
      ppid: 1,
      pgid: 812,
      sid: null,
      zombie: false,
      startTime: Date.UTC(2026, 11, 7, 5, 5, 4),
    });
    expect(parsePsLine('99999 812 812 Z+ Tue Dec 15 10:00:00 2026')).toMatchObject({ pid: 99999, zombie: true });
    expect(parsePsLine('812 1 812 Ss Mon Dec 7 05:05:04')).toBeNull();
    expect(parsePsLine('')).toBeNull();
  });

  it('stores ps start times as epoch ms, which no /proc tick count can be', () => {
    const now = Date.now();
    expect(startTimeKind(now)).toBe('ps');
    expect(startTimeKind(procTable().get(process.pid)!.startTime)).toBe('proc');
    expect(psTable().list().every((e) => startTimeKind(e.startTime) === 'ps' && e.startTime % 1000 === 0)).toBe(true);
  });
});

describe('the ps backend against /proc', () => {
  it('lists the same parents, groups and start times as /proc, without reading it', () => {
    const child = sleeper();
    const btimeMs = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    const msPerTick = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    const proc = procTable();
    const listed = psTable().list();
    let compared = 0;
    for (const entry of listed) {
      const stat = proc.get(entry.pid);
      if (stat === null || stat.zombie || entry.zombie) continue; // ended between the two reads
      expect({ pid: entry.pid, ppid: entry.ppid, pgid: entry.pgid }).toEqual({ pid: stat.pid, ppid: stat.ppid, pgid: stat.pgid });
      // lstart is boot time + ticks, cut to the second
      expect(Math.abs(entry.startTime - (btimeMs + stat.startTime * msPerTick)), `pid ${entry.pid}`).toBeLessThan(1000);
      compared++;
    }
    expect(compared).toBeGreaterThan(3);
    expect(listed.find((e) => e.pid === child.pid)).toMatchObject({ ppid: process.pid, pgid: child.pid, sid: null });
    expect(psTable().get(child.pid!)).toEqual(listed.find((e) => e.pid === child.pid));
  });

  it('gives the same start time on every read, a second and more apart, so stored values still match later', async () => {
    const child = sleeper();
    const table = psTable();
    const first = await waitFor(() => table.get(child.pid!)?.startTime);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(table.get(child.pid!)?.startTime).toBe(first);
    expect(isAlive(child.pid!, first, table)).toBe(true);
    expect(isAlive(child.pid!, first - 1000, table)).toBe(false);
    expect(table.get(2 ** 22 + 12345)).toBeNull();
  });

  it('a start time recorded by the old /proc-only code (clock ticks) still names its process under /proc', async () => {
    const ours = sleeper();
    const stranger = sleeper();
    // what earlier versions stored: field 22 of /proc/<pid>/stat
    const ticks = await waitFor(() => Number(readFileSync(`/proc/${ours.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]));
    const killed = await endRecordedProcesses(
      [
        { pid: ours.pid!, startTime: ticks },
        { pid: stranger.pid!, startTime: ticks - 1 },
      ],
      { table: procTable() },
    );
    expect(killed).toEqual([ours.pid]);
    expect(isAlive(ours.pid!, undefined, procTable())).toBe(false);
    expect(isAlive(stranger.pid!, undefined, procTable())).toBe(true);
  });
});
