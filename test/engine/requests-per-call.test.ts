// The request budget of one engine call (H_REQS_LEFT), which the host uses
// for memcached's -R: a call given N completes at most N commands, stops at a
// command boundary with what it consumed, and reports what it left; the
// replies of a stream cut into such calls are those of one unlimited call.
// On both engine builds, driven by the host's own Session.
import { describe, it, expect } from 'vitest';
import { Store } from '../../src/engine/store.js';
import { Session } from '../../src/session.js';
import { ST_OK, ST_OUT_FULL, ST_VALUE } from '../../assembly/abi.js';
import { ENGINES, loadEngine, T0, type EngineKind } from '../support/engine.js';
import { OP, frame, setExtras } from '../support/binary.js';

interface Call { status: number; consumed: number; out: string; left: number }

function newStore(engine: EngineKind): Store {
  return Store.create(loadEngine(engine), { memoryMB: 8, itemSizeMax: 1024 * 1024, chunkMin: 48, growthFactor: 1.25, opts: 0 }, T0);
}

/** Pushes `input` as one read, then calls with at most `budget` commands per
 *  call until nothing more can run; returns every call. */
function drive(session: Session, input: Buffer | string, budget: number): Call[] {
  session.push(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  const calls: Call[] = [];
  for (let guard = 0; guard < 10_000 && session.runnable(); guard++) {
    const status = session.execute(T0, 64 * 1024, budget);
    calls.push({ status, consumed: session.consumed, out: session.output ? Buffer.from(session.output).toString('latin1') : '', left: session.requestsLeft });
    if (status === ST_VALUE) break;
    if (status === ST_OK && session.consumed === 0) break;
  }
  return calls;
}

const outputOf = (calls: Call[]) => calls.map((c) => c.out).join('');

describe.each(ENGINES)('requests per call (%s engine)', (engine) => {
  it('text commands: a budget of 2 completes two commands per call, at their boundaries', () => {
    const stream = 'set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a b\r\nincr a 5\r\nmn\r\ndelete b\r\n';
    const calls = drive(new Session(newStore(engine)), stream, 2);
    expect(calls.map((c) => c.out)).toEqual([
      'STORED\r\nSTORED\r\n', 'VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n6\r\n', 'MN\r\nDELETED\r\n',
    ]);
    expect(calls.map((c) => c.consumed)).toEqual([32, 19, 14]);
    expect(calls.map((c) => c.left)).toEqual([0, 0, 0]);
    expect(calls.every((c) => c.status === ST_OK)).toBe(true);
    // Cut into calls or not, the replies are the same.
    expect(outputOf(drive(new Session(newStore(engine)), stream, 0))).toBe(outputOf(calls));
  });

  it('a budget larger than the commands is counted down and left over; 0 is no limit', () => {
    const session = new Session(newStore(engine));
    const calls = drive(session, 'mn\r\nmn\r\nmn\r\n', 10);
    expect(calls).toEqual([{ status: ST_OK, consumed: 12, out: 'MN\r\nMN\r\nMN\r\n', left: 7 }]);
    const unlimited = drive(session, 'mn\r\n'.repeat(1000), 0);
    expect(unlimited).toHaveLength(1);
    expect(unlimited[0].consumed).toBe(4000);
  });

  it('an unfinished command after the last counted one stays pending, and counts when it completes', () => {
    const session = new Session(newStore(engine));
    const first = drive(session, 'mn\r\nget', 1);
    expect(first.map((c) => c.out)).toEqual(['MN\r\n', '']);
    expect(session.pendingLen).toBe(3);
    const rest = drive(session, ' x\r\nmn\r\n', 1);
    expect(rest.map((c) => [c.out, c.left])).toEqual([['END\r\n', 0], ['MN\r\n', 0]]);
  });

  it('a value that arrives later is one request, counted once its command completes', () => {
    const session = new Session(newStore(engine));
    const calls = drive(session, 'set v 0 0 10\r\n01234', 1);
    expect(calls.map((c) => c.status)).toEqual([ST_VALUE]);
    const after = drive(session, '56789\r\nget v\r\n', 1);
    expect(after.map((c) => [c.out, c.left])).toEqual([['STORED\r\n', 0], ['VALUE v 0 10\r\n0123456789\r\nEND\r\n', 0]]);
  });

  it('binary packets count one each, quiet ones too', () => {
    const stream = Buffer.concat([
      frame({ opcode: OP.SETQ, key: 'k', extras: setExtras(0, 0), value: 'v' }),
      frame({ opcode: OP.GETQ, key: 'missing' }),
      frame({ opcode: OP.GETK, key: 'k' }),
      frame({ opcode: OP.NOOP }),
    ]);
    const calls = drive(new Session(newStore(engine)), stream, 1);
    expect(calls).toHaveLength(4);
    expect(calls.map((c) => c.consumed)).toEqual([24 + 8 + 1 + 1, 24 + 7, 24 + 1, 24]);
    expect(calls.map((c) => c.out.length)).toEqual([0, 0, 24 + 4 + 1 + 1, 24]);
    expect(outputOf(drive(new Session(newStore(engine)), stream, 0))).toBe(outputOf(calls));
  });

  it('a multiget longer than the input is one request, however many calls its keys take', () => {
    const session = new Session(newStore(engine));
    const keys = Array.from({ length: 3000 }, (_, i) => `key${i}`).join(' ');
    const calls = drive(session, `get ${keys}\r\nmn\r\nmn\r\n`, 1);
    const out = outputOf(calls);
    expect(out).toBe('END\r\nMN\r\nMN\r\n');
    // Each call completed one request.
    expect(calls.filter((c) => c.left === 0)).toHaveLength(3);
    expect(calls.every((c) => c.status === ST_OK || c.status === ST_OUT_FULL)).toBe(true);
  });
});
