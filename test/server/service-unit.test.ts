// examples/systemd/wasmcached.service: systemd accepts the unit, it keeps
// memcached's hardening except MemoryDenyWriteExecute (V8 cannot run under
// it), and its ExecStart line, run as systemd would run it, serves and
// writes its snapshot on SIGTERM.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, WASMCACHED_BIN, IN_CI, haveTool } from '../support/servers.js';
import { RawClient } from '../support/client.js';

const UNIT = join(ROOT, 'examples', 'systemd', 'wasmcached.service');

function directive(unit: string, name: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));
}

describe('systemd unit example', () => {
  it('passes systemd-analyze verify', () => {
    if (!haveTool('systemd-analyze')) {
      if (IN_CI) throw new Error('systemd-analyze is missing (Debian package systemd)');
      return;
    }
    // Exit code 0 and nothing on stderr: no unknown directive, no bad value.
    const out = execFileSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
  });

  it("keeps memcached's hardening but not MemoryDenyWriteExecute", () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(directive(unit, 'MemoryDenyWriteExecute')).toEqual([]);
    for (const d of ['NoNewPrivileges', 'PrivateDevices', 'PrivateTmp', 'ProtectKernelModules', 'RestrictNamespaces']) {
      expect(directive(unit, d), d).toEqual(['true']);
    }
  });

  it('its ExecStart serves and keeps the cache across a stop and start', async () => {
    const unit = readFileSync(UNIT, 'utf8');
    const [exec] = directive(unit, 'ExecStart');
    const dir = mkdtempSync(join(tmpdir(), 'wasmcached-unit-'));
    try {
      // `wasmcached` on PATH is this tree's bin; the port the OS picks.
      const binDir = join(dir, 'bin');
      mkdirSync(binDir);
      symlinkSync(WASMCACHED_BIN, join(binDir, 'wasmcached'));
      const argv = exec.replace('${STATE_DIRECTORY}', dir).split(/\s+/).map((a) => (a === '11211' ? '0' : a));
      expect(argv.slice(0, 2)).toEqual(['/usr/bin/env', 'wasmcached']);
      const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}` };
      const run = async (): Promise<{ port: number; stop: () => Promise<number | null>; }> => {
        const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const port = await new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no listening line: ${out}`)); }, 20_000);
          const on = (d: Buffer) => {
            out += d.toString();
            const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
            if (m) { clearTimeout(t); resolve(Number(m[1])); }
          };
          child.stdout.on('data', on);
          child.stderr.on('data', on);
        });
        return {
          port,
          stop: () => new Promise((resolve) => { child.once('exit', (code) => resolve(code)); child.kill('SIGTERM'); }),
        };
      };
      const first = await run();
      const c = await RawClient.connect(first.port);
      expect((await c.request('set unit 0 0 4\r\nkept\r\n')).toString()).toBe('STORED\r\n');
      c.close();
      expect(await first.stop()).toBe(0);
      expect(existsSync(join(dir, 'snapshot'))).toBe(true);
      const second = await run();
      const d = await RawClient.connect(second.port);
      expect((await d.request('get unit\r\n')).toString()).toBe('VALUE unit 0 4\r\nkept\r\nEND\r\n');
      d.close();
      expect(await second.stop()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
