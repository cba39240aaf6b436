// RPC message headers: every reply arm, auth limits, AUTH_SYS, and garbage only raising typed errors.
import t from 'tap';
import * as rpc from '../../src/rpc/index.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { RpcError, XdrError } from '../../src/errors.js';
import { Rng, hex, toHex } from '../_helpers/hex.js';

// A portmapper GETPORT call, laid out field by field per RFC 5531 §9 / RFC 1833.
const GETPORT_CALL =
  '12345678 00000000 00000002 000186a0 00000002 00000003' + // xid CALL rpcvers prog vers proc
  '00000000 00000000 00000000 00000000' + // cred AUTH_NONE, verf AUTH_NONE
  '000186a3 00000003 00000006 00000000'; // mapping {100003, 3, IPPROTO_TCP, 0}

t.test('call header decodes, body is a view, and re-encodes exactly', async (t) => {
  const bytes = hex(GETPORT_CALL);
  const m = rpc.decodeRpcMessage(bytes);
  t.match(m, { xid: 0x12345678, mtype: 0, rpcvers: 2, prog: 100000, vers: 2, proc: 3 });
  if (m.mtype !== 0) throw new Error('not a call');
  t.equal(toHex(m.body), '000186a3000000030000000600000000');
  t.equal(m.body.buffer, bytes.buffer, 'args are a view, not a copy');
  t.equal(toHex(rpc.encodeRpcMessage(m)), toHex(bytes));
});

t.test('every reply arm round-trips', async (t) => {
  const replies: Array<[string, string]> = [
    ['SUCCESS', '00000001 00000001 00000000 00000000 00000000 00000000 00000801'],
    ['PROG_UNAVAIL', '00000002 00000001 00000000 00000000 00000000 00000001'],
    ['PROG_MISMATCH', '00000003 00000001 00000000 00000000 00000000 00000002 00000002 00000004'],
    ['PROC_UNAVAIL', '00000004 00000001 00000000 00000000 00000000 00000003'],
    ['GARBAGE_ARGS', '00000005 00000001 00000000 00000000 00000000 00000004'],
    ['SYSTEM_ERR', '00000006 00000001 00000000 00000000 00000000 00000005'],
    ['RPC_MISMATCH', '00000007 00000001 00000001 00000000 00000002 00000002'],
    ['AUTH_ERROR', '00000008 00000001 00000001 00000001 00000005'],
  ];
  for (const [name, h] of replies) {
    const m = rpc.decodeRpcMessage(hex(h));
    t.equal(m.mtype, 1, name);
    t.equal(toHex(rpc.encodeRpcMessage(m)), toHex(hex(h)), `${name} re-encodes`);
  }
  const mm = rpc.decodeRpcMessage(hex(replies[2]![1]));
  t.match(mm, { stat: 0, acceptStat: rpc.accept_stat.PROG_MISMATCH, low: 2, high: 4 });
  t.match(rpc.decodeRpcMessage(hex(replies[6]![1])), { stat: 1, rejectStat: 0, low: 2, high: 2 });
  t.match(rpc.decodeRpcMessage(hex(replies[7]![1])), { stat: 1, rejectStat: 1, authStat: rpc.auth_stat.AUTH_TOOWEAK });
});

t.test('header errors are typed', async (t) => {
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000002')), { code: 'ERR_RPC_HEADER', offset: 4 });
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000001 00000002')), { code: 'ERR_RPC_HEADER' });
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000001 00000000 00000000 00000000 00000006')), { code: 'ERR_RPC_HEADER' });
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000001 00000001 00000002')), { code: 'ERR_RPC_HEADER' });
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000000 00000002 00000001 00000001 00000000 00000001 00000191')), {
    code: 'ERR_RPC_AUTH_TOO_LARGE',
    offset: 28,
  });
  t.throws(() => rpc.decodeRpcMessage(hex('00000001 00000000 00000002')), { code: 'ERR_XDR_SHORT' });
});

t.test('AUTH_SYS credentials and their limits', async (t) => {
  const p = { stamp: 0x5f5e100, machinename: 'host', uid: 1000, gid: 100, gids: [100, 27] };
  const cred = rpc.authSys(p);
  t.equal(cred.flavor, 1);
  t.equal(toHex(cred.body), '05f5e100 00000004 686f7374 000003e8 00000064 00000002 00000064 0000001b'.replace(/ /g, ''));
  t.same(rpc.decodeAuthSys(cred.body), p);
  t.throws(() => rpc.authSys({ ...p, gids: Array.from({ length: 17 }, (_, i) => i) }), { code: 'ERR_XDR_VALUE' });
  t.throws(() => rpc.authSys({ ...p, machinename: 'x'.repeat(256) }), { code: 'ERR_XDR_VALUE' });
  const w = new XdrWriter();
  w.writeUint(1);
  w.writeString('h');
  w.writeUint(0);
  w.writeUint(0);
  w.writeUint(17);
  for (let i = 0; i < 17; i++) w.writeUint(i);
  t.throws(() => rpc.decodeAuthSys(w.toBytes()), { code: 'ERR_XDR_BOUND', offset: 20 });
  t.throws(() => rpc.decodeAuthSys(new Uint8Array([...cred.body, 0, 0, 0, 0])), { code: 'ERR_XDR_TRAILING' });
  // A full call with AUTH_SYS re-encodes exactly.
  const w2 = new XdrWriter();
  rpc.writeCallHeader(w2, { xid: 9, prog: 100003, vers: 3, proc: 1, cred, verf: rpc.AUTH_NONE });
  const m = rpc.readRpcMessage(new XdrReader(w2.finish()));
  t.match(m, { mtype: 0, cred: { flavor: 1 } });
  if (m.mtype === 0) t.same(rpc.decodeAuthSys(m.cred.body), p);
});

t.test('unknown flavors and AUTH_SHORT are carried as opaque', async (t) => {
  const w = new XdrWriter();
  rpc.writeCallHeader(w, { xid: 1, prog: 1, vers: 1, proc: 1, cred: { flavor: 2, body: hex('0102') }, verf: { flavor: 99, body: hex('aabbccdd') } });
  const m = rpc.decodeRpcMessage(w.toBytes());
  t.match(m, { cred: { flavor: 2 }, verf: { flavor: 99 } });
  if (m.mtype === 0) t.equal(toHex(m.verf.body), 'aabbccdd');
});

t.test('random and mutated headers only raise XdrError or RpcError', async (t) => {
  const rng = new Rng(5);
  const seeds = [hex(GETPORT_CALL), hex('00000003 00000001 00000000 00000000 00000000 00000002 00000002 00000004'), hex('00000008 00000001 00000001 00000001 00000005')];
  let errors = 0;
  for (let i = 0; i < 50_000; i++) {
    let b: Uint8Array;
    if (i % 4 === 0) b = rng.bytes(rng.int(60));
    else {
      b = rng.pick(seeds).slice();
      for (let k = 1 + rng.int(3); k > 0; k--) b[rng.int(b.length)] = rng.u32() & 0xff;
      if (rng.int(3) === 0) b = b.subarray(0, rng.int(b.length));
    }
    try {
      rpc.decodeRpcMessage(b);
    } catch (e) {
      if (!(e instanceof XdrError || e instanceof RpcError)) {
        t.fail(`threw ${String(e)}`);
        return;
      }
      errors++;
    }
  }
  t.ok(errors > 0, `${errors} of 50000 rejected, the rest decoded`);
});

t.test('names of well-known programs and procedures', async (t) => {
  t.equal(rpc.programName(100000), 'portmapper');
  t.equal(rpc.procedureName(100000, 2, 3), 'GETPORT');
  t.equal(rpc.procedureName(100000, 4, 12), 'GETSTAT');
  t.equal(rpc.procedureName(100003, 3, 17), 'READDIRPLUS');
  t.equal(rpc.procedureName(100021, 4, 20), 'SHARE');
  t.equal(rpc.procedureName(100021, 4, 17), undefined);
  t.equal(rpc.procedureName(12345, 1, 1), undefined);
});
