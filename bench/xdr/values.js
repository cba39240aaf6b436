// The values of the four benchmark workloads, as plain oncrpc values (the JSON mapping of
// bench/xdr/workloads.x: int → number, hyper → bigint, opaque → Uint8Array, T * → T | null, a union →
// { discriminant, arm }). Deterministic: everything comes from one seeded PRNG, so every run and every
// implementation sees the same bytes. The C harness gets these values as the bytes oncrpc encodes.

/** mulberry32: a tiny deterministic 32-bit PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const SEED = 0x0c0ffee;

function bytes(rnd, n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff;
  return b;
}

function u64(rnd, bits) {
  const hi = BigInt(rnd()) << 32n;
  return BigInt.asUintN(bits, hi | BigInt(rnd()));
}

function nfstime(rnd) {
  return { seconds: 1_700_000_000 + (rnd() % 10_000_000), nseconds: rnd() % 1_000_000_000 };
}

function fattr3(rnd, type, fileid) {
  const size = u64(rnd, 36);
  return {
    type,
    mode: type === 2 ? 0o40755 : 0o100644,
    nlink: 1 + (rnd() % 4),
    uid: 1000 + (rnd() % 3),
    gid: 1000,
    size,
    used: (size + 4095n) & ~4095n,
    rdev: { specdata1: 0, specdata2: 0 },
    fsid: 0x8f3a_0000_0000_0017n,
    fileid,
    atime: nfstime(rnd),
    mtime: nfstime(rnd),
    ctime: nfstime(rnd),
  };
}

const WORDS = ['report', 'a', 'data', 'IMG_', 'notes', 'x', 'build-output', 'README', 'src', 'q3_summary_final'];
const EXTS = ['', '.txt', '.c', '.jpeg', '.tar.gz', '.md', '.h', ''];

function filename(rnd, i) {
  // Lengths 1..~30 bytes so every padding length occurs; one name in 25 is non-ASCII UTF-8.
  const base = WORDS[rnd() % WORDS.length] + (i % 3 === 0 ? String(i) : '');
  const ext = EXTS[rnd() % EXTS.length];
  return i % 25 === 7 ? `${base}-été${ext}` : base + ext;
}

/** (a) small call arguments, 64 bytes on the wire. */
export function smallArgs() {
  const rnd = prng(SEED);
  return {
    prog: 100003,
    vers: 3,
    proc: 3,
    netid: 'tcp6',
    dir: bytes(rnd, 28),
    name: 'file.txt',
  };
}

/** (b) an NFSv3 READDIRPLUS reply with `n` entries, each with attributes and a 28-byte handle. */
export function readdirplusReply(n = 100) {
  const rnd = prng(SEED + 1);
  let head = null;
  let tail = null;
  let fileid = 0x2_0000_0000n + BigInt(rnd());
  for (let i = 0; i < n; i++) {
    fileid += BigInt(1 + (rnd() % 50));
    const type = i % 7 === 0 ? 2 : 1;
    const e = {
      fileid,
      name: filename(rnd, i),
      // cookies are opaque server positions: some use the top bit, which must survive as unsigned
      cookie: i % 10 === 9 ? 0x8000_0000_0000_0000n | BigInt(i) : BigInt(i + 1) * 512n,
      name_attributes: { attributes_follow: true, attributes: fattr3(rnd, type, fileid) },
      name_handle: { handle_follows: true, handle: { data: bytes(rnd, 28) } },
      nextentry: null,
    };
    if (tail === null) head = e;
    else tail.nextentry = e;
    tail = e;
  }
  return {
    status: 0,
    resok: {
      dir_attributes: { attributes_follow: true, attributes: fattr3(rnd, 2, 0x2_0000_0000n) },
      cookieverf: bytes(rnd, 8),
      reply: { entries: head, eof: true },
    },
  };
}

/** (c) an NFSv3 READ reply carrying `size` bytes of file data. */
export function readReply(size = 65536) {
  const rnd = prng(SEED + 2);
  return {
    status: 0,
    resok: {
      file_attributes: { attributes_follow: true, attributes: fattr3(rnd, 1, 0x2_0000_1234n) },
      count: size,
      eof: false,
      data: bytes(rnd, size),
    },
  };
}

/** (d) `n` discriminated unions cycling through the five arms of `variant`. */
export function variantList(n = 1000) {
  const rnd = prng(SEED + 3);
  const items = new Array(n);
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0:
        items[i] = { kind: 0 };
        break;
      case 1:
        items[i] = { kind: 1, i: (rnd() | 0) };
        break;
      case 2:
        items[i] = { kind: 2, h: BigInt.asIntN(64, u64(rnd, 64)) };
        break;
      case 3:
        items[i] = { kind: 3, s: `item-${i}-${'xyz'.slice(0, i % 4)}` };
        break;
      default:
        items[i] = { kind: 4, p: { x: rnd() | 0, y: (rnd() % 1000) - 500, z: i } };
    }
  }
  return { items };
}
