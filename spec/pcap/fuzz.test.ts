// Fuzz test: random and mutated capture files only ever raise PcapError or decode; never another error, never a hang.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PcapError } from '../../src/errors.js';
import { decodeFlows, readPackets } from '../../src/pcap/index.js';
import { concat, epb, ethernet, idb, ipv4, ipv6, frag6, pb, pcapFile, shb, spb, tcp, udp, F } from './_helpers/build.js';

const CASES = Number(process.env.FUZZ_CASES ?? 20_000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 120);

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const dataDir = fileURLToPath(new URL('./data/', import.meta.url));
const samples: Uint8Array[] = readdirSync(dataDir)
  .filter((n) => /\.pcap(ng)?$/.test(n))
  .map((n) => new Uint8Array(readFileSync(dataDir + n)));

// Built samples reach what the real captures lack: big-endian pcapng, SPB/PB, fragments, VLANs, options.
for (const le of [true, false]) {
  const frameA = ethernet(0x0800, ipv4({ protocol: 6, payload: tcp({ sp: 1, dp: 111, seq: 0xfffffff0, flags: F.SYN }) }), [5]);
  const frameB = ethernet(0x86dd, ipv6({ next: 44, ext: [frag6(17, 0, true, 9)], payload: udp(1, 2, new Uint8Array(24)) }));
  const frameC = ethernet(0x0800, ipv4({ protocol: 17, id: 4, fragOffset: 8, payload: new Uint8Array(16) }));
  samples.push(
    concat(shb(le), idb(le, 1, { tsresol: 0x83, tsoffset: -5n }), epb(le, 0, 123n, frameA), idb(le, 101), pb(le, 0, 9n, frameB), epb(le, 1, 1n, frameC.subarray(14)), shb(le), idb(le, 1, { snapLen: 60 }), spb(le, frameA)),
    pcapFile({ le, nano: !le, linkType: 1, packets: [{ data: frameA }, { data: frameB }, { data: frameC }] }),
  );
}

function mutate(r: () => number, src: Uint8Array): Uint8Array {
  const b = new Uint8Array(src);
  const pick = (n: number) => Math.floor(r() * n);
  const ops = 1 + pick(6);
  let out: Uint8Array = b;
  for (let k = 0; k < ops; k++) {
    const op = pick(6);
    if (out.length === 0) break;
    const at = pick(out.length);
    if (op === 0) out[at] = pick(256);
    else if (op === 1) out[at]! ^= 1 << pick(8);
    else if (op === 2 && at + 4 <= out.length) {
      const v = [0, 0xffffffff, 0x80000000, 0x7fffffff, pick(0x10000), 12, 13][pick(7)]!;
      new DataView(out.buffer, out.byteOffset).setUint32(at & ~3, v, r() < 0.5);
    } else if (op === 3) out = out.subarray(0, at);
    else if (op === 4) out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + pick(16))));
    else out = concat(out.subarray(0, at), Uint8Array.from({ length: 1 + pick(16) }, () => pick(256)), out.subarray(at));
  }
  return out;
}

function randomFile(r: () => number): Uint8Array {
  const n = Math.floor(r() * 300);
  const body = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const kind = Math.floor(r() * 4);
  if (kind === 0) return body;
  if (kind === 1) return concat(pcapFile({ le: r() < 0.5, linkType: [0, 1, 101, 108, 113, 276, 228, 229][Math.floor(r() * 8)]!, packets: [] }), body);
  if (kind === 2) return concat(shb(r() < 0.5), body);
  return concat(shb(true), idb(true, 1), body);
}

t.test(`fuzz: ${CASES} random and mutated files`, async (t) => {
  const r = rng(0x5eed);
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  let pcapErrors = 0;
  let events = 0;
  for (; done < CASES && Date.now() < deadline; done++) {
    const input = r() < 0.2 ? randomFile(r) : mutate(r, samples[Math.floor(r() * samples.length)]!);
    try {
      let n = 0;
      for (const p of readPackets(input)) {
        if (p.data.buffer !== input.buffer || p.data.length > input.length) throw new Error('packet data is not a view of the input');
        n++;
      }
      for (const ev of decodeFlows(input)) {
        if (++n > 10 * input.length + 100) throw new Error('runaway event stream');
        events++;
        if (ev.kind === 'data' && (ev.bytes.length === 0 || ev.bytes.length > 65536)) throw new Error(`bad data event length ${ev.bytes.length}`);
      }
    } catch (e) {
      if (e instanceof PcapError) {
        pcapErrors++;
        continue;
      }
      t.fail(`case ${done}: ${String((e as Error).stack ?? e)}`, { input: Buffer.from(input).toString('hex') });
      return;
    }
  }
  t.ok(done >= Math.min(CASES, 1000), `${done} cases run (${pcapErrors} PcapError, ${events} events)`);
  t.ok(pcapErrors > 0 && pcapErrors < done, 'both outcomes occur');
});
