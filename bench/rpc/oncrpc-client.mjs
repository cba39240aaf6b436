// The oncrpc load client of the bench: RpcClient on one connection (or one UDP socket) to 127.0.0.1,
// `inflight` calls in flight at all times, one procedure over and over for a fixed time.
//
//   node oncrpc-client.mjs GEN_MODULE tcp|udp PORT null|getcolor|echo INFLIGHT WARMUP_S SECONDS
//
// Prints `<calls in all> <calls in the measured window> <measured seconds> <CPU µs of this process
// from the first call on>` (the format of loadgen.c).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { RpcClient } from 'oncrpc';
import { loadX } from '../../dist/codegen/interpret.js';
import { fromJson } from '../../dist/xdr/json.js';

const [genPath, transport, port, proc, inflight, warm, secs] = process.argv.slice(2);
const gen = await import(pathToFileURL(genPath).href);
const client = new RpcClient({ transport, host: '127.0.0.1', port: Number(port) });
const at = client.bind(gen.ALLTYPES_VERS_1);

// V of fixtures/c/values.json (what loadgen.c sends), through the JSON mapping.
const root = new URL('../../', import.meta.url).pathname;
const values = JSON.parse(readFileSync(root + 'fixtures/c/values.json', 'utf8'));
const strip = (o) => (Array.isArray(o) ? o.map(strip) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([k]) => !/_(bits|hex)$/.test(k)).map(([k, v]) => [k, strip(v)])) : o);
const V = fromJson((await loadX(root + 'fixtures/x/alltypes.x')).types.get('alltypes'), strip(values.V));

const BLUE = 2;
const call =
  proc === 'null'
    ? () => at.AT_NULL()
    : proc === 'getcolor'
      ? async () => {
          const r = await at.AT_GETCOLOR(BLUE);
          if (r.c !== BLUE || r.ratio !== 0.75) throw new Error('wrong AT_GETCOLOR result');
        }
      : async () => {
          const r = await at.AT_ECHO(V);
          if (r.i !== V.i || r.uh !== V.uh || r.nm !== V.nm) throw new Error('wrong AT_ECHO result');
        };

await call(); // connect
const cpu0 = process.cpuUsage();
const start = performance.now();
const t0 = start + Number(warm) * 1000;
const t1 = t0 + Number(secs) * 1000;
let all = 0;
let measured = 0;
async function worker() {
  for (;;) {
    await call();
    all++;
    const t = performance.now();
    if (t >= t0) {
      if (t >= t1) return;
      measured++;
    }
  }
}
await Promise.all(Array.from({ length: Number(inflight) }, worker));
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${all} ${measured} ${((performance.now() - t0) / 1000).toFixed(6)} ${cpu.user + cpu.system}\n`);
client.destroy();
