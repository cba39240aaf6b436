// Public RPC message API (RFC 5531): constants, message types, header codec, AUTH_SYS, record marking.

export * from './constants.js';
export * from './messages.js';
export * from './header.js';
export * from './auth-sys.js';
export * from './record-marking.js';
export * from './names.js';
