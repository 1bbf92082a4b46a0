// How command-line values are read and checked: integers, sizes, factors,
// with one-line messages that name the flag and the value. Shared by the
// flag table (settings.ts) and the -o table (settings-extended.ts).

/** A bad command line; the message is shown after `wasmcached: `. */
export class SettingsError extends Error {}

export function quote(v: string): string {
  return JSON.stringify(v);
}

/** An integer within [min, max]; `rangeMessage` replaces the default range message. */
export function parseInteger(v: string, flag: string, min: number, max: number, rangeMessage?: string): number {
  if (!/^-?\d+$/.test(v)) throw new SettingsError(`${flag} ${quote(v)}: expected an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new SettingsError(rangeMessage ? `${flag} ${v}: ${rangeMessage}` : `${flag} ${v}: must be from ${min} to ${max}`);
  return n;
}

/** A decimal number (such as 0.8) strictly between `above` and `below`. */
export function parseDecimal(v: string, flag: string, above: number, below: number, rangeMessage?: string): number {
  if (!/^-?\d+(\.\d+)?$|^-?\.\d+$/.test(v)) throw new SettingsError(`${flag} ${quote(v)}: expected a number such as 0.5`);
  const n = Number(v);
  if (!(n > above && n < below)) {
    throw new SettingsError(rangeMessage ? `${flag} ${v}: ${rangeMessage}` : `${flag} ${v}: must be above ${above} and below ${below}`);
  }
  return n;
}

export const MIN_ITEM_SIZE = 1024;
export const MAX_ITEM_SIZE = 1024 * 1024 * 1024;
/** Above this the engine's factor ×100 argument stops making sense. */
export const MAX_GROWTH_FACTOR = 100;

/** -I: bytes, or a k/m suffix (memcached accepts either case). */
export function parseSize(v: string, flag: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(v);
  if (!m) throw new SettingsError(`${flag} ${quote(v)}: expected a size such as 512k or 2m`);
  const unit = m[2].toLowerCase();
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (n < MIN_ITEM_SIZE) throw new SettingsError(`${flag} ${v}: item max size cannot be less than 1024 bytes`);
  if (n > MAX_ITEM_SIZE) throw new SettingsError(`${flag} ${v}: cannot set item size limit higher than 1024 mb`);
  return n;
}

export function parseFactor(v: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new SettingsError(`${flag} ${quote(v)}: expected a number such as 1.25`);
  const f = Number(v);
  // The engine takes the factor in hundredths: 1.001 would become 1.00.
  if (Math.round(f * 100) <= 100) throw new SettingsError(`${flag} ${v}: factor must be greater than 1 (at least 1.01)`);
  if (f > MAX_GROWTH_FACTOR) throw new SettingsError(`${flag} ${v}: factor must be at most ${MAX_GROWTH_FACTOR}`);
  return f;
}

export function formatSize(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}m`;
  if (n % 1024 === 0) return `${n / 1024}k`;
  return String(n);
}
