// oncrpc's native addon (N-API, C): what Node itself cannot do for an rpcbind-like daemon.
//
//   peerCred(fd)                 SO_PEERCRED of a unix-domain socket -> [pid, uid, gid], or null when the
//                                fd is not an AF_UNIX socket (or getsockopt fails).
//   udpOpen(family, host, port, flags, rcvbuf, sndbuf, callback)
//                                a nonblocking UDP socket (AF_INET or AF_INET6) bound to host:port that
//                                receives the destination address of every datagram (IP_PKTINFO,
//                                IPV6_RECVPKTINFO) and ICMP errors (IP_RECVERR, IPV6_RECVERR); polled
//                                with libuv's uv_poll_t on Node's own loop (no threads). Returns a handle
//                                object, or [-errno, syscall] when socket/setsockopt/bind fails.
//   udpAddress(h)                getsockname -> [address, port] or -errno.
//   udpSend(h, bytes, port, address, from|null)
//                                sendmsg; with `from`, an IP_PKTINFO / IPV6_PKTINFO control message makes
//                                `from` the source address. Returns the bytes sent or -errno (never throws
//                                for a system error: EAGAIN, EMSGSIZE, ENETUNREACH… are the caller's to report).
//   udpWatchWritable(h, on)      also poll for writability (the JS side queues sends that got EAGAIN).
//   udpRef(h, on)                uv_ref / uv_unref.
//   udpDropped(h)                datagrams the kernel dropped for want of receive buffer (SO_RXQ_OVFL), as
//                                of the last datagram read.
//   udpClose(h)                  stops polling and closes the fd (once the poll handle is closed).
//   interfaceAddresses()         getifaddrs: [name, 4|6, address, netmask, IFF_* flags, scope id] for every
//                                IPv4 and IPv6 address, in the kernel's order, whatever the interface's state
//                                (os.networkInterfaces() leaves out interfaces that are up but not running,
//                                which rpcbind's addrmerge takes), or [-errno, syscall].
//
// The callback is called, through napi_make_callback (so async hooks, nextTicks and microtasks behave as
// for any Node I/O callback), with:
//   (0, Buffer msg, remoteAddress, remotePort, localAddress, replyFrom|undefined, ifindex)   a datagram
//   (1, -errno, syscall, address|undefined, port|undefined)                                   an error
//   (2)                                                                                       writable
// Addresses are printed as Node prints them; IPv4-mapped IPv6 addresses (a dual-stack socket receiving
// IPv4) are reported as plain IPv4; link-local IPv6 addresses carry `%ifname`.
// A callback that throws raises an uncaught exception, as a throwing dgram 'message' listener does.

#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sys/types.h>
#include <unistd.h>

#define RECV_BUF_SIZE 65536   /* larger than any UDP payload over IPv4 (65507) or IPv6 (65527) */
#define RECV_BUDGET 1024      /* datagrams read per wakeup; uv_poll is level-triggered, the rest follow */
#define ADDR_STR_MAX 128      /* an IPv6 literal, '%', an interface name or number */
#define ERR_WAKEUP_LIMIT 64   /* error wakeups in a row that read nothing before polling is given up */

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    if ((call) != napi_ok) return NULL;                                                               \
  } while (0)

static const napi_type_tag SOCK_TAG = {0x6f6e637270636e61ULL, 0x7564707069ULL}; /* "oncrpcna" "udppi" */

typedef struct sock {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context actx;
  int fd;
  int family;
  int events;          /* uv events currently polled for */
  int closing;         /* close requested: no more callbacks into JS */
  int handle_open;     /* uv_poll_init done and its close callback not yet run */
  int wrapper_alive;   /* the JS handle object not yet finalized */
  int env_gone;        /* the Node environment is being torn down */
  napi_async_cleanup_hook_handle hook; /* removed once the poll handle is closed (see on_closed) */
  int err_wakeups;
  uint32_t dropped;    /* SO_RXQ_OVFL: datagrams the kernel dropped for want of receive buffer */
  unsigned char *buf;
} sock_t;

/* ---------------------------------------------------------------------------------------------- */
/* helpers                                                                                          */

static napi_value undefined_value(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static napi_value throw_arg(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_NATIVE_ARGUMENT", msg);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static napi_value make_str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* Reads a JS string of at most ADDR_STR_MAX - 1 bytes. 0, or -1 (wrong type or too long). */
static int get_short_string(napi_env env, napi_value v, char *out) {
  napi_valuetype t;
  size_t len;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return -1;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= ADDR_STR_MAX) return -1;
  if (napi_get_value_string_utf8(env, v, out, ADDR_STR_MAX, &len) != napi_ok) return -1;
  return strlen(out) == len ? 0 : -1; /* no embedded NUL */
}

static int get_int(napi_env env, napi_value v, int64_t lo, int64_t hi, int64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return -1;
  if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
  if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) return -1;
  *out = (int64_t)d;
  return 0;
}

static int get_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b ? 1 : 0;
}

/* Parses "a.b.c.d", "x::y" or "fe80::1%eth0" (also %N) for a socket of `family` (IPv4 becomes
   v4-mapped on an AF_INET6 socket). 0 or -EINVAL. */
static int parse_addr(int family, const char *s, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, s, &a->sin_addr) != 1) return -EINVAL;
    *len = sizeof *a;
    return 0;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  *len = sizeof *a;
  struct in_addr v4;
  if (inet_pton(AF_INET, s, &v4) == 1) {
    a->sin6_addr.s6_addr[10] = 0xff;
    a->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
    return 0;
  }
  char tmp[ADDR_STR_MAX];
  snprintf(tmp, sizeof tmp, "%s", s);
  char *pct = strchr(tmp, '%');
  if (pct) {
    *pct++ = '\0';
    if (*pct == '\0') return -EINVAL;
    char *end;
    unsigned long n = strtoul(pct, &end, 10);
    if (*end == '\0') {
      if (n > UINT32_MAX) return -EINVAL;
      a->sin6_scope_id = (uint32_t)n;
    } else {
      unsigned int idx = if_nametoindex(pct);
      if (idx == 0) return -EINVAL;
      a->sin6_scope_id = idx;
    }
  }
  if (inet_pton(AF_INET6, tmp, &a->sin6_addr) != 1) return -EINVAL;
  return 0;
}

/* Prints an address as Node does; v4-mapped as plain IPv4; link-local with %ifname. */
static void format_in6(const struct in6_addr *addr, uint32_t scope, char *out) {
  if (IN6_IS_ADDR_V4MAPPED(addr)) {
    inet_ntop(AF_INET, &addr->s6_addr[12], out, ADDR_STR_MAX);
    return;
  }
  inet_ntop(AF_INET6, addr, out, ADDR_STR_MAX);
  if (scope != 0 && IN6_IS_ADDR_LINKLOCAL(addr)) {
    char name[IF_NAMESIZE];
    size_t n = strlen(out);
    if (if_indextoname(scope, name)) snprintf(out + n, ADDR_STR_MAX - n, "%%%s", name);
    else snprintf(out + n, ADDR_STR_MAX - n, "%%%u", scope);
  }
}

static int format_sockaddr(const struct sockaddr_storage *ss, char *out, int *port) {
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, out, ADDR_STR_MAX);
    *port = ntohs(a->sin_port);
    return 0;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    format_in6(&a->sin6_addr, a->sin6_scope_id, out);
    *port = ntohs(a->sin6_port);
    return 0;
  }
  out[0] = '\0';
  *port = 0;
  return -1;
}

static sock_t *unwrap_sock(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object) return NULL;
  if (napi_check_object_type_tag(env, v, &SOCK_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_unwrap(env, v, &p) != napi_ok) return NULL;
  return (sock_t *)p;
}

/* ---------------------------------------------------------------------------------------------- */
/* peer credentials                                                                                 */

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_int(env, argv[0], 0, INT_MAX, &fd) != 0) return throw_arg(env, "fd must be an integer >= 0");
  napi_value nul;
  napi_get_null(env, &nul);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname((int)fd, (struct sockaddr *)&ss, &sl) != 0 || ss.ss_family != AF_UNIX) return nul;
  struct ucred cred;
  socklen_t cl = sizeof cred;
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cl != sizeof cred) return nul;
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 3, &arr));
  napi_set_element(env, arr, 0, make_int(env, cred.pid));
  napi_set_element(env, arr, 1, make_int(env, cred.uid));
  napi_set_element(env, arr, 2, make_int(env, cred.gid));
  return arr;
}

/* ---------------------------------------------------------------------------------------------- */
/* UDP socket: lifetime                                                                             */

static void maybe_free(sock_t *s) {
  if (s->handle_open || s->wrapper_alive) return;
  free(s->buf);
  free(s);
}

static void release_js(sock_t *s) {
  /* Drops what ties the socket to JS; only while the environment is alive. */
  if (s->env_gone) return;
  if (s->callback) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
  if (s->actx) {
    napi_async_destroy(s->env, s->actx);
    s->actx = NULL;
  }
}

static void on_closed(uv_handle_t *h) {
  sock_t *s = (sock_t *)h->data;
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
  s->handle_open = 0;
  /* Only now may Node tear the environment down (and, in a worker, unload this library): libuv has
     called this function for the last time. */
  if (s->hook) {
    napi_remove_async_cleanup_hook(s->hook);
    s->hook = NULL;
  }
  maybe_free(s);
}

static void do_close(sock_t *s) {
  if (s->closing) return;
  s->closing = 1;
  release_js(s);
  if (s->handle_open) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed); /* the fd is closed once libuv has let go of it */
  } else if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

/* The environment is going away (process exit, worker terminated) with the socket open or closing: close
   the poll handle and keep the environment (and this library) until its close callback has run. */
static void async_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  sock_t *s = (sock_t *)arg;
  (void)handle;
  s->env_gone = 1;
  s->callback = NULL; /* the environment frees its references itself */
  s->actx = NULL;
  if (!s->closing) do_close(s); /* else uv_close was already called: on_closed removes the hook */
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_t *s = (sock_t *)data;
  s->wrapper_alive = 0;
  if (!s->closing) do_close(s);
  maybe_free(s);
}

/* ---------------------------------------------------------------------------------------------- */
/* UDP socket: events into JS                                                                       */

/* Calls the JS callback; returns -1 when the socket was closed meanwhile (or cannot call JS). */
static int emit(sock_t *s, size_t argc, napi_value *argv) {
  if (s->closing || !s->callback) return -1;
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, s->callback, &fn) != napi_ok || fn == NULL) return -1;
  napi_get_global(env, &recv); /* napi_make_callback needs an object as `this` */
  napi_status st = napi_make_callback(env, s->actx, recv, fn, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  return s->closing ? -1 : 0;
}

static int emit_error(sock_t *s, int err, const char *syscall, const struct sockaddr_storage *addr) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value argv[5];
  argv[0] = make_int(env, 1);
  argv[1] = make_int(env, -err);
  argv[2] = make_str(env, syscall);
  argv[3] = undefined_value(env);
  argv[4] = undefined_value(env);
  char a[ADDR_STR_MAX];
  int port;
  if (addr && format_sockaddr(addr, a, &port) == 0) {
    argv[3] = make_str(env, a);
    argv[4] = make_int(env, port);
  }
  int r = emit(s, 5, argv);
  napi_close_handle_scope(env, scope);
  return r;
}

/* Reads the error queue (IP_RECVERR): one JS error per queued ICMP error, with the destination the
   failed datagram was sent to. Returns how many were read, or -1 if the socket was closed meanwhile. */
static int drain_errqueue(sock_t *s) {
  int count = 0;
  for (;;) {
    struct sockaddr_storage name;
    union {
      char buf[512];
      struct cmsghdr align;
    } control;
    unsigned char dummy[64];
    struct iovec iov = {dummy, sizeof dummy};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &name;
    m.msg_namelen = sizeof name;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return count; /* EAGAIN: empty */
    }
    count++;
    int err = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
          (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
        struct sock_extended_err ee;
        memcpy(&ee, CMSG_DATA(c), sizeof ee);
        err = (int)ee.ee_errno;
      }
    }
    if (err == 0) continue;
    if (emit_error(s, err, "recvmsg", m.msg_namelen > 0 ? &name : NULL) < 0) return -1;
  }
}

/* A pending socket error (sk_err) that a plain recvmsg returns once: ICMP feedback about an earlier
   send, already reported from the error queue; reading goes on. */
static int icmp_error(int e) {
  return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN || e == ENETDOWN ||
         e == EPROTO || e == ENOPROTOOPT || e == ETIMEDOUT;
}

static int soft_error(int e) {
  return icmp_error(e) || e == EMSGSIZE || e == EACCES || e == EPERM;
}

/* Reads datagrams until EAGAIN (or the budget). Returns how many, or -1 if closed meanwhile. */
static int read_datagrams(sock_t *s) {
  napi_env env = s->env;
  int count = 0;
  while (count < RECV_BUDGET) {
    struct sockaddr_storage from;
    union {
      char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) + 64];
      struct cmsghdr align;
    } control;
    struct iovec iov = {s->buf, RECV_BUF_SIZE};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(s->fd, &m, MSG_DONTWAIT);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      if (soft_error(e)) continue;
      if (emit_error(s, e, "recvmsg", NULL) < 0) return -1;
      break;
    }
    count++;
    /* The destination address of the datagram, and the local address to answer from. */
    char local[ADDR_STR_MAX] = "", reply[ADDR_STR_MAX] = "";
    int ifindex = 0, have_reply = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        if (local[0] == '\0') { /* on a dual-stack socket IPV6_PKTINFO says the same */
          inet_ntop(AF_INET, &pi.ipi_addr, local, sizeof local);
          ifindex = pi.ipi_ifindex;
        }
        /* ipi_spec_dst: the local address the kernel would answer from (differs for broadcasts). */
        inet_ntop(AF_INET, &pi.ipi_spec_dst, reply, sizeof reply);
        have_reply = 1;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        memcpy(&s->dropped, CMSG_DATA(c), sizeof s->dropped);
      } else if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        format_in6(&pi.ipi6_addr, pi.ipi6_ifindex, local);
        ifindex = (int)pi.ipi6_ifindex;
      }
    }
    if (m.msg_flags & MSG_CTRUNC) local[0] = '\0';
    char raddr[ADDR_STR_MAX];
    int rport;
    format_sockaddr(&from, raddr, &rport);

    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
    napi_value argv[7];
    void *data;
    argv[0] = make_int(env, 0);
    if (napi_create_buffer_copy(env, (size_t)n, s->buf, &data, &argv[1]) != napi_ok) {
      napi_close_handle_scope(env, scope);
      return -1;
    }
    argv[2] = make_str(env, raddr);
    argv[3] = make_int(env, rport);
    argv[4] = make_str(env, local);
    argv[5] = have_reply && strcmp(reply, local) != 0 ? make_str(env, reply) : undefined_value(env);
    argv[6] = make_int(env, ifindex);
    int r = emit(s, 7, argv);
    napi_close_handle_scope(env, scope);
    if (r < 0) return -1;
  }
  return count;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sock_t *s = (sock_t *)h->data;
  if (s->closing || s->env_gone) return;
  /* libuv reports POLLERR (a queued ICMP error) as status UV_EBADF and stops the handle: the error
     queue is read below and polling restarted, unless the fd really is unusable. */
  int errored = status < 0;
  if (events & UV_WRITABLE) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
    napi_value argv[1] = {make_int(s->env, 2)};
    int r = emit(s, 1, argv);
    napi_close_handle_scope(s->env, scope);
    if (r < 0) return;
  }
  if (!(events & UV_READABLE) && !errored) return;
  int got = drain_errqueue(s);
  if (got < 0) return;
  int read = read_datagrams(s);
  if (read < 0) return;
  if (!errored) {
    s->err_wakeups = 0;
    return;
  }
  if (got + read > 0) s->err_wakeups = 0;
  int e = 0;
  socklen_t el = sizeof e;
  int bad = getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 && (errno == EBADF || errno == ENOTSOCK);
  if (bad || ++s->err_wakeups > ERR_WAKEUP_LIMIT) {
    emit_error(s, bad ? EBADF : (e ? e : EIO), "poll", NULL);
    return; /* polling stays stopped; close() still releases everything */
  }
  int rc = uv_poll_start(&s->poll, s->events, on_poll);
  if (rc < 0) emit_error(s, -rc, "poll", NULL);
}

/* ---------------------------------------------------------------------------------------------- */
/* UDP socket: JS-facing functions                                                                  */

static napi_value fail_pair(napi_env env, int err, const char *syscall) {
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  napi_set_element(env, arr, 0, make_int(env, -err));
  napi_set_element(env, arr, 1, make_str(env, syscall));
  return arr;
}

enum { OPEN_IPV6ONLY = 1, OPEN_REUSEADDR = 2 };

/* Wraps an open, nonblocking, configured UDP socket for JS and starts polling it. */
static napi_value finish_open(napi_env env, int fd, int family, napi_value cbval) {
  sock_t *s = (sock_t *)calloc(1, sizeof *s);
  unsigned char *buf = (unsigned char *)malloc(RECV_BUF_SIZE);
  if (!s || !buf) {
    free(s);
    free(buf);
    close(fd);
    return fail_pair(env, ENOMEM, "malloc");
  }
  s->buf = buf;
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->events = UV_READABLE;
  s->poll.data = s;

  uv_loop_t *loop = NULL;
  int rc;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) rc = UV_EINVAL;
  else rc = uv_poll_init(loop, &s->poll, fd);
  if (rc < 0) {
    free(buf);
    free(s);
    close(fd);
    return fail_pair(env, -rc, "uv_poll_init");
  }
  s->handle_open = 1;

  napi_value obj, name;
  if (napi_create_object(env, &obj) != napi_ok || napi_type_tag_object(env, obj, &SOCK_TAG) != napi_ok ||
      napi_create_reference(env, cbval, 1, &s->callback) != napi_ok ||
      napi_create_string_utf8(env, "PktinfoUdpSocket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->actx) != napi_ok ||
      napi_wrap(env, obj, s, finalize_sock, NULL, NULL) != napi_ok) {
    do_close(s); /* frees everything once the poll handle is closed */
    return NULL;
  }
  s->wrapper_alive = 1;
  if (napi_add_async_cleanup_hook(env, async_cleanup, s, &s->hook) != napi_ok) s->hook = NULL;
  rc = uv_poll_start(&s->poll, s->events, on_poll);
  if (rc < 0) {
    do_close(s);
    return fail_pair(env, -rc, "uv_poll_start");
  }
  return obj;
}

static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_arg(env, "udpOpen(family, host, port, flags, rcvbuf, sndbuf, callback)");
  int64_t fam, port, flags, rcvbuf, sndbuf;
  char host[ADDR_STR_MAX];
  napi_valuetype t;
  if (get_int(env, argv[0], 4, 6, &fam) != 0 || (fam != 4 && fam != 6)) return throw_arg(env, "family must be 4 or 6");
  if (get_short_string(env, argv[1], host) != 0) return throw_arg(env, "host must be an IP address string");
  if (get_int(env, argv[2], 0, 65535, &port) != 0) return throw_arg(env, "port must be an integer 0..65535");
  if (get_int(env, argv[3], 0, 3, &flags) != 0) return throw_arg(env, "bad flags");
  if (get_int(env, argv[4], 0, INT_MAX, &rcvbuf) != 0) return throw_arg(env, "bad receive buffer size");
  if (get_int(env, argv[5], 0, INT_MAX, &sndbuf) != 0) return throw_arg(env, "bad send buffer size");
  if (napi_typeof(env, argv[6], &t) != napi_ok || t != napi_function) return throw_arg(env, "callback must be a function");

  int family = fam == 4 ? AF_INET : AF_INET6;
  struct sockaddr_storage ss;
  socklen_t sl;
  if (parse_addr(family, host, (int)port, &ss, &sl) != 0) return throw_arg(env, "host is not an IP address of that family");

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return fail_pair(env, errno, "socket");
  int one = 1, zero = 0;
  const char *what = NULL;
  if (family == AF_INET) {
    if (setsockopt(fd, SOL_IP, IP_PKTINFO, &one, sizeof one) != 0) what = "setsockopt IP_PKTINFO";
    else if (setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one) != 0) what = "setsockopt IP_RECVERR";
  } else {
    int v6only = (flags & OPEN_IPV6ONLY) ? 1 : 0;
    if (setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, v6only ? &one : &zero, sizeof one) != 0) what = "setsockopt IPV6_V6ONLY";
    else if (setsockopt(fd, SOL_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) what = "setsockopt IPV6_RECVPKTINFO";
    else if (setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof one) != 0) what = "setsockopt IPV6_RECVERR";
    /* IPv4 traffic on a dual-stack socket: IP_PKTINFO adds ipi_spec_dst (broadcasts), IP_RECVERR its
       ICMP errors. */
    else if (!v6only && setsockopt(fd, SOL_IP, IP_PKTINFO, &one, sizeof one) != 0) what = "setsockopt IP_PKTINFO";
    else if (!v6only && setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one) != 0) what = "setsockopt IP_RECVERR";
  }
  if (!what && setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) what = "setsockopt SO_RXQ_OVFL";
  if (!what && (flags & OPEN_REUSEADDR) && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    what = "setsockopt SO_REUSEADDR";
  if (!what && rcvbuf > 0) {
    int v = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) what = "setsockopt SO_RCVBUF";
  }
  if (!what && sndbuf > 0) {
    int v = (int)sndbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) what = "setsockopt SO_SNDBUF";
  }
  if (!what && bind(fd, (struct sockaddr *)&ss, sl) != 0) what = "bind";
  if (what) {
    int e = errno;
    close(fd);
    return fail_pair(env, e, what);
  }

  return finish_open(env, fd, family, argv[6]);
}

/* udpAdopt(fd, callback): takes over a bound UDP socket someone else made (systemd's socket activation
   passes them as fds 3…): nonblocking, the same options as udpOpen, then polled like one. */
static napi_value udp_adopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd;
  napi_valuetype t;
  if (argc < 2 || get_int(env, argv[0], 0, INT_MAX, &fd) != 0) return throw_arg(env, "udpAdopt(fd, callback)");
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) return throw_arg(env, "callback must be a function");
  int type = 0, domain = 0;
  socklen_t l1 = sizeof type, l2 = sizeof domain;
  if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &l1) != 0) return fail_pair(env, errno, "getsockopt SO_TYPE");
  if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) != 0) return fail_pair(env, errno, "getsockopt SO_DOMAIN");
  if (type != SOCK_DGRAM || (domain != AF_INET && domain != AF_INET6)) return fail_pair(env, EINVAL, "adopt (not a UDP socket)");
  int flags = fcntl((int)fd, F_GETFL);
  if (flags < 0 || fcntl((int)fd, F_SETFL, flags | O_NONBLOCK) != 0) return fail_pair(env, errno, "fcntl O_NONBLOCK");
  int one = 1;
  if (domain == AF_INET) {
    if (setsockopt((int)fd, SOL_IP, IP_PKTINFO, &one, sizeof one) != 0) return fail_pair(env, errno, "setsockopt IP_PKTINFO");
    if (setsockopt((int)fd, SOL_IP, IP_RECVERR, &one, sizeof one) != 0) return fail_pair(env, errno, "setsockopt IP_RECVERR");
  } else {
    if (setsockopt((int)fd, SOL_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) return fail_pair(env, errno, "setsockopt IPV6_RECVPKTINFO");
    if (setsockopt((int)fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof one) != 0) return fail_pair(env, errno, "setsockopt IPV6_RECVERR");
    int v6only = 1;
    socklen_t l3 = sizeof v6only;
    if (getsockopt((int)fd, SOL_IPV6, IPV6_V6ONLY, &v6only, &l3) == 0 && !v6only) {
      (void)setsockopt((int)fd, SOL_IP, IP_PKTINFO, &one, sizeof one);
      (void)setsockopt((int)fd, SOL_IP, IP_RECVERR, &one, sizeof one);
    }
  }
  (void)setsockopt((int)fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  return finish_open(env, (int)fd, domain, argv[1]);
}

/* socketInfo(fd): [type ('stream' | 'dgram' | 'other'), family (4, 6, 1 for AF_UNIX, 0 other)] of an fd
   inherited from systemd, or [errno, syscall]. */
static napi_value socket_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd;
  if (argc < 1 || get_int(env, argv[0], 0, INT_MAX, &fd) != 0) return throw_arg(env, "socketInfo(fd)");
  int type = 0, domain = 0;
  socklen_t l1 = sizeof type, l2 = sizeof domain;
  if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &l1) != 0) return fail_pair(env, errno, "getsockopt SO_TYPE");
  if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) != 0) return fail_pair(env, errno, "getsockopt SO_DOMAIN");
  napi_value arr, a, b;
  CHECK(napi_create_object(env, &arr));
  a = make_str(env, type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "other");
  b = make_int(env, domain == AF_INET ? 4 : domain == AF_INET6 ? 6 : domain == AF_UNIX ? 1 : 0);
  CHECK(napi_set_named_property(env, arr, "type", a));
  CHECK(napi_set_named_property(env, arr, "family", b));
  return arr;
}

static napi_value udp_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 1 ? unwrap_sock(env, argv[0]) : NULL;
  if (!s) return throw_arg(env, "not a socket handle");
  if (s->closing || s->fd < 0) return make_int(env, -EBADF);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0) return make_int(env, -errno);
  char a[ADDR_STR_MAX];
  int port;
  format_sockaddr(&ss, a, &port);
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  napi_set_element(env, arr, 0, make_str(env, a));
  napi_set_element(env, arr, 1, make_int(env, port));
  return arr;
}

static napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_arg(env, "udpSend(handle, bytes, port, address, from)");
  sock_t *s = unwrap_sock(env, argv[0]);
  if (!s) return throw_arg(env, "not a socket handle");
  bool is_ta = false;
  void *data = NULL;
  size_t len = 0;
  if (napi_is_typedarray(env, argv[1], &is_ta) != napi_ok || !is_ta) return throw_arg(env, "bytes must be a Uint8Array");
  napi_typedarray_type tt;
  if (napi_get_typedarray_info(env, argv[1], &tt, &len, &data, NULL, NULL) != napi_ok || tt != napi_uint8_array)
    return throw_arg(env, "bytes must be a Uint8Array");
  int64_t port;
  if (get_int(env, argv[2], 1, 65535, &port) != 0) return throw_arg(env, "port must be an integer 1..65535");
  char addr[ADDR_STR_MAX], from[ADDR_STR_MAX];
  if (get_short_string(env, argv[3], addr) != 0) return throw_arg(env, "address must be an IP address string");
  napi_valuetype ft;
  napi_typeof(env, argv[4], &ft);
  int have_from = ft == napi_string;
  if (have_from && get_short_string(env, argv[4], from) != 0) return throw_arg(env, "from must be an IP address string");
  if (!have_from && ft != napi_null && ft != napi_undefined) return throw_arg(env, "from must be a string or null");
  if (s->closing || s->fd < 0) return make_int(env, -EBADF);

  struct sockaddr_storage to;
  socklen_t tl;
  if (parse_addr(s->family, addr, (int)port, &to, &tl) != 0) return throw_arg(env, "address is not an IP address of the socket's family");

  struct iovec iov = {data, len};
  struct msghdr m;
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&m, 0, sizeof m);
  memset(&control, 0, sizeof control);
  m.msg_name = &to;
  m.msg_namelen = tl;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (have_from) {
    struct sockaddr_storage fs;
    socklen_t fl;
    if (parse_addr(s->family, from, 0, &fs, &fl) != 0) return throw_arg(env, "from is not an IP address of the socket's family");
    struct cmsghdr *c = (struct cmsghdr *)control.buf;
    if (s->family == AF_INET) {
      struct in_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      pi.ipi_spec_dst = ((struct sockaddr_in *)&fs)->sin_addr;
      c->cmsg_level = SOL_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
      m.msg_controllen = CMSG_SPACE(sizeof pi);
    } else {
      const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)&fs;
      const struct sockaddr_in6 *t6 = (const struct sockaddr_in6 *)&to;
      if (IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr) != IN6_IS_ADDR_V4MAPPED(&t6->sin6_addr))
        return throw_arg(env, "from and address must both be IPv4 or both IPv6");
      /* Also for a v4-mapped destination: the kernel takes IPV6_PKTINFO with a v4-mapped source. */
      struct in6_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      pi.ipi6_addr = f6->sin6_addr;
      pi.ipi6_ifindex = f6->sin6_scope_id;
      c->cmsg_level = SOL_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
      m.msg_controllen = CMSG_SPACE(sizeof pi);
    }
    m.msg_control = control.buf;
  }
  /* With IP_RECVERR an ICMP error about an earlier datagram (to any peer) is also left in sk_err, and the
     next send fails with it, once, without sending: that error was already queued for the 'error'
     event, so the send is retried (a real routing error fails again). */
  ssize_t n;
  int tries = 0;
  do n = sendmsg(s->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && (errno == EINTR || (icmp_error(errno) && ++tries < 4)));
  return make_int(env, n < 0 ? -errno : (int64_t)n);
}

static napi_value udp_watch_writable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 2 ? unwrap_sock(env, argv[0]) : NULL;
  if (!s) return throw_arg(env, "not a socket handle");
  if (s->closing || !s->handle_open) return make_int(env, -EBADF);
  int ev = UV_READABLE | (get_bool(env, argv[1]) ? UV_WRITABLE : 0);
  if (ev == s->events) return make_int(env, 0);
  s->events = ev;
  return make_int(env, uv_poll_start(&s->poll, ev, on_poll));
}

static napi_value udp_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 2 ? unwrap_sock(env, argv[0]) : NULL;
  if (!s) return throw_arg(env, "not a socket handle");
  if (!s->closing && s->handle_open) {
    if (get_bool(env, argv[1])) uv_ref((uv_handle_t *)&s->poll);
    else uv_unref((uv_handle_t *)&s->poll);
  }
  return undefined_value(env);
}

static napi_value udp_dropped(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 1 ? unwrap_sock(env, argv[0]) : NULL;
  if (!s) return throw_arg(env, "not a socket handle");
  return make_int(env, s->dropped);
}

static napi_value udp_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 1 ? unwrap_sock(env, argv[0]) : NULL;
  if (!s) return throw_arg(env, "not a socket handle");
  do_close(s);
  return undefined_value(env);
}

static napi_value interface_addresses(napi_env env, napi_callback_info info) {
  (void)info;
  struct ifaddrs *ifp;
  if (getifaddrs(&ifp) != 0) return fail_pair(env, errno, "getifaddrs");
  napi_value arr = NULL;
  uint32_t n = 0;
  if (napi_create_array(env, &arr) != napi_ok) goto fail;
  for (struct ifaddrs *i = ifp; i != NULL; i = i->ifa_next) {
    if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
    char addr[INET6_ADDRSTRLEN] = "", mask[INET6_ADDRSTRLEN] = "";
    uint32_t scope = 0;
    int v6 = i->ifa_addr->sa_family == AF_INET6;
    if (!v6) {
      inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof addr);
      if (i->ifa_netmask) inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, mask, sizeof mask);
    } else {
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, sizeof addr);
      scope = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_scope_id;
      if (i->ifa_netmask) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, mask, sizeof mask);
    }
    napi_value row;
    if (napi_create_array_with_length(env, 6, &row) != napi_ok) goto fail;
    napi_value cells[6] = {make_str(env, i->ifa_name), make_int(env, v6 ? 6 : 4), make_str(env, addr), make_str(env, mask), make_int(env, (int64_t)i->ifa_flags), make_int(env, scope)};
    for (uint32_t k = 0; k < 6; k++)
      if (cells[k] == NULL || napi_set_element(env, row, k, cells[k]) != napi_ok) goto fail;
    if (napi_set_element(env, arr, n++, row) != napi_ok) goto fail;
  }
  freeifaddrs(ifp);
  return arr;
fail:
  freeifaddrs(ifp);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpAddress", NULL, udp_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSend", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpWatchWritable", NULL, udp_watch_writable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpRef", NULL, udp_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpDropped", NULL, udp_dropped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpClose", NULL, udp_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpAdopt", NULL, udp_adopt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketInfo", NULL, socket_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceAddresses", NULL, interface_addresses, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
