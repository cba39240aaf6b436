#!/usr/bin/env python3
# Sends a known TCP and UDP exchange over loopback, for the capture tests (see make-data.sh).
# Byte i of pattern(n, seed) is (seed + 31*i + (i >> 8)) % 256; spec/pcap/captures.test.ts checks the same.
import socket, sys, threading, time

def pattern(n, seed):
    return bytes((seed + 31 * i + (i >> 8)) % 256 for i in range(n))

fam = socket.AF_INET6 if sys.argv[1] == '6' else socket.AF_INET
host = '::1' if fam == socket.AF_INET6 else '127.0.0.1'
TCP_PORT, UDP_PORT = 2049, 111
C2S, S2C = pattern(1600, 1), pattern(300, 2)
UDP = [pattern(100, 5), pattern(50, 6), pattern(1500, 7), pattern(20, 8)]

ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, TCP_PORT))
ls.listen(1)
us = socket.socket(fam, socket.SOCK_DGRAM)
us.bind((host, UDP_PORT))
errors = []

def tcp_server():
    c, _ = ls.accept()
    got = b''
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    if got != C2S:
        errors.append('tcp server got wrong bytes')
    c.sendall(S2C)
    c.close()

def udp_server():
    for reply in (UDP[1], UDP[3]):
        data, peer = us.recvfrom(65536)
        us.sendto(reply, peer)

threads = [threading.Thread(target=tcp_server), threading.Thread(target=udp_server)]
for t in threads:
    t.start()

s = socket.create_connection((host, TCP_PORT))
s.sendall(C2S[:1000])
time.sleep(0.05)
s.sendall(C2S[1000:])
s.shutdown(socket.SHUT_WR)
got = b''
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
s.close()
if got != S2C:
    errors.append('tcp client got wrong bytes')

u = socket.socket(fam, socket.SOCK_DGRAM)
for req, rep in ((UDP[0], UDP[1]), (UDP[2], UDP[3])):
    u.sendto(req, (host, UDP_PORT))
    data, _ = u.recvfrom(65536)
    if data != rep:
        errors.append('udp reply wrong')
for t in threads:
    t.join()
if errors:
    sys.exit('; '.join(errors))
