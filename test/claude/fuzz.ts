// Seeded PRNG and input mutators shared by the bounded fuzz tests.

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
