// Seeded random input for the bounded fuzz tests: the same seed gives the same inputs on every run.

/** mulberry32: tiny, seeded, good enough to spread inputs */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(random: () => number, base: string, alphabet: string): string {
  const pick = (n: number): number => Math.floor(random() * n);
  switch (pick(5)) {
    case 0:
      return base.slice(0, pick(base.length + 1)); // truncated
    case 1: {
      const at = pick(base.length + 1);
      return base.slice(0, at) + alphabet[pick(alphabet.length)] + base.slice(at); // inserted char
    }
    case 2: {
      const at = pick(base.length);
      return base.slice(0, at) + base.slice(at + 1 + pick(4)); // deleted chars
    }
    case 3: {
      let out = '';
      const length = pick(80);
      for (let i = 0; i < length; i++) out += alphabet[pick(alphabet.length)];
      return out; // random soup
    }
    default: {
      const at = pick(base.length + 1);
      return base.slice(at) + base.slice(0, at); // rotated
    }
  }
}

/** Strings mixing the given fragments (markers, keys, YAML syntax) with random characters and line breaks. */
export function fuzzStrings(seed: number, count: number, fragments: readonly string[]): string[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const alphabet = ' \t\n\r\n:-_*#|[](){}"\'`.,0123456789abcXYZ\u00e9\u{1F534}\u0000\\/&!?>%@';
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    const n = Math.floor(random() * 40);
    for (let j = 0; j < n; j++) {
      const r = random();
      if (r < 0.45) parts.push(pick(fragments));
      else if (r < 0.9) parts.push(pick([...alphabet]));
      else parts.push(String(Math.floor(random() * 1e6)));
    }
    out.push(parts.join(''));
  }
  return out;
}
