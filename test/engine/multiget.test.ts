// Multigets whose replies exceed the output region resume where they
// stopped; large values round-trip byte for byte.
import { describe, it, expect } from 'vitest';
import { ENGINES, makeStore as makeStoreOf, type EngineKind } from '../support/engine.js';


for (const engine of ENGINES) {
  const makeStore = (o: Parameters<typeof makeStoreOf>[0] = {}) => makeStoreOf({ ...o, engine: engine as EngineKind });
  describe(`${engine} build`, () => {
  describe('large replies', () => {
    it('a multiget of 40 values of 500 KB spans many output regions, in order', () => {
      const h = makeStore({ memoryMB: 64 });
      const keys: string[] = [];
      for (let i = 0; i < 40; i++) {
        const v = String.fromCharCode(65 + (i % 26)).repeat(500 * 1024);
        expect(h.cmd(`set big${i} ${i} 0 ${v.length}\r\n${v}\r\n`)).toBe('STORED\r\n');
        keys.push(`big${i}`);
      }
      const out = h.send(`get ${keys.join(' ')} missing\r\n`);
      let off = 0;
      for (let i = 0; i < 40; i++) {
        const head = `VALUE big${i} ${i} ${500 * 1024}\r\n`;
        expect(out.subarray(off, off + head.length).toString('latin1')).toBe(head);
        off += head.length;
        const body = out.subarray(off, off + 500 * 1024);
        expect(body.every((b) => b === 65 + (i % 26))).toBe(true);
        off += 500 * 1024;
        expect(out.subarray(off, off + 2).toString('latin1')).toBe('\r\n');
        off += 2;
      }
      expect(out.subarray(off).toString('latin1')).toBe('END\r\n');
      expect(h.stats().get_hits).toBe('40');
    });
  
    it('binary values with CR, LF and NUL bytes round-trip exactly', () => {
      const h = makeStore();
      const v = Buffer.alloc(70000);
      for (let i = 0; i < v.length; i++) v[i] = (i * 7919) & 0xff;
      expect(h.cmd(`set bin 0 0 ${v.length}\r\n` + v.toString('latin1') + '\r\n')).toBe('STORED\r\n');
      const out = h.send('get bin\r\n');
      const head = Buffer.from(`VALUE bin 0 ${v.length}\r\n`);
      expect(out.subarray(0, head.length).equals(head)).toBe(true);
      expect(out.subarray(head.length, head.length + v.length).equals(v)).toBe(true);
    });
  
    it('more than 24 tokens: every key of a long multiget is answered', () => {
      const h = makeStore();
      let keys = '';
      let expected = '';
      for (let i = 0; i < 100; i++) {
        h.cmd(`set k${i} 0 0 ${String(i).length}\r\n${i}\r\n`);
        keys += ` k${i}`;
        expected += `VALUE k${i} 0 ${String(i).length}\r\n${i}\r\n`;
      }
      expect(h.cmd(`get${keys}\r\n`)).toBe(expected + 'END\r\n');
    });
  });
  });
}
