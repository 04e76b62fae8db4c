#!/usr/bin/env python3
"""Disk reads per single-field HSET into a cold paged hash: 200k fields of 100 bytes loaded under --maxmemory 16mb, then
20,000 HSETs of one field at random, 100 per pipeline; a sample read back. Usage: perf/cold-hset.py BINARY PORT."""
import socket, sys, random, subprocess, time, os, shutil
binary, port = sys.argv[1], int(sys.argv[2])
d = f"/tmp/coldhset-{port}"; shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
p = subprocess.Popen([binary, "--port", str(port), "--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def enc(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode()
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
def read():
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:]);
        if n < 0: return None
        data = f.read(n + 2); return data[:-2]
    if line[:1] == b"*":
        return [read() for _ in range(int(line[1:]))]
    return line.strip()
def info(field):
    s.sendall(enc("INFO", "memory")); txt = read().decode()
    for l in txt.split("\r\n"):
        if l.startswith(field + ":"): return int(float(l.split(":")[1]))
n = 200000
pad = "p" * 90
for i in range(0, n, 1000):
    args = ["HSET", "big"]
    for k in range(i, i + 1000): args += ["field:%d" % k, pad + str(k)]
    s.sendall(enc(*args))
for i in range(0, n, 1000): read()
time.sleep(2)
r0 = info("store_disk_reads"); p0 = info("store_disk_writes")
rng = random.Random(1); m = 20000
t = time.time()
for j in range(0, m, 100):
    buf = b""
    for k in range(100):
        i = rng.randrange(n); buf += enc("HSET", "big", "field:%d" % i, "q" * 90 + str(i))
    s.sendall(buf)
    for k in range(100): read()
el = time.time() - t
r1 = info("store_disk_reads"); p1 = info("store_disk_writes")
# verify a sample
rng = random.Random(1); bad = 0
for j in range(2000):
    i = rng.randrange(n); s.sendall(enc("HGET", "big", "field:%d" % i))
    v = read()
    if v != ("q" * 90 + str(i)).encode(): bad += 1
s.sendall(enc("HLEN", "big")); hl = read()
print(f"{os.path.basename(binary)}: {m} cold single-field HSETs: disk reads {r1-r0} + pending writes {p1-p0} = {(r1-r0+p1-p0)/m:.2f} per HSET, {el:.1f} s, HLEN {hl}, wrong {bad}")
p.kill(); p.wait(); shutil.rmtree(d, ignore_errors=True)
